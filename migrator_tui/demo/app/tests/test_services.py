"""Admin services, called directly the way the admin routes call them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.exc import SQLAlchemyError

import web_app
from admin.services.cleanup_service import CleanupService
from admin.services.monitoring_service import MonitoringService
from admin.services.user_service import UserAlreadyExistsError, UserService
from models import Image, ProcessingRun, User, utcnow
from platforms import PlatformClient

pytestmark = pytest.mark.usefixtures("request_ctx")


@pytest.fixture
def users(app) -> UserService:
    return UserService(web_app.db_manager)


@pytest.fixture
def monitoring(app) -> MonitoringService:
    return MonitoringService(web_app.db_manager, PlatformClient())


# ------------------------------------------------------------------ UserService


def test_get_all_users_returns_readable_users(users, seed):
    seed.user("bob", role="reviewer")
    seed.user("alice")
    result = users.get_all_users()
    assert [(u.username, u.role, u.email) for u in result] == [
        ("alice", "viewer", "alice@example.com"),
        ("bob", "reviewer", "bob@example.com"),
    ]


def test_get_user_by_id(users, seed):
    bob = seed.user("bob")
    user = users.get_user_by_id(bob)
    assert (user.username, user.active) == ("bob", True)
    assert users.get_user_by_id(999) is None


def test_get_user_by_username(users, seed):
    seed.user("bob", role="admin")
    user = users.get_user_by_username("bob")
    assert (user.username, user.role) == ("bob", "admin")
    assert users.get_user_by_username("nobody") is None


def test_create_user(users, seed):
    user_id = users.create_user("bob", "bob@example.com", "pw", role="reviewer")
    stored = seed.get(User, user_id)
    assert (stored.username, stored.role) == ("bob", "reviewer")
    assert stored.check_password("pw")


def test_create_user_duplicate_raises_user_already_exists(users, seed):
    users.create_user("bob", "bob@example.com", "pw")
    with pytest.raises(UserAlreadyExistsError, match="already exists"):
        users.create_user("bob", "bob2@example.com", "pw")
    with pytest.raises(UserAlreadyExistsError):
        users.create_user("bobby", "bob@example.com", "pw")
    assert seed.count(User) == 1


def test_create_user_bad_role_raises_value_error(users, seed):
    with pytest.raises(ValueError, match="unknown role 'god'") as info:
        users.create_user("bob", "bob@example.com", "pw", role="god")
    assert not isinstance(info.value, UserAlreadyExistsError)
    assert seed.count(User) == 0


def test_update_user_role(users, seed):
    bob = seed.user("bob")
    assert users.update_user_role(bob, "admin") is True
    assert seed.get(User, bob).role == "admin"
    assert users.update_user_role(999, "admin") is False
    with pytest.raises(ValueError, match="unknown role"):
        users.update_user_role(bob, "god")
    assert seed.get(User, bob).role == "admin"


def test_deactivate_user(users, seed):
    bob = seed.user("bob")
    assert users.deactivate_user(bob) is True
    assert seed.get(User, bob).active is False
    assert users.deactivate_user(999) is False


def test_deactivate_user_database_error_propagates(users, seed):
    bob = seed.user("bob")
    seed.drop_table("users")
    with pytest.raises(SQLAlchemyError):
        users.deactivate_user(bob)


def test_delete_user(users, seed):
    bob = seed.user("bob")
    seed.image(bob, "a.jpg")
    assert users.delete_user(bob) is True
    assert seed.get(User, bob) is None
    assert seed.count(Image) == 0
    assert users.delete_user(bob) is False


def test_count_users_by_role(users, seed):
    seed.user("a", role="admin")
    seed.user("b")
    seed.user("c")
    assert users.count_users_by_role() == {"admin": 1, "reviewer": 0, "viewer": 2}


def test_get_user_summary(users, seed):
    bob = seed.user("bob")
    seed.image(bob, "a.jpg")
    seed.image(bob, "b.jpg")
    assert users.get_user_summary(bob) == {
        "id": bob, "username": "bob", "role": "viewer", "active": True, "images": 2, "platforms": 0,
    }
    assert users.get_user_summary(999) is None


# ------------------------------------------------------------------ MonitoringService


def test_get_system_stats(monitoring, seed):
    bob = seed.user("bob")
    seed.image(bob, "a.jpg", status="posted")
    seed.image(bob, "b.jpg")
    seed.run(bob)
    assert monitoring.get_system_stats() == {"users": 1, "images": 2, "posted": 1, "runs": 1}


def test_get_recent_processing_runs_returns_readable_runs(monitoring, seed):
    bob = seed.user("bob")
    seed.run(bob, status="failed", started_at=utcnow() - timedelta(hours=2))
    seed.run(bob, status="completed")
    runs = monitoring.get_recent_processing_runs(limit=5)
    assert [(r.status, r.images_processed, r.user_id) for r in runs] == [("completed", 1, bob), ("failed", 1, bob)]
    assert len(monitoring.get_recent_processing_runs(limit=1)) == 1


def test_get_failed_runs_count(monitoring, seed):
    bob = seed.user("bob")
    seed.run(bob, status="failed")
    seed.run(bob, status="failed", started_at=utcnow() - timedelta(days=3))
    seed.run(bob, status="completed")
    assert monitoring.get_failed_runs_count(hours=24) == 1


def test_get_failed_runs_count_database_error(monitoring, seed):
    seed.drop_table("processing_runs")
    assert monitoring.get_failed_runs_count() == -1


def test_check_database_health(monitoring):
    health = monitoring.check_database_health()
    assert health["healthy"] is True
    assert health["latency_ms"] >= 0


def test_check_database_health_unreachable(monitoring, unreachable_db):
    health = monitoring.check_database_health()
    assert health["healthy"] is False
    assert "unable to open database file" in health["error"]


def test_record_processing_run(monitoring, seed):
    bob = seed.user("bob")
    run_id = monitoring.record_processing_run(bob, 3)
    run = seed.get(ProcessingRun, run_id)
    assert (run.images_processed, run.status) == (3, "completed")
    assert run.completed_at is not None
    assert seed.get(ProcessingRun, monitoring.record_processing_run(bob, 0, status="running")).completed_at is None


def test_record_processing_run_integrity_error(monitoring, seed):
    with pytest.raises(SQLAlchemyError):
        monitoring.record_processing_run(999, 1)
    assert seed.count(ProcessingRun) == 0


def test_get_queue_depth(monitoring, seed):
    assert monitoring.get_queue_depth() == {"pending": 0, "awaiting_review": 0}
    bob = seed.user("bob")
    seed.image(bob, "a.jpg")
    seed.image(bob, "b.jpg", status="generated")
    assert monitoring.get_queue_depth() == {"pending": 1, "awaiting_review": 1}


def test_ping_platforms(monitoring, seed):
    bob = seed.user("bob")
    up = seed.platform(bob, "Up")
    down = seed.platform(bob, "Down", instance_url="https://down.invalid")
    assert monitoring.ping_platforms() == {f"{up}:Up": True, f"{down}:Down": False}


# ------------------------------------------------------------------ CleanupService


def test_cleanup_old_processing_runs(app, seed):
    bob = seed.user("bob")
    old = seed.run(bob, started_at=utcnow() - timedelta(days=40))
    old_running = seed.run(bob, status="running", started_at=utcnow() - timedelta(days=40))
    recent = seed.run(bob, started_at=utcnow() - timedelta(days=5))
    service = CleanupService(web_app.db_manager)
    assert service.cleanup_old_processing_runs() == 1
    assert seed.get(ProcessingRun, old) is None
    assert seed.get(ProcessingRun, old_running) is not None
    assert service.cleanup_old_processing_runs(days=1) == 1
    assert seed.get(ProcessingRun, recent) is None


def test_cleanup_database_error_propagates(app, seed):
    seed.drop_table("processing_runs")
    with pytest.raises(SQLAlchemyError):
        CleanupService(web_app.db_manager).cleanup_old_processing_runs()
