"""Shared test setup: a fixed git identity and no user/system git config leaking in."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _git_identity(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Test Reviewer")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "reviewer@example.com")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "Test Reviewer")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "reviewer@example.com")
