"""Login throttling (issue 9.4): per address and per (address, username), never per account
alone, and the same answer for real and unknown names; on memory and on Redis storage."""

from __future__ import annotations

import os
import re
import uuid

import pytest
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import STRATEGIES

from casetrack.extensions import limiter

ATTACKER = {"REMOTE_ADDR": "203.0.113.7"}
LEADER_DESK = {"REMOTE_ADDR": "10.1.2.3"}


def _answer(client, username, password, environ):
    resp = client.post("/login", data={"username": username, "password": password},
                       environ_base=environ)
    resp.close()
    return resp


def _post(client, username, password, environ):
    resp = _answer(client, username, password, environ)
    return resp.status_code, resp.get_data(as_text=True)


#: the sentence of a throttled login: how long to wait, in minutes or seconds
WAIT_RE = re.compile(r"操作过于频繁，请 (\d+) (分钟|秒)后再试")


def _message(body: str) -> str:
    """The flashed message or the error sentence of a login answer."""
    if "用户名或密码错误" in body:
        return "用户名或密码错误"
    m = WAIT_RE.search(body)
    return m[0] if m else ""


def _attack_then_real_login(client, app):
    per_account = int(app.config["LOGIN_LIMIT_PER_ACCOUNT"].split()[0])
    answers = [_post(client, "leader", f"guess-{i}", ATTACKER)[0] for i in range(per_account)]
    assert answers == [401] * per_account
    # the attacker's address is now slowed down for this name, even with the right password
    assert _post(client, "leader", "pass-1234", ATTACKER)[0] == 429
    # the real leader, from their own desk, is not locked out
    status, _ = _post(client, "leader", "pass-1234", LEADER_DESK)
    assert status == 302


def test_an_attacker_elsewhere_cannot_lock_the_leader_out(client, world, app):
    _attack_then_real_login(client, app)


def test_real_and_unknown_names_answer_alike(client, world, app):
    per_account = int(app.config["LOGIN_LIMIT_PER_ACCOUNT"].split()[0])
    real = [_post(client, "leader", f"x-{i}", ATTACKER) for i in range(per_account + 2)]
    unknown = [_post(client, "no-such-user", f"x-{i}", ATTACKER)
               for i in range(per_account + 2)]
    assert [s for s, _ in real] == [s for s, _ in unknown] == [401] * per_account + [429, 429]
    assert [_message(b) for _, b in real] == [_message(b) for _, b in unknown]
    assert all(_message(b) for _, b in real)


def test_one_address_guessing_many_names_is_slowed_down(client, world, app):
    per_address = int(app.config["LOGIN_LIMIT_PER_ADDRESS"].split()[0])
    for i in range(per_address):
        assert _post(client, f"name{i}", "guess", ATTACKER)[0] == 401
    assert _post(client, "grid1", "pass-1234", ATTACKER)[0] == 429
    assert _post(client, "grid1", "pass-1234", LEADER_DESK)[0] == 302


def test_a_throttled_login_says_how_long_to_wait(client, world, app):
    """The 429 carries ``Retry-After`` in seconds (at most the limit's window, which began
    with the first refused attempt) and says the same wait in Chinese, in whole minutes;
    a refused login before the limit carries no such header."""
    limit = parse(app.config["LOGIN_LIMIT_PER_ACCOUNT"])
    window_seconds = limit.get_expiry()
    for i in range(limit.amount):
        refused = _answer(client, "leader", f"guess-{i}", ATTACKER)
        assert refused.status_code == 401 and "Retry-After" not in refused.headers
    throttled = _answer(client, "leader", "pass-1234", ATTACKER)
    assert throttled.status_code == 429
    seconds = int(throttled.headers["Retry-After"])
    assert 0 < seconds <= window_seconds
    m = WAIT_RE.search(throttled.get_data(as_text=True))
    assert m, throttled.get_data(as_text=True)
    minutes = -(-seconds // 60)
    assert (int(m[1]), m[2]) == ((minutes, "分钟") if seconds >= 60 else (seconds, "秒"))
    assert throttled.headers["Cache-Control"] == "no-store"


def test_wait_text_in_minutes_or_seconds(app):
    from casetrack.core.errorpages import wait_text

    assert [wait_text(s) for s in (1, 59, 60, 61, 900)] == [
        "1 秒", "59 秒", "1 分钟", "2 分钟", "15 分钟"]


def test_successful_logins_do_not_count(client, world, app):
    per_account = int(app.config["LOGIN_LIMIT_PER_ACCOUNT"].split()[0])
    for _ in range(per_account + 3):
        assert _post(client, "grid1", "pass-1234", LEADER_DESK)[0] == 302
        client.post("/logout", environ_base=LEADER_DESK)


@pytest.fixture
def redis_limits(monkeypatch):
    """The login limits counted in the Redis server (a key prefix of this test only)."""
    url = os.environ.get("CASETRACK_TEST_REDIS_URL", "redis://127.0.0.1:6379")
    storage = storage_from_string(url)
    if not storage.check():
        if os.environ.get("CASETRACK_REQUIRE_TOOLS") == "1":
            pytest.fail(f"Redis is not answering at {url}")
        pytest.skip(f"Redis is not answering at {url}")
    # swap the storage of the app's one Limiter for the test (restored afterwards)
    monkeypatch.setattr(limiter, "_storage", storage)
    monkeypatch.setattr(limiter, "_limiter", STRATEGIES[limiter._strategy](storage))
    prefix = f"casetrack-test-{uuid.uuid4().hex[:8]}"
    monkeypatch.setattr(limiter, "_key_prefix", prefix)
    yield storage
    connection = storage.get_connection()
    for key in connection.keys(f"*{prefix}*"):  # only this test's counters
        connection.delete(key)


def test_throttling_on_redis(client, world, app, redis_limits):
    _attack_then_real_login(client, app)
    keys = redis_limits.get_connection().keys(f"*{limiter._key_prefix}*")
    assert keys, "the counters live in Redis"
