"""Admin user management: list, create, change role, enable/disable, delete."""

from __future__ import annotations

import logging

from flask import current_app, jsonify, request
from flask_login import current_user, login_required
from sqlalchemy.exc import SQLAlchemyError

from admin.decorators import require_admin
from admin.services.user_service import UserAlreadyExistsError, UserService
from models import User

logger = logging.getLogger(__name__)


def _user_service() -> UserService:
    return UserService(current_app.config["db_manager"])


def register_routes(bp):
    @bp.route("/users")
    @login_required
    @require_admin
    def list_users():
        db_manager = current_app.config["db_manager"]
        session = db_manager.get_session()
        try:
            users = session.query(User).order_by(User.username).all()
            return jsonify(
                [{"id": u.id, "username": u.username, "role": u.role, "active": u.active} for u in users]
            )
        finally:
            session.close()

    @bp.route("/users", methods=["POST"])
    @login_required
    @require_admin
    def create_user():
        data = request.get_json(force=True)
        try:
            user_id = _user_service().create_user(
                data["username"], data["email"], data["password"], data.get("role", "viewer")
            )
        except UserAlreadyExistsError as exc:
            return jsonify(error=str(exc)), 409
        except ValueError as exc:
            return jsonify(error=str(exc)), 400
        return jsonify(id=user_id), 201

    @bp.route("/users/<int:user_id>/active", methods=["POST"])
    @login_required
    @require_admin
    def toggle_user_active(user_id):
        if user_id == current_user.id:
            return jsonify(error="you cannot disable your own account"), 400
        db_manager = current_app.config["db_manager"]
        session = db_manager.get_session()
        try:
            user = session.get(User, user_id)
            if user is None:
                return jsonify(error=f"user {user_id} not found"), 404
            user.active = not user.active
            session.commit()
            return jsonify(id=user.id, active=user.active)
        except SQLAlchemyError:
            session.rollback()
            logger.exception("could not toggle user %s", user_id)
            return jsonify(error="database error"), 500
        finally:
            session.close()

    @bp.route("/users/<int:user_id>/role", methods=["POST"])
    @login_required
    @require_admin
    def change_role(user_id):
        role = request.get_json(force=True).get("role", "")
        try:
            changed = _user_service().update_user_role(user_id, role)
        except ValueError as exc:
            return jsonify(error=str(exc)), 400
        if not changed:
            return jsonify(error=f"user {user_id} not found"), 404
        return jsonify(id=user_id, role=role)

    @bp.route("/users/<int:user_id>", methods=["DELETE"])
    @login_required
    @require_admin
    def delete_user(user_id):
        if not _user_service().delete_user(user_id):
            return jsonify(error=f"user {user_id} not found"), 404
        return jsonify(deleted=user_id)

    @bp.route("/users/<int:user_id>")
    @login_required
    @require_admin
    def user_summary(user_id):
        summary = _user_service().get_user_summary(user_id)
        if summary is None:
            return jsonify(error=f"user {user_id} not found"), 404
        return jsonify(summary)
