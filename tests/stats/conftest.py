"""Fixtures of the statistics tests."""

from __future__ import annotations

import os

import pytest


@pytest.fixture
def redis_cache(app, monkeypatch):
    """The app's figures cached in a real Redis (database 15, emptied before and after, or
    ``CASETRACK_TEST_REDIS_URL``); yields its client. Skipped when Redis does not answer."""
    redis = pytest.importorskip("redis")
    url = os.environ.get("CASETRACK_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip(f"Redis does not answer at {url}")
    client.flushdb()
    monkeypatch.setitem(app.config, "REDIS_URL", url)
    try:
        yield client
    finally:
        client.flushdb()
