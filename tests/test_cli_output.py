"""What the CLI prints for people and for tools: concise lines, no wrapping when piped, the same
order everywhere, a summary line at the end."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from migrator_tui.cli import main
from migrator_tui.demo import build_demo


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli") / "demo"
    build_demo(root)
    return root


Capsys = pytest.CaptureFixture[str]


def test_scan_concise_is_one_grep_style_line_per_occurrence(demo: Path, capsys: Capsys) -> None:
    assert main(["scan", str(demo), "--format", "concise"]) == 0
    lines = capsys.readouterr().out.splitlines()
    body, summary = lines[:-1], lines[-1]
    assert len(body) == 55
    pattern = re.compile(r"^[\w/.]+\.py:\d+:\d+: (safe|review|manual) \S+\(\): .+$")
    assert all(pattern.match(line) for line in body), [ln for ln in body if not pattern.match(ln)][:3]
    assert any("[" in line and "exception-wrapped" in line for line in body), "warning codes are shown"
    assert body[0].startswith("web_app.py:") and body[-1].startswith("scripts/"), "phase order"
    assert summary == ("55 occurrences in 10 files (52 planned, 3 unplanned); "
                       "proposals: 19 safe, 34 review, 2 manual")


def test_scan_piped_does_not_wrap(demo: Path, capsys: Capsys) -> None:
    assert main(["scan", str(demo)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert not [ln for ln in lines if ln.startswith(" " * 20) and not ln.strip().startswith(("implementation",
                                                                                                "the "))]


def test_dry_run_orders_by_phase_and_ends_with_a_summary(demo: Path, capsys: Capsys) -> None:
    assert main(["apply", str(demo), "--dry-run"]) == 0
    out = capsys.readouterr().out
    paths = list(dict.fromkeys(m.group(1) for m in re.finditer(r"^# ([^:]+)::", out, re.MULTILINE)))
    assert paths[:2] == ["web_app.py", "admin/services/cleanup_service.py"], paths
    assert paths[-1] == "session_performance_optimizer.py"
    assert out.rstrip().splitlines()[-1].startswith("8 files, 52 proposals: 19 safe, 31 review, 2 manual;")


def test_apply_ends_with_a_summary_of_branches(tmp_path: Path, capsys: Capsys) -> None:
    root = tmp_path / "demo"
    build_demo(root)
    assert main(["apply", str(root), "--phase", "3"]) == 0
    out = capsys.readouterr().out
    assert "3 files: 3 branches made, 0 updated, 0 unchanged, 0 with nothing accepted, 0 refused." in out
