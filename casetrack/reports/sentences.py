"""Report sentences for the annual report, from templates the admin can edit.

A template is plain Chinese text with placeholders in braces: every metric key
(``{total}``, ``{closed}``, ``{open}``, ...) is its count, every rate key
(``{close_rate}``, ...) its percentage, and ``{town}``, ``{year}``, ``{as_of}`` the town's
name, the year and the cut-off day. Templates are stored per town as ``TownSetting``
``reports.sentence.<key>``; without one the default below applies.
"""

from __future__ import annotations

import datetime as dt
import string
from dataclasses import dataclass

from flask_babel import gettext
from sqlalchemy.orm import Session

from casetrack.auth.models import User
from casetrack.cases import kinds
from casetrack.core.errors import ValidationError
from casetrack.core.i18n import LIST_SEPARATOR, N_, Joined, Msg
from casetrack.org.models import Town
from casetrack.org.settings import get_setting, set_setting
from casetrack.stats.metrics import METRIC_LIST, RATE_LIST
from casetrack.stats.queries import FigureRow, StatsQuery, totals

SETTING_PREFIX = "reports.sentence."


@dataclass(frozen=True)
class SentenceDef:
    """One sentence: which cohort it counts and its default wording."""

    key: str
    label: str
    kind: str
    source: str | None
    default: str


#: every kind's sentences (``Kind.sentences``, in its folder of ``cases/kinds``)
SENTENCES: tuple[SentenceDef, ...] = tuple(
    SentenceDef(s.key, s.label, k.code, s.source, s.default)
    for k in kinds.all_kinds() for s in k.sentences)
SENTENCE_DEFS = {s.key: s for s in SENTENCES}


def placeholders() -> dict[str, str]:
    """Every placeholder a template may use, with what it stands for (shown on the admin page)."""
    out = {"town": gettext("乡镇名称"), "year": gettext("年份"),
           "as_of": gettext("截至日期（如2022年12月31日）")}
    out.update({m.key: gettext("%(label)s（件数）", label=gettext(m.label)) for m in METRIC_LIST})
    out.update({r.key: gettext("%(label)s（百分比）", label=gettext(r.label)) for r in RATE_LIST})
    return out


def validate_template(text: str) -> str:
    """The template stripped, or ValidationError naming the unknown placeholder."""
    text = (text or "").strip()
    if not text:
        raise ValidationError(N_("模板不能为空"), fields={"template": N_("模板不能为空")})
    if len(text) > 1000:
        raise ValidationError(N_("模板不能超过1000字"), fields={"template": N_("模板不能超过1000字")})
    allowed = placeholders()
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        msg = N_("模板中的花括号不成对（占位符写作 {total}，花括号本身写作 {{ }}）")
        raise ValidationError(msg, fields={"template": msg}) from exc
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if name not in allowed or spec or conversion:
            msg = Msg(N_("未知的占位符 {%(name)s}，可用：%(allowed)s"), name=name,
                      allowed=Joined(["{" + k + "}" for k in allowed], LIST_SEPARATOR))
            raise ValidationError(msg, fields={"template": msg})
    return text


def template_for(session: Session, town_id: int, key: str) -> str:
    """The town's template for sentence ``key`` (its own, else the default)."""
    stored = get_setting(session, town_id, SETTING_PREFIX + key)
    return stored or SENTENCE_DEFS[key].default


def save_template(session: Session, actor: User, town_id: int, key: str, text: str | None) -> None:
    """Store a town's template (None or empty restores the default). Admins only; flushes."""
    from casetrack.auth.permissions import require_right

    require_right(actor, "admin", N_("只有系统管理员可以修改报告语句模板"))
    if actor.town_id != town_id or key not in SENTENCE_DEFS:
        raise ValidationError(N_("无效的模板"))
    set_setting(session, town_id, SETTING_PREFIX + key,
                validate_template(text) if text and text.strip() else None)


def fill(template: str, row: FigureRow, town: str, year: int, as_of: dt.date) -> str:
    """The template with the figures of ``row`` put in."""
    values: dict[str, object] = {"town": town, "year": year,
                                 "as_of": f"{as_of.year}年{as_of.month}月{as_of.day}日"}
    values.update(row.counts)
    values.update({k: r.percent for k, r in row.rates.items()})
    return template.format(**values)


@dataclass(frozen=True)
class Sentence:
    key: str
    label: str
    text: str
    figures: FigureRow


def year_sentences(session: Session, scope: User | None, town: Town, year: int,
                   as_of: dt.date) -> list[Sentence]:
    """The sentences of ``year`` for ``town`` (cohort: received in the year; status as of
    ``as_of``), each from the town's template."""
    out = []
    for d in SENTENCES:
        q = StatsQuery(dt.date(year, 1, 1), dt.date(year, 12, 31), as_of, town_id=town.id,
                       kind=d.kind, source=d.source)
        row = totals(session, scope, q)
        text = fill(template_for(session, town.id, d.key), row, town.name, year, as_of)
        out.append(Sentence(d.key, d.label, text, row))
    return out
