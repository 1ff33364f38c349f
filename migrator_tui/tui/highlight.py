"""Python source to highlighted rich `Text` lines, with pygments, cached per text and theme."""

from __future__ import annotations

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


@lru_cache(maxsize=32)
def highlight_lines(source: str, dark: bool = True) -> tuple[Text, ...]:
    """One highlighted `Text` per line of `source` (line endings removed)."""
    return _lex(source, dark)


@lru_cache(maxsize=64)
def highlight_changed(old: str, new: str, dark: bool = True) -> tuple[Text, ...]:
    """`new` highlighted, reusing `old`'s highlighted lines for the lines both share at the start and
    at the end: only the changed middle is lexed (a proposal changes one region of a long file)."""
    if old == new:
        return highlight_lines(old, dark)
    a, b = split_lines(old), split_lines(new)
    old_lines = highlight_lines(old, dark)
    if len(old_lines) != len(a):
        return highlight_lines(new, dark)
    shortest = min(len(a), len(b))
    head = 0
    while head < shortest and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < shortest - head and a[len(a) - 1 - tail] == b[len(b) - 1 - tail]:
        tail += 1
    middle = _lex("\n".join(b[head:len(b) - tail]), dark) if head + tail < len(b) else ()
    return old_lines[:head] + middle + old_lines[len(a) - tail:]


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
