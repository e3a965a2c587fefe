"""The handling sheet (办理单) of one case: its facts and its whole timeline, to print and file."""

from __future__ import annotations

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Spacer, Table, TableStyle
from sqlalchemy.orm import Session

from casetrack.cases import kinds, rules, steps
from casetrack.cases.models import Case, CaseStatus
from casetrack.core.time import to_local
from casetrack.reports.pdf import (
    CONTENT_WIDTH,
    Styles,
    build_pdf,
    grid_table,
    signature_block,
    styles,
)
from casetrack.reports.text import clean, pieces

#: facts whose text can run long: each gets a whole row of the form
LONG_FACTS = frozenset({"当事人", "事项", "主要内容", "答复意见", "协议内容", "理由",
                        "复查意见", "复核意见"})
LABEL_WIDTH = 24 * mm
#: characters of a long fact per table row (the value spans ~130 mm: ~20 lines at 9 pt)
WIDE_PIECE_CHARS = 800


def _d(value) -> str:
    return value.isoformat() if value else "—"


def facts_table(facts: list[tuple[str, str]], st: Styles) -> Table:
    """The case's facts as a ruled form: two label/value pairs a row, and a whole row for
    each long text, in the order given (a short fact left alone fills its row). A text too
    long for one page continues in the rows below ("（续）"), so the form breaks across pages
    instead of failing. Every value is text: escaped, never markup."""
    value_w = (CONTENT_WIDTH - 2 * LABEL_WIDTH) / 2
    rows: list[list] = []
    spans: list[int] = []
    pending: list[tuple[str, str]] = []

    def cell(value: str):
        return st.p(value, st.cell)

    def whole_row(label: str, value: str) -> None:
        for index, piece in enumerate(pieces(value, WIDE_PIECE_CHARS)):
            rows.append([st.p(label if index == 0 else f"{label}（续）", st.cell),
                         cell(piece), "", ""])
            spans.append(len(rows) - 1)

    def flush() -> None:
        if not pending:
            return
        if len(pending) == 1:
            (label, value), = pending
            whole_row(label, value)
        else:
            (l1, v1), (l2, v2) = pending
            rows.append([st.p(l1, st.cell), cell(v1), st.p(l2, st.cell), cell(v2)])
        pending.clear()

    for label, value in facts:
        if label in LONG_FACTS:
            flush()
            whole_row(label, value)
        else:
            pending.append((label, value))
            if len(pending) == 2:
                flush()
    flush()
    table = Table(rows, colWidths=[LABEL_WIDTH, value_w, LABEL_WIDTH, value_w])
    grey = colors.HexColor("#eeeeee")
    cmds = [("FONTNAME", (0, 0), (-1, -1), st.font), ("FONTSIZE", (0, 0), (-1, -1), 9),
            ("GRID", (0, 0), (-1, -1), 0.5, colors.grey), ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("BACKGROUND", (0, 0), (0, -1), grey), ("BACKGROUND", (2, 0), (2, -1), grey)]
    for r in spans:
        cmds += [("SPAN", (1, r), (3, r)), ("BACKGROUND", (2, r), (2, r), colors.white)]
    table.setStyle(TableStyle(cmds))
    return table


def case_sheet_pdf(session: Session, case: Case, show_id_numbers: bool = False) -> bytes:
    """The 办理单 of ``case`` (already checked visible to the user). ID numbers are masked
    unless ``show_id_numbers``."""
    st = styles()
    kind = kinds.kind_of(case.kind)
    title = kind.sheet_title
    parties = "；".join(
        f"{p.name}（{rules.PARTY_ROLES.get(p.role, p.role)}"
        + (f"，身份证号 {p.id_number if show_id_numbers else rules.mask_id_number(p.id_number)}"
           if p.id_number else "") + (f"，电话 {p.phone}" if p.phone else "") + "）"
        for p in case.parties) or "—"
    facts = [
        ("编号", case.number), ("类型", kind.label),
        ("来源", kind.sources.get(case.source, case.source)),
        ("类别", case.category + (f"（{case.petition_class}）" if case.petition_class else "")),
        ("村（居）", case.village.name if case.village else "—"),
        ("收到日期", _d(case.received_on)),
    ]
    facts += kind.sheet_rows(case, "received")
    if case.external_ref:
        facts += [("上级交办文号", case.external_ref),
                  ("交办机关", case.external_authority or "—"),
                  ("上级办理期限", _d(case.external_due_on))]
    facts += [
        ("办理期限", _d(case.due_on)
         + ("（暂定：该年节假日尚未录入）" if case.due_on and not case.due_is_exact else "")
         + (f"（已延期{case.extension_days}天）" if case.extension_days else "")
         + (f"（以{'上级期限' if case.due_basis == 'external' else '法定期限'}为准；法定期限"
            f"{_d(case.statutory_due_on)}）" if case.external_due_on else "")),
        ("承办单位", case.unit.name if case.unit else "—"),
        ("承办人", case.handler.name if case.handler else "—"),
        ("当前状态", rules.STATUS_LABELS.get(CaseStatus(case.status), case.status)),
        ("当事人", parties),
        ("事项", case.title),
        ("主要内容", case.summary or "—"),
    ]
    facts += kind.sheet_rows(case, "outcome")
    if case.exit_reason:
        facts.append(("理由", case.exit_reason))
    story: list = [
        st.p(f"{case.town.name}{title}", st.title),
        st.p(f"编号：{case.number}", st.subtitle),
        facts_table(facts, st),
        st.p("办理过程", st.heading),
    ]
    labels = {**{a: t.label for a, t in steps.transitions_of(case.kind).items()},
              "register": "登记", "attach": "上传附件"}
    timeline = [["时间", "步骤", "经办人", "状态", "说明"]]
    for ev in case.events:
        status = rules.STATUS_LABELS.get(CaseStatus(ev.to_status), ev.to_status) \
            if ev.to_status else ""
        timeline.append([to_local(ev.at).strftime("%Y-%m-%d %H:%M"),
                         labels.get(ev.action, ev.action),
                         ev.actor.name if ev.actor else "系统", status,
                         ev.note or "—"])
    story.append(grid_table(timeline, [30 * mm, 24 * mm, 22 * mm, 20 * mm, 78 * mm], st,
                            align_numbers=False))
    story.append(Spacer(1, 6 * mm))
    story.append(KeepTogether([signature_block(
        st, ("承办人签字", "承办单位负责人", "分管领导签字", "日期"))]))
    return build_pdf(story, clean(f"{case.number}{title}"), st.font)
