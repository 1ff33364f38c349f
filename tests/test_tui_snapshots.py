"""SVG snapshots of the review TUI on the demo (the same scenarios as `screenshots/`).

Update with `pytest tests/test_tui_snapshots.py --snapshot-update`, after looking at the report.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from migrator_tui.git import objects as gitobjects
from migrator_tui.tui.screenshots import FIXED_TIMESTAMP, SCENARIOS, Scenario, demo_app


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_snapshot(scenario: Scenario, snap_compare, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(gitobjects, "timestamp", lambda: FIXED_TIMESTAMP)
    app = demo_app(tmp_path)
    assert snap_compare(app, terminal_size=scenario.size, run_before=scenario.run)
