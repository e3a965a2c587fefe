"""What the case list page shows, read and worked out once per page, not once per cell.

The list's table and menus were the bulk of its cost in Python: each row asked the ORM
objects for a dozen attributes (twice over for the phone and desk layouts), built a link with
``url_for``, called a macro twice and looked translations up per cell; the village, unit and
handler menus took three statements (two of them lazy loads). ``list_rows`` turns the page's
cases into plain rows whose labels are already translated (each distinct label once per
request), and ``list_choices`` reads the three menus in one statement.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import NamedTuple

from flask import url_for
from sqlalchemy import Integer, Select, String, bindparam, cast, literal, null, select, union_all
from sqlalchemy.orm import Session

from casetrack.auth.models import Role, User, user_villages
from casetrack.cases.display import warnings_for
from casetrack.cases.models import Case
from casetrack.core.i18n import gettext as _
from casetrack.org.models import Unit, Village


class ListRow(NamedTuple):
    """One case of the list as the table shows it (text, not markup: the template escapes)."""

    id: int
    #: the case page's path
    href: str
    number: str
    title: str
    is_repeat: bool
    is_risk: bool
    #: translated kind and status labels
    kind: str
    status: str
    #: the village's name, or "—"
    village: str
    #: "unit · handler", either alone, or "—"
    who: str
    #: the due date (YYYY-MM-DD) or "—"
    due: str
    #: a due date counted without the year's holidays (shown 暂定)
    provisional: bool
    #: the tooltip of the 上级期限 tag ("法定期限 …，以上级期限为准") when the superior's due
    #: date governs, else ""
    external_title: str
    #: the warning: colour (green/yellow/red/none), its text and the running clock's name
    level: str
    warning: str
    clock: str
    #: an open case whose due date is provisional (the 期限待定 tag beside the warning)
    pending: bool


def list_rows(cases: list[Case], today: dt.date, kind_labels: dict[str, str],
              status_labels: dict[str, str]) -> list[ListRow]:
    """The rows of a page of ``cases`` (village, unit and handler loaded with them) on
    ``today``; ``kind_labels``/``status_labels`` map codes to their translated labels."""
    # every case page's path differs only by the id: built once (int converter, no quoting)
    prefix = url_for("cases.detail", case_id=0)[:-1]
    out = []
    for case, w in warnings_for(cases, today):
        village, unit, handler = case.village, case.unit, case.handler
        due_on = case.due_on
        exact = case.due_is_exact
        if case.external_due_on and case.due_basis == "external":
            statutory = case.statutory_due_on
            external_title = _("法定期限 %(s)s，以上级期限为准",
                               s=statutory.isoformat() if statutory else "")
        else:
            external_title = ""
        who = ((unit.name if unit else "") + (" · " if unit and handler else "")
               + (handler.name if handler else "")) or "—"
        out.append(ListRow(
            id=case.id, href=f"{prefix}{case.id}", number=case.number, title=case.title,
            is_repeat=bool(case.is_repeat), is_risk=bool(case.is_risk),
            kind=kind_labels[case.kind], status=status_labels[case.status],
            village=village.name if village else "—", who=who,
            due=due_on.isoformat() if due_on else "—",
            provisional=bool(due_on and not exact), external_title=external_title,
            level=w.level, warning=w.text, clock=w.clock,
            pending=bool(case.is_open and due_on and not exact)))
    return out


class Choice(NamedTuple):
    """One option of the list's village, unit or handler menu."""

    id: int
    name: str
    #: a handler's unit (id and name: the bulk form narrows handlers to the chosen unit)
    unit_id: int | None = None
    unit_name: str | None = None


def list_choices(session: Session, user: User,
                 handlers: bool) -> tuple[list[Choice], list[Choice], list[Choice]]:
    """``(villages, units, handlers)`` of the list's menus, in one statement: the villages
    the user works in (a grid worker's own, by the town's order; else the town's active
    ones), the town's active units by id, and with ``handlers`` the town's enabled handlers
    by unit then id, each with their unit's name. A user of no town (the county) gets no
    menus but a grid worker's villages."""
    grid = Role(user.role) is Role.GRID_WORKER
    stmt = _choices_select(grid, user.town_id is not None, handlers)
    menus: dict[str, list[Choice]] = {"v": [], "u": [], "h": []}
    if stmt is not None:
        for menu, id_, name, _k, unit_id, unit_name in session.execute(
                stmt, {"user_id": user.id, "town_id": user.town_id}):
            menus[menu].append(Choice(id_, name, unit_id, unit_name))
    return menus["v"], menus["u"], menus["h"]


@functools.cache
def _choices_select(grid: bool, in_town: bool, handlers: bool) -> Select | None:
    """The statement of ``list_choices`` for a grid worker or not, a user of a town or not,
    with the handlers or not (built once each: the list asks it on every page), with the
    parameters ``user_id`` and ``town_id``; None when there is nothing to ask."""
    town_id = bindparam("town_id", type_=Integer)
    none_int, none_text = cast(null(), Integer), cast(null(), String)
    parts = []
    if grid or in_town:
        part = select(literal("v").label("menu"), Village.id, Village.name,
                      Village.sort_order.label("k"), none_int.label("unit_id"),
                      none_text.label("unit_name"))
        if grid:
            part = part.join(user_villages, user_villages.c.village_id == Village.id) \
                .where(user_villages.c.user_id == bindparam("user_id", type_=Integer))
        else:
            part = part.where(Village.town_id == town_id, Village.is_active)
        parts.append(part)
    if in_town:
        parts.append(select(literal("u"), Unit.id, Unit.name, Unit.id, none_int, none_text)
                     .where(Unit.town_id == town_id, Unit.is_active))
        if handlers:
            parts.append(
                select(literal("h"), User.id, User.name, User.unit_id, User.unit_id, Unit.name)
                .outerjoin(Unit, Unit.id == User.unit_id)
                .where(User.town_id == town_id, User.is_enabled, User.role == Role.HANDLER))
    if not parts:
        return None
    both = union_all(*parts).subquery()
    return select(both).order_by(both.c.menu, both.c.k, both.c.id)
