"""Database tuning helpers used by the dashboard and the admin pages.

Every method opens its own session with self.db_manager.get_session() and closes it again; the
cache keeps per-user statistics for a short while so the dashboard does not count on every visit.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from sqlalchemy import func, text
from sqlalchemy.exc import SQLAlchemyError

from models import IMAGE_STATUSES, Image, PlatformConnection, ProcessingRun

logger = logging.getLogger(__name__)


@dataclass
class QueryTiming:
    label: str
    seconds: float
    rows: int


class StatsCache:
    """A tiny TTL cache; `get_session` here is a cache lookup, not a database session."""

    def __init__(self, ttl_seconds: float = 30.0) -> None:
        self.ttl_seconds = ttl_seconds
        self._entries: dict[str, tuple[float, object]] = {}

    def get(self, key: str):
        entry = self._entries.get(key)
        if entry is None or time.monotonic() - entry[0] > self.ttl_seconds:
            return None
        return entry[1]

    def put(self, key: str, value: object) -> None:
        self._entries[key] = (time.monotonic(), value)

    def get_session(self):
        return self._entries.get("session")

    def clear(self) -> None:
        self._entries.clear()


class SessionPerformanceOptimizer:
    def __init__(self, db_manager, cache_ttl_seconds: float = 30.0) -> None:
        self.db_manager = db_manager
        self.cache = StatsCache(cache_ttl_seconds)

    def clear_cache(self) -> None:
        self.cache.clear()

    def warm_up(self) -> bool:
        """Open one connection so the first request does not pay for it."""
        session = self.db_manager.get_session()
        try:
            session.execute(text("SELECT 1"))
            return True
        finally:
            session.close()

    def get_cached_user_stats(self, user_id: int) -> dict[str, int]:
        key = f"user-stats:{user_id}"
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        session = self.db_manager.get_session()
        try:
            rows = (
                session.query(Image.status, func.count(Image.id))
                .filter(Image.user_id == user_id)
                .group_by(Image.status)
                .all()
            )
            stats = {status: 0 for status in IMAGE_STATUSES}
            stats.update(dict(rows))
            stats["total"] = sum(count for _status, count in rows)
        finally:
            session.close()
        self.cache.put(key, stats)
        return stats

    def prefetch_user_platforms(self, user_id: int) -> list[PlatformConnection]:
        """Load the user's active platform connections once; callers read them afterwards."""
        session = self.db_manager.get_session()
        try:
            return (
                session.query(PlatformConnection)
                .filter_by(user_id=user_id, is_active=True)
                .order_by(PlatformConnection.id)
                .all()
            )
        finally:
            session.close()

    def measure_query(self, label: str, sql: str) -> QueryTiming:
        started = time.perf_counter()
        session = self.db_manager.get_session()
        logger.debug("db_manager.get_session() opened for %s", label)
        try:
            rows = session.execute(text(sql)).fetchall()
        finally:
            session.close()
        return QueryTiming(label=label, seconds=time.perf_counter() - started, rows=len(rows))

    def analyze_tables(self) -> bool:
        """Refresh the planner statistics; False if the database refused."""
        session = self.db_manager.get_session()
        try:
            session.execute(text("ANALYZE"))
            session.commit()
            return True
        except SQLAlchemyError:
            session.rollback()
            logger.exception("ANALYZE failed")
            return False
        finally:
            session.close()

    def bulk_update_status(self, image_ids: list[int], status: str) -> int:
        """Set `status` on the given images; ValueError for an unknown status."""
        session = self.db_manager.get_session()
        try:
            if status not in IMAGE_STATUSES:
                raise ValueError(f"unknown image status {status!r}")
            updated = (
                session.query(Image)
                .filter(Image.id.in_(image_ids))
                .update({Image.status: status}, synchronize_session=False)
            )
            session.commit()
        finally:
            session.close()
        self.cache.clear()
        return updated

    def connection_report(self) -> dict[str, object]:
        with self.db_manager.get_session() as session:
            pool = session.get_bind().pool
            runs = session.query(func.count(ProcessingRun.id)).scalar()
            return {"pool": pool.status(), "processing_runs": runs, "cached": self.cache.get_session()}

    def readonly_row_counts(self) -> dict[str, int]:
        # A read-only session (get_session with an argument is not the plain acquire).
        session = self.db_manager.get_session(readonly=True)
        try:
            return {
                "images": session.query(func.count(Image.id)).scalar(),
                "platforms": session.query(func.count(PlatformConnection.id)).scalar(),
            }
        finally:
            session.close()


def run_benchmark(db_manager, iterations: int = 10) -> float:
    """Average seconds per round trip over `iterations` queries on one session."""
    session = db_manager.get_session()
    try:
        started = time.perf_counter()
        for _ in range(iterations):
            session.execute(text("SELECT 1"))
        return (time.perf_counter() - started) / iterations
    finally:
        session.close()
