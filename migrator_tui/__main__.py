from migrator_tui.cli import main

raise SystemExit(main())
