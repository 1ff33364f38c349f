"""Checks: what is left, what the tests say, and what is proven.

`validate` lists remaining direct usages (CI and pre-commit), `verify` runs the project's tests
on every per-file branch in temporary worktrees, `report` writes the Markdown report from facts.
"""
