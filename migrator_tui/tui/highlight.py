"""Python source to highlighted rich `Text` lines, with pygments, cached per text and theme."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from pygments.lexers import PythonLexer
from rich.style import Style
from rich.syntax import PygmentsSyntaxTheme
from rich.text import Text

from migrator_tui.sourcefile import split_lines

DARK_THEME = "monokai"
LIGHT_THEME = "friendly"

_LEXER = PythonLexer(stripnl=False, ensurenl=True)


@lru_cache(maxsize=4)
def _theme(name: str) -> PygmentsSyntaxTheme:
    return PygmentsSyntaxTheme(name)


@lru_cache(maxsize=64)
def _style(theme_name: str, token_type: object) -> Style:
    style = _theme(theme_name).get_style_for_token(token_type)  # type: ignore[arg-type]
    # the diff paints its own backgrounds (added/removed), so drop the theme's
    return Style(color=style.color, bold=style.bold, italic=style.italic, underline=style.underline)


#: Lines lexed at once around a line asked for (and at most this far back to a top-level line).
WINDOW = 200
LOOK_BACK = 2000


class _Lines:
    """One text's highlighted lines, lexed window by window as they are asked for: a diff shows a
    few dozen lines of a file that may have tens of thousands (lexing all of it took seconds)."""

    def __init__(self, source: str, dark: bool) -> None:
        self.lines = split_lines(source)
        self.dark = dark
        self.done: dict[int, Text] = {}

    def line(self, number: int) -> Text | None:
        """Line `number` (1-based) highlighted, or None past the end."""
        if not 0 < number <= len(self.lines):
            return None
        if number not in self.done:
            self._lex_from(self._start(number), number)
        return self.done.get(number)

    def _start(self, number: int) -> int:
        """A line at or before `number` where the lexer can start afresh: one that begins a
        top-level statement (lexing there gives the same tokens as lexing from the top, unless a
        triple-quoted string spans it, in which case only colours differ, never the text)."""
        start = number
        while start > 1 and number - start < LOOK_BACK and not _top_level(self.lines[start - 1]):
            start -= 1
        return start

    def _lex_from(self, start: int, number: int) -> None:
        end = min(len(self.lines), max(number, start) + WINDOW)
        for i, text in enumerate(_lex("\n".join(self.lines[start - 1 : end]), self.dark)):
            self.done.setdefault(start + i, text)


def _top_level(line: str) -> bool:
    return bool(line) and not line[0].isspace() and not line.startswith(("#", ")", "]", "}", '"', "'"))


@lru_cache(maxsize=32)
def _lines(source: str, dark: bool) -> _Lines:
    return _Lines(source, dark)


def highlight_line(source: str, number: int, dark: bool = True) -> Text | None:
    """Line `number` (1-based) of `source` highlighted (line ending removed), None past the end.
    Only the windows around the lines asked for are lexed, each once per text and theme."""
    found = _lines(source, dark).line(number)
    return found.copy() if found is not None else None


def warm(source: str, numbers: Iterable[int], dark: bool = True) -> None:
    """From a worker: lex the lines a diff will show, so painting it lexes nothing."""
    lines = _lines(source, dark)
    for n in numbers:
        lines.line(n)


def _lex(source: str, dark: bool) -> tuple[Text, ...]:
    theme_name = DARK_THEME if dark else LIGHT_THEME
    text = Text(no_wrap=True, end="")
    for token_type, value in _LEXER.get_tokens(source):
        text.append(value, _style(theme_name, token_type))
    lines = text.split("\n", allow_blank=True)
    plain = split_lines(source)
    if len(lines) < len(plain) or any(a.plain != b for a, b in zip(lines, plain, strict=False)):
        # unusual line endings (\r, \f, ...): keep the lines right, lose the colour
        return tuple(Text(line, no_wrap=True, end="") for line in plain)
    return tuple(lines[: len(plain)])
