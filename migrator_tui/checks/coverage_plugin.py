"""The pytest plugin `verify --coverage` puts in front of the target's tests (copied, not imported).

This file is copied into the run's folder under `.git/migrator/<recipe>/coverage/` as
`_migrator_coverage.py`; that folder goes first on `PYTHONPATH` and the module's name into
`PYTEST_PLUGINS`, so the pytest of the target project's own environment loads it, whatever the
test command is (`pytest -q`, `python -m pytest`, `make test`). It imports nothing of migrator-tui,
only the standard library and coverage.py, which must be installed in that environment.

At import it starts coverage.py (measuring only files under `MIGRATOR_COVERAGE_ROOT`, the
temporary checkout, with no configuration file of the project), and names the dynamic context of
each test after its pytest node id, from its setup to its teardown. Each test's outcome (failed
if any of its phases failed) is written to `outcomes-<pid>.json`, the data to `coverage.<suffix>`,
both in `MIGRATOR_COVERAGE_DIR`. If coverage.py cannot be imported, `error-<pid>.json` says so.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

_DIR = os.environ.get("MIGRATOR_COVERAGE_DIR", "")
_ROOT = os.environ.get("MIGRATOR_COVERAGE_ROOT", "")
_outcomes: dict[str, str] = {}
_cov: Any = None


def _write(name: str, data: object) -> None:
    path = os.path.join(_DIR, f"{name}-{os.getpid()}.json")
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(data, fh)


def _start() -> None:
    global _cov
    try:
        import coverage
    except ImportError as exc:
        _write("error", {"python": sys.executable, "error": f"coverage.py cannot be imported ({exc})"})
        return
    _cov = coverage.Coverage(data_file=os.path.join(_DIR, "coverage"), data_suffix=True, config_file=False,
                             source=[_ROOT] if _ROOT else None, branch=False)
    _cov.start()


if _DIR:
    _start()


def pytest_runtest_logstart(nodeid: str, location: object) -> None:
    if _cov is not None:
        _cov.switch_context(nodeid)


def pytest_runtest_logfinish(nodeid: str, location: object) -> None:
    if _cov is not None:
        _cov.switch_context("")


def pytest_runtest_logreport(report: Any) -> None:
    if not _DIR:
        return
    before = _outcomes.get(report.nodeid)
    if report.failed:
        _outcomes[report.nodeid] = "failed"
    elif before != "failed" and (report.when == "call" or before is None):
        _outcomes[report.nodeid] = "skipped" if report.skipped else "passed"


def pytest_unconfigure(config: object) -> None:
    if not _DIR:
        return
    if _cov is not None:
        _cov.stop()
        _cov.save()
    _write("outcomes", {"python": sys.executable, "outcomes": _outcomes})
