"""migrator-tui: reviewer-driven migration of hand-closed sessions to context managers."""

__version__ = "0.1.0"
