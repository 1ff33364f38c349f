"""Clients for the outside world: the caption generator and the social platforms.

Both are stand-ins for HTTP services. They keep what they were asked to do in memory (tests read
it) and pause for a configurable delay, as a network round trip would.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field


class PlatformPostingError(Exception):
    """The platform refused the post or could not be reached."""


@dataclass
class HttpSession:
    """A pooled HTTP session to one platform (what `requests.Session` would be)."""

    base_url: str
    requests_sent: int = 0


@dataclass
class PlatformClient:
    delay_seconds: float = 0.0
    outbox: list[tuple[str, str, str]] = field(default_factory=list)
    _http: HttpSession | None = None

    def get_session(self) -> HttpSession:
        """The shared HTTP session (not a database session)."""
        if self._http is None:
            self._http = HttpSession(base_url="https://platforms.example")
        return self._http

    def post_caption(self, instance_url: str, filename: str, caption: str) -> str:
        time.sleep(self.delay_seconds)
        self.get_session().requests_sent += 1
        if instance_url.endswith(".invalid"):
            raise PlatformPostingError(f"{instance_url} is unreachable")
        self.outbox.append((instance_url, filename, caption))
        return f"{instance_url}/statuses/{len(self.outbox)}"

    def ping(self, instance_url: str) -> bool:
        time.sleep(self.delay_seconds)
        return not instance_url.endswith(".invalid")


@dataclass
class CaptionGenerator:
    delay_seconds: float = 0.0

    def describe(self, filename: str) -> str:
        time.sleep(self.delay_seconds)
        stem = filename.rsplit(".", 1)[0].replace("_", " ").replace("-", " ")
        return f"A photo of {stem}."
