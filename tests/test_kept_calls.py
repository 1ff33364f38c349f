"""The caller index's reads kept with the scan (`rewrite.kept_calls`): a rescan uses a caller
file's kept read only while the file, every file the read parsed and every module it looked up
are as they were; whatever the edit, a rescan says what a scan without the cache says."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from gitfixtures import CATCHING_DECORATORS, DECORATED_SERVICE, DECORATORS, REPORTS, make_repo

from migrator_tui.cli import main
from migrator_tui.rewrite import kept_calls, repo_index

Capsys = pytest.CaptureFixture[str]

JOBS = """\
from reports import save


def job():
    try:
        save(None, 'x')
    except ValueError:
        pass
"""


def scan(root: Path, capsys: Capsys, *extra: str) -> dict[str, list[str]]:
    """Each occurrence's warnings (code: message) after `scan --json`."""
    capsys.readouterr()
    assert main(["scan", str(root), "--json", *extra]) == 0
    found = json.loads(capsys.readouterr().out)
    return {o["id"]: sorted(f"{w['code']}: {w['message']}" for w in o["warnings"])
            for p in found["phases"] for f in p["files"] for o in f["occurrences"]}


def rescan_is_a_scan(root: Path, capsys: Capsys) -> dict[str, list[str]]:
    for path in (root / ".git" / "migrator" / "cache").glob("output-*.txt"):
        path.unlink()  # (the kept printed output would answer an unchanged repository)
    found = scan(root, capsys)
    assert found == scan(root, capsys, "--no-cache")
    return found


def kept(root: Path) -> tuple[Path, dict[str, object]]:
    (path,) = (root / ".git" / "migrator" / "cache").glob("summaries-*.json")
    return path, json.loads(path.read_bytes())


def plant(root: Path, rel: str, old: str, new: str) -> None:
    """Change the kept read of `rel` (well-formed): only a run that uses it shows it."""
    path, data = kept(root)
    reads = data["calls"][rel]  # type: ignore[index]
    text = json.dumps(reads)
    assert old in text
    data["calls"][rel] = json.loads(text.replace(old, new))  # type: ignore[index]
    path.write_text(json.dumps(data))
    for out in path.parent.glob("output-*.txt"):
        out.unlink()


def wrapped(found: dict[str, list[str]]) -> list[str]:
    return [w for w in found["reports.py::save::0"] if w.startswith("exception-wrapped")]


def test_a_kept_read_is_used_while_its_file_is_unchanged_and_read_again_after(tmp_path: Path,
                                                                              capsys: Capsys) -> None:
    root = make_repo(tmp_path / "repo", {"reports.py": REPORTS, "jobs.py": JOBS, "app.py": "import flask\n"})
    assert "ValueError at jobs.py" in " ".join(wrapped(scan(root, capsys)))
    plant(root, "jobs.py", "ValueError", "PlantedError")
    (root / "reports.py").write_text(REPORTS.replace("name=name", "name=name.strip()"))
    assert "PlantedError at jobs.py" in " ".join(wrapped(scan(root, capsys))), "the kept read is used"
    plant(root, "jobs.py", "PlantedError", "OtherPlanted")
    (root / "jobs.py").write_text(JOBS.replace("ValueError", "KeyError"))
    assert "KeyError at jobs.py" in " ".join(wrapped(rescan_is_a_scan(root, capsys))), "read again"


def test_a_module_found_elsewhere_now_reads_the_caller_again(tmp_path: Path, capsys: Capsys) -> None:
    """`from lib.reports import save` is `reports.py` while there is no `lib/`: a new
    `lib/reports.py` is what the caller imports, and the caller no longer calls `save()` there."""
    root = make_repo(tmp_path / "repo", {"reports.py": REPORTS, "app.py": "import flask\n",
                                         "jobs.py": JOBS.replace("from reports", "from lib.reports")})
    assert wrapped(scan(root, capsys))
    (root / "lib").mkdir()
    (root / "lib" / "reports.py").write_text("def save(db_manager, name):\n    return None\n")
    assert not wrapped(rescan_is_a_scan(root, capsys))


SERVICES = """\
class Reports:
    def __init__(self, db_manager):
        self.db_manager = db_manager

    def weekly(self):
        session = self.db_manager.get_session()
        try:
            session.add(Report(name="weekly"))
            session.commit()
        finally:
            session.close()


reports = Reports(None)
"""

WEEKLY_JOB = """\
from services import reports


def job():
    try:
        reports.weekly()
    except ValueError:
        pass
"""


def test_an_instance_another_module_binds_is_read_again_when_that_module_changes(
        tmp_path: Path, capsys: Capsys) -> None:
    """`reports.weekly()` is a call of `Reports.weekly` because `services.py` binds `reports =
    Reports(...)`: the caller's read parsed `services.py`, and a change there reads it again."""
    root = make_repo(tmp_path / "repo", {"services.py": SERVICES, "jobs.py": WEEKLY_JOB,
                                         "app.py": "import flask\n"})
    oid = "services.py::Reports.weekly::0"
    assert any("ValueError at jobs.py" in w for w in scan(root, capsys)[oid])
    (root / "services.py").write_text(SERVICES.replace("reports = Reports(None)", "reports = Other(None)"))
    assert not any("jobs.py" in w for w in rescan_is_a_scan(root, capsys)[oid])


VIEWS = """\
from decorators import db_errors
from reports import save


@db_errors
def report_view():
    save(None, 'x')
"""


def test_a_decorator_of_a_caller_is_read_again_when_its_module_changes(tmp_path: Path,
                                                                       capsys: Capsys) -> None:
    """Two views use one decorator: the second read finds what the first one learnt of it, and
    depends on its module all the same."""
    root = make_repo(tmp_path / "repo", {"reports.py": REPORTS, "views.py": VIEWS,
                                         "views_2.py": VIEWS.replace("report_view", "other_view"),
                                         "decorators.py": DECORATORS, "app.py": "import flask\n"})
    assert not any("db_errors" in w for w in scan(root, capsys)["reports.py::save::0"])
    (root / "decorators.py").write_text(CATCHING_DECORATORS)
    found = " ".join(rescan_is_a_scan(root, capsys)["reports.py::save::0"])
    assert "`report_view()`" in found and "`other_view()`" in found, found


NESTED_VIEWS = """\
from decorators import db_errors
from reports import save


@db_errors
def report_view():
    save(None, 'x')


@db_errors
def index():
    report_view()
"""


def test_a_second_read_of_a_file_depends_on_what_its_first_read_learnt(tmp_path: Path,
                                                                        capsys: Capsys) -> None:
    """The walk up the callers reads `views.py` for `save()`, then again for `report_view()`:
    the second read reuses what the first found of the decorator, and must depend on it too."""
    root = make_repo(tmp_path / "repo", {"reports.py": REPORTS, "views.py": NESTED_VIEWS,
                                         "decorators.py": DECORATORS, "app.py": "import flask\n"})
    scan(root, capsys)
    (root / "decorators.py").write_text(CATCHING_DECORATORS)
    found = " ".join(rescan_is_a_scan(root, capsys)["reports.py::save::0"])
    assert "`report_view()`" in found, found


def test_a_rescan_reads_only_the_callers_an_edit_can_change(tmp_path: Path, capsys: Capsys,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    files = {"reports.py": REPORTS, "app.py": "import flask\n"}
    files.update({f"jobs_{i}.py": JOBS for i in range(6)})
    root = make_repo(tmp_path / "repo", files)
    scan(root, capsys)
    parsed: list[str] = []
    real = repo_index._parse

    def counting(path: Path):  # type: ignore[no-untyped-def]
        parsed.append(path.name)
        return real(path)

    monkeypatch.setattr(repo_index, "_parse", counting)
    (root / "jobs_3.py").write_text(JOBS.replace("ValueError", "KeyError"))
    for path in (root / ".git" / "migrator" / "cache").glob("output-*.txt"):
        path.unlink()
    found = scan(root, capsys)
    assert [p for p in parsed if p.startswith("jobs_")] == ["jobs_3.py"], parsed
    assert "KeyError at jobs_3.py" in " ".join(wrapped(found))
    parsed.clear()
    assert scan(root, capsys, "--no-cache") == found
    assert sorted(p for p in parsed if p.startswith("jobs_")) == [f"jobs_{i}.py" for i in range(6)]


def test_a_dump_reads_back_and_anything_else_is_refused(tmp_path: Path, capsys: Capsys) -> None:
    root = make_repo(tmp_path / "repo", {"reports.py": REPORTS, "jobs.py": JOBS, "views.py": VIEWS,
                                         "decorators.py": DECORATORS, "app.py": "import flask\n"})
    scan(root, capsys)
    _, data = kept(root)
    dumped = data["calls"]
    assert set(dumped) >= {"jobs.py", "views.py"}  # type: ignore[arg-type]
    assert kept_calls.dump(kept_calls.load(dumped)) == dumped
    bad = [None, [], {"jobs.py": None}, {"jobs.py": [["save"]]}, {"jobs.py": [[["save"], {}]]},
           json.loads(json.dumps(dumped).replace('"digest": "', '"digest": 1, "x": "')),
           json.loads(json.dumps(dumped).replace("true", '"yes"').replace("false", '"no"')),
           json.loads(json.dumps(dumped).replace(", 7,", ", -7,")),
           {"../outside.py": dumped["jobs.py"]},  # type: ignore[index]
           {"/etc/passwd": dumped["jobs.py"]},  # type: ignore[index]
           {"a/./b.py": dumped["jobs.py"]},  # type: ignore[index]
           {"jobs.py": json.loads(json.dumps(dumped["jobs.py"]).replace('"reports.py"', '"../reports.py"'))}]  # type: ignore[index]
    for item in bad:
        with pytest.raises(ValueError):
            kept_calls.load(item)


def test_a_kept_file_with_bad_reads_scans_as_without_them(tmp_path: Path, capsys: Capsys) -> None:
    root = make_repo(tmp_path / "repo", {"reports.py": REPORTS, "jobs.py": JOBS, "app.py": "import flask\n"})
    cold = scan(root, capsys)
    path, data = kept(root)
    data["calls"] = {"jobs.py": "not reads"}
    path.write_text(json.dumps(data))
    (root / "reports.py").write_text(REPORTS.replace("name=name", "name=name.strip()"))
    assert rescan_is_a_scan(root, capsys) == cold


def parses_of(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The texts parsed from here on (a kept file's questions parse its text, when they must)."""
    import ast

    seen: list[str] = []
    real = ast.parse

    def counting(source, *args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(source if isinstance(source, str) else source.decode("utf-8", "replace"))
        return real(source, *args, **kwargs)

    monkeypatch.setattr(ast, "parse", counting)
    return seen


def test_a_kept_file_is_not_parsed_when_nothing_its_imports_name_changed(
        tmp_path: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_repo(tmp_path / "repo", {"services.py": DECORATED_SERVICE, "decorators.py": DECORATORS,
                                         "reports.py": REPORTS, "app.py": "import flask\n"})
    cold = scan(root, capsys)
    seen = parses_of(monkeypatch)
    (root / "reports.py").write_text(REPORTS.replace("name=name", "name=name.strip()"))
    for path in (root / ".git" / "migrator" / "cache").glob("output-*.txt"):
        path.unlink()
    assert scan(root, capsys) == cold
    assert not [s for s in seen if "class Reports" in s], "services.py was parsed again"
    (root / "decorators.py").write_text(CATCHING_DECORATORS)
    found = rescan_is_a_scan(root, capsys)
    assert any("db_errors" in w for w in found["services.py::Reports.weekly::0"]), found


def test_a_decorator_found_elsewhere_now_is_asked_again(tmp_path: Path, capsys: Capsys) -> None:
    """`from lib.decorators import db_errors` is `decorators.py` while there is no `lib/`."""
    services = DECORATED_SERVICE.replace("from decorators", "from lib.decorators")
    root = make_repo(tmp_path / "repo", {"services.py": services, "decorators.py": DECORATORS,
                                         "app.py": "import flask\n"})
    oid = "services.py::Reports.weekly::0"
    assert not any("db_errors" in w for w in scan(root, capsys)[oid])
    (root / "lib").mkdir()
    (root / "lib" / "decorators.py").write_text(CATCHING_DECORATORS)
    assert any("db_errors" in w for w in rescan_is_a_scan(root, capsys)[oid])


@pytest.mark.parametrize("reads", [None, "x", {"files": []}, {"files": [["a.py"]], "modules": []},
                                   {"files": [["../decorators.py", None]], "modules": []},
                                   {"files": [["/etc/hostname", None]], "modules": []},
                                   {"files": [], "modules": [["m", -1, "a.py", None]]},
                                   {"files": [], "modules": [["m", True, "a.py", None]]}])
def test_a_kept_question_with_bad_reads_is_asked_again(tmp_path: Path, capsys: Capsys,
                                                       reads: object) -> None:
    root = make_repo(tmp_path / "repo", {"services.py": DECORATED_SERVICE, "decorators.py": DECORATORS,
                                         "reports.py": REPORTS, "app.py": "import flask\n"})
    cold = scan(root, capsys)
    path, data = kept(root)
    asked = data["files"]["services.py"]["asked"]  # type: ignore[index]
    decorator = [q for q in asked if q[0] == "decorator"]
    assert decorator and all(len(q) == 4 for q in decorator)
    for q in decorator:
        q[3] = reads
    path.write_text(json.dumps(data))
    (root / "decorators.py").write_text(CATCHING_DECORATORS)
    found = rescan_is_a_scan(root, capsys)
    assert found != cold and any("db_errors" in w for w in found["services.py::Reports.weekly::0"])


def test_a_dry_run_starts_from_the_reads_the_last_scan_kept(tmp_path: Path, capsys: Capsys) -> None:
    root = make_repo(tmp_path / "repo", {"reports.py": REPORTS, "jobs.py": JOBS, "app.py": "import flask\n"})
    scan(root, capsys)

    def dry_run() -> str:
        capsys.readouterr()
        repo_index.forget_index(root)  # (as a new process starts)
        assert main(["apply", str(root), "--dry-run", "--all", "--min-confidence", "review"]) == 0
        return capsys.readouterr().out.splitlines()[0]

    assert "exception-wrapped" in dry_run()
    path, data = kept(root)
    for read in data["calls"]["jobs.py"]:  # type: ignore[index]
        read[1]["catching"] = []  # (well-formed: only a run that uses the read shows it)
    path.write_text(json.dumps(data))
    assert "exception-wrapped" not in dry_run(), "the kept read is used"
    (root / "jobs.py").write_text(JOBS.replace("ValueError", "KeyError"))
    assert "exception-wrapped" in dry_run(), "and read again once the caller changed"
