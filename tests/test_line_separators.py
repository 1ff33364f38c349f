"""Characters `str.splitlines()` breaks at but Python does not: the rewrite must not care.

Form feed (PEP 8 page breaks), vertical tab, the file, group and record separators, NEL, U+2028 and
U+2029 are ordinary characters inside a string or a comment. Inserted anywhere in the strings and
comments of a rewrite fixture, the output must be the fixture's `after.py` with the same insert.
"""

from __future__ import annotations

import io
import tokenize
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from rewrite_cases import CASES, case_options, run_bytes

from migrator_tui.sourcefile import decode, encode, split_lines

ODD = ["\f", "\v", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]
CASE_DIRS = sorted(p for p in CASES.iterdir() if (p / "before.py").exists())


def _spots(text: str) -> list[tuple[str, list[int], bool]]:
    """(token text, the offsets inside it where a character stays in the literal / comment, is bytes)
    of every string and comment of `text` (each text once: every copy gets the same insert)."""
    out: list[tuple[str, list[int], bool]] = []
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        return out
    for tok in tokens:
        s = tok.string
        if tok.type not in (tokenize.STRING, tokenize.COMMENT) or any(s == o[0] for o in out):
            continue
        if tok.type == tokenize.COMMENT:
            if "coding" in s:  # a PEP 263 declaration is not free text
                continue
            out.append((s, list(range(1, len(s) + 1)), False))
            continue
        prefix = len(s) - len(s.lstrip("rbfuRBFU"))
        quote = 3 if s[prefix : prefix + 3] in ('"""', "'''") else 1
        out.append((s, [prefix + quote, len(s) - quote], "b" in s[:prefix].lower()))
    return out


def _cases_with_spots() -> list[Path]:
    return [c for c in CASE_DIRS if _spots(decode((c / "before.py").read_bytes())[0])]


def test_split_lines_is_the_tokenizers() -> None:
    text = "a\fb\vc\x1cd\x1de\x1ef\x85g\u2028h\u2029i\r\nj\rk\nl"
    assert split_lines(text) == ["a\fb\vc\x1cd\x1de\x1ef\x85g\u2028h\u2029i", "j", "k", "l"]
    assert "".join(split_lines(text, keepends=True)) == text
    for t in ("", "\n", "a", "a\n", "a\r\n\r\n", "\r\r", "a\nb\n"):
        assert split_lines(t) == t.splitlines()
        assert split_lines(t, keepends=True) == t.splitlines(keepends=True)


@pytest.mark.parametrize("case", _cases_with_spots(), ids=lambda p: p.name)
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_odd_separators_in_strings_and_comments_change_nothing_else(case: Path, data: st.DataObject) -> None:
    before_bytes = (case / "before.py").read_bytes()
    before, encoding = decode(before_bytes)
    after, after_encoding = decode((case / "after.py").read_bytes())
    spot, offsets, is_bytes = data.draw(st.sampled_from(_spots(before)), label="token")
    char = data.draw(st.sampled_from(ODD), label="char")
    assume(not (is_bytes and not char.isascii()))
    at = data.draw(st.sampled_from(offsets), label="offset")
    changed = spot[:at] + char + spot[at:]
    assume(spot in after)
    try:
        new_before = encode(before.replace(spot, changed), encoding)
        expected = encode(after.replace(spot, changed), after_encoding)
    except UnicodeEncodeError:
        assume(False)
    strategy, recipe = case_options(case)
    out = run_bytes(new_before, strategy, recipe)
    assert out.after == expected
