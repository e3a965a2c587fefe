"""The text of a reminder digest: subject, plain text and an HTML table."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from werkzeug.routing import BuildError

from casetrack.deadlines.rules import DEFAULT_RULES
from casetrack.notify.models import Channel
from casetrack.notify.services import Message
from casetrack.reminders.policy import LEVEL_LABELS, ROLE_LABELS

if TYPE_CHECKING:
    from casetrack.reminders.run import Digest


def _adapter():
    """A URL adapter for building paths outside a request (no SERVER_NAME needed)."""
    return current_app.url_map.bind("localhost",
                                    script_name=current_app.config.get("APPLICATION_ROOT"))


def app_path(endpoint: str, fallback: str, adapter=None, **values) -> str:
    """The path of an endpoint outside a request, or ``fallback`` when no such endpoint is
    registered."""
    try:
        return (adapter or _adapter()).build(endpoint, values)
    except BuildError:
        return fallback


def case_path(case_id: int, adapter=None) -> str:
    """The case's page."""
    return app_path("cases.detail", f"/cases/{case_id}", adapter, case_id=case_id)


def calendar_path() -> str:
    """The admin's holiday calendar page."""
    return app_path("calendar.index", "/admin/calendar")


def clock_name(rule_code: str | None) -> str:
    """The running clock's name (办理期限, 复查期限, 司法确认申请期限), in the active locale."""
    rule = DEFAULT_RULES.get(rule_code or "")
    return _(rule.clock or rule.label) if rule is not None else _("办理期限")


def _subject(digest: Digest, today: dt.date) -> str:
    counts: dict[str, int] = {}
    for _case, level in digest.items:
        counts[level] = counts.get(level, 0) + 1
    parts = [f"{LEVEL_LABELS[lv]} {counts[lv]} 件"
             for lv in ("escalated", "overdue", "due_today", "yellow", "provisional")
             if counts.get(lv)]
    return f"【期限提醒】{today.isoformat()}：" + "，".join(parts)


def build_digest_message(digest: Digest, today: dt.date, channel: str, *,
                         unknown_year: int | None = None) -> Message:
    """One recipient's digest for one channel. In-app links are paths; mail and the group
    robot get absolute links under BASE_URL."""
    base = "" if channel == Channel.IN_APP else current_app.config["BASE_URL"].rstrip("/")
    with force_locale("zh_CN"):
        labels = {level: _(label) for level, label in LEVEL_LABELS.items()}
        clocks = {case.rule: clock_name(case.rule) for case, _level in digest.items}
    adapter = _adapter()
    rows = []
    for case, level in digest.items:
        rows.append({
            "number": case.number, "title": case.title, "village": case.village or "—",
            "handler": case.handler or "—", "due_on": case.due_on.isoformat(),
            "clock": clocks[case.rule],
            "is_exact": case.is_exact, "days_overdue": case.days_overdue(today),
            "days_left": (case.due_on - today).days, "level": level,
            "level_label": labels[level], "url": base + case_path(case.id, adapter),
        })
    context = {
        "name": digest.recipient.name, "role_label": ROLE_LABELS.get(digest.role, ""),
        "today": today, "rows": rows, "unknown_year": unknown_year,
        "calendar_url": base + calendar_path(),
        "list_url": base + app_path("cases.list_cases", "/cases"),
    }
    with force_locale("zh_CN"):
        text = render_template("reminders/digest.txt", **context)
        html = render_template("reminders/digest_mail.html", **context,
                               full_page=channel == Channel.EMAIL)
    return Message(subject=_subject(digest, today), text=text.strip() + "\n", html=html,
                   link=app_path("cases.list_cases", "/cases"))
