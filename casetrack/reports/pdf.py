"""The monthly summary (月度汇总) as an A4 PDF, and the pieces every report PDF shares.

Chinese throughout, in an embedded TrueType font (``fonts.cjk_font``); "第 N 页 共 M 页" on
every page; the figures come from ``stats.queries`` and their labels from ``stats.metrics``,
so the printed numbers are the dashboard's numbers.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen import canvas
from reportlab.platypus import (
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)
from sqlalchemy.orm import Session

from casetrack.auth.models import User
from casetrack.cases.rules import KIND_LABELS
from casetrack.reports.fonts import cjk_font, font_chain
from casetrack.reports.text import PIECE_CHARS, FontChain, clean, markup, pieces
from casetrack.stats import queries as sq
from casetrack.stats.metrics import METRICS, RATE_LIST

#: the earliest day an overdue case can have been received (the overdue list has no period)
EPOCH = dt.date(2000, 1, 1)
FIGURE_ROWS = ("total", "closed", "open", "ended", "overdue")
#: A4 less the left and right margins: every table spans exactly this width
CONTENT_WIDTH = A4[0] - 36 * mm


def _numbered_canvas(font: str):
    """A canvas class that writes "第 N 页 共 M 页" once the page count is known."""

    class NumberedCanvas(canvas.Canvas):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._saved: list[dict] = []

        def showPage(self):  # noqa: N802 (reportlab API)
            self._saved.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            total = len(self._saved)
            for state in self._saved:
                self.__dict__.update(state)
                self.setFont(font, 9)
                self.drawCentredString(A4[0] / 2, 10 * mm,
                                       f"第 {self._pageNumber} 页 共 {total} 页")
                super().showPage()
            super().save()

    return NumberedCanvas


@dataclass(frozen=True)
class Styles:
    """Paragraph styles in the Chinese font, and the fonts for rare characters."""

    font: str
    title: ParagraphStyle
    subtitle: ParagraphStyle
    heading: ParagraphStyle
    body: ParagraphStyle
    cell: ParagraphStyle
    fonts: FontChain | None = None

    def p(self, value: object, style: ParagraphStyle | None = None) -> Paragraph:
        """A paragraph showing ``value`` as text (escaped; never markup), rare characters
        in a fallback font. Every text that reaches a PDF goes through here."""
        return Paragraph(markup(value, self.fonts), style or self.body)


def styles() -> Styles:
    """The paragraph styles of every report (registers the fonts on first use)."""
    font = cjk_font()
    base = dict(fontName=font, wordWrap="CJK")
    return Styles(
        font=font,
        fonts=font_chain(),
        title=ParagraphStyle("title", fontSize=16, leading=22, alignment=1, spaceAfter=4, **base),
        subtitle=ParagraphStyle("subtitle", fontSize=10, leading=14, alignment=1,
                                spaceAfter=8, **base),
        heading=ParagraphStyle("heading", fontSize=12, leading=18, spaceBefore=8,
                               spaceAfter=4, **base),
        body=ParagraphStyle("body", fontSize=10, leading=15, **base),
        cell=ParagraphStyle("cell", fontSize=9, leading=12, **base),
    )


def _fits(text: str, width: float, font: str, size: float = 9) -> bool:
    """Whether ``text`` fits on one line of a cell ``width`` wide (6 pt padding each side)."""
    return pdfmetrics.stringWidth(text, font, size) <= width - 12


def _cell(value: object, width: float, st: Styles):
    """A table cell: text that fits on one line in the main font stays a plain string
    (drawn as is, never read as markup); anything else becomes an escaped paragraph."""
    if not isinstance(value, str):
        return value
    text = clean(value)
    if "\n" in text or not _fits(text, width, st.font) or \
            (st.fonts is not None and st.fonts.needs_fallback(text)):
        return st.p(text, st.cell)
    return text


def split_row(row: list, size: int = PIECE_CHARS) -> list[list]:
    """One row, or several when a text cell is too long for one page: the long text
    continues in the rows below (other cells blank), and a table may break between rows."""
    cut = [pieces(c, size) if isinstance(c, str) else [c] for c in row]
    height = max((len(p) for p in cut), default=1)
    if height == 1:
        return [row]
    return [[(p[i] if i < len(p) else "") if isinstance(c, str) else (c if i == 0 else "")
             for c, p in zip(row, cut, strict=True)] for i in range(height)]


def grid_table(rows: list[list], widths: list[float], st: Styles, header_rows: int = 1,
               align_numbers: bool = True, right_cols: Sequence[int] | None = None) -> Table:
    """A ruled table with a grey, centred header row, repeated on each page it spans.

    Text that does not fit its column on one line wraps inside the cell (never runs over the
    rule or off the page); text too long for a page continues in the rows below
    (``split_row``). Text is always text: escaped, never markup. ``right_cols`` are right-aligned (numbers); by default every
    column but the first when ``align_numbers``, none otherwise.
    """
    body: list[list] = []
    for index, row in enumerate(rows):
        split = split_row(row) if index >= header_rows else [row]
        for part in split:
            body.append([_cell(c, w, st) for c, w in zip(part, widths, strict=False)])
    table = Table(body, colWidths=widths, repeatRows=header_rows)
    cmds = [
        ("FONTNAME", (0, 0), (-1, -1), st.font),
        ("FONTSIZE", (0, 0), (-1, -1), 9),
        ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
        ("BACKGROUND", (0, 0), (-1, header_rows - 1), colors.HexColor("#eeeeee")),
        ("ALIGN", (0, 0), (-1, header_rows - 1), "CENTER"),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
    ]
    if right_cols is None:
        right_cols = range(1, len(widths)) if align_numbers else ()
    for col in right_cols:
        cmds.append(("ALIGN", (col, header_rows), (col, -1), "RIGHT"))
    table.setStyle(TableStyle(cmds))
    return table


def signature_block(st: Styles, labels: tuple[str, ...]) -> Table:
    """Signature and date lines (制表人 / 审核人 / ... / 日期)."""
    line = "＿＿＿＿＿＿＿＿"
    cells = [[f"{label}：{line}" for label in labels[i:i + 2]] for i in range(0, len(labels), 2)]
    for row in cells:
        row += [""] * (2 - len(row))
    table = Table(cells, colWidths=[CONTENT_WIDTH / 2] * 2, rowHeights=11 * mm)
    table.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), st.font),
                               ("FONTSIZE", (0, 0), (-1, -1), 10),
                               ("VALIGN", (0, 0), (-1, -1), "BOTTOM")]))
    return table


def build_pdf(story: list, title: str, font: str) -> bytes:
    """Lay out ``story`` on A4 with page numbers and return the PDF bytes."""
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, title=title, author="casetrack",
                            leftMargin=18 * mm, rightMargin=18 * mm,
                            topMargin=16 * mm, bottomMargin=18 * mm,
                            # else Helvetica is referenced (not embedded) on every page
                            initialFontName=font)
    doc.build(story, canvasmaker=_numbered_canvas(font))
    return out.getvalue()


def cn_date(day: dt.date) -> str:
    """``2022年12月31日``."""
    return f"{day.year}年{day.month}月{day.day}日"


def month_period(month: str) -> tuple[dt.date, dt.date]:
    """First and last day of ``YYYY-MM``; ValueError when malformed."""
    year, mon = (int(x) for x in month.split("-"))
    first = dt.date(year, mon, 1)
    nxt = dt.date(year + 1, 1, 1) if mon == 12 else dt.date(year, mon + 1, 1)
    return first, nxt - dt.timedelta(days=1)


# --------------------------------------------------------------------------- monthly summary


def monthly_chart(rows: list[sq.FigureRow], font: str) -> Drawing:
    """Bar chart by month: cases received and closed (as of the cut-off)."""
    width, height = 170 * mm, 62 * mm
    drawing = Drawing(width, height, initialFontName=font)  # no Helvetica reference
    chart = VerticalBarChart()
    chart.x, chart.y = 12 * mm, 14 * mm
    chart.width, chart.height = width - 20 * mm, height - 24 * mm
    chart.data = [[r.counts["total"] for r in rows], [r.counts["closed"] for r in rows]]
    chart.categoryAxis.categoryNames = [f"{int(r.key['month'][5:])}月" for r in rows]
    chart.categoryAxis.labels.fontName = font
    chart.categoryAxis.labels.fontSize = 8
    chart.valueAxis.labels.fontName = font
    chart.valueAxis.labels.fontSize = 8
    chart.valueAxis.valueMin = 0
    top = max([1, *chart.data[0], *chart.data[1]])
    chart.valueAxis.valueMax = top + max(1, top // 5)
    chart.valueAxis.valueStep = max(1, (top + 4) // 5)
    chart.bars[0].fillColor = colors.HexColor("#b42318")
    chart.bars[1].fillColor = colors.HexColor("#1a7f37")
    chart.barLabels.fontName = font
    chart.barLabels.fontSize = 7
    chart.barLabelFormat = "%d"
    chart.barLabels.nudge = 6
    drawing.add(chart)
    legend = Legend()
    legend.fontName = font
    legend.fontSize = 8
    legend.x, legend.y = width - 48 * mm, height - 2 * mm
    legend.alignment = "right"
    legend.columnMaximum = 1
    legend.colorNamePairs = [(colors.HexColor("#b42318"), METRICS["total"].label),
                             (colors.HexColor("#1a7f37"), METRICS["closed"].label)]
    drawing.add(legend)
    drawing.add(String(0, height - 6 * mm, "件", fontName=font, fontSize=8))
    return drawing


def _counts_table(rows: list[sq.FigureRow], first: str, st: Styles) -> Table:
    head = [first, *[METRICS[k].label for k in ("total", "closed", "open", "overdue")],
            "办结率"]
    body = [[r.label, *[r.counts[k] for k in ("total", "closed", "open", "overdue")],
             r.rates["close_rate"].percent] for r in rows]
    widths = [54 * mm, 24 * mm, 24 * mm, 24 * mm, 24 * mm, 24 * mm]
    return grid_table([head, *body], widths, st)


def monthly_summary_pdf(session: Session, scope: User | None, month: str, as_of: dt.date,
                        town_id: int | None = None) -> bytes:
    """The 月度汇总 of ``month`` (YYYY-MM) as of ``as_of``: figures of the month and of the
    year to date, by village, by category, by month (chart), the overdue list, signatures."""
    first, last = month_period(month)
    st = styles()
    q_month = sq.StatsQuery(first, last, as_of, town_id=town_id)
    q_year = sq.StatsQuery(dt.date(first.year, 1, 1), last, as_of, town_id=town_id)
    name = sq.scope_name(session, scope, q_month)
    month_kinds = {r.key["kind"]: r for r in sq.breakdown(session, scope, q_month, "kind")}
    year_kinds = {r.key["kind"]: r for r in sq.breakdown(session, scope, q_year, "kind")}
    month_total, year_total = sq.sum_rows(month_kinds.values()), sq.sum_rows(year_kinds.values())

    story: list = [
        st.p(f"{name}信访与矛盾纠纷工作月度汇总", st.title),
        st.p(f"统计期间：{cn_date(first)}至{cn_date(last)}　　截至：{cn_date(as_of)}",
             st.subtitle),
        st.p("一、主要数据", st.heading),
    ]
    head = ["项目", "本月", "其中信访", "其中纠纷", "本年累计", "其中信访", "其中纠纷"]
    rows = [head]
    for key in FIGURE_ROWS:
        rows.append([METRICS[key].label, month_total.counts[key],
                     *[month_kinds[k].counts[key] for k in month_kinds],
                     year_total.counts[key], *[year_kinds[k].counts[key] for k in year_kinds]])
    story.append(grid_table(rows, [30 * mm] + [24 * mm] * 6, st))
    story.append(Spacer(1, 4 * mm))
    rate_rows = [["比率", "本月", "分子/分母", "本年累计", "分子/分母", "口径"]]
    for d in RATE_LIST:
        m, y = month_total.rates[d.key], year_total.rates[d.key]
        rate_rows.append([d.label, m.percent, f"{m.numerator}/{m.denominator}", y.percent,
                          f"{y.numerator}/{y.denominator}", d.definition])
    # the label column holds the longest rate name (司法确认申请率) on one line at 9 pt
    story.append(grid_table(rate_rows, [28 * mm, 20 * mm, 24 * mm, 22 * mm, 24 * mm, 56 * mm], st,
                            right_cols=(1, 2, 3, 4)))

    story.append(st.p("二、本年逐月收案与办结情况", st.heading))
    story.append(monthly_chart(sq.breakdown(session, scope, q_year, "month"), st.font))

    story.append(st.p("三、本月分村（居）情况", st.heading))
    story.append(_counts_table(sq.breakdown(session, scope, q_month, "village"), "村（居）", st))
    story.append(st.p("四、本月分类别情况", st.heading))
    cats = sq.breakdown(session, scope, q_month, "category")
    if cats:
        story.append(_counts_table(cats, "类别", st))
    else:
        story.append(st.p("本月无收案。"))

    q_overdue = sq.StatsQuery(EPOCH, as_of, as_of, town_id=town_id)
    overdue = sq.overdue_cases(session, scope, q_overdue)
    story.append(st.p(f"五、超期未办结案件（截至{cn_date(as_of)}，不限收到日期，共{len(overdue)}件）",
                      st.heading))
    if overdue:
        orows = [["编号", "事项", "村（居）", "承办单位", "承办人", "办理期限", "超期天数"]]
        for o in overdue:
            orows.append([o.number, o.title, o.village, o.unit,
                          o.handler or "—",
                          o.due_on.isoformat() + ("" if o.due_is_exact else "（暂定）"),
                          f"{o.days_overdue}天"])
        story.append(grid_table(orows, [37 * mm, 38 * mm, 20 * mm, 21 * mm, 18 * mm,
                                        22 * mm, 18 * mm], st, right_cols=(6,)))
    else:
        story.append(st.p("无超期未办结案件。"))
    story.append(Spacer(1, 8 * mm))
    story.append(KeepTogether([signature_block(st, ("制表人", "审核人", "分管领导签字", "日期"))]))
    return build_pdf(story, clean(f"{name}{first.year}年{first.month}月月度汇总"), st.font)


def kinds_label(kind: str) -> str:
    """Chinese name of a case kind."""
    return KIND_LABELS.get(kind, kind)
