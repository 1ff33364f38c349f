"""The one source decoder: Python's own rule, byte-exact round trips, one-sentence reasons."""

from __future__ import annotations

import pytest

from migrator_tui.review.workspace import decode_python
from migrator_tui.scan.files import Unreadable, decode_source
from migrator_tui.sourcefile import UndecodableSource, decode, encode


@pytest.mark.parametrize("data", [
    b"x = 1\r\ny = 2\r\n",
    b"\xef\xbb\xbfx = 'caf\xc3\xa9'\n",
    b"# -*- coding: latin-1 -*-\nx = '\xe9'\n",
    b"x = 1",
])
def test_round_trip_is_byte_exact(data: bytes) -> None:
    assert encode(*decode(data)) == data


def test_a_coding_declaration_wins_even_over_valid_utf8() -> None:
    # b"\xc3\xa9" is valid UTF-8 ("é"), but the file says latin-1: Python reads "Ã©", so do we
    data = b"# -*- coding: latin-1 -*-\nx = '\xc3\xa9'\n"
    namespace: dict[str, object] = {}
    exec(compile(data, "<t>", "exec"), namespace)
    assert decode(data)[0].splitlines()[1] == f"x = {namespace['x']!r}"
    assert decode_source(data) == decode(data)[0]
    assert decode_python(data)[:2] == (decode(data)[0], "iso-8859-1")


def test_the_bom_is_reported_and_stripped_from_the_text() -> None:
    assert decode_python(b"\xef\xbb\xbfx = 1\n") == ("x = 1\n", "utf-8", True)
    assert decode_source(b"\xef\xbb\xbfx = 1\n") == "x = 1\n"


@pytest.mark.parametrize(("data", "reason"), [
    (b"x = '\xe9'\n", "not UTF-8 and no coding declaration"),
    (b"# coding: klingon\nx = 1\n", "declares an unknown encoding: klingon"),
    (b"# coding: ascii\nx = '\xe9'\n", "cannot be decoded as ascii"),
])
def test_undecodable_sources_say_why(data: bytes, reason: str) -> None:
    with pytest.raises(UndecodableSource, match=reason):
        decode(data)
    with pytest.raises(Unreadable, match=reason):
        decode_source(data)
