"""Highlighting a diff's lines: window by window, the same colours as lexing the whole file."""

from __future__ import annotations

from migrator_tui.tui import highlight

FUNCTION = '''

@app.route("/items/{n}")
def handler_{n}(item_id):
    """Docstring {n}:
    more text"""
    session = db_manager.get_session()
    try:
        row = session.query(Item).get(item_id)
        return f"{{row.name}} ({n})"
    finally:
        session.close()


class Service{n}:
    LIMIT = (
        {n},
    )
'''


def _source(count: int) -> str:
    return "from app import db_manager, Item\n" + "".join(FUNCTION.format(n=n) for n in range(count))


def test_every_line_is_coloured_as_when_the_whole_file_is_lexed() -> None:
    source = _source(40)
    whole = highlight._lex(source, True)
    highlight._lines.cache_clear()
    for number in range(len(whole), 0, -7):  # out of order, as diffs ask
        got = highlight.highlight_line(source, number, True)
        assert got is not None and got.plain == whole[number - 1].plain
        assert got.spans == whole[number - 1].spans, number
    assert highlight.highlight_line(source, len(whole) + 1, True) is None


def test_a_line_of_a_long_file_lexes_only_a_window_around_it() -> None:
    source = _source(2000)  # about 40,000 lines
    highlight._lines.cache_clear()
    line = highlight.highlight_line(source, 30_001, True)
    assert line is not None
    lexed = highlight._lines(source, True).done
    assert 0 < len(lexed) <= highlight.WINDOW + 25
    assert min(lexed) > 29_000
