"""Report downloads: monthly summary PDF, case handling sheet PDF, ledger (xlsx/CSV), and
the report sentences page (admins edit the templates)."""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select

from casetrack.auth.models import Role, User
from casetrack.auth.permissions import has_right
from casetrack.cases import rules
from casetrack.cases.display import yellow_days
from casetrack.cases.models import Case
from casetrack.cases.queries import (
    OPEN,
    CaseFilters,
    filters_in_scope,
    invalid_date_filters,
    invalid_filters,
    invalid_status_filter,
    order_by,
    reversed_dates,
    search_too_long,
    select_cases,
)
from casetrack.cases.scoping import require_visible, scope_cases
from casetrack.core.errors import DomainError
from casetrack.core.params import (
    MAX_DAY,
    MIN_DAY,
    REPORT_MIN_DAY,
    form_ids,
    int_arg,
    parse_day,
    report_day_in_range,
    report_max_day,
)
from casetrack.core.time import app_now, local_date
from casetrack.core.unit import page_unit
from casetrack.extensions import db
from casetrack.org.models import Town, Unit, Village
from casetrack.reports.casesheet import case_sheet_pdf
from casetrack.reports.fonts import FALLBACK_PACKAGES, missing_fallback_fonts
from casetrack.reports.pdf import month_period, monthly_summary_pdf
from casetrack.reports.sentences import (
    SENTENCES,
    placeholders,
    save_template,
    template_for,
    year_sentences,
)
from casetrack.reports.spreadsheet import WARNING_TEXT, LedgerHeading, ledger_csv, ledger_xlsx
from casetrack.stats import queries as sq
from casetrack.stats.metrics import METRICS
from casetrack.stats.views import DASHBOARD_ROLES, query_problems, scoped_query

bp = Blueprint("reports", __name__, url_prefix="/reports")

PDF = "application/pdf"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    # the admin page calls this to show a missing report fallback font (rare characters)
    app.context_processor(lambda: {"missing_report_fonts": missing_fallback_fonts,
                                   "report_font_packages": FALLBACK_PACKAGES})


def _user() -> User:
    return current_user._get_current_object()


def _today() -> dt.date:
    return local_date(app_now())


def download(data: bytes, mimetype: str, ascii_name: str, name: str,
             inline: bool = False) -> Response:
    """A file download whose Chinese name survives: an ASCII ``filename`` for old clients
    and the real one as ``filename*`` (RFC 5987). ``inline`` lets the browser show it (a PDF
    to print) instead of saving it."""
    resp = Response(data, mimetype=mimetype)
    how = "inline" if inline else "attachment"
    resp.headers["Content-Disposition"] = (
        f'{how}; filename="{ascii_name}"; filename*=UTF-8\'\'{quote(name)}')
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


@bp.route("/monthly.pdf")
@login_required
def monthly():
    """The monthly summary of ``month`` (YYYY-MM) as of ``as_of``, in the user's scope."""
    user = _user()
    if Role(user.role) not in DASHBOARD_ROLES:
        abort(403)
    today = _today()
    month = request.args.get("month") or today.strftime("%Y-%m")
    try:
        if len(month) != 7:
            raise ValueError(month)
        first, last = month_period(month)
    except ValueError:
        flash(_("月份格式应为 YYYY-MM"), "error")
        return redirect(url_for("stats.dashboard"))
    # a month or a cut-off out of any sensible range (0001-01, 1900-01-01) prints nothing
    # true: refused like a malformed one
    last_day = report_max_day(today)
    if not REPORT_MIN_DAY <= first <= last_day:
        flash(_("月份“%(month)s”超出可统计的范围（%(first)s 至 %(last)s）", month=month,
                first=REPORT_MIN_DAY.strftime("%Y-%m"), last=last_day.strftime("%Y-%m")),
              "error")
        return redirect(url_for("stats.dashboard"))
    if first > today:
        # a month still to come: a summary of nothing, or of projections
        flash(_("月份“%(month)s”尚未开始（今天是 %(today)s），不能打印其月度汇总", month=month,
                today=today.isoformat()), "error")
        return redirect(url_for("stats.dashboard"))
    raw_as_of = (request.args.get("as_of") or "").strip()
    as_of = _date(raw_as_of) or min(last, today)
    if raw_as_of and (_date(raw_as_of) is None or not report_day_in_range(as_of, today)):
        flash(_("截至日期“%(value)s”无效或超出可统计的范围（%(first)s 至 %(last)s）",
                value=raw_as_of[:20], first=REPORT_MIN_DAY.isoformat(),
                last=last_day.isoformat()), "error")
        return redirect(url_for("stats.dashboard"))
    # a signed summary states facts: never the status of a day still to come, nor as of a
    # day before the month began (every figure zero)
    if as_of > today:
        flash(_("截至日期（%(as_of)s）晚于今天（%(today)s），月度汇总只能截至今天或更早",
                as_of=as_of.isoformat(), today=today.isoformat()), "error")
        return redirect(url_for("stats.dashboard"))
    if as_of < first:
        flash(_("截至日期（%(as_of)s）早于%(month)s月的第一天（%(first)s），月度汇总将全为零，"
                "未打印", as_of=as_of.isoformat(), month=month, first=first.isoformat()),
              "error")
        return redirect(url_for("stats.dashboard"))
    try:
        data = monthly_summary_pdf(db.session, user, month, as_of)
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("stats.dashboard"))
    name = sq.scope_name(db.session, user, sq.StatsQuery(first, last, as_of))
    return download(data, PDF, f"monthly-{month}.pdf",
                    f"{name}{first.year}年{first.month}月月度汇总.pdf")


@bp.route("/cases/<int:case_id>/sheet.pdf")
@login_required
def case_sheet(case_id: int):
    """The handling sheet (办理单) of one case the user may see."""
    user = _user()
    try:
        case = require_visible(user, db.session.get(Case, case_id))
        data = case_sheet_pdf(db.session, case)
    except DomainError as exc:
        abort(exc.http_status if exc.http_status in (403, 404) else 500)
    return download(data, PDF, f"case-{case.id}.pdf", f"{case.number}办理单.pdf", inline=True)


@bp.route("/ledger.<any(xlsx, csv):fmt>")
@login_required
def ledger(fmt: str):
    """The ledger (台账) of a list, scoped like the list: with ``metric`` the cases of a
    dashboard figure, else the case list's current filter (same arguments as the list)."""
    user = _user()
    today = _today()
    ydays = yellow_days(user.town_id)
    if "metric" in request.args:
        metric = request.args["metric"]
        if metric not in METRICS or Role(user.role) not in DASHBOARD_ROLES:
            abort(404)
        if query_problems(request.args, today):
            # never a figure's ledger for another period than asked: back to the figure's
            # cases, which say which date is refused
            return redirect(url_for("stats.cases", **request.args), 303)
        q = scoped_query(user, request.args)
        stmt = sq.metric_cases(user, q, metric, sq.later_events(db.session, q))
        # a figure "as of D": every case as the figure counted it, on D
        as_of: dt.date | None = q.as_of
        heading = LedgerHeading(
            town=sq.scope_name(db.session, user, q), filter_text=METRICS[metric].label,
            period=f"{q.date_from.isoformat()}至{q.date_to.isoformat()}收到的案件",
            as_of=q.as_of, yellow_days=ydays, end_of_day=True)
    else:
        if (invalid_date_filters(request.args) or invalid_status_filter(request.args)
                or invalid_filters(request.args) or reversed_dates(request.args)
                or search_too_long(request.args)):
            # never a ledger quietly without the date or status asked for: back to the
            # list, which says which one is wrong and keeps the other filters
            return redirect(url_for("cases.list_cases", **request.args), 303)
        filters = CaseFilters.from_args(request.args)
        filters_in_scope(user, filters)
        stmt = select_cases(user, filters, today, ydays)
        as_of, heading = None, list_heading(user, filters, today, ydays)
    stamp = (as_of or today).strftime("%Y%m%d")
    if fmt == "xlsx":
        return download(ledger_xlsx(db.session, stmt, heading, as_of=as_of), XLSX,
                        f"ledger-{stamp}.xlsx", f"台账{stamp}.xlsx")
    return download(ledger_csv(db.session, stmt, heading, as_of=as_of),
                    "text/csv",  # Werkzeug adds the charset
                    f"ledger-{stamp}.csv", f"台账{stamp}.csv")


def _scope_label(user: User) -> str:
    """Whose cases: the user's town (or county), in the ledger's title row."""
    if Role(user.role) is Role.COUNTY:
        return user.county_code or ""
    return user.town.name if user.town else ""


def list_heading(user: User, filters: CaseFilters, today: dt.date,
                 ydays: int) -> LedgerHeading:
    """The title rows of a ledger exported from the case list: its filter in words."""
    parts: list[str] = []
    f = filters
    if f.kind:
        parts.append("类型：" + rules.KIND_LABELS.get(f.kind, f.kind))
    parts.append("状态：" + ("在办" if f.status == OPEN else "全部" if f.status is None
                           else rules.STATUS_LABELS.get(f.status, f.status)))
    if f.warning:
        parts.append("预警：" + WARNING_TEXT[f.warning])
    if f.village_id is not None:
        v = db.session.get(Village, f.village_id)
        parts.append("村（居）：" + (v.name if v else str(f.village_id)))
    if f.unit_id is not None:
        u = db.session.get(Unit, f.unit_id)
        parts.append("承办单位：" + (u.name if u else str(f.unit_id)))
    if f.category:
        parts.append("分类：" + f.category)
    if f.source:
        parts.append("来源：" + rules.SOURCE_LABELS.get(f.source, f.source))
    if f.q:
        parts.append(f"搜索：{f.q}")
    if f.received_from or f.received_to:
        period = (f"{f.received_from.isoformat() if f.received_from else '最早'}至"
                  f"{f.received_to.isoformat() if f.received_to else '今'}收到")
    else:
        period = "全部"
    return LedgerHeading(town=_scope_label(user), filter_text="；".join(parts), period=period,
                         as_of=today, yellow_days=ydays)


@bp.route("/ledger-selected.xlsx", methods=["POST"])
@login_required
def ledger_selected():
    """导出所选: the ledger of the cases ticked on the list (only those the user may see),
    in the list's order."""
    user = _user()
    ids = form_ids("case_id", 1000)
    if not ids:
        flash(_("请先勾选案件"), "error")
        return redirect(url_for("cases.list_cases"))
    filters = CaseFilters.from_args(request.form)
    filters.status = None
    chosen = scope_cases(select(Case), user).where(Case.id.in_(ids))
    stmt = order_by(chosen, filters)
    # the cases the sheet lists: a posted id of a case the user may not see is no row
    count = db.session.scalar(select(func.count()).select_from(chosen.subquery()))
    today = _today()
    heading = LedgerHeading(town=_scope_label(user), filter_text=f"所选案件{count}件",
                            period="全部", as_of=today, yellow_days=yellow_days(user.town_id))
    stamp = today.strftime("%Y%m%d")
    return download(ledger_xlsx(db.session, stmt, heading), XLSX, f"ledger-{stamp}.xlsx",
                    f"台账{stamp}.xlsx")


@bp.route("/sentences", methods=["GET", "POST"])
@login_required
def sentences():
    """The year's report sentences; admins edit the templates they come from."""
    user = _user()
    if Role(user.role) not in DASHBOARD_ROLES or user.town_id is None:
        abort(403)
    town = db.session.get(Town, user.town_id)
    is_admin = has_right(user, "admin")
    if request.method == "POST":
        if not is_admin:
            abort(403)
        key = request.form.get("key", "")
        text = None if request.form.get("reset") else request.form.get("template", "")

        def save():
            save_template(db.session, user, town.id, key, text)
            flash(_("模板已保存") if text else _("已恢复默认模板"), "success")
            return redirect(url_for("reports.sentences", **request.args))

        return page_unit(save, lambda exc: _render_sentences(
            user, town, is_admin, 422, draft={key: request.form.get("template", "")}))
    return _render_sentences(user, town, is_admin)


def _render_sentences(user: User, town: Town, is_admin: bool, status: int = 200,
                      draft: dict | None = None):
    today = _today()
    year = int_arg("year", today.year, minimum=MIN_DAY.year, maximum=MAX_DAY.year)
    if year > today.year:
        # a year still to come has no figures to state
        flash(_("%(year)s年尚未开始，本次按今年（%(this)s年）统计", year=year, this=today.year),
              "error")
        status, year = max(status, 400), today.year
    elif year < REPORT_MIN_DAY.year:
        # before any record could begin: every figure zero, said instead of printed
        flash(_("%(year)s年早于可统计的范围（%(first)s年起），本次按今年（%(this)s年）统计",
                year=year, first=REPORT_MIN_DAY.year, this=today.year), "error")
        status, year = max(status, 400), today.year
    as_of = min(dt.date(year, 12, 31), today)
    raw_as_of = (request.args.get("as_of") or "").strip()
    if raw_as_of:
        # a cut-off that is no day or out of range (2026-02-30, 2099-12-31) is said, as on
        # the dashboard and the monthly summary, never replaced or printed without a word
        day = _date(raw_as_of)
        if day is None or not report_day_in_range(day, today):
            flash(_("截至日期“%(value)s”无效或超出可统计的范围（%(first)s 至 %(last)s）",
                    value=raw_as_of[:20], first=REPORT_MIN_DAY.isoformat(),
                    last=report_max_day(today).isoformat()), "error")
            status = max(status, 400)
        elif day > today:
            # the status of a day still to come would be a projection printed as fact
            flash(_("截至日期（%(as_of)s）晚于今天（%(today)s），本次按今天的状态统计",
                    as_of=day.isoformat(), today=today.isoformat()), "error")
            status, as_of = max(status, 400), today
        elif day < dt.date(year, 1, 1):
            flash(_("截至日期（%(as_of)s）早于%(year)s年的第一天，本次按默认截至日期统计",
                    as_of=day.isoformat(), year=year), "error")
            status = max(status, 400)
        else:
            as_of = day
    result = year_sentences(db.session, user, town, year, as_of)
    templates = {d.key: (draft or {}).get(d.key) or template_for(db.session, town.id, d.key)
                 for d in SENTENCES}
    return render_template("reports/sentences.html", sentences=result, defs=SENTENCES,
                           templates=templates, placeholders=placeholders(), year=year,
                           as_of=as_of, is_admin=is_admin), status


def _date(value: str | None) -> dt.date | None:
    return parse_day(value)

