"""Path <-> branch name escaping: reversible, injective, always a valid git ref."""

from __future__ import annotations

import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from migrator_tui.git.refnames import branch_for, decode_leaf, encode_leaf, path_for

PREFIX = "migrate/db-session"

# Path components: printable and control characters, non-ASCII, git's forbidden characters and
# sequences, underscores in runs, dots, and the reserved leaf name.
_ALPHABET = st.sampled_from(
    [*"ab_._-%~^:?*[]\\@{} /\t\n\x7f\x01éΩ✓", "__", "..", ".lock", "@{", "all", "\udcff"]
)
_COMPONENT = st.lists(_ALPHABET, min_size=1, max_size=8).map("".join).filter(
    lambda c: "/" not in c and c not in (".", "..")
)
PATHS = st.lists(_COMPONENT, min_size=1, max_size=4).map("/".join)


def _valid_refs(names: list[str]) -> list[bool]:
    out = []
    for name in names:
        proc = subprocess.run(["git", "check-ref-format", f"refs/heads/{name}"], capture_output=True)
        out.append(proc.returncode == 0)
    return out


@given(PATHS)
@settings(max_examples=400, deadline=None)
def test_round_trip(path: str) -> None:
    leaf = encode_leaf(path)
    assert decode_leaf(leaf) == path
    assert path_for(PREFIX, f"{PREFIX}/{leaf}") == path


@given(PATHS, PATHS)
@settings(max_examples=300, deadline=None)
def test_two_paths_never_share_a_branch(a: str, b: str) -> None:
    if a != b:
        assert encode_leaf(a) != encode_leaf(b)


@given(st.lists(PATHS, min_size=1, max_size=25))
@settings(max_examples=12, deadline=None)
def test_every_branch_is_a_valid_ref(paths: list[str]) -> None:
    names = [branch_for(PREFIX, p) for p in paths]
    assert all(_valid_refs(names)), [n for n, ok in zip(names, _valid_refs(names), strict=True) if not ok]


HARD = [
    "web_app.py",
    "admin/services/user_service.py",
    "a__b.py",
    "a/b.py",
    "a_/b.py",
    "a/_b.py",
    "__init__.py",
    "pkg/__init__.py",
    "with space.py",
    "ünïcode/файл.py",
    "..hidden/x..y.py",
    ".github/x.py",
    "-dash.py",
    "trail.",
    "x.lock",
    "x.LOCK",
    "a@{b}.py",
    "q?*[x]\\y~^:z.py",
    "100%.py",
    "%41.py",
    "ctl\x01\x7f.py",
    "all",
    "@",
]


@pytest.mark.parametrize("path", HARD)
def test_hard_paths(path: str) -> None:
    leaf = encode_leaf(path)
    assert decode_leaf(leaf) == path
    assert _valid_refs([f"{PREFIX}/{leaf}"]) == [True]


def test_readable_for_ordinary_paths() -> None:
    assert branch_for(PREFIX, "admin/services/user_service.py") == (
        "migrate/db-session/admin__services__user_service.py"
    )
    assert encode_leaf("a__b.py") == "a%5F%5Fb.py"
    assert encode_leaf("a/b.py") == "a__b.py"
    assert encode_leaf("all") == "%61ll"


def test_all_hard_paths_distinct() -> None:
    leaves = [encode_leaf(p) for p in HARD]
    assert len(set(leaves)) == len(leaves)


def test_not_ours() -> None:
    assert path_for(PREFIX, "main") is None
    assert path_for(PREFIX, f"{PREFIX}/all") is None
    assert path_for(PREFIX, f"{PREFIX}/a%5fb") is None  # not canonical (lower-case hex)
    assert path_for(PREFIX, f"{PREFIX}/x/y") is None


def test_too_long_is_refused() -> None:
    with pytest.raises(ValueError):
        branch_for(PREFIX, "é" * 200 + ".py")
