"""The bundled demo repository: the spec's 52 occurrences in phases 1-4, plus the Unplanned ones."""

from __future__ import annotations

import json
from collections import Counter
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from migrator_tui.commands.scan import scan_json
from migrator_tui.recipe import load_recipe
from migrator_tui.scan import scan

build = pytest.importorskip("migrator_tui.demo.build")

SPEC_COUNTS = {
    "web_app.py": 21,
    "session_performance_optimizer.py": 8,
    "admin/routes/dashboard.py": 1,
    "admin/routes/user_management.py": 2,
    "admin/routes/system_health.py": 1,
    "admin/services/cleanup_service.py": 1,
    "admin/services/user_service.py": 11,
    "admin/services/monitoring_service.py": 7,
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("demo") / "repo"
    build.build_demo(target)
    return target


def test_demo_has_the_spec_counts(demo: Path) -> None:
    result = scan(demo, load_recipe())
    planned = Counter(o.path for o in result.occurrences if o.phase is not None)
    assert dict(planned) == SPEC_COUNTS
    assert sum(planned.values()) == 52
    unplanned = [o for o in result.occurrences if o.phase is None]
    assert unplanned, "the demo has occurrences outside the spec's phases"
    assert all(o.path not in SPEC_COUNTS for o in unplanned)
    assert result.skipped == []
    assert {o.phase for o in result.occurrences if o.path == "web_app.py"} == {1}
    assert {o.phase for o in result.occurrences if o.path.startswith("admin/services/")} == {2}
    assert {o.phase for o in result.occurrences if o.path.startswith("admin/routes/")} == {3}


def test_demo_context_managers_are_excluded(demo: Path) -> None:
    result = scan(demo, load_recipe())
    assert result.excluded
    assert all("context manager" in e.reason for e in result.excluded)
    excluded = {(e.path, e.line) for e in result.excluded}
    assert not excluded & {(o.path, o.line) for o in result.occurrences}


def test_demo_ids_are_unique_and_stable(demo: Path) -> None:
    first = scan(demo, load_recipe())
    ids = [o.id for o in first.occurrences]
    assert len(set(ids)) == len(ids)
    assert ids == [o.id for o in scan(demo, load_recipe()).occurrences]


def test_demo_json_validates(demo: Path) -> None:
    recipe = load_recipe()
    schema = json.loads(resources.files("migrator_tui").joinpath("schemas/scan.schema.json").read_text())
    data = scan_json(scan(demo, recipe), recipe)
    jsonschema.Draft202012Validator(schema).validate(data)
    counts = [sum(len(f["occurrences"]) for f in p["files"]) for p in data["phases"]]
    assert sum(counts[:-1]) == 52 and sum(counts) == data["total"]
    assert data["phases"][-1]["name"] == "Unplanned" and counts[-1] > 0
