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


class StateError(MigratorError):
    """The review state cannot be read, written or locked."""
