"""Every view and helper of web_app.py, success and error paths."""

from __future__ import annotations

from conftest import PASSWORD, login

import web_app
from models import Image, PlatformConnection, ProcessingRun, User


# ------------------------------------------------------------------ auth, load_user, register


def test_login_success_records_last_login(seed, client):
    user_id = seed.user("alice")
    response = login(client, "alice")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/")
    assert seed.get(User, user_id).last_login is not None


def test_login_wrong_password(seed, client):
    seed.user("alice")
    response = login(client, "alice", "wrong")
    assert response.status_code == 401
    assert b"Invalid username or password." in response.data


def test_login_disabled_account(seed, client):
    seed.user("alice", active=False)
    response = login(client, "alice")
    assert response.status_code == 403
    assert b"This account is disabled." in response.data


def test_login_database_error_is_rolled_back_and_reported(seed, client):
    seed.drop_table("users")
    response = login(client, "alice")
    assert response.status_code == 500
    assert b"Logging in is not possible right now; try again later." in response.data


def test_login_page(client):
    assert client.get("/login").status_code == 200


def test_load_user_gives_the_page_the_current_user(alice, client):
    response = client.get("/")
    assert response.status_code == 200
    assert b"<span>alice</span>" in response.data


def test_load_user_refuses_a_disabled_user(alice, seed, client):
    with web_app.app.app_context():
        assert web_app.load_user(str(alice)).username == "alice"
    from sqlalchemy.orm import Session

    with Session(web_app.db_manager.engine) as session:
        session.get(User, alice).active = False
        session.commit()
    assert web_app.load_user(str(alice)) is None
    assert web_app.load_user("999") is None
    assert client.get("/").status_code == 302


def test_logout(alice, client):
    assert client.get("/logout").status_code == 302
    assert client.get("/").status_code == 302


def test_register_and_duplicate(client, seed):
    response = client.post("/register", json={"username": "bob", "email": "bob@example.com", "password": "pw"})
    assert response.status_code == 201
    assert response.get_json()["username"] == "bob"
    assert seed.get(User, response.get_json()["id"]).email == "bob@example.com"
    duplicate = client.post("/register", json={"username": "bob", "email": "other@example.com", "password": "pw"})
    assert duplicate.status_code == 409
    assert duplicate.get_json() == {"error": "username or email already registered"}
    assert seed.count(User) == 1


def test_anonymous_is_sent_to_login(client, app):
    response = client.get("/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


# ------------------------------------------------------------------ pages


def test_dashboard_counts_and_recent_images(alice, seed, client):
    seed.image(alice, "cat.jpg", status="pending")
    seed.image(alice, "dog.jpg", status="generated", generated="A dog.")
    other = seed.user("bob")
    seed.image(other, "bob.jpg")
    html = client.get("/").get_data(as_text=True)
    assert "<li>generated: 1</li>" in html
    assert "<li>pending: 1</li>" in html
    assert "Total images: 2" in html
    assert "dog.jpg (generated)" in html
    assert "bob.jpg" not in html


def test_images_filter_and_pagination(alice, seed, client, app):
    app.config["IMAGES_PER_PAGE"] = 2
    for n in range(3):
        seed.image(alice, f"img{n}.jpg", status="pending")
    seed.image(alice, "done.jpg", status="posted")
    html = client.get("/images?status=pending&page=2").get_data(as_text=True)
    assert "3 images, page 2" in html
    assert "img2.jpg: pending" in html
    assert "img0.jpg" not in html
    assert "done.jpg" not in client.get("/images?status=pending").get_data(as_text=True)
    assert "4 images, page 1" in client.get("/images").get_data(as_text=True)


def test_review_captions_lists_generated_captions_and_platforms(alice, seed, client):
    seed.image(alice, "cat.jpg", status="generated", generated="A cat on a sofa.")
    seed.image(alice, "old.jpg", status="posted", generated="Old.")
    seed.platform(alice, "Home server", is_default=True)
    seed.platform(alice, "Retired", is_active=False)
    html = client.get("/review").get_data(as_text=True)
    assert "cat.jpg: A cat on a sofa." in html
    assert "old.jpg" not in html
    assert "Home server (mastodon) default" in html
    assert "Retired" not in html


def test_review_captions_empty(alice, client):
    assert "Nothing to review." in client.get("/review").get_data(as_text=True)


# ------------------------------------------------------------------ update_caption under json_errors


def test_update_caption_approves_with_edited_text(alice, seed, client):
    image_id = seed.image(alice, "cat.jpg", status="generated", generated="A cat.")
    response = client.post(f"/api/images/{image_id}/caption", json={"caption": "  My cat, asleep.  "})
    assert response.get_json() == {"id": image_id, "status": "approved", "caption": "My cat, asleep."}
    stored = seed.get(Image, image_id)
    assert (stored.status, stored.final_caption) == ("approved", "My cat, asleep.")


def test_update_caption_approves_generated_text_and_rejects(alice, seed, client):
    first = seed.image(alice, "a.jpg", status="generated", generated="A.")
    second = seed.image(alice, "b.jpg", status="generated", generated="B.")
    assert client.post(f"/api/images/{first}/caption", json={}).get_json()["caption"] == "A."
    assert client.post(f"/api/images/{second}/caption", json={"action": "reject"}).get_json()["status"] == "rejected"
    assert seed.get(Image, second).status == "rejected"


def test_update_caption_missing_image_is_404_from_lookup_error(alice, client):
    response = client.post("/api/images/999/caption", json={"caption": "x"})
    assert response.status_code == 404
    assert response.get_json() == {"error": "image 999 not found"}


def test_update_caption_invalid_caption_is_400_and_nothing_changes(alice, seed, client, app):
    image_id = seed.image(alice, "cat.jpg", status="generated", generated="")
    empty = client.post(f"/api/images/{image_id}/caption", json={"caption": "   "})
    assert (empty.status_code, empty.get_json()) == (400, {"error": "caption is empty"})
    app.config["MAX_CAPTION_LENGTH"] = 5
    long = client.post(f"/api/images/{image_id}/caption", json={"caption": "far too long"})
    assert (long.status_code, long.get_json()) == (400, {"error": "caption is longer than 5 characters"})
    assert seed.get(Image, image_id).status == "generated"


# ------------------------------------------------------------------ platforms


def test_platform_management_lists_own_platforms(alice, seed, client):
    seed.platform(alice, "Pixelfed", instance_url="https://pixelfed.example", is_default=True)
    seed.platform(seed.user("bob"), "Bob's")
    html = client.get("/platforms").get_data(as_text=True)
    assert "Pixelfed: https://pixelfed.example (default)" in html
    assert "Bob&#39;s" not in html


def test_platform_management_database_error_is_503(alice, seed, client):
    seed.drop_table("platform_connections")
    response = client.get("/platforms")
    assert response.status_code == 503
    assert response.get_json() == {"error": "platform connections are unavailable"}


def test_api_platforms_readonly_listing(alice, seed, client):
    platform_id = seed.platform(alice, "Home", is_default=True)
    assert client.get("/api/platforms").get_json() == [{"id": platform_id, "name": "Home", "default": True}]


def test_add_platform_and_duplicate_name(alice, seed, client):
    payload = {"name": "Home", "instance_url": "https://home.example"}
    created = client.post("/api/platforms", json=payload)
    assert created.status_code == 201
    assert created.get_json()["name"] == "Home"
    assert seed.get(PlatformConnection, created.get_json()["id"]).instance_url == "https://home.example"
    duplicate = client.post("/api/platforms", json=payload)
    assert duplicate.status_code == 409
    assert duplicate.get_json() == {"error": "a platform named 'Home' already exists"}
    assert seed.count(PlatformConnection) == 1


def test_switch_platform_sets_the_default(alice, seed, client):
    first = seed.platform(alice, "First", is_default=True)
    second = seed.platform(alice, "Second")
    response = client.post(f"/api/platforms/{second}/default")
    assert response.get_json() == {"default": second, "name": "Second"}
    assert seed.get(PlatformConnection, second).is_default
    assert not seed.get(PlatformConnection, first).is_default


def test_switch_platform_refuses_foreign_and_missing(alice, seed, client):
    foreign = seed.platform(seed.user("bob"), "Bob's")
    response = client.post(f"/api/platforms/{foreign}/default")
    assert response.status_code == 404
    assert response.get_json() == {"error": f"platform {foreign} is not one of your connections"}
    assert client.post("/api/platforms/999/default").status_code == 404


def test_get_user_platform_returns_a_readable_object(alice, seed, app):
    platform_id = seed.platform(alice, "Home", instance_url="https://home.example")
    with app.test_request_context():
        platform = web_app._get_user_platform(platform_id, alice)
    assert (platform.name, platform.instance_url) == ("Home", "https://home.example")


# ------------------------------------------------------------------ captions


def test_generate_captions(alice, seed, client):
    pending = seed.image(alice, "sunset_over_lake.jpg")
    done = seed.image(alice, "done.jpg", status="posted")
    response = client.post("/api/captions/generate")
    body = response.get_json()
    assert body["generated"] == 1
    assert seed.get(Image, pending).generated_caption == "A photo of sunset over lake."
    assert seed.get(Image, pending).status == "generated"
    assert seed.get(Image, done).status == "posted"
    run = seed.get(ProcessingRun, body["run_id"])
    assert (run.status, run.images_processed) == ("completed", 1)


def test_post_approved_captions_to_the_default_platform(alice, seed, client):
    seed.platform(alice, "Home", instance_url="https://home.example", is_default=True)
    first = seed.image(alice, "a.jpg", status="approved", final="Caption A")
    second = seed.image(alice, "b.jpg", status="approved", final="Caption B")
    seed.image(alice, "c.jpg", status="generated", generated="C")
    response = client.post("/api/captions/post")
    assert response.get_json() == {"posted": 2}
    assert web_app.platform_client.outbox == [
        ("https://home.example", "a.jpg", "Caption A"),
        ("https://home.example", "b.jpg", "Caption B"),
    ]
    assert seed.get(Image, first).status == "posted"
    assert seed.get(Image, second).posted_at is not None


def test_post_approved_captions_stops_at_an_unreachable_platform(alice, seed, client):
    good = seed.platform(alice, "Home", instance_url="https://home.example", is_default=True)
    down = seed.platform(alice, "Down", instance_url="https://down.invalid")
    first = seed.image(alice, "a.jpg", status="approved", final="A", platform_id=good)
    second = seed.image(alice, "b.jpg", status="approved", final="B", platform_id=down)
    response = client.post("/api/captions/post")
    assert response.status_code == 502
    assert response.get_json() == {"error": "https://down.invalid is unreachable", "posted": 1}
    assert seed.get(Image, first).status == "posted"
    assert seed.get(Image, second).status == "approved"


def test_post_approved_captions_without_a_platform(alice, seed, client):
    image_id = seed.image(alice, "a.jpg", status="approved", final="A")
    response = client.post("/api/captions/post")
    assert response.status_code == 400
    assert response.get_json() == {"error": "no platform connection to post to", "posted": 0}
    assert seed.get(Image, image_id).status == "approved"


def test_caption_stats(alice, seed, client):
    seed.image(alice, "a.jpg")
    seed.image(alice, "b.jpg")
    seed.image(seed.user("bob"), "c.jpg")
    assert client.get("/api/captions/stats").get_json() == {"total": 2}


def test_api_image_status(alice, seed, client):
    image_id = seed.image(alice, "a.jpg", status="generated")
    assert client.get(f"/api/images/{image_id}/status").get_json() == {"id": image_id, "status": "generated"}
    assert client.get("/api/images/999/status").status_code == 404


def test_upload_image(alice, seed, client):
    response = client.post("/api/images", json={"filename": "new.jpg"})
    assert response.status_code == 201
    assert seed.get(Image, response.get_json()["id"]).filename == "new.jpg"
    bad = client.post("/api/images", json={"filename": " "})
    assert (bad.status_code, bad.get_json()) == (400, {"error": "filename is required"})


def test_delete_image(alice, seed, client):
    keep = seed.image(alice, "keep.jpg")
    gone = seed.image(alice, "gone.jpg")
    assert client.delete(f"/api/images/{gone}").get_json() == {"deleted": gone, "remaining": 1}
    assert seed.get(Image, gone) is None
    assert seed.get(Image, keep) is not None
    assert client.delete("/api/images/999").status_code == 404


def test_export_captions_csv(alice, seed, client):
    seed.image(alice, "a.jpg", status="approved", final="Caption, with comma")
    seed.image(alice, "b.jpg")
    response = client.get("/export/captions.csv")
    assert response.mimetype == "text/csv"
    assert response.get_data(as_text=True) == (
        'filename,status,caption\r\na.jpg,approved,"Caption, with comma"\r\nb.jpg,pending,\r\n'
    )


def test_health_ok(client):
    assert client.get("/health").get_json() == {"status": "ok"}


def test_health_database_unreachable(client, unreachable_db):
    response = client.get("/health")
    assert (response.status_code, response.get_json()) == (503, {"status": "error"})


# ------------------------------------------------------------------ role_required


def test_role_required_refuses_a_viewer(alice, client):
    response = client.get("/reviewer/queue")
    assert (response.status_code, response.get_json()) == (403, {"error": "reviewer role required"})


def test_role_required_lets_reviewers_and_admins_in(seed, client):
    reviewer = seed.user("rita", role="reviewer")
    seed.image(reviewer, "r.jpg", status="generated", generated="R.")
    login(client, "rita")
    assert client.get("/reviewer/queue").get_json() == [{"id": 1, "filename": "r.jpg", "caption": "R."}]
    seed.user("root", role="admin")
    client.get("/logout")
    login(client, "root")
    assert client.get("/reviewer/queue").status_code == 200


def test_role_required_rechecks_the_database(seed, client):
    reviewer = seed.user("rita", role="reviewer")
    login(client, "rita")
    from sqlalchemy.orm import Session

    with Session(web_app.db_manager.engine) as session:
        session.get(User, reviewer).role = "viewer"
        session.commit()
    assert client.get("/reviewer/queue").status_code == 403


def test_role_required_anonymous(client, app):
    assert client.get("/reviewer/queue").status_code == 302


def test_bulk_status_and_its_value_error(seed, client):
    reviewer = seed.user("rita", role="reviewer")
    ids = [seed.image(reviewer, "a.jpg"), seed.image(reviewer, "b.jpg")]
    login(client, "rita", PASSWORD)
    assert client.post("/api/images/bulk-status", json={"ids": ids, "status": "rejected"}).get_json() == {
        "updated": 2
    }
    assert seed.get(Image, ids[0]).status == "rejected"
    bad = client.post("/api/images/bulk-status", json={"ids": ids, "status": "lost"})
    assert (bad.status_code, bad.get_json()) == (400, {"error": "unknown image status 'lost'"})


def test_image_statuses(client):
    assert "posted" in client.get("/api/images/statuses").get_json()["statuses"]
