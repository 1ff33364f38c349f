"""One parse per file and process (`scan.trees`): the scan's tree is the analysis's and the
caller index's, kept within bounds, never a tree of other text."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from gitfixtures import CALLER, REPORTS, WEB_APP, make_repo

from migrator_tui.recipe import load_recipe
from migrator_tui.rewrite import batch, repo_index
from migrator_tui.scan import scan, trees


@pytest.fixture(autouse=True)
def _fresh() -> None:
    trees.forget()


def test_the_same_text_gives_the_same_tree_and_other_text_its_own() -> None:
    a = trees.parse("x = 1\n")
    assert trees.parse("x = 1\n") is a
    b = trees.parse("x = 2\n")
    assert b is not a and ast.dump(b) == ast.dump(ast.parse("x = 2\n"))
    assert trees.parse("x = 1\n" + "") is a


def test_a_syntax_error_is_raised_each_time_and_nothing_is_kept() -> None:
    for _ in range(2):
        with pytest.raises(SyntaxError) as err:
            trees.parse("def f(:\n", filename="bad.py")
        assert err.value.filename == "bad.py"
    assert len(trees._TREES) == 0


def test_the_kept_trees_stay_within_their_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(trees, "MAX_TREES", 4)
    kept = [trees.parse(f"x = {n}\n") for n in range(6)]
    assert len(trees._TREES) == 4
    assert trees.parse("x = 5\n") is kept[5] and trees.parse("x = 0\n") is not kept[0]
    monkeypatch.setattr(trees, "MAX_TEXT", 8 * 100)
    big = "y = 1\n" * 20  # 120 characters: more than an eighth of the bound, parsed each time
    assert trees.parse(big) is not trees.parse(big)
    assert sum(len(t) for t in trees._TREES) == trees._SIZE[0] <= trees.MAX_TEXT


def test_a_scan_and_its_summaries_parse_each_file_once(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """In one process: the scan parses the files holding an acquire; the analysis of those and
    the caller index's reads of the same files use its trees. The summaries are those of
    parsing every time."""
    jobs = ("def load(db_manager):\n    session = db_manager.get_session()\n    try:\n"
            "        return session.query(1).all()\n    finally:\n        session.close()\n\n\n"
            "def run(db_manager):\n    try:\n        return load(db_manager)\n    except KeyError:\n"
            "        return None\n")  # (an occurrence, and a caller of its function)
    root = make_repo(tmp_path / "repo", {"web_app.py": WEB_APP, "reports.py": REPORTS, "caller.py": CALLER,
                                         "jobs.py": jobs})
    recipe = load_recipe("db-session")

    def summaries() -> tuple[dict[str, object], list[str]]:
        parsed: list[str] = []
        real = ast.parse

        def counting(source, *args, **kwargs):  # type: ignore[no-untyped-def]
            parsed.append(source if isinstance(source, str) else source.decode())
            return real(source, *args, **kwargs)

        with pytest.MonkeyPatch.context() as patch:  # (undone here: the suite's own patches stay)
            patch.setattr(ast, "parse", counting)
            repo_index.forget_index(root)
            trees.forget()
            result = scan(root, recipe)
            found = batch.summarize_files(root, result.by_path(), recipe, workers=1)
        verdicts = {i: (p.strategy, p.confidence, [w.message for w in p.warnings]) for i, p in found.items()}
        return verdicts, parsed

    once, parsed = summaries()
    texts = [(root / name).read_text() for name in ("reports.py", "caller.py", "jobs.py")]
    assert once and all(parsed.count(t) == 1 for t in texts), [parsed.count(t) for t in texts]
    monkeypatch.setattr(trees, "MAX_TREES", 0)  # nothing kept: every reader parses again
    again, parsed_again = summaries()
    assert again == once
    assert parsed_again.count(texts[0]) > 1 and parsed_again.count(texts[2]) > 2
    assert any("KeyError" in m for _, _, ms in once.values() for m in ms), once
