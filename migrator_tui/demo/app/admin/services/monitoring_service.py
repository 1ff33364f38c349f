"""System monitoring for the admin health page."""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from sqlalchemy import func, text
from sqlalchemy.exc import SQLAlchemyError

from models import Image, PlatformConnection, ProcessingRun, User, utcnow
from platforms import PlatformClient

logger = logging.getLogger(__name__)


class MonitoringService:
    def __init__(self, db_manager, platform_client: PlatformClient | None = None) -> None:
        self.db_manager = db_manager
        self.platform_client = platform_client or PlatformClient()

    def get_system_stats(self) -> dict[str, int]:
        session = self.db_manager.get_session()
        try:
            return {
                "users": session.query(func.count(User.id)).scalar(),
                "images": session.query(func.count(Image.id)).scalar(),
                "posted": session.query(func.count(Image.id)).filter(Image.status == "posted").scalar(),
                "runs": session.query(func.count(ProcessingRun.id)).scalar(),
            }
        finally:
            session.close()

    def get_recent_processing_runs(self, limit: int = 10) -> list[ProcessingRun]:
        session = self.db_manager.get_session()
        try:
            return session.query(ProcessingRun).order_by(ProcessingRun.started_at.desc()).limit(limit).all()
        finally:
            session.close()

    def get_failed_runs_count(self, hours: int = 24) -> int:
        """Failed runs in the last `hours`; -1 if the database could not answer."""
        session = self.db_manager.get_session()
        try:
            since = utcnow() - timedelta(hours=hours)
            return (
                session.query(func.count(ProcessingRun.id))
                .filter(ProcessingRun.status == "failed", ProcessingRun.started_at >= since)
                .scalar()
            )
        except SQLAlchemyError as exc:
            logger.warning("could not count failed runs: %s", exc)
            return -1
        finally:
            session.close()

    def check_database_health(self) -> dict[str, object]:
        try:
            session = self.db_manager.get_session()
            try:
                started = time.perf_counter()
                session.execute(text("SELECT 1"))
                return {"healthy": True, "latency_ms": (time.perf_counter() - started) * 1000}
            finally:
                session.close()
        except Exception as exc:
            logger.error("database health check failed: %s", exc)
            return {"healthy": False, "error": str(exc)}

    def record_processing_run(self, user_id: int, images_processed: int, status: str = "completed") -> int:
        session = self.db_manager.get_session()
        try:
            run = ProcessingRun(
                user_id=user_id,
                images_processed=images_processed,
                status=status,
                completed_at=None if status == "running" else utcnow(),
            )
            session.add(run)
            session.commit()
            return run.id
        except SQLAlchemyError:
            session.rollback()
            raise
        finally:
            session.close()

    def get_queue_depth(self) -> dict[str, int]:
        session = self.db_manager.get_session()
        try:
            pending = session.query(func.count(Image.id)).filter(Image.status == "pending").scalar()
            if pending == 0:
                return {"pending": 0, "awaiting_review": 0}
            awaiting = session.query(func.count(Image.id)).filter(Image.status == "generated").scalar()
            return {"pending": pending, "awaiting_review": awaiting}
        finally:
            session.close()

    def ping_platforms(self) -> dict[str, bool]:
        """Reach every active platform connection (one network round trip each)."""
        session = self.db_manager.get_session()
        try:
            results = {}
            for platform in session.query(PlatformConnection).filter_by(is_active=True):
                results[f"{platform.id}:{platform.name}"] = self.platform_client.ping(platform.instance_url)
            return results
        finally:
            session.close()
