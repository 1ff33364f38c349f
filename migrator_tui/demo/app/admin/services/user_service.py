"""User administration."""

from __future__ import annotations

import logging

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError

from models import PASSWORD_HASH_METHOD, ROLES, Image, PlatformConnection, User
from werkzeug.security import generate_password_hash

logger = logging.getLogger(__name__)


class UserAlreadyExistsError(ValueError):
    """The username or email is taken."""


class UserService:
    def __init__(self, db_manager) -> None:
        self.db_manager = db_manager

    def get_all_users(self) -> list[User]:
        session = self.db_manager.get_session()
        try:
            return session.query(User).order_by(User.username).all()
        finally:
            session.close()

    def get_user_by_id(self, user_id: int) -> User | None:
        session = self.db_manager.get_session()
        try:
            user = session.get(User, user_id)
            if user is None:
                logger.info("no user with id %s", user_id)
                return None
            return user
        finally:
            session.close()

    def get_user_by_username(self, username: str) -> User | None:
        with self.db_manager.get_session() as session:
            return session.query(User).filter_by(username=username).first()

    def create_user(self, username: str, email: str, password: str, role: str = "viewer") -> int:
        """Create a user and return its id; ValueError for a bad role, UserAlreadyExistsError for a taken name."""
        session = self.db_manager.get_session()
        try:
            if role not in ROLES:
                raise ValueError(f"unknown role {role!r}")
            user = User(username=username, email=email, role=role)
            user.set_password(password)
            session.add(user)
            session.commit()
            return user.id
        except IntegrityError:
            session.rollback()
            raise UserAlreadyExistsError(f"user {username!r} or email {email!r} already exists") from None
        finally:
            session.close()

    def update_user_role(self, user_id: int, role: str) -> bool:
        session = self.db_manager.get_session()
        try:
            if role not in ROLES:
                raise ValueError(f"unknown role {role!r}")
            user = session.get(User, user_id)
            if user is None:
                return False
            user.role = role
            session.commit()
            return True
        finally:
            session.close()

    def deactivate_user(self, user_id: int) -> bool:
        session = None
        try:
            session = self.db_manager.get_session()
            user = session.get(User, user_id)
            if user is None:
                return False
            user.active = False
            session.commit()
            return True
        except Exception:
            if session:
                session.rollback()
            raise
        finally:
            if session:
                session.close()

    def delete_user(self, user_id: int) -> bool:
        try:
            session = self.db_manager.get_session()
            user = session.get(User, user_id)
            if user is None:
                return False
            session.delete(user)
            session.commit()
            return True
        finally:
            session.close()

    def reset_password(self, user_id: int, new_password: str) -> bool:
        session = self.db_manager.get_session()
        password_hash = generate_password_hash(new_password, method=PASSWORD_HASH_METHOD)
        try:
            updated = session.query(User).filter_by(id=user_id).update({User.password_hash: password_hash})
            session.commit()
            return updated == 1
        finally:
            session.close()

    def count_users_by_role(self) -> dict[str, int]:
        session = self.db_manager.get_session()
        try:
            counts = dict(session.query(User.role, func.count(User.id)).group_by(User.role).all())
            return {role: counts.get(role, 0) for role in ROLES}
        finally:
            session.close()

    def get_user_summary(self, user_id: int) -> dict[str, object] | None:
        session = self.db_manager.get_session()
        try:
            user = session.get(User, user_id)
            if user is None:
                return None
            summary = {"id": user.id, "username": user.username, "role": user.role, "active": user.active}
        finally:
            session.close()
        session = self.db_manager.get_session()
        try:
            summary["images"] = session.query(func.count(Image.id)).filter_by(user_id=user_id).scalar()
            summary["platforms"] = (
                session.query(func.count(PlatformConnection.id)).filter_by(user_id=user_id).scalar()
            )
        finally:
            session.close()
        return summary
