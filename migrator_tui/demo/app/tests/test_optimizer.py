"""SessionPerformanceOptimizer and run_benchmark, called inside a request as the app does."""

from __future__ import annotations

import pytest

import web_app
from models import Image
from session_performance_optimizer import SessionPerformanceOptimizer, StatsCache, run_benchmark

pytestmark = pytest.mark.usefixtures("request_ctx")


@pytest.fixture
def optimizer(app) -> SessionPerformanceOptimizer:
    return SessionPerformanceOptimizer(web_app.db_manager)


def test_warm_up(optimizer):
    assert optimizer.warm_up() is True


def test_get_cached_user_stats_counts_then_caches(optimizer, seed):
    bob = seed.user("bob")
    seed.image(bob, "a.jpg")
    seed.image(bob, "b.jpg", status="posted")
    stats = optimizer.get_cached_user_stats(bob)
    assert stats == {"pending": 1, "generated": 0, "approved": 0, "rejected": 0, "posted": 1, "total": 2}
    seed.image(bob, "c.jpg")
    assert optimizer.get_cached_user_stats(bob)["total"] == 2
    optimizer.clear_cache()
    assert optimizer.get_cached_user_stats(bob)["total"] == 3


def test_prefetch_user_platforms_returns_readable_objects(optimizer, seed):
    bob = seed.user("bob")
    seed.platform(bob, "Home", instance_url="https://home.example", is_default=True)
    seed.platform(bob, "Off", is_active=False)
    platforms = optimizer.prefetch_user_platforms(bob)
    assert [(p.name, p.instance_url, p.is_default) for p in platforms] == [("Home", "https://home.example", True)]


def test_measure_query(optimizer, seed):
    bob = seed.user("bob")
    seed.image(bob, "a.jpg")
    timing = optimizer.measure_query("images", "SELECT id FROM images")
    assert (timing.label, timing.rows) == ("images", 1)
    assert timing.seconds >= 0


def test_analyze_tables(optimizer):
    assert optimizer.analyze_tables() is True


def test_analyze_tables_unreachable(optimizer, unreachable_db):
    assert optimizer.analyze_tables() is False


def test_bulk_update_status(optimizer, seed):
    bob = seed.user("bob")
    ids = [seed.image(bob, "a.jpg"), seed.image(bob, "b.jpg")]
    other = seed.image(bob, "c.jpg")
    assert optimizer.bulk_update_status(ids, "approved") == 2
    assert seed.get(Image, ids[1]).status == "approved"
    assert seed.get(Image, other).status == "pending"


def test_bulk_update_status_unknown_status_is_a_value_error(optimizer, seed):
    bob = seed.user("bob")
    image_id = seed.image(bob, "a.jpg")
    with pytest.raises(ValueError, match="unknown image status 'lost'"):
        optimizer.bulk_update_status([image_id], "lost")
    assert seed.get(Image, image_id).status == "pending"


def test_connection_report(optimizer, seed):
    bob = seed.user("bob")
    seed.run(bob)
    report = optimizer.connection_report()
    assert report["processing_runs"] == 1
    assert report["pool"].startswith("Pool size")
    assert report["cached"] is None


def test_readonly_row_counts(optimizer, seed):
    bob = seed.user("bob")
    seed.image(bob, "a.jpg")
    assert optimizer.readonly_row_counts() == {"images": 1, "platforms": 0}


def test_run_benchmark(app):
    assert run_benchmark(web_app.db_manager, iterations=3) > 0


def test_stats_cache_expires():
    cache = StatsCache(ttl_seconds=0)
    cache.put("k", 1)
    assert cache.get("k") is None
