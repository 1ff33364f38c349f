"""SVG snapshots of the review TUI on the demo (the same scenarios as `screenshots/`).

Update with `pytest tests/test_tui_snapshots.py --snapshot-update`, after looking at the report.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pytest

from migrator_tui.git import objects as gitobjects
from migrator_tui.tui.screenshots import (
    FIXED_TIMESTAMP,
    IDENTITY,
    SCENARIOS,
    Scenario,
    branches,
    demo_app,
    fixed_demo_results,
)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_snapshot(scenario: Scenario, snap_compare, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    # branch shas are on screen: fix what goes into a commit (date and identity, not the machine's)
    monkeypatch.setattr(gitobjects, "timestamp", lambda: FIXED_TIMESTAMP)
    for key, value in IDENTITY.items():
        monkeypatch.setenv(key, value)
    app = demo_app(tmp_path)
    # a real test run's output is worded by the installed libraries: record a fixed one instead
    run = partial(branches, verify=fixed_demo_results) if scenario.run is branches else scenario.run
    assert snap_compare(app, terminal_size=scenario.size, run_before=run)
