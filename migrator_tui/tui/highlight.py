"""Python source to highlighted rich `Text` lines, with pygments, cached per text and theme."""

from __future__ import annotations

from functools import lru_cache

from pygments.lexers import PythonLexer
from rich.style import Style
from rich.syntax import PygmentsSyntaxTheme
from rich.text import Text

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
    theme_name = DARK_THEME if dark else LIGHT_THEME
    text = Text(no_wrap=True, end="")
    for token_type, value in _LEXER.get_tokens(source):
        text.append(value, _style(theme_name, token_type))
    lines = text.split("\n", allow_blank=True)
    plain = source.splitlines()
    if len(lines) < len(plain) or any(a.plain != b for a, b in zip(lines, plain, strict=False)):
        # unusual line endings (\r, \f, ...): keep the lines right, lose the colour
        return tuple(Text(line, no_wrap=True, end="") for line in plain)
    return tuple(lines[: len(plain)])
