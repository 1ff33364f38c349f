"""The maintenance scripts run outside the web app, without any Flask context."""

from __future__ import annotations

import io

from database import DatabaseManager
from models import Image
from scripts import backfill_captions, export_users


def test_pending_images_and_backfill(tmp_path, seed):
    bob = seed.user("bob")
    first = seed.image(bob, "red_kite.jpg")
    seed.image(bob, "done.jpg", status="posted")
    second = seed.image(bob, "b.jpg")
    db = DatabaseManager(str(seed.engine.url))
    assert backfill_captions.pending_images(db) == [first, second]
    assert backfill_captions.backfill(db) == 2
    assert seed.get(Image, first).generated_caption == "A photo of red kite."
    assert seed.get(Image, second).status == "generated"
    assert backfill_captions.pending_images(db) == []


def test_backfill_main(tmp_path, seed, capsys):
    seed.image(seed.user("bob"), "a.jpg")
    assert backfill_captions.main([str(seed.engine.url)]) == 0
    assert capsys.readouterr().out == "generated 1 captions\n"


def test_export_users(seed, capsys):
    seed.user("bob", role="reviewer")
    seed.user("carl", active=False)
    out = io.StringIO()
    assert export_users.export_users(DatabaseManager(str(seed.engine.url)), out) == 2
    assert out.getvalue().splitlines() == [
        "id,username,email,role,active",
        "1,bob,bob@example.com,reviewer,1",
        "2,carl,carl@example.com,viewer,0",
    ]
    assert export_users.main([str(seed.engine.url)]) == 0
    assert "carl@example.com" in capsys.readouterr().out
