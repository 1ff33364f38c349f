"""Admin dashboard: totals across all users."""

from __future__ import annotations

from flask import current_app, render_template
from flask_login import login_required
from sqlalchemy import func

from admin.decorators import require_admin
from models import Image, PlatformConnection, User


def register_routes(bp):
    @bp.route("/dashboard")
    @login_required
    @require_admin
    def admin_dashboard():
        db_manager = current_app.config["db_manager"]
        session = db_manager.get_session()
        try:
            totals = {
                "users": session.query(func.count(User.id)).scalar(),
                "active_users": session.query(func.count(User.id)).filter(User.active.is_(True)).scalar(),
                "images": session.query(func.count(Image.id)).scalar(),
                "platforms": session.query(func.count(PlatformConnection.id)).scalar(),
            }
            newest = session.query(User).order_by(User.id.desc()).limit(5).all()
            return render_template("admin/dashboard.html", totals=totals, newest=newest)
        finally:
            session.close()
