"""The group robot's address: refused on the admin page and again when sending (SSRF guard),
through the client, the CLI runner and real local HTTP servers."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from casetrack.extensions import db
from casetrack.notify import services as svc
from casetrack.notify.models import Notification
from casetrack.notify.targets import TargetPolicy, address_refusal
from casetrack.org.models import TownSetting
from casetrack.org.settings import set_setting
from notify.support import LoopbackServer, Robot

INTERNAL = "机器人地址不能指向本机、链路本地（如云服务器元数据）、组播或保留地址"


def _form(url: str) -> dict:
    return {"is_enabled": "on", "send_time": "08:30", "timezone": "Asia/Shanghai",
            "yellow_days": "3", "leader_overdue_days": "3", "cadence_days": "1",
            "webhook_style": "wecom", "webhook_url": url}


def _stored_url(world) -> str | None:
    db.session.expire_all()
    return db.session.scalar(select(TownSetting.value).where(
        TownSetting.town_id == world.town.id, TownSetting.key == svc.WEBHOOK_URL_KEY))


@pytest.mark.parametrize(("url", "message"), [
    ("http://127.0.0.1:6379/", INTERNAL),
    ("http://localhost:6379/", INTERNAL),  # a name is judged by what it resolves to
    ("http://169.254.169.254/latest/meta-data/", INTERNAL),
    ("http://[::1]:8080/", INTERNAL),
    ("http://[fe80::1]/", INTERNAL),
    ("http://[::ffff:127.0.0.1]/", INTERNAL),
    ("http://0.0.0.0:5000/", INTERNAL),
    ("http://224.0.0.1/", INTERNAL),
    ("http://user:secret@10.1.2.3/robot", "机器人地址不能包含用户名或密码"),
    ("gopher://10.1.2.3/", "机器人地址应以 http:// 或 https:// 开头"),
    ("http://10.1.2.3:notaport/", "机器人地址格式不正确"),
])
def test_admin_page_refuses_internal_addresses(world, client, auth, url, message):
    auth.login("admin")
    resp = client.post("/admin/reminders/", data=_form(url))
    assert resp.status_code == 422
    assert message in resp.get_data(as_text=True)
    assert _stored_url(world) is None


def test_private_ranges_allowed_unless_the_operator_denies_them(app, world, client, auth,
                                                                 monkeypatch):
    auth.login("admin")
    assert client.post("/admin/reminders/", data=_form("http://10.1.2.3:8080/robot")
                       ).status_code == 302
    assert _stored_url(world) == "http://10.1.2.3:8080/robot"
    monkeypatch.setitem(app.config, "WEBHOOK_DENIED_NETWORKS", ["10.0.0.0/8"])
    resp = client.post("/admin/reminders/", data=_form("http://10.9.9.9/robot"))
    assert resp.status_code == 422
    assert "机器人地址所在的网络已被系统运维禁止" in resp.get_data(as_text=True)
    assert _stored_url(world) == "http://10.1.2.3:8080/robot"


def test_refusal_shown_in_english(world, client, auth):
    auth.login("admin")
    client.set_cookie("lang", "en")
    resp = client.post("/admin/reminders/", data=_form("http://127.0.0.1:6379/"))
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    assert INTERNAL not in page and "loopback" in page


def _queue_robot_message(app, world, now, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "NOTIFY_EVENT_CHANNELS", ["in_app", "webhook"])
    svc.notify_users(db.session, [world.handler1], now, kind="case_assigned", dedupe_key="t1",
                     subject="【新交办】北和信〔2026〕7号 村道破损", body="请于2026-12-01前办结。",
                     link="/cases/7", town_id=world.town.id)
    db.session.commit()


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_sender_refuses_an_address_that_now_resolves_to_loopback(app, world, now, runner,
                                                                  monkeypatch, host):
    """A stored address (saved before the guard, or a name whose DNS changed since) is
    checked again at send time: nothing reaches the server on loopback."""
    with Robot() as robot:
        url = robot.url.replace("127.0.0.1", host)
        set_setting(db.session, world.town.id, svc.WEBHOOK_URL_KEY, url)
        _queue_robot_message(app, world, now, monkeypatch)
        result = runner.invoke(args=["notify", "deliver"])
    assert result.exit_code == 0, result.output
    assert "sent 0, to retry 1" in result.output
    assert "refused webhook address (loopback" in result.output
    assert robot.requests == []
    row = db.session.scalar(select(Notification).where(Notification.channel == "webhook"))
    assert row.status == "pending" and "loopback" in row.last_error


class _Redirector(LoopbackServer):
    """An HTTP server that answers every POST with a redirect to ``location``."""

    def __init__(self, location: str):
        self.hits = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                owner.hits += 1
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.send_response(307)
                self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/robot/send"



def test_sender_follows_no_redirect(app, world, now, runner, monkeypatch):
    """The operator allows one loopback relay; its redirect to another local service is
    not followed."""
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOWED_NETWORKS", ["127.0.0.1/32"])
    with Robot() as target, _Redirector(target.url) as relay:
        set_setting(db.session, world.town.id, svc.WEBHOOK_URL_KEY, relay.url)
        _queue_robot_message(app, world, now, monkeypatch)
        result = runner.invoke(args=["notify", "deliver"])
    assert result.exit_code == 0, result.output
    assert "sent 0, to retry 1" in result.output and "HTTP 307" in result.output
    assert relay.hits == 1 and target.requests == []


def test_sender_refuses_credentials_and_denied_networks(app, world, now, runner, monkeypatch):
    with Robot() as robot:
        monkeypatch.setitem(app.config, "WEBHOOK_ALLOWED_NETWORKS", ["127.0.0.0/8"])
        monkeypatch.setitem(app.config, "WEBHOOK_DENIED_NETWORKS", ["127.0.0.1/32"])
        set_setting(db.session, world.town.id, svc.WEBHOOK_URL_KEY, robot.url)
        _queue_robot_message(app, world, now, monkeypatch)
        result = runner.invoke(args=["notify", "deliver"])
        assert "denied by WEBHOOK_DENIED_NETWORKS" in result.output
        set_setting(db.session, world.town.id, svc.WEBHOOK_URL_KEY,
                    robot.url.replace("http://", "http://u:p@"))
        db.session.commit()
        monkeypatch.setitem(app.config, "WEBHOOK_DENIED_NETWORKS", [])
        result = runner.invoke(args=["notify", "deliver", "--now", "2026-11-24T12:00"])
        assert "refused webhook address (credentials)" in result.output
    assert robot.requests == []


@pytest.mark.parametrize(("address", "reason"), [
    ("127.0.0.2", "loopback"), ("::1", "loopback"), ("::ffff:127.0.0.1", "loopback"),
    ("169.254.169.254", "link-local"), ("fe80::1%2", "link-local"),
    ("0.0.0.0", "unspecified"), ("0.1.2.3", "unspecified"), ("::", "unspecified"),
    ("239.1.1.1", "multicast"), ("ff02::1", "multicast"), ("255.255.255.255", "reserved"),
    ("10.0.0.1", None), ("172.16.5.5", None), ("192.168.1.1", None), ("fd00::1", None),
    ("203.0.113.9", None), ("2001:db8::1", None),
])
def test_address_rule(address, reason):
    assert address_refusal(address, TargetPolicy()) == reason


def test_a_malformed_operator_network_stops_the_app_at_start(tmp_path):
    from casetrack import create_app

    with pytest.raises(ValueError, match="WEBHOOK_DENIED_NETWORKS: .*10.0.0.0/33"):
        create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db",
                    "WEBHOOK_DENIED_NETWORKS": ["10.0.0.0/33"]})
    assert TargetPolicy.from_config({"WEBHOOK_ALLOWED_NETWORKS": "127.0.0.1/32, ::1"}).allowed
