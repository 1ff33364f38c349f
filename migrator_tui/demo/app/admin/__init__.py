"""The admin blueprint: dashboard, user management, system health."""

from __future__ import annotations

from flask import Blueprint

from admin.routes import dashboard, system_health, user_management

admin_bp = Blueprint("admin", __name__, url_prefix="/admin")

dashboard.register_routes(admin_bp)
user_management.register_routes(admin_bp)
system_health.register_routes(admin_bp)
