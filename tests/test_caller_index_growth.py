"""The caller index looks a function's calls up where they can be (its file, its class), not
among every call of the same name: the checks grow with the repository, not with its square."""

from __future__ import annotations

from pathlib import Path

import pytest
from gitfixtures import WEB_APP, make_repo

from migrator_tui.recipe import load_recipe
from migrator_tui.rewrite import batch, repo_index
from migrator_tui.scan import scan

MODULE = '''\
from models import Item


def total(session):
    return session.query(Item).count()


class ItemService{n}:
    def __init__(self, db_manager):
        self.db_manager = db_manager

    def count(self):
        session = self.db_manager.get_session()
        try:
            return session.query(Item).count()
        finally:
            session.close()

    def report(self):
        session = self.db_manager.get_session()
        try:
            return total(session) + self.count()
        finally:
            session.close()
'''


def _checks(tmp_path: Path, modules: int, monkeypatch: pytest.MonkeyPatch) -> int:
    root = make_repo(tmp_path / f"r{modules}", {f"services/s{n:03}.py": MODULE.format(n=n)
                                                 for n in range(modules)})
    recipe = load_recipe("db-session")
    result = scan(root, recipe)
    counted = [0]
    real = repo_index._resolves

    def counting(*args: object) -> bool:
        counted[0] += 1
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(repo_index, "_resolves", counting)
    repo_index.forget_index(root)
    found = batch.summarize_files(root, result.by_path(), recipe, workers=1)
    assert len(found) == 2 * modules
    return counted[0]


def test_the_checks_of_callers_grow_linearly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    small, large = _checks(tmp_path, 20, monkeypatch), _checks(tmp_path, 80, monkeypatch)
    assert small > 0, "the calls are checked at all"
    assert large <= 5 * small, (small, large)  # 4x the modules; the square would be 16x


def test_a_caller_file_is_parsed_at_most_twice_however_many_names_are_asked(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The walk up the callers asks one name after another: the file calling them all is read
    for the first name's calls, then once for every call it makes, never again."""
    names = [f"job_{i}" for i in range(8)]
    jobs = "".join(f"def {n}():\n    pass\n\n\n" for n in names)
    tasks = "from jobs import " + ", ".join(names) + "\n\n\ndef run():\n" + "".join(
        f"    try:\n        {n}()\n    except ValueError:\n        pass\n" for n in names)
    root = make_repo(tmp_path / "repo", {"jobs.py": jobs, "tasks.py": tasks})
    parsed: list[Path] = []
    real = repo_index._parse

    def counting(path: Path):  # type: ignore[no-untyped-def]
        parsed.append(path)
        return real(path)

    monkeypatch.setattr(repo_index, "_parse", counting)
    index = repo_index.RepoIndex(root)
    for n in names:
        (caller,) = index.catching_callers(n, None, "jobs.py")
        assert caller[:2] == ("tasks.py", 5 + 4 * names.index(n) + 2), caller
    assert parsed.count(root / "tasks.py") == 2


SERVICE = '''\
def load_{n}(db_manager):
    session = db_manager.get_session()
    try:
        return session.query(1).all()
    finally:
        session.close()
'''

VIEW = '''\
from services.s{n:02} import load_{n}
from web_app import app


def helper_{n}(db_manager):
    return load_{n}(db_manager)


@app.route("/items/{n}")
def view_{n}(db_manager):
    try:
        return helper_{n}(db_manager)
    except KeyError:
        return None
'''


def _searches(tmp_path: Path, functions: int, batched: bool = True) -> tuple[int, dict[str, object]]:
    """The `git grep` runs of the caller index while the summaries of `functions` services,
    each called by a helper that a view calls, are worked out; and the summaries."""
    import subprocess

    files = {f"services/s{n:02}.py": SERVICE.format(n=n) for n in range(functions)}
    files |= {f"views/v{n:02}.py": VIEW.format(n=n) for n in range(functions)}
    root = make_repo(tmp_path / f"r{functions}{batched}",
                     {"web_app.py": WEB_APP, "services/__init__.py": "", **files})
    recipe = load_recipe("db-session")
    result = scan(root, recipe)
    runs = [0]
    real = subprocess.run

    def counting(cmd, *args, **kwargs):  # type: ignore[no-untyped-def]
        runs[0] += cmd[:2] == ["git", "grep"]
        return real(cmd, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:  # (undone here: the suite's own patches stay)
        patch.setattr(repo_index.subprocess, "run", counting)
        if not batched:
            patch.setattr(repo_index.RepoIndex, "prime_upstream", lambda self, *a, **k: None)
        repo_index.forget_index(root)
        found = batch.summarize_files(root, result.by_path(), recipe, workers=1)
    found = {i: p for i, p in found.items() if i.startswith("services/s")}
    assert len(found) == functions
    return runs[0], {i.split("::", 1)[1]: (p.strategy, p.confidence, [w.message for w in p.warnings])
                     for i, p in found.items()}


def test_the_callers_further_up_are_searched_once_per_level(tmp_path: Path) -> None:
    """The walk up from each service to the view that calls it through a helper searches the
    repository once per level for all of them, not once per function; the verdicts are those
    of the search one function at a time (the view's `except KeyError` is named in both)."""
    few, _ = _searches(tmp_path, 3)
    many, many_found = _searches(tmp_path, 12)
    assert many == few, (few, many)
    one_by_one, alone = _searches(tmp_path, 12, batched=False)
    assert one_by_one > many
    assert alone == many_found
    assert any("KeyError" in m for _, _, messages in many_found.values() for m in messages), many_found
