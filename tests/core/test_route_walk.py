"""Every GET route of the app, walked with hostile names everywhere: no page emits a name as
markup, every response carries the protective headers, and absurd query values answer 4xx,
never 500. The routes come from ``app.url_map``: a route added later is walked too."""

from __future__ import annotations

import pytest
from flask import Request
from walk_support import (
    FILE_ENDPOINTS,
    HOSTILE,
    OTHER_SECRET,
    PDF_ENDPOINTS,
    Hostile,
    api_headers,
    get_rules,
    login,
    url_for_rule,
)
from werkzeug.datastructures import ImmutableMultiDict

#: query names any page or API route reads, and values no page should choke on
PARAM_NAMES = ("page", "per_page", "town_id", "village_id", "unit_id", "handler_id", "year",
               "month", "from", "to", "as_of", "received_from", "received_to", "metric",
               "kind", "status", "source", "category", "warning", "q", "next", "unread",
               "role", "limit")
ABSURD = ("99999999999999999999", "-99999999999999999999", "-1", "abc",
          "\r\nSet-Cookie: x=1", "9999-12-31", "%00\x00", "9" * 400)


@pytest.fixture
def hostile(world, now):
    return Hostile(world, now)


def _check_headers(resp, endpoint: str) -> None:
    h = resp.headers
    csp = h.get("Content-Security-Policy", "")
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp, endpoint
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp, endpoint
    assert h.get("X-Content-Type-Options") == "nosniff", endpoint
    assert h.get("Referrer-Policy") == "same-origin", endpoint
    if endpoint == "static":
        assert "no-store" not in h.get("Cache-Control", ""), endpoint
    else:
        assert h.get("Cache-Control") == "no-store", endpoint


@pytest.mark.parametrize("username", ["admin", "grid1"])
def test_every_page_escapes_hostile_names(app, client, hostile, username):
    login(client, username)
    seen = 0
    for rule in get_rules(app):
        if rule.endpoint in PDF_ENDPOINTS:
            continue
        url = url_for_rule(app, rule, hostile)
        for query in ({}, {"town_id": str(hostile.world.town.id)}):
            resp = client.get(url, query_string=query, headers=api_headers(hostile, rule))
            assert resp.status_code < 500, (url, resp.status_code)
            _check_headers(resp, rule.endpoint)
            body = resp.get_data().decode("utf-8", "replace")
            resp.close()
            if rule.endpoint in FILE_ENDPOINTS or rule.endpoint.startswith("api."):
                if rule.endpoint.startswith("api."):
                    assert resp.mimetype == "application/json", url
                continue
            assert HOSTILE not in body and "<script>alert" not in body, (url, query)
            assert "onerror=alert(1)>" not in body.replace("&gt;", ""), url
            assert OTHER_SECRET not in body, url
            seen += resp.status_code == 200
    assert seen >= 10


def test_hostile_names_are_shown_as_text(app, client, hostile):
    """The escape is not a removal: the names are there, as text."""
    login(client, "super")
    escaped = "&lt;img src=x onerror=alert(1)&gt;"
    for url in ("/dashboard", f"/cases/{hostile.case.id}", "/cases",
                f"/dashboard/cases?metric=total&village_id={hostile.world.v1.id}"):
        body = client.get(url).get_data(as_text=True)
        assert escaped in body, url
    login(client, "admin")
    body = client.get("/reports/sentences").get_data(as_text=True)
    assert f"模板{escaped}" in body


class _RecordingArgs(ImmutableMultiDict):
    """Query arguments that note every name a view asks for (``*``: it read them all)."""

    asked: set[str] = set()

    def __getitem__(self, key):
        _RecordingArgs.asked.add(key)
        return super().__getitem__(key)

    def get(self, key, default=None, type=None):  # noqa: A002 (Werkzeug's signature)
        _RecordingArgs.asked.add(key)
        return super().get(key, default, type)

    def getlist(self, key, type=None):  # noqa: A002
        _RecordingArgs.asked.add(key)
        return super().getlist(key, type)

    def __contains__(self, key):
        _RecordingArgs.asked.add(key)
        return super().__contains__(key)

    def to_dict(self, flat=True):
        _RecordingArgs.asked.add("*")
        return super().to_dict(flat)


def _names_read(client, url, headers, monkeypatch) -> set[str]:
    """The query names the route's view reads (every known name when it reads them all)."""
    monkeypatch.setattr(Request, "parameter_storage_class", _RecordingArgs)
    _RecordingArgs.asked = set()
    client.get(url, headers=headers).close()
    monkeypatch.undo()
    asked = _RecordingArgs.asked
    return set(PARAM_NAMES) if "*" in asked else asked


def test_every_route_has_headers_and_refuses_absurd_input(app, client, world, now,
                                                         monkeypatch):
    """Each route is asked once to learn which query names its view reads, then each of
    those gets every absurd value: 4xx or a normal page, never 500, headers always."""
    hostile = Hostile(world, now, names=False)  # plain names: PDFs are walked too
    login(client, "admin")
    checked = set()
    for rule in get_rules(app):
        url = url_for_rule(app, rule, hostile)
        headers = api_headers(hostile, rule)
        names = _names_read(client, url, headers, monkeypatch)
        for name in sorted(names):
            for value in ABSURD:
                resp = client.get(url, query_string={name: value}, headers=headers)
                assert resp.status_code < 500, (url, name, value, resp.status_code)
                _check_headers(resp, rule.endpoint)
                assert "x=1" not in resp.headers.get("Set-Cookie", ""), (url, name)
                resp.close()
                checked.add((rule.endpoint, name))
    # the walk reached the parameters that matter
    for pair in [("cases.list_cases", "page"), ("cases.list_cases", "village_id"),
                 ("stats.dashboard", "town_id"), ("stats.cases", "page"),
                 ("notify.index", "page"), ("admin.users", "page"),
                 ("reports.sentences", "year"), ("api.list_cases", "page")]:
        assert pair in checked, pair


@pytest.mark.parametrize("url", [
    "/cases?page=99999999999999999999", "/cases?page=-1", "/cases?page=abc",
    "/notifications/?page=99999999999999999999", "/admin/users?page=0",
    "/dashboard/cases?metric=total&page=99999999999999999999",
    "/cases/99999999999999999999", "/admin/users/99999999999999999999",
    "/admin/users?q=%00", "/cases?q=a%00b",
])
def test_absurd_numbers_are_4xx(client, hostile, url):
    login(client, "admin")
    assert 400 <= client.get(url).status_code < 500


def test_a_nul_in_a_form_is_refused(client, hostile):
    login(client, "admin")
    resp = client.post("/admin/villages", data={"name": "新村\x00", "kind": "行政村"})
    assert resp.status_code == 400


def test_crlf_or_backslash_in_next_never_leaves_the_site(client, hostile):
    for target in ("/cases\r\nSet-Cookie: evil=1", "/\\evil.example/", "//evil.example/",
                   "https://evil.example/", "/%0d%0aX: y"):
        client.post("/logout")
        resp = client.post("/login", query_string={"next": target},
                           data={"username": "super", "password": "pass-1234"})
        assert resp.status_code == 302
        location = resp.headers["Location"]
        assert "evil" not in location and "\n" not in location and "\r" not in location
