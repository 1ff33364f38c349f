"""Admin system health: database latency, processing runs, platform reachability."""

from __future__ import annotations

import time

from flask import current_app, jsonify
from flask_login import login_required
from sqlalchemy import text

from admin.decorators import require_admin
from admin.services.cleanup_service import CleanupService
from admin.services.monitoring_service import MonitoringService


def register_routes(bp):
    @bp.route("/health")
    @login_required
    @require_admin
    def system_health():
        db_manager = current_app.config["db_manager"]
        monitoring = MonitoringService(db_manager)
        session = db_manager.get_session()
        started = time.perf_counter()
        try:
            session.execute(text("SELECT 1"))
            latency_ms = (time.perf_counter() - started) * 1000
            database = {"status": "ok", "latency_ms": round(latency_ms, 3)}
        finally:
            session.close()
        return jsonify(
            database=database,
            stats=monitoring.get_system_stats(),
            failed_runs=monitoring.get_failed_runs_count(),
            queue_depth=monitoring.get_queue_depth(),
        )

    @bp.route("/health/platforms")
    @login_required
    @require_admin
    def platform_health():
        return jsonify(MonitoringService(current_app.config["db_manager"]).ping_platforms())

    @bp.route("/cleanup", methods=["POST"])
    @login_required
    @require_admin
    def cleanup():
        removed = CleanupService(current_app.config["db_manager"]).cleanup_old_processing_runs()
        return jsonify(removed=removed)
