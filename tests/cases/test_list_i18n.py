"""Translations read once per request: the list in each language, ``force_locale`` and the
escaping of values put into a translated template string."""

from __future__ import annotations

from flask import render_template_string
from flask_babel import force_locale
from views_support import login_as, make_petition, text

from casetrack.core.i18n import gettext
from casetrack.extensions import db


def test_list_rows_in_the_users_language(client, world, now):
    make_petition(world, now)
    login_as(client, "super")
    html = text(client.get("/cases"))
    assert "<th>状态</th>" in html and "信访事项" in html and "已登记" in html
    world.supervisor.locale = "en"
    db.session.commit()
    html = text(client.get("/cases"))
    assert "<th>Status</th>" in html and "<th>状态</th>" not in html
    assert "Registered" in html and "已登记" not in html


def test_force_locale_switches_the_cached_catalog(app):
    with app.test_request_context("/"):
        assert gettext("状态") == "状态"
        with force_locale("en"):
            assert gettext("状态") == "Status"
            assert gettext("已登记，编号 %(number)s", number="X1") == "Registered as X1"
        assert gettext("状态") == "状态"


def test_template_gettext_escapes_its_values(app):
    with app.test_request_context("/"):
        html = render_template_string("{{ _('已登记，编号 %(number)s', number='<b>1</b>') }}")
        assert html == "已登记，编号 &lt;b&gt;1&lt;/b&gt;"
        assert render_template_string("{{ _('100%%') }}") == "100%"
