"""Read and write Python source exactly: encoding cookie honoured, line endings kept.

The one decoder of the project: the scanner, the rewrite engine and the review workspace all read
a file the way Python does (a UTF-8 BOM or a PEP 263 coding declaration in the first two lines
wins; UTF-8 otherwise), so that lines and columns mean the same thing everywhere.
"""

from __future__ import annotations

import codecs
import io
import re
import tokenize
from collections.abc import Iterable

_BREAK = re.compile(r"\r\n|\r|\n")
_AFTER_BREAK = re.compile(r"(?<=\n)|(?<=\r)(?!\n)")


def split_lines(text: str, keepends: bool = False) -> list[str]:
    """The lines of Python source as the tokenizer sees them: only `\\n`, `\\r\\n` and `\\r` end one.

    `str.splitlines()` also breaks at form feed, vertical tab, the file, group and record
    separators, NEL, U+2028 and U+2029, which Python keeps inside a line (in a string, a comment,
    or as whitespace). Line numbers computed with it disagree with `ast`'s after such a character.
    Otherwise it behaves like `splitlines` (no empty last line after a final line break).
    """
    parts = (_AFTER_BREAK if keepends else _BREAK).split(text)
    if parts and parts[-1] == "":
        parts.pop()
    return parts


class UndecodableSource(ValueError):
    """The bytes are not in the encoding Python would read them with; the message says why."""


def outermost(spans: Iterable[tuple[int, int]]) -> set[tuple[int, int]]:
    """The (first line, last line) spans that no other, different span contains (in time
    linear after a sort: a file with thousands of rewritten regions asks this)."""
    out: set[tuple[int, int]] = set()
    furthest = None
    for span in sorted(set(spans), key=lambda s: (s[0], -s[1])):
        if furthest is None or furthest < span[1]:
            out.add(span)
        furthest = span[1] if furthest is None else max(furthest, span[1])
    return out


def decode(data: bytes) -> tuple[str, str]:
    """The text of a Python file and its encoding (`utf-8-sig` when it starts with a BOM).

    Line endings are kept as they are (no universal-newline translation), so
    `encode(*decode(b)) == b`. Raises `UndecodableSource` with a few words of reason.
    """
    head = data.split(b"\n", 2)[:2]
    if not data.startswith(codecs.BOM_UTF8) and not any(b"coding" in line for line in head):
        encoding = "utf-8"  # the common case, without tokenize
    else:
        try:
            encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        except SyntaxError as exc:  # a declaration naming an unknown encoding, or a bad BOM pair
            message = str(exc)
            if "unknown encoding" in message:
                raise UndecodableSource(f"declares an {message}") from None
            raise UndecodableSource(message) from None
    try:
        return data.decode(encoding), encoding
    except (UnicodeDecodeError, LookupError):
        if encoding == "utf-8":
            raise UndecodableSource("not UTF-8 and no coding declaration") from None
        raise UndecodableSource(f"cannot be decoded as {encoding}") from None


def encode(text: str, encoding: str) -> bytes:
    """Bytes of `text` in `encoding` (`utf-8-sig` writes the BOM back)."""
    return text.encode(encoding)
