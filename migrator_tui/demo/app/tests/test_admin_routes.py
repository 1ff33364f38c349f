"""The admin blueprint: dashboard, user management and system health views."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import login

import web_app
from models import Image, ProcessingRun, User, utcnow


@pytest.fixture
def admin(seed, client) -> int:
    user_id = seed.user("root", role="admin")
    assert login(client, "root").status_code == 302
    return user_id


def test_admin_pages_need_an_admin(alice, client):
    for path in ("/admin/dashboard", "/admin/users", "/admin/health"):
        response = client.get(path)
        assert (response.status_code, response.get_json()) == (403, {"error": "admin role required"})


def test_admin_dashboard_totals(admin, seed, client):
    bob = seed.user("bob", active=False)
    seed.image(bob, "a.jpg")
    seed.platform(bob, "Home")
    html = client.get("/admin/dashboard").get_data(as_text=True)
    assert "<li>users: 2</li>" in html
    assert "<li>active_users: 1</li>" in html
    assert "<li>images: 1</li>" in html
    assert "<li>platforms: 1</li>" in html
    assert "bob (viewer)" in html


def test_list_users(admin, seed, client):
    seed.user("bob", role="reviewer")
    assert client.get("/admin/users").get_json() == [
        {"id": 2, "username": "bob", "role": "reviewer", "active": True},
        {"id": admin, "username": "root", "role": "admin", "active": True},
    ]


def test_create_user_duplicate_and_bad_role(admin, seed, client):
    payload = {"username": "bob", "email": "bob@example.com", "password": "pw", "role": "reviewer"}
    created = client.post("/admin/users", json=payload)
    assert created.status_code == 201
    assert seed.get(User, created.get_json()["id"]).role == "reviewer"
    duplicate = client.post("/admin/users", json=payload)
    assert duplicate.status_code == 409
    assert duplicate.get_json() == {"error": "user 'bob' or email 'bob@example.com' already exists"}
    bad = client.post("/admin/users", json={**payload, "username": "carl", "email": "c@example.com", "role": "god"})
    assert (bad.status_code, bad.get_json()) == (400, {"error": "unknown role 'god'"})
    assert seed.count(User) == 2


def test_toggle_user_active(admin, seed, client):
    bob = seed.user("bob")
    assert client.post(f"/admin/users/{bob}/active").get_json() == {"id": bob, "active": False}
    assert seed.get(User, bob).active is False
    assert client.post(f"/admin/users/{bob}/active").get_json() == {"id": bob, "active": True}
    missing = client.post("/admin/users/999/active")
    assert (missing.status_code, missing.get_json()) == (404, {"error": "user 999 not found"})
    own = client.post(f"/admin/users/{admin}/active")
    assert own.status_code == 400


def test_toggle_user_active_database_error_is_rolled_back(admin, seed, client):
    bob = seed.user("bob")
    seed.forbid_update("users", "active")
    response = client.post(f"/admin/users/{bob}/active")
    assert (response.status_code, response.get_json()) == (500, {"error": "database error"})
    assert seed.get(User, bob).active is True


def test_change_role(admin, seed, client):
    bob = seed.user("bob")
    assert client.post(f"/admin/users/{bob}/role", json={"role": "reviewer"}).get_json() == {
        "id": bob,
        "role": "reviewer",
    }
    assert seed.get(User, bob).role == "reviewer"
    bad = client.post(f"/admin/users/{bob}/role", json={"role": "god"})
    assert (bad.status_code, bad.get_json()) == (400, {"error": "unknown role 'god'"})
    assert client.post("/admin/users/999/role", json={"role": "viewer"}).status_code == 404


def test_delete_user_cascades(admin, seed, client):
    bob = seed.user("bob")
    image = seed.image(bob, "a.jpg")
    assert client.delete(f"/admin/users/{bob}").get_json() == {"deleted": bob}
    assert seed.get(User, bob) is None
    assert seed.get(Image, image) is None
    assert client.delete(f"/admin/users/{bob}").status_code == 404


def test_user_summary(admin, seed, client):
    bob = seed.user("bob")
    seed.image(bob, "a.jpg")
    seed.platform(bob, "Home")
    assert client.get(f"/admin/users/{bob}").get_json() == {
        "id": bob, "username": "bob", "role": "viewer", "active": True, "images": 1, "platforms": 1,
    }
    assert client.get("/admin/users/999").status_code == 404


def test_system_health(admin, seed, client):
    seed.image(admin, "a.jpg")
    seed.run(admin, status="failed")
    body = client.get("/admin/health").get_json()
    assert body["database"]["status"] == "ok"
    assert body["database"]["latency_ms"] >= 0
    assert body["stats"] == {"users": 1, "images": 1, "posted": 0, "runs": 1}
    assert body["failed_runs"] == 1
    assert body["queue_depth"] == {"pending": 1, "awaiting_review": 0}


def test_platform_health(admin, seed, client):
    up = seed.platform(admin, "Up", instance_url="https://up.example")
    down = seed.platform(admin, "Down", instance_url="https://down.invalid")
    seed.platform(admin, "Off", is_active=False)
    assert client.get("/admin/health/platforms").get_json() == {f"{up}:Up": True, f"{down}:Down": False}


def test_cleanup_route(admin, seed, client):
    seed.run(admin, started_at=utcnow() - timedelta(days=90))
    seed.run(admin)
    assert client.post("/admin/cleanup").get_json() == {"removed": 1}
    assert seed.count(ProcessingRun) == 1


def test_admin_config_exposes_the_manager(app):
    assert app.config["db_manager"] is web_app.db_manager
