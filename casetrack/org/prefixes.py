"""Case number prefixes (GB/T 9704 issuer codes, 机关代字) per town and case kind: the rule a
prefix follows and the queries. The kinds and their defaults belong to ``cases`` (above this
layer); a town's row wins, a kind without one numbers with its default. Setting one is
``services.set_number_prefix``.
"""

from __future__ import annotations

import unicodedata

from sqlalchemy import select
from sqlalchemy.orm import Session

from casetrack.org.models import CaseNumberPrefix

#: longest prefix (the column's width)
MAX_PREFIX_LENGTH = 20


def prefix_problem(code: str) -> str | None:
    """A Chinese error message, or None when ``code`` may prefix case numbers: 1 to 20
    characters, none of them white space (also full-width) or a control or format
    character (a prefix ends up in documents, file names and spreadsheet cells)."""
    if not code:
        return "请填写机关代字"
    if len(code) > MAX_PREFIX_LENGTH:
        return f"机关代字不能超过{MAX_PREFIX_LENGTH}个字"
    if any(c.isspace() or unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")
           for c in code):
        return "机关代字不能含有空格或控制字符"
    return None


def town_prefixes(session: Session, town_id: int) -> dict[str, str]:
    """The prefixes the town has set, by kind (kinds without a row are absent)."""
    return dict(session.execute(
        select(CaseNumberPrefix.kind, CaseNumberPrefix.code)
        .where(CaseNumberPrefix.town_id == town_id)
    ).all())


def town_prefix(session: Session, town_id: int, kind: str) -> str | None:
    """The prefix the town has set for ``kind``, or None (the caller uses the default)."""
    return session.scalar(select(CaseNumberPrefix.code).where(
        CaseNumberPrefix.town_id == town_id, CaseNumberPrefix.kind == kind))


def prefix_rows(**codes: str) -> list[CaseNumberPrefix]:
    """Rows for a new town's ``number_prefixes``: ``prefix_rows(petition="北和信", ...)``
    (set-up code that builds a town directly: the demo, benches, test fixtures)."""
    return [CaseNumberPrefix(kind=kind, code=code) for kind, code in codes.items()]
