"""The reminder run: "what is due now" per town, written to the outbox as digests.

A run looks only at open cases whose due date is at most the yellow threshold away (the
``ix_cases_town_status_due`` index), so its cost follows the number of due cases, not the
number of cases. It plans one reminder per (case, level, recipient, channel), inserts them
into ``reminder_logs`` with ``ON CONFLICT DO NOTHING`` against the unique key that includes
the town's local day, and builds digests only from the rows it inserted: a second run the
same day, or four runs at once, cannot send anything twice. Being based on the current state,
the first run after days of downtime sends that state once.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from casetrack.auth.models import Role, User
from casetrack.cases.models import Case
from casetrack.cases.rules import OPEN_STATUSES
from casetrack.core.time import local_date
from casetrack.deadlines.calendar import load_calendar
from casetrack.notify import services as notify
from casetrack.org.models import Town, Village
from casetrack.reminders.digest import build_digest_message
from casetrack.reminders.models import ReminderLog, ReminderRun
from casetrack.reminders.policy import LEVELS, ReminderPolicy, load_policy

#: how many years ahead the run looks for a year without holiday data
UNKNOWN_YEAR_LOOKAHEAD = 2
_CHUNK = 500


@dataclass(frozen=True)
class DueCase:
    """The facts of one due case that a digest shows (plain values, no ORM object)."""

    id: int
    number: str
    title: str
    village: str
    handler: str
    handler_id: int | None
    unit_id: int | None
    due_on: dt.date
    is_exact: bool
    #: the deadline rule of the running clock (petition.handle, petition.review_answer, ...)
    rule: str | None = None

    def days_overdue(self, today: dt.date) -> int:
        """Days past the due date (0 when not overdue)."""
        return max(0, (today - self.due_on).days)


@dataclass
class Digest:
    """What one recipient gets on one channel: (case, level) pairs, most urgent first."""

    recipient: User
    role: str
    channel: str
    items: list[tuple[DueCase, str]] = field(default_factory=list)


@dataclass
class TownRun:
    """The outcome of a run for one town."""

    town_id: int
    town_name: str
    local_day: dt.date
    is_enabled: bool = True
    due_cases: int = 0
    provisional_cases: int = 0
    unknown_year: int | None = None
    reminders: int = 0
    digests: list[Digest] = field(default_factory=list)
    notification_ids: list[int] = field(default_factory=list)
    run_id: int | None = None


@dataclass
class RunResult:
    """Every town's outcome; ``dry_run`` when nothing was written."""

    now: dt.datetime
    dry_run: bool
    towns: list[TownRun] = field(default_factory=list)


# --------------------------------------------------------------------------- queries


def _due_cases(session: Session, town_id: int, horizon: dt.date) -> list[DueCase]:
    """Open cases of the town due on or before ``horizon`` (one indexed range query)."""
    stmt = (select(Case.id, Case.number, Case.title, Village.name, User.name, Case.handler_id,
                   Case.unit_id, Case.due_on, Case.due_is_exact, Case.due_rule)
            .outerjoin(Village, Village.id == Case.village_id)
            .outerjoin(User, User.id == Case.handler_id)
            .where(Case.town_id == town_id, Case.status.in_(sorted(OPEN_STATUSES)),
                   Case.due_on <= horizon)
            .order_by(Case.due_on, Case.id))
    return [DueCase(id=r[0], number=r[1], title=r[2], village=r[3] or "", handler=r[4] or "",
                    handler_id=r[5], unit_id=r[6], due_on=r[7], is_exact=r[8], rule=r[9])
            for r in session.execute(stmt)]


def first_unknown_year(session: Session, today: dt.date, town_id: int | None = None) -> int | None:
    """The first year from this one on (a short look-ahead) with neither package data nor
    an entered schedule (county-wide or the town's), or None."""
    calendar = load_calendar(session, town_id)
    for year in range(today.year, today.year + UNKNOWN_YEAR_LOOKAHEAD + 1):
        if not calendar.knows(year):
            return year
    return None


def provisional_cases(session: Session, town_id: int, year: int) -> list[DueCase]:
    """Open cases whose due date falls in or after ``year`` and could not be computed
    exactly (``due_is_exact`` False). Uses the same index range: only cases due then."""
    stmt = (select(Case.id, Case.number, Case.title, Village.name, User.name, Case.handler_id,
                   Case.unit_id, Case.due_on, Case.due_is_exact, Case.due_rule)
            .outerjoin(Village, Village.id == Case.village_id)
            .outerjoin(User, User.id == Case.handler_id)
            .where(Case.town_id == town_id, Case.status.in_(sorted(OPEN_STATUSES)),
                   Case.due_on >= dt.date(year, 1, 1), Case.due_is_exact.is_(False))
            .order_by(Case.due_on, Case.id))
    return [DueCase(id=r[0], number=r[1], title=r[2], village=r[3] or "", handler=r[4] or "",
                    handler_id=r[5], unit_id=r[6], due_on=r[7], is_exact=r[8], rule=r[9])
            for r in session.execute(stmt)]


def levels_of(case: DueCase, today: dt.date, policy: ReminderPolicy) -> list[str]:
    """The reminder levels a due case is at today."""
    left = (case.due_on - today).days
    if left < 0:
        levels = ["overdue"]
        if -left >= policy.leader_overdue_days:
            levels.append("escalated")
        return levels
    if left == 0:
        return ["due_today"]
    return ["yellow"]


# --------------------------------------------------------------------------- planning


@dataclass
class _People:
    """The town's users who can receive reminders, by role and by unit."""

    by_id: dict[int, User]
    by_role: dict[str, list[User]]
    handlers_by_unit: dict[int, list[User]]

    @classmethod
    def load(cls, session: Session, town_id: int) -> _People:
        users = list(session.scalars(
            select(User).where(User.town_id == town_id, User.is_enabled,
                               User.role.in_([Role.HANDLER, Role.SUPERVISOR, Role.LEADER,
                                              Role.ADMIN])).order_by(User.id)))
        by_role: dict[str, list[User]] = defaultdict(list)
        by_unit: dict[int, list[User]] = defaultdict(list)
        for u in users:
            by_role[u.role].append(u)
            if u.role == Role.HANDLER and u.unit_id is not None:
                by_unit[u.unit_id].append(u)
        return cls({u.id: u for u in users}, by_role, by_unit)

    def recipients(self, role: str, case: DueCase) -> list[User]:
        """Who of ``role`` is told about ``case``: its handler (or, when none is named, the
        handlers of its unit), or everyone of a town-wide role."""
        if role == "handler":
            if case.handler_id is not None:
                user = self.by_id.get(case.handler_id)
                return [user] if user is not None and user.role == Role.HANDLER else []
            return list(self.handlers_by_unit.get(case.unit_id, [])) if case.unit_id else []
        return list(self.by_role.get(role, []))


def _plan(cases: list[tuple[DueCase, str]], policy: ReminderPolicy, people: _People,
          prefs: dict, ready: set[str]) -> dict[tuple[int, str, int, str], str]:
    """Every reminder the policy calls for: {(case, level, recipient, channel): role}."""
    planned: dict[tuple[int, str, int, str], str] = {}
    for case, level in cases:
        for role in policy.roles_for(level):
            for user in people.recipients(role, case):
                for channel in notify.channels_for(user, policy.channels_for(role), prefs,
                                                   ready):
                    planned.setdefault((case.id, level, user.id, channel), role)
    return planned


def _recently_sent(session: Session, keys: list[tuple[int, str, int, str]], today: dt.date,
                   cadence_days: int) -> set[tuple[int, str, int, str]]:
    """Planned reminders already sent within the cadence (before today)."""
    if cadence_days <= 1 or not keys:
        return set()
    since = today - dt.timedelta(days=cadence_days - 1)
    case_ids = sorted({k[0] for k in keys})
    found: set[tuple[int, str, int, str]] = set()
    for start in range(0, len(case_ids), _CHUNK):
        rows = session.execute(
            select(ReminderLog.case_id, ReminderLog.level, ReminderLog.recipient_id,
                   ReminderLog.channel)
            .where(ReminderLog.case_id.in_(case_ids[start:start + _CHUNK]),
                   ReminderLog.local_day >= since, ReminderLog.local_day < today))
        found.update(tuple(r) for r in rows)
    return found


def _already_today(session: Session, keys: list[tuple[int, str, int, str]],
                   today: dt.date) -> set[tuple[int, str, int, str]]:
    """Planned reminders already sent today (for a dry run, which inserts nothing)."""
    found: set[tuple[int, str, int, str]] = set()
    case_ids = sorted({k[0] for k in keys})
    for start in range(0, len(case_ids), _CHUNK):
        rows = session.execute(
            select(ReminderLog.case_id, ReminderLog.level, ReminderLog.recipient_id,
                   ReminderLog.channel)
            .where(ReminderLog.case_id.in_(case_ids[start:start + _CHUNK]),
                   ReminderLog.local_day == today))
        found.update(tuple(r) for r in rows)
    return found


def _insert_logs(session: Session, keys: list[tuple[int, str, int, str]], today: dt.date,
                 run_id: int, now: dt.datetime) -> list[tuple[int, str, int, str]]:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING: the reminders this run owns.

    One statement compiled once and sent in batches (SQLAlchemy's "insertmanyvalues"), in
    key order, so that concurrent runs wait for each other instead of deadlocking.
    """
    if not keys:
        return []
    table = ReminderLog.__table__
    stmt = (notify.dialect_insert(session)(table)
            .on_conflict_do_nothing(index_elements=["case_id", "level", "recipient_id",
                                                    "channel", "local_day"])
            .returning(table.c.case_id, table.c.level, table.c.recipient_id, table.c.channel))
    rows = [{"case_id": c, "level": lv, "recipient_id": u, "channel": ch, "local_day": today,
             "run_id": run_id, "created_at": now} for c, lv, u, ch in keys]
    return [tuple(r) for r in session.execute(stmt, rows)]


# --------------------------------------------------------------------------- the run


def run_town(session: Session, town: Town, now: dt.datetime, *, dry_run: bool = False,
             trigger: str = "cli") -> TownRun:
    """Plan, record and enqueue one town's reminders in the caller's transaction."""
    policy = load_policy(session, town.id)
    today = local_date(now, policy.zone)
    result = TownRun(town_id=town.id, town_name=town.name, local_day=today,
                     is_enabled=policy.is_enabled)
    if not policy.is_enabled:
        return result
    due = _due_cases(session, town.id, today + dt.timedelta(days=policy.yellow_days))
    result.due_cases = len(due)
    leveled = [(c, lv) for c in due for lv in levels_of(c, today, policy)]
    result.unknown_year = first_unknown_year(session, today)
    if result.unknown_year is not None and policy.roles_for("provisional"):
        provisional = provisional_cases(session, town.id, result.unknown_year)
        result.provisional_cases = len(provisional)
        leveled += [(c, "provisional") for c in provisional]
    if not leveled:
        if not dry_run:
            _record_run(session, town, today, now, trigger, result)
        return result

    people = _People.load(session, town.id)
    prefs = notify.load_preferences(session, people.by_id)
    ready = notify.ready_channels(session, town.id)
    planned = _plan(leveled, policy, people, prefs, ready)
    keys = sorted(set(planned) - _recently_sent(session, list(planned), today,
                                                policy.cadence_days))
    if dry_run:
        owned = sorted(set(keys) - _already_today(session, keys, today))
    else:
        run = _record_run(session, town, today, now, trigger, result)
        owned = _insert_logs(session, keys, today, run.id, now)
    result.reminders = len(owned)
    result.digests = _digests(owned, planned, leveled, people)
    if not dry_run and result.digests:
        result.notification_ids = _enqueue(session, town, now, today, result)
        run.reminders, run.notifications = result.reminders, len(result.notification_ids)
        session.flush()
    return result


def _record_run(session: Session, town: Town, today: dt.date, now: dt.datetime, trigger: str,
                result: TownRun) -> ReminderRun:
    run = ReminderRun(town_id=town.id, local_day=today, started_at=now, trigger=trigger,
                      due_cases=result.due_cases)
    session.add(run)
    session.flush()
    result.run_id = run.id
    return run


def _digests(owned: list[tuple[int, str, int, str]], planned: dict, leveled: list,
             people: _People) -> list[Digest]:
    """Group the reminders this run owns into one digest per recipient and channel; a case
    appears once per digest, at its most urgent level."""
    cases = {c.id: c for c, _ in leveled}
    rank = {lv: i for i, lv in enumerate(LEVELS)}
    grouped: dict[tuple[int, str], dict[int, str]] = defaultdict(dict)
    roles: dict[tuple[int, str], str] = {}
    for case_id, level, user_id, channel in owned:
        best = grouped[(user_id, channel)]
        if case_id not in best or rank[level] > rank[best[case_id]]:
            best[case_id] = level
        roles.setdefault((user_id, channel), planned.get((case_id, level, user_id, channel), ""))
    digests = []
    for (user_id, channel), items in sorted(grouped.items()):
        pairs = sorted(((cases[cid], lv) for cid, lv in items.items()),
                       key=lambda p: (-rank[p[1]], p[0].due_on, p[0].id))
        digests.append(Digest(recipient=people.by_id[user_id], role=roles[(user_id, channel)],
                              channel=channel, items=pairs))
    return digests


def _enqueue(session: Session, town: Town, now: dt.datetime, today: dt.date,
             result: TownRun) -> list[int]:
    """Write each digest to the outbox (dedupe key: run, recipient, channel)."""
    rows = []
    for digest in result.digests:
        message = build_digest_message(digest, today, digest.channel,
                                       unknown_year=result.unknown_year)
        rows.append(notify.notification_row(
            recipient=digest.recipient, channel=digest.channel, kind="reminder_digest",
            key=f"reminders:run{result.run_id}:u{digest.recipient.id}", message=message,
            now=now, town_id=town.id))
    return notify.insert_notifications(session, rows)


def run_reminders(session: Session, now: dt.datetime, *, town_ids: list[int] | None = None,
                  dry_run: bool = False, trigger: str = "cli") -> RunResult:
    """Run reminders for every town (or the given ones). Flushes; the caller commits once
    (a dry run writes nothing at all)."""
    stmt = select(Town).order_by(Town.id)
    if town_ids is not None:
        stmt = stmt.where(Town.id.in_(town_ids))
    result = RunResult(now=now, dry_run=dry_run)
    for town in session.scalars(stmt).all():
        result.towns.append(run_town(session, town, now, dry_run=dry_run, trigger=trigger))
    return result


def towns_due_for_run(session: Session, now: dt.datetime) -> list[int]:
    """Towns whose send time has passed today (their local day) and that have no run
    recorded for today: the scheduler's daily run and its catch-up after downtime."""
    from casetrack.reminders.policy import local_send_instant

    due: list[int] = []
    towns = session.scalars(select(Town).order_by(Town.id)).all()
    for town in towns:
        policy = load_policy(session, town.id)
        if not policy.is_enabled:
            continue
        today = local_date(now, policy.zone)
        if now < local_send_instant(policy, today):
            continue
        done = session.scalar(select(ReminderRun.id).where(
            and_(ReminderRun.town_id == town.id, ReminderRun.local_day == today)).limit(1))
        if done is None:
            due.append(town.id)
    return due

