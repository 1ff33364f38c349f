"""A file read for the calls of some names skips the function bodies and guarded blocks where
none of the names is written; what it finds must be what the whole walk finds."""

from __future__ import annotations

import ast
import random
import shutil
from pathlib import Path

import pytest

from migrator_tui.rewrite import repo_index
from migrator_tui.rewrite.astutil import last_name

HERE = Path(__file__).parent
CORPUS = HERE.parent.parent / "shared" / "corpus"


def called_names(tree: ast.Module) -> list[str]:
    return sorted({n for c in ast.walk(tree) if isinstance(c, ast.Call) and (n := last_name(c.func))})


def both_ways(root: Path, rel: str, names: set[str],
              monkeypatch: pytest.MonkeyPatch) -> tuple[object, object]:
    filtered = repo_index.RepoIndex(root)._read_calls(rel, names)
    with monkeypatch.context() as m:
        m.setattr(repo_index, "_names_written", lambda data, names: None)
        whole = repo_index.RepoIndex(root)._read_calls(rel, names)
    return filtered, whole


def test_the_filter_skips_what_cannot_call_and_keeps_what_does(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "tasks.py").write_text(
        "def run():\n    try:\n        job()\n    except ValueError:\n        pass\n\n\n"
        "def other():\n    try:\n        unrelated()\n    except KeyError:\n        pass\n    job2()\n")
    filtered, whole = both_ways(tmp_path, "tasks.py", {"job"}, monkeypatch)
    assert filtered == whole
    assert [c[0] for c in whole.catching] == ["job"]  # type: ignore[attr-defined]
    assert [e.callee for e in whole.escapes] == ["job"]  # type: ignore[attr-defined]


@pytest.mark.parametrize("text", [
    "def run():\n    try:\n        \ufb01nd()\n    except ValueError:\n        pass\n",  # ﬁnd() is find()
    "# -*- coding: utf-7 -*-\ndef run():\n    try:\n        find()\n    except ValueError:\n        pass\n",
], ids=["compatibility-form", "coding-declaration"])
def test_a_text_the_bytes_may_not_spell_is_walked_whole(tmp_path: Path, text: str,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "tasks.py").write_bytes(text.encode("utf-8"))
    assert repo_index._names_written((tmp_path / "tasks.py").read_bytes(), {"find"}) is None
    filtered, whole = both_ways(tmp_path, "tasks.py", {"find"}, monkeypatch)
    assert filtered == whole
    assert [c[0] for c in whole.catching] == ["find"]  # type: ignore[attr-defined]


def corpus_files() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    return sorted(CORPUS.rglob("*.py"))[::7][:120]


@pytest.mark.skipif(not CORPUS.is_dir(), reason="the corpus is not here")
def test_on_real_code_the_filtered_read_finds_what_the_whole_read_finds(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(7)
    compared = found = 0
    for k, path in enumerate(corpus_files()):
        try:
            tree = ast.parse(path.read_bytes())
        except (SyntaxError, ValueError):
            continue
        names = called_names(tree)
        if not names:
            continue
        root = tmp_path / str(k)
        root.mkdir()
        shutil.copyfile(path, root / "m.py")
        for _ in range(3):
            asked = set(rng.sample(names, min(len(names), rng.randint(1, 4))))
            filtered, whole = both_ways(root, "m.py", asked, monkeypatch)
            assert filtered == whole, (path, asked)
            compared += 1
            found += bool(whole.catching or whole.escapes)  # type: ignore[attr-defined]
    assert compared > 100 and found > 50, (compared, found)
