"""Read and write Python source exactly: encoding cookie honoured, line endings kept."""

from __future__ import annotations

import io
import tokenize


def decode(data: bytes) -> tuple[str, str]:
    """The text of a Python file and its encoding (PEP 263 cookie or BOM, else UTF-8).

    Line endings are kept as they are (no universal-newline translation), so `encode(decode(b))`
    gives back `b` byte for byte. Raises `UnicodeDecodeError` or `SyntaxError` (bad cookie).
    """
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    text = data.decode(encoding)
    return text, encoding


def encode(text: str, encoding: str) -> bytes:
    """Bytes of `text` in `encoding` (`utf-8-sig` writes the BOM back)."""
    return text.encode(encoding)
