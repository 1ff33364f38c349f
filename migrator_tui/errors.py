"""The one exception tree of the core.

Every error a user can cause is a `MigratorError`: one sentence, no traceback. The CLI turns it
into exit code 2; the TUI into a notification or dialog. Nothing in the core prints or exits.
"""

from __future__ import annotations


class MigratorError(Exception):
    """A user-facing error: `message` is one complete sentence."""

    exit_code = 2

    def __init__(self, message: str, *, title: str = "Error") -> None:
        super().__init__(message)
        self.message = message
        self.title = title


class RecipeError(MigratorError):
    """A recipe file is missing, malformed or inconsistent."""


class RepositoryError(MigratorError):
    """The path is not a usable git repository, or git refused an operation."""


class RewriteError(MigratorError):
    """A requested rewrite cannot be produced (an edit that does not parse, a region that cannot
    be placed)."""


def dubious_ownership(path: str) -> RepositoryError:
    """Git refuses a repository owned by another user ("dubious ownership", CVE-2022-24765)."""
    return RepositoryError(
        f"git refuses to work in {path}: it is owned by another user (dubious ownership); if you trust "
        f"it, run `git config --global --add safe.directory {path}`, or run as its owner."
    )


class StateError(MigratorError):
    """The review state cannot be read, written or locked."""


def printable(text: str) -> str:
    """`text` safe to print on one line: every character that is not printable is escaped.

    File names may hold newlines, ANSI escape sequences (`\\x1b[...`), bidirectional overrides or
    bytes that are not UTF-8 (kept as surrogates); printed raw they forge output lines, recolour
    the terminal or crash the encoder. Such characters are shown as `\\n`, `\\x1b`, `\\u202e`, and an
    undecodable byte as `\\xff`.
    """
    if text.isprintable():
        return text
    out = []
    for ch in text:
        if ch.isprintable():
            out.append(ch)
        elif 0xDC80 <= ord(ch) <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape)
            out.append(f"\\x{ord(ch) - 0xDC00:02x}")
        else:
            out.append(ch.encode("unicode_escape").decode("ascii"))
    return "".join(out)
