"""The caller index looks a function's calls up where they can be (its file, its class), not
among every call of the same name: the checks grow with the repository, not with its square."""

from __future__ import annotations

from pathlib import Path

import pytest
from gitfixtures import make_repo

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
