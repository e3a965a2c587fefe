"""Real local servers for the channel tests (an aiosmtpd SMTP sink, an HTTP robot) and a
case factory for notification and reminder tests."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import socket
import threading
import urllib.parse
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller

from casetrack.cases import services as svc
from casetrack.cases.models import Case
from casetrack.extensions import db


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Sink:
    """aiosmtpd handler that keeps every message it accepts."""

    def __init__(self):
        self.received: list[tuple[str, list[str], bytes]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.received.append((envelope.mail_from, list(envelope.rcpt_tos),
                                  envelope.original_content or envelope.content))
        return "250 OK"


class SmtpServer:
    """A real SMTP server on 127.0.0.1 that can be stopped and started again (same port)."""

    def __init__(self):
        self.port = free_port()
        self.sink = _Sink()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.sink, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def messages(self) -> list[EmailMessage]:
        with self.sink.lock:
            raw = [r[2] for r in self.sink.received]
        return [message_from_bytes(b, policy=policy.default) for b in raw]

    def recipients(self) -> list[str]:
        with self.sink.lock:
            return [to for r in self.sink.received for to in r[1]]


class LoopbackServer:
    """An HTTP server on 127.0.0.1 (``self.server``, made by the subclass), served on a thread
    while used as a context manager."""

    server: ThreadingHTTPServer

    def __enter__(self):
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


class Robot(LoopbackServer):
    """A group-robot webhook receiver: answers the scripted statuses, then 200 errcode 0;
    records each request's query and JSON body."""

    def __init__(self, statuses: list[int] | None = None):
        self.statuses = list(statuses or [])
        self.requests: list[dict] = []
        robot = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                parts = urllib.parse.urlsplit(self.path)
                status = robot.statuses.pop(0) if robot.statuses else 200
                robot.requests.append({"path": parts.path,
                                       "query": dict(urllib.parse.parse_qsl(parts.query)),
                                       "json": json.loads(body.decode("utf-8")),
                                       "status": status,
                                       "content_type": self.headers.get("Content-Type")})
                answer = json.dumps({"errcode": 0 if status == 200 else 500,
                                     "errmsg": "ok" if status == 200 else "boom"}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/robot/send?access_token=t1"


    @property
    def delivered(self) -> list[dict]:
        return [r for r in self.requests if r["status"] == 200]


def dingtalk_signature_ok(query: dict, secret: str) -> bool:
    """Check a request's ``timestamp``/``sign`` the way DingTalk does."""
    string_to_sign = f"{query['timestamp']}\n{secret}".encode()
    expected = base64.b64encode(hmac.new(secret.encode(), string_to_sign,
                                         hashlib.sha256).digest()).decode()
    return hmac.compare_digest(expected, query["sign"])


def petition_due(world, now, due_on: dt.date, handler=None, *, title: str | None = None,
                 commit: bool = True) -> Case:
    """A petition in handling whose real 60-day clock ends on ``due_on``: registered,
    accepted 60 days before and assigned through the services."""
    accepted = due_on - dt.timedelta(days=60)
    data = svc.CaseInput(
        kind="petition", title=title or f"反映事项（虚构）到期{due_on.isoformat()}",
        source="visit", received_on=accepted - dt.timedelta(days=1),
        petition_class="申诉求决", category="城乡建设", village_id=world.v1.id,
        parties=[svc.PartyInput(name="王五（虚构）")])
    case = svc.register_case(db.session, world.supervisor, now, data)
    svc.accept_case(db.session, world.supervisor, now, case, accepted_on=accepted)
    handler = handler or world.handler1
    svc.assign_case(db.session, world.supervisor, now, case, handler.unit_id, handler.id)
    assert case.due_on == due_on, (case.due_on, due_on)
    if commit:
        db.session.commit()
    return case
