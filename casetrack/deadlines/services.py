"""Upkeep of the holiday calendar and the towns' deadline rules: year status, single
overrides, whole years entered by the admin (form or CSV), a town's own rule values.

Services take the acting user (``None``: the command line) and ``now``, flush and never
commit. The calendar has two layers: the county-wide one (town_id None: the State Council
schedule, entered at the command line or by a county-level user) and each town's own, which a
town's admin edits and which applies to that town only. This layer sits below ``cases`` and
knows no case: the due dates a change moves are recomputed by ``cases.due_updates``, whose
functions wrap these (pages and commands call those).
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from casetrack.auth.models import Role, User
from casetrack.core.errors import NotFound, PermissionDenied, ValidationError
from casetrack.core.i18n import N_, Joined, Msg
from casetrack.deadlines.calendar import package_knows
from casetrack.deadlines.models import CalendarYear, HolidayOverride, TownCalendarYear
from casetrack.deadlines.rules import DeadlineRule
from casetrack.deadlines.town_rules import store_town_rule
from casetrack.org.services import require_admin

#: first year the calendar page lists
FIRST_YEAR = 2024
#: accepted spellings of the entry type, lower-cased
HOLIDAY_WORDS = frozenset({"holiday", "rest", "放假", "假", "休", "节假日", "休息日"})
WORKDAY_WORDS = frozenset({"workday", "work", "上班", "班", "工作日", "调休上班", "补班"})
#: header row of the CSV (English or Chinese)
HEADERS = (("date", "type", "name"), ("日期", "类型", "名称"))
_DATE_RE = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")
#: weekday names in messages (Monday first, as ``date.weekday()``)
WEEKDAY_NAMES = (N_("星期一"), N_("星期二"), N_("星期三"), N_("星期四"), N_("星期五"),
                 N_("星期六"), N_("星期日"))


def _line(lineno: int, problem: str) -> Msg:
    """A problem of one line of a holiday file: ``第3行：…``."""
    return Msg(N_("第%(row)s行：%(problem)s"), row=lineno, problem=problem)


class YearStatus:
    """Where a year's holiday schedule comes from: "package", "entered" or "unknown"."""

    PACKAGE = "package"
    ENTERED = "entered"
    UNKNOWN = "unknown"


@dataclass
class CalendarYearInfo:
    """One row of the calendar page."""

    year: int
    status: str
    holidays: int = 0
    workdays: int = 0
    entered: CalendarYear | None = None


@dataclass(frozen=True)
class Entry:
    """One parsed line of a year's schedule."""

    day: dt.date
    is_workday: bool
    name: str
    line: int


@dataclass
class YearEntryResult:
    """What entering a year did."""

    year: int
    #: the calendar layer written: a town's id, or None for the county-wide one
    town_id: int | None
    holidays: int
    workdays: int
    replaced: int


# --------------------------------------------------------------------------- queries


def _entered_years(session: Session, town_id: int | None) -> dict[int, Any]:
    """The years entered in full for the town (its own, else county-wide), by year."""
    entered: dict[int, Any] = {cy.year: cy for cy in session.scalars(select(CalendarYear))}
    if town_id is not None:
        entered.update({cy.year: cy for cy in session.scalars(
            select(TownCalendarYear).where(TownCalendarYear.town_id == town_id))})
    return entered


def _in_layers(town_id: int | None):
    """Overrides that apply to the town: the county-wide ones and the town's own."""
    if town_id is None:
        return HolidayOverride.town_id.is_(None)
    return or_(HolidayOverride.town_id.is_(None), HolidayOverride.town_id == town_id)


def year_status(session: Session, year: int, town_id: int | None = None) -> str:
    """``YearStatus`` of ``year`` for the town: entered (county-wide or by the town) wins over
    the package."""
    if year in _entered_years(session, town_id):
        return YearStatus.ENTERED
    return YearStatus.PACKAGE if package_knows(year) else YearStatus.UNKNOWN


def list_calendar_years(session: Session, today: dt.date,
                        town_id: int | None = None) -> list[CalendarYearInfo]:
    """Each year from ``FIRST_YEAR`` to next year (and any later entered year) with its status
    for the town and how many holiday and workday overrides apply to it."""
    entered = _entered_years(session, town_id)
    counts: dict[tuple[int, bool], int] = {}
    for day, is_workday in session.execute(select(HolidayOverride.day, HolidayOverride.is_workday)
                                           .where(_in_layers(town_id))):
        key = (day.year, is_workday)
        counts[key] = counts.get(key, 0) + 1
    last = max([today.year + 1, *entered, *(y for y, _w in counts)])
    rows = []
    for year in range(min(FIRST_YEAR, today.year), last + 1):
        if year in entered:
            status = YearStatus.ENTERED
        else:
            status = YearStatus.PACKAGE if package_knows(year) else YearStatus.UNKNOWN
        rows.append(
            CalendarYearInfo(
                year,
                status,
                counts.get((year, False), 0),
                counts.get((year, True), 0),
                entered.get(year),
            )
        )
    return rows


def list_overrides(session: Session, year: int | None = None,
                   town_id: int | None = None) -> list[HolidayOverride]:
    """The overrides that apply to the town (county-wide and its own), by date; of one year
    when ``year`` is given."""
    stmt = select(HolidayOverride).where(_in_layers(town_id)).order_by(HolidayOverride.day)
    if year is not None:
        stmt = stmt.where(
            HolidayOverride.day >= dt.date(year, 1, 1), HolidayOverride.day <= dt.date(year, 12, 31)
        )
    return list(session.scalars(stmt))


def unknown_years(session: Session, years: list[int], town_id: int | None = None) -> list[int]:
    """Those of ``years`` that neither the package nor an entered schedule knows."""
    entered = _entered_years(session, town_id)
    return [y for y in years if y not in entered and not package_knows(y)]


def overrides_as_text(session: Session, year: int, town_id: int | None = None) -> str:
    """A year's overrides of one layer (the town's, or county-wide for None) in the text
    format of the entry form (to correct and re-enter)."""
    return "\n".join(
        f"{o.day.isoformat()},{'workday' if o.is_workday else 'holiday'},{o.name}"
        for o in list_overrides(session, year, town_id)
        if o.town_id == town_id
    )


def calendar_layer(actor: User | None, town_id: int | None = None) -> int | None:
    """The layer of the calendar ``actor`` edits: a town admin their own town's; a
    county-level user the county-wide layer (None); the command line the town it names, or
    the county-wide layer. Anyone else is refused."""
    if actor is None:
        return town_id
    if Role(actor.role) is Role.COUNTY and actor.town_id is None:
        return None
    require_admin(actor)
    if town_id is not None and town_id != actor.town_id:
        raise PermissionDenied(N_("只能管理本镇的节假日调整"))
    return actor.town_id


# --------------------------------------------------------------------------- parsing


def decode_upload(data: bytes) -> str:
    """The text of an uploaded CSV: UTF-8 (with or without BOM) or GB18030 (Excel's GBK)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        msg = N_("无法识别文件编码，请将 CSV 保存为 UTF-8 或 GB18030（GBK）编码")
        raise ValidationError(msg, fields={"entries": [msg]}) from None


def _parse_date(value: str) -> dt.date | None:
    m = _DATE_RE.match(value)
    if not m:
        return None
    try:
        return dt.date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None


def parse_entries(text: str, year: int, *, require_header: bool = False) -> list[Entry]:
    """Parse "date,type,name" lines for ``year``, all or nothing.

    Blank lines and lines starting with ``#`` are skipped; a header row is allowed (and
    required for an uploaded file). Every problem is reported with its line number, in
    Chinese, in one ``ValidationError`` whose ``fields["entries"]`` lists them.
    """
    errors: list[str] = []
    entries: list[Entry] = []
    seen: dict[dt.date, int] = {}
    header_done = False
    text = text.replace("，", ",").replace("\r\n", "\n").replace("\r", "\n")
    for lineno, raw in enumerate(text.split("\n"), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if "," not in line and "\t" in line:
            line = line.replace("\t", ",")
        cells = [c.strip() for c in next(csv.reader([line]))]
        if not header_done:
            header_done = True
            if tuple(c.lower() for c in cells[:3]) in HEADERS:
                continue
            if require_header:
                errors.append(_line(lineno, N_("第一行应为表头“date,type,name”（日期,类型,名称）")))
                continue
        if len(cells) < 2 or len(cells) > 3:
            errors.append(_line(lineno, Msg(N_("应为“日期,类型,名称”三列，实际为%(n)s列"),
                                            n=len(cells))))
            continue
        day = _parse_date(cells[0])
        kind = cells[1].lower()
        name = cells[2] if len(cells) == 3 else ""
        line_errors = []
        if day is None:
            line_errors.append(_line(lineno, Msg(N_("日期“%(value)s”无效，应为 YYYY-MM-DD"),
                                                 value=cells[0])))
        elif day.year != year:
            line_errors.append(_line(lineno, Msg(N_("日期 %(day)s 不在 %(year)s 年"),
                                                 day=day.isoformat(), year=year)))
        if kind in HOLIDAY_WORDS:
            is_workday = False
        elif kind in WORKDAY_WORDS:
            is_workday = True
        else:
            line_errors.append(_line(lineno, Msg(
                N_("类型“%(value)s”无效，应为 holiday（放假）或 workday（调休上班）"),
                value=cells[1])))
            is_workday = False
        if len(name) > 100:
            line_errors.append(_line(lineno, N_("名称不能超过100个字")))
        if day is not None and not line_errors:
            if day in seen:
                line_errors.append(_line(lineno, Msg(N_("日期 %(day)s 与第%(other)s行重复"),
                                                     day=day.isoformat(), other=seen[day])))
            elif is_workday and day.weekday() < 5:
                line_errors.append(_line(lineno, Msg(
                    N_("%(day)s 是%(weekday)s，本来就是工作日，不必列为调休上班日"),
                    day=day.isoformat(), weekday=WEEKDAY_NAMES[day.weekday()])))
        if line_errors:
            errors.extend(line_errors)
            continue
        seen[day] = lineno
        entries.append(Entry(day, is_workday, name, lineno))
    if not errors and not entries:
        errors.append(N_("没有录入任何日期"))
    elif not errors and not any(not e.is_workday for e in entries):
        errors.append(Msg(N_("没有任何放假日期：%(year)s 年至少应有元旦、春节等法定节假日"),
                          year=year))
    if errors:
        summary = (N_("%(year)s 年节假日安排有 %(n)s 处错误，未保存任何内容：%(errors)s……")
                   if len(errors) > 5 else
                   N_("%(year)s 年节假日安排有 %(n)s 处错误，未保存任何内容：%(errors)s"))
        raise ValidationError(Msg(summary, year=year, n=len(errors), errors=Joined(errors[:5])),
                              fields={"entries": errors})
    return entries


# --------------------------------------------------------------------------- changes


#: the longest basis (通知文号) a year's entry records
SOURCE_MAX = 200
#: the years a town's holidays and adjusted workdays may be entered for
YEARS = range(2000, 2101)


def _check_year(year: int) -> None:
    if year not in YEARS:
        raise ValidationError(N_("年份应在2000至2100之间"), fields={"year": N_("年份应在2000至2100之间")})


def enter_year(
    session: Session,
    actor: User | None,
    now: dt.datetime,
    year: int,
    entries: list[Entry],
    source: str = "",
    town_id: int | None = None,
) -> YearEntryResult:
    """Record a whole year's schedule (State Council notice) in the actor's layer (see
    ``calendar_layer``): its holidays and adjusted workdays become overrides and the year
    becomes known. Entering a year again replaces its overrides."""
    layer = calendar_layer(actor, town_id)
    _check_year(year)
    if package_knows(year):
        msg = Msg(N_("%(year)s 年的节假日安排已由 chinesecalendar 提供，无需整年录入；"
                     "如需更正个别日期，请逐日添加调整"), year=year)
        raise ValidationError(msg, fields={"year": msg})
    if any(e.day.year != year for e in entries):
        raise ValidationError(N_("录入内容中有不属于 %(year)s 年的日期"), params={"year": year})
    if len(source.strip()) > SOURCE_MAX:
        # refused, not cut: a reference number cut short names another notice
        msg = Msg(N_("依据不能超过%(n)s个字符"), n=SOURCE_MAX)
        raise ValidationError(msg, fields={"source": msg})
    replaced = (
        session.execute(
            delete(HolidayOverride).where(
                HolidayOverride.day >= dt.date(year, 1, 1),
                HolidayOverride.day <= dt.date(year, 12, 31),
                HolidayOverride.town_id.is_(None) if layer is None
                else HolidayOverride.town_id == layer,
            )
        ).rowcount
        or 0
    )
    for e in entries:
        session.add(
            HolidayOverride(town_id=layer, day=e.day, is_workday=e.is_workday, name=e.name,
                            created_at=now)
        )
    cy = (session.get(CalendarYear, year) if layer is None
          else session.get(TownCalendarYear, (layer, year)))
    if cy is None:
        cy = CalendarYear(year=year) if layer is None else TownCalendarYear(town_id=layer,
                                                                            year=year)
        session.add(cy)
    cy.source = source.strip()
    cy.entered_by_id = actor.id if actor else None
    cy.entered_at = now
    session.flush()
    return YearEntryResult(
        year,
        layer,
        sum(not e.is_workday for e in entries),
        sum(e.is_workday for e in entries),
        replaced,
    )


def add_override(
    session: Session,
    actor: User | None,
    now: dt.datetime,
    day: dt.date,
    is_workday: bool,
    name: str = "",
    town_id: int | None = None,
) -> HolidayOverride:
    """Mark one day as a holiday or an adjusted workday in the actor's layer (overrides win
    over the package; a town's over the county-wide one)."""
    layer = calendar_layer(actor, town_id)
    _check_year(day.year)
    name = (name or "").strip()
    if len(name) > 100:
        raise ValidationError(N_("名称不能超过100个字"), fields={"name": N_("名称不能超过100个字")})
    same_layer = (HolidayOverride.town_id.is_(None) if layer is None
                  else HolidayOverride.town_id == layer)
    if session.scalar(select(HolidayOverride.id).where(HolidayOverride.day == day, same_layer)):
        msg = Msg(N_("%(day)s 已有调整记录，请先删除再添加"), day=day.isoformat())
        raise ValidationError(msg, fields={"day": msg})
    if is_workday and day.weekday() < 5:
        msg = Msg(N_("%(day)s 是%(weekday)s，本来就是工作日"), day=day.isoformat(),
                  weekday=WEEKDAY_NAMES[day.weekday()])
        raise ValidationError(msg, fields={"day": msg})
    override = HolidayOverride(town_id=layer, day=day, is_workday=is_workday, name=name,
                               created_at=now)
    session.add(override)
    session.flush()
    return override


def remove_override(
    session: Session, actor: User | None, now: dt.datetime, override_id: int
) -> HolidayOverride:
    """Delete one override of the actor's layer."""
    layer = calendar_layer(actor, None if actor is None else actor.town_id)
    override = session.get(HolidayOverride, override_id)
    if override is None or (actor is not None and override.town_id != layer):
        raise NotFound(N_("该调整记录不存在或不属于本镇"))
    session.delete(override)
    session.flush()
    return override


def set_town_rule(
    session: Session,
    actor: User | None,
    now: dt.datetime,
    town_id: int,
    code: str,
    *,
    amount: int,
    unit: str | None = None,
    max_extension_days: int | None = None,
) -> DeadlineRule:
    """A town's admin sets the town's own value of a deadline rule; the refusals, page
    wordings and figures that state the rule read it from then on. The due dates of the
    cases on that clock are the cases' business: ``cases.due_updates.change_town_rule``
    calls this and recomputes them."""
    require_admin(actor)
    if actor is not None and actor.town_id != town_id:
        raise PermissionDenied(N_("只能管理本镇的数据"))
    return store_town_rule(session, town_id, code, amount=amount, unit=unit,
                           max_extension_days=max_extension_days)
