"""Removes processing runs older than the retention period."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy.exc import SQLAlchemyError

from models import ProcessingRun, utcnow

logger = logging.getLogger(__name__)


class CleanupService:
    def __init__(self, db_manager, retention_days: int = 30) -> None:
        self.db_manager = db_manager
        self.retention_days = retention_days

    def cleanup_old_processing_runs(self, days: int | None = None) -> int:
        """Delete finished runs older than `days` (default: the retention period); return how many."""
        cutoff = utcnow() - timedelta(days=self.retention_days if days is None else days)
        session = self.db_manager.get_session()
        try:
            removed = (
                session.query(ProcessingRun)
                .filter(ProcessingRun.started_at < cutoff, ProcessingRun.status != "running")
                .delete(synchronize_session=False)
            )
            session.commit()
            logger.info("removed %d processing runs older than %s", removed, cutoff)
            return removed
        except SQLAlchemyError:
            session.rollback()
            logger.exception("cleanup of processing runs failed")
            raise
        finally:
            session.close()
