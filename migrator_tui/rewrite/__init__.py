"""The rewrite engine: plans on `ast`, rewrites on libcst, every behaviour change named.

Public API (results are values; a hard occurrence is a `manual` proposal, never an exception):
- `propose(source, occurrence, recipe, strategy=None)` → `Proposal`
- `propose_all(source, occurrences, recipe)` → `{id: Proposal}` (default strategies)
- `apply_choices(source, occurrences, choices, recipe)` → new text (raises `RewriteError`)
- `FileAnalysis` parses a file once and serves all three for its occurrences.
"""

from migrator_tui.rewrite.batch import summarize
from migrator_tui.rewrite.engine import (
    FileAnalysis,
    RewriteError,
    apply_choices,
    edit_error,
    propose,
    propose_all,
)

__all__ = [
    "FileAnalysis", "RewriteError", "apply_choices", "edit_error", "propose", "propose_all", "summarize",
]
