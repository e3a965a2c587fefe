"""The work page (我的待办): each role's queues as the home page, each heading with its count,
each item a link to its case; and one queue in full (``/work/<key>``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import Blueprint, abort, current_app, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload

from casetrack.auth.models import Role, User
from casetrack.cases import queues as Q
from casetrack.cases.display import warnings_for, yellow_days
from casetrack.cases.models import Case
from casetrack.cases.queries import LIST_DEFERRED, CaseFilters, first_counted, page_or_last
from casetrack.core.db import read_only_page
from casetrack.core.params import page_arg
from casetrack.core.time import app_now, local_date
from casetrack.extensions import db
from casetrack.reminders.policy import load_policy

bp = Blueprint("work", __name__)

#: items shown under each heading of the work page
SHOWN = 8


@dataclass
class Section:
    """One heading of the work page with its first items."""

    queue: Q.Queue
    rows: list
    count: int
    more: bool
    all_url: str

    @property
    def count_label(self) -> str:
        return f"{self.count:,}+" if self.more else f"{self.count:,}"


def context_for(user: User, today: dt.date) -> Q.QueueContext:
    """The user's queue context: the town's yellow days and leader threshold."""
    if user.town_id is not None:
        leader_days = load_policy(db.session, user.town_id).leader_overdue_days
    else:
        leader_days = int(current_app.config.get("REMINDER_LEADER_OVERDUE_DAYS", 3))
    return Q.QueueContext(user=user, today=today, yellow_days=yellow_days(user.town_id),
                          leader_overdue_days=leader_days)


def _options():
    """Village, unit and handler joined into the queue's one query (selectinload would add
    three statements per queue: a home page of six queues ran 28)."""
    return (joinedload(Case.village), joinedload(Case.unit), joinedload(Case.handler),
            *LIST_DEFERRED)


def sections_for(user: User, today: dt.date) -> list[Section]:
    """Every queue of the user's role, counted (capped) with its first items."""
    ctx = context_for(user, today)
    out = []
    for queue in Q.queues_for(user):
        items, count, more = first_counted(db.session, Q.queue_select(queue, ctx), SHOWN,
                                           _options())
        out.append(Section(queue, warnings_for(items, today), count, more,
                           url_for("work.queue", key=queue.key)))
    return out


def page_title(user: User) -> str:
    """我的待办, with the grid worker's village (not the town) or the unit."""
    role = Role(user.role)
    if role is Role.GRID_WORKER and user.villages:
        names = "、".join(v.name for v in sorted(user.villages, key=lambda v: (v.sort_order, v.id)))
        return _("我的待办 · %(place)s", place=names)
    if role is Role.HANDLER and user.unit is not None:
        return _("我的待办 · %(place)s", place=user.unit.name)
    return _("我的待办")


@bp.route("/")
@read_only_page
@login_required
def home():
    """The home page: the user's work queues."""
    user = current_user._get_current_object()
    today = local_date(app_now())
    sections = sections_for(user, today)
    return render_template("work/home.html", sections=sections, title=page_title(user),
                           total=sum(s.count for s in sections)), 200, \
        {"Cache-Control": "no-store"}


@bp.route("/work/<key>")
@login_required
def queue(key: str):
    """One queue in full, most urgent first, in keyset pages."""
    user = current_user._get_current_object()
    if key not in Q.QUEUES:
        abort(404)
    today = local_date(app_now())
    ctx = context_for(user, today)
    q = Q.QUEUES[key]
    stmt = Q.queue_select(q, ctx).options(*_options())
    page, past_end = page_or_last(db.session, stmt, CaseFilters(),
                                  per_page=current_app.config["PAGE_SIZE"],
                                  after=request.args.get("after"),
                                  before=request.args.get("before"), number=page_arg())
    return render_template(
        "work/queue.html", queue=q, page=page, past_end=past_end,
        rows=warnings_for(page.items, today),
        list_args=q.list_args(ctx) if q.list_args else None), \
        400 if past_end is not None else 200, {"Cache-Control": "no-store"}
