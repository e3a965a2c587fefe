"""Case number prefixes (GB/T 9704 issuer codes, 机关代字) per town and case kind: the rule a
prefix follows and the queries. The kinds and their defaults belong to ``cases`` (above this
layer); a town's row wins, a kind without one numbers with its default. Setting one is
``services.set_number_prefix``.
"""

from __future__ import annotations

import unicodedata

from sqlalchemy import select
from sqlalchemy.orm import Session

from casetrack.core.i18n import N_, Msgid
from casetrack.org.models import CaseNumberPrefix

#: longest prefix (the column's width; the message below names it)
MAX_PREFIX_LENGTH = 20
#: brackets of every form (after NFKC): the year's 〔〕 follow the prefix, and numbers are
#: compared with brackets folded (core.normalize), so a prefix holding one misreads
_BRACKETS = frozenset("〔〕【】[]〖〗﹝﹞｟｠⦅⦆〘〙〚〛{}()<>〈〉《》「」『』")


def prefix_problem(code: str) -> Msgid | None:
    """An error message (shown in the user's language), or None when ``code`` may prefix
    case numbers: 1 to 20 characters, none of them white space (also full-width), a control
    or format character (a prefix ends up in documents, file names and spreadsheet cells)
    or a bracket (北和〔 would number 北和〔〔2026〕1号)."""
    if not code:
        return N_("请填写机关代字")
    if len(code) > MAX_PREFIX_LENGTH:
        return N_("机关代字不能超过20个字")
    if any(c.isspace() or unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")
           for c in code):
        return N_("机关代字不能含有空格或控制字符")
    if any(unicodedata.normalize("NFKC", c) in _BRACKETS for c in code):
        return N_("机关代字不能含有括号")
    return None


def town_prefixes(session: Session, town_id: int) -> dict[str, str]:
    """The prefixes the town has set, by kind (kinds without a row are absent)."""
    return dict(session.execute(
        select(CaseNumberPrefix.kind, CaseNumberPrefix.code)
        .where(CaseNumberPrefix.town_id == town_id)
    ).all())


def prefix_owner(session: Session, code: str, town_id: int | None = None) -> int | None:
    """The id of another town (not ``town_id``) whose numbers of some kind use ``code``, or
    None: two towns numbering alike would issue the same number twice in a county."""
    stmt = select(CaseNumberPrefix.town_id).where(CaseNumberPrefix.code == code)
    if town_id is not None:
        stmt = stmt.where(CaseNumberPrefix.town_id != town_id)
    return session.scalar(stmt.limit(1))


def town_prefix(session: Session, town_id: int, kind: str) -> str | None:
    """The prefix the town has set for ``kind``, or None (the caller uses the default)."""
    return session.scalar(select(CaseNumberPrefix.code).where(
        CaseNumberPrefix.town_id == town_id, CaseNumberPrefix.kind == kind))


def prefix_rows(**codes: str) -> list[CaseNumberPrefix]:
    """Rows for a new town's ``number_prefixes``: ``prefix_rows(petition="北和信", ...)``
    (set-up code that builds a town directly: the demo, benches, test fixtures)."""
    return [CaseNumberPrefix(kind=kind, code=code) for kind, code in codes.items()]
