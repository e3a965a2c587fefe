"""Every figure and rate the town reports, defined once.

A metric is a predicate over one case *as of the cut-off* (the row built by
``queries.asof_rows``): counting it is ``SUM(CASE WHEN predicate THEN 1 ELSE 0 END)`` and
listing its cases is ``WHERE predicate``, so a figure and the list behind it cannot disagree.
The dashboard, the PDF, the spreadsheet, the sentences and the API all read these tables.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, literal, or_
from sqlalchemy.sql import ColumnElement

from casetrack.cases import kinds
from casetrack.cases.kinds import (  # noqa: F401  (defined with the kinds; imported from here)
    Columns,
    Cutoff,
    Metric,
    Predicate,
    RateDef,
)
from casetrack.cases.models import CaseStatus
from casetrack.cases.rules import CONCLUDED_STATUSES, ENDED_LABEL, OPEN_LABEL, OPEN_STATUSES
from casetrack.core.i18n import N_

S = CaseStatus


def _closed(r: Columns, cutoff: Cutoff) -> ColumnElement[bool]:
    return r["status"].in_(sorted(CONCLUDED_STATUSES))


def _open(r: Columns, cutoff: Cutoff) -> ColumnElement[bool]:
    return r["status"].in_(sorted(OPEN_STATUSES))


def _closed_by_due(r: Columns, cutoff: Cutoff) -> ColumnElement[bool]:
    return and_(r["closed_on"].is_not(None),
                or_(r["due_on"].is_(None), r["closed_on"] <= r["due_on"]))


def _closed_on_time(r: Columns, cutoff: Cutoff) -> ColumnElement[bool]:
    """A finished case on time as its kind judges it (``Kind.on_time``: a petition closed by
    its due date, a dispute whose mediation outcome fell on or before its mediation due
    date); a kind that does not say: closed by its due date."""
    return and_(_closed(r, cutoff), or_(*(
        and_(r["kind"] == k.code, (k.on_time or _closed_by_due)(r, cutoff))
        for k in kinds.all_kinds())))


#: the figures of every kind; each kind adds its own (``Kind.metrics``)
METRIC_LIST: tuple[Metric, ...] = (
    Metric("total", N_("案件总数"), N_("期间内收到（上级交办以交办日期计）且截至日已登记的案件"),
           lambda r, c: literal(True)),
    Metric("closed", N_("已办结"), N_("截至日状态为已办结的案件"), _closed),
    Metric("open", OPEN_LABEL, N_("截至日尚未办结（登记、受理、办理、答复、调解中等）的案件"), _open),
    Metric("ended", ENDED_LABEL, N_("截至日已不予受理或已退回交办机关的案件"),
           lambda r, c: r["status"].in_([S.NOT_ACCEPTED, S.RETURNED])),
    Metric("overdue", N_("已超期"),
           N_("截至日尚未办结、办理期限早于截至日的案件（已调解成功待回访的纠纷不计）"),
           lambda r, c: and_(_open(r, c), r["status"] != S.RESOLVED, r["due_on"] < c)),
    Metric("closed_on_time", N_("按期办结"),
           N_("已办结的信访事项办结日期不晚于办理期限；已结案的矛盾纠纷调解结果（达成协议或终止）"
              "不晚于调解期限"),
           _closed_on_time),
    *(m for k in kinds.all_kinds() for m in k.metrics),
)
METRICS: dict[str, Metric] = {m.key: m for m in METRIC_LIST}

RATE_LIST: tuple[RateDef, ...] = (
    RateDef("close_rate", N_("办结率"), "closed", "total", N_("已办结 ÷ 案件总数")),
    RateDef("on_time_rate", N_("按期办结率"), "closed_on_time", "closed", N_("按期办结 ÷ 已办结")),
    *(r for k in kinds.all_kinds() for r in k.rates),
)
RATES: dict[str, RateDef] = {r.key: r for r in RATE_LIST}

#: the figures that partition a cohort: every case is in exactly one of them on the cut-off
#: (已办结 + 在办 + 不予受理/已退回 = 案件总数)
PARTITION = ("closed", "open", "ended")
#: the figures shown first everywhere (tiles, per-kind and per-source tables): the total,
#: its partition, and the overdue cases among those in handling
HEADLINE = ("total", *PARTITION, "overdue")


@dataclass(frozen=True)
class Rate:
    """A computed rate with the numerator and denominator it came from."""

    key: str
    label: str
    numerator: int
    denominator: int

    @property
    def value(self) -> float | None:
        """The rate as a fraction, or None when the denominator is zero."""
        return self.numerator / self.denominator if self.denominator else None

    @property
    def percent(self) -> str:
        """``87.5%``, or ``—`` when there is nothing to divide by."""
        v = self.value
        return "—" if v is None else f"{v * 100:.1f}%"

    def to_dict(self) -> dict:
        return {"label": self.label, "numerator": self.numerator,
                "denominator": self.denominator,
                "value": None if self.value is None else round(self.value, 4),
                "percent": self.percent}


def rates_for(counts: dict[str, int]) -> dict[str, Rate]:
    """Every rate of RATE_LIST from a row of counts."""
    return {d.key: Rate(d.key, d.label, counts.get(d.numerator, 0), counts.get(d.denominator, 0))
            for d in RATE_LIST}
