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
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from casetrack.auth.models import Role, User
from casetrack.auth.permissions import has_right
from casetrack.cases.models import Case
from casetrack.cases.queries import CaseFilters, filters_in_scope, select_cases
from casetrack.cases.scoping import require_visible
from casetrack.core.errors import DomainError
from casetrack.core.params import MAX_DAY, MIN_DAY, int_arg, parse_day
from casetrack.core.time import app_now, local_date
from casetrack.extensions import db
from casetrack.org.models import Town
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
from casetrack.reports.spreadsheet import ledger_csv, ledger_heading, ledger_xlsx
from casetrack.stats import queries as sq
from casetrack.stats.metrics import METRICS
from casetrack.stats.views import DASHBOARD_ROLES, scoped_query

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


def download(data: bytes, mimetype: str, ascii_name: str, name: str) -> Response:
    """A file download whose Chinese name survives: an ASCII ``filename`` for old clients
    and the real one as ``filename*`` (RFC 5987)."""
    resp = Response(data, mimetype=mimetype)
    resp.headers["Content-Disposition"] = (
        f'attachment; filename="{ascii_name}"; filename*=UTF-8\'\'{quote(name)}')
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
    as_of = _date(request.args.get("as_of")) or min(last, today)
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
    return download(data, PDF, f"case-{case.id}.pdf", f"{case.number}办理单.pdf")


@bp.route("/ledger.<any(xlsx, csv):fmt>")
@login_required
def ledger(fmt: str):
    """The ledger (台账) of a list, scoped like the list: with ``metric`` the cases of a
    dashboard figure, else the case list's current filter (same arguments as the list)."""
    user = _user()
    if "metric" in request.args:
        metric = request.args["metric"]
        if metric not in METRICS or Role(user.role) not in DASHBOARD_ROLES:
            abort(404)
        q = scoped_query(user, request.args)
        stmt = sq.metric_cases(user, q, metric)
        # a figure "as of D": every case as the figure counted it, on D
        as_of: dt.date | None = q.as_of
        heading = ledger_heading((q.date_from, q.date_to), q.as_of)
    else:
        filters = CaseFilters.from_args(request.args)
        filters_in_scope(user, filters)
        stmt = select_cases(user, filters, _today(),
                            current_app.config["WARNING_YELLOW_DAYS"])
        as_of, heading = None, ""
    stamp = (as_of or _today()).strftime("%Y%m%d")
    if fmt == "xlsx":
        return download(ledger_xlsx(db.session, stmt, as_of=as_of, heading=heading), XLSX,
                        f"ledger-{stamp}.xlsx", f"台账{stamp}.xlsx")
    return download(ledger_csv(db.session, stmt, as_of=as_of, heading=heading),
                    "text/csv",  # Werkzeug adds the charset
                    f"ledger-{stamp}.csv", f"台账{stamp}.csv")


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
        try:
            save_template(db.session, user, town.id, key, text)
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "error")
            return _render_sentences(user, town, is_admin, 422,
                                     draft={key: request.form.get("template", "")})
        db.session.commit()
        flash(_("模板已保存") if text else _("已恢复默认模板"), "success")
        return redirect(url_for("reports.sentences", **request.args))
    return _render_sentences(user, town, is_admin)


def _render_sentences(user: User, town: Town, is_admin: bool, status: int = 200,
                      draft: dict | None = None):
    today = _today()
    year = int_arg("year", today.year, minimum=MIN_DAY.year, maximum=MAX_DAY.year)
    as_of = _date(request.args.get("as_of")) or min(dt.date(year, 12, 31), today)
    result = year_sentences(db.session, user, town, year, as_of)
    templates = {d.key: (draft or {}).get(d.key) or template_for(db.session, town.id, d.key)
                 for d in SENTENCES}
    return render_template("reports/sentences.html", sentences=result, defs=SENTENCES,
                           templates=templates, placeholders=placeholders(), year=year,
                           as_of=as_of, is_admin=is_admin), status


def _date(value: str | None) -> dt.date | None:
    return parse_day(value)

