"""Admin pages: the reminder policy and the town's group robot, recent runs, cases whose
due date is provisional; the banner asking for next year's holiday schedule."""

from __future__ import annotations

from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from casetrack.auth.models import Role
from casetrack.auth.views import require_town_admin
from casetrack.cases.models import Case
from casetrack.cases.rules import OPEN_STATUSES
from casetrack.cases.scoping import scope_cases
from casetrack.core.errors import DomainError
from casetrack.core.i18n import N_, Msg
from casetrack.core.params import paginate_or_last
from casetrack.core.templating import add_banner_provider, add_nav_provider
from casetrack.core.time import app_now, local_date
from casetrack.core.unit import page_unit
from casetrack.deadlines.services import YearStatus, year_status
from casetrack.extensions import db
from casetrack.notify import services as notify
from casetrack.notify.models import CHANNEL_LABELS, Channel
from casetrack.reminders.digest import calendar_path
from casetrack.reminders.models import TRIGGER_LABELS, ReminderRun
from casetrack.reminders.policy import (
    LEVEL_LABELS,
    LEVELS,
    ROLE_LABELS,
    ROLES,
    ReminderPolicy,
    load_policy,
    parse_time,
    save_policy,
)
from casetrack.reminders.run import first_unknown_year

bp = Blueprint("reminders", __name__, url_prefix="/admin/reminders")


def init_app(app: Flask) -> None:
    """Register the pages, the admin's nav link and the calendar banner."""
    app.register_blueprint(bp)
    add_nav_provider(app, _nav)
    add_banner_provider(app, calendar_banner)


def _nav() -> list[dict]:
    if current_user.role != Role.ADMIN:
        return []
    return [{"url": url_for("reminders.policy"), "label": _("提醒设置"), "badge": ""}]


def next_year_missing() -> int | None:
    """Next year (from the app's "now") when neither ``chinesecalendar`` knows it nor the
    admin entered it; else None."""
    year = local_date(app_now()).year + 1
    if year_status(db.session, year, current_user.town_id) != YearStatus.UNKNOWN:
        return None
    return year


def calendar_banner() -> list[dict]:
    """Admins see a banner while next year's holiday schedule is missing."""
    if current_user.role != Role.ADMIN:
        return []
    year = next_year_missing()
    if year is None:
        return []
    try:
        url = url_for("calendar.index")
    except Exception:  # BuildError: the calendar pages are not registered
        url = calendar_path()
    return [{"level": "warning",
             "text": _("%(year)s 年的节假日与调休安排尚未录入，该年的到期日无法准确计算。", year=year),
             "url": url, "link_text": _("录入 %(year)s 年节假日安排", year=year)}]


bp.before_request(require_town_admin)


def _policy_from_form(form) -> ReminderPolicy:
    """Read the policy form (ValidationError on malformed numbers)."""
    from casetrack.core.errors import ValidationError

    def number(name: str, label: str) -> int:
        try:
            return int((form.get(name) or "").strip())
        except ValueError:
            msg = Msg(N_("%(label)s应为整数"), label=label)
            raise ValidationError(msg, fields={name: msg}) from None

    return ReminderPolicy(
        is_enabled=form.get("is_enabled") == "on",
        yellow_days=number("yellow_days", N_("黄色预警天数")),
        leader_overdue_days=number("leader_overdue_days", N_("领导督办超期天数")),
        cadence_days=number("cadence_days", N_("重复提醒间隔")),
        send_time=parse_time(form.get("send_time", "")),
        timezone=(form.get("timezone") or "").strip() or current_app.config["TIMEZONE"],
        level_roles={lv: [r for r in ROLES if form.get(f"level:{lv}:{r}") == "on"]
                     for lv in LEVELS},
        role_channels={r: [c.value for c in Channel if c is not Channel.IN_APP
                           and form.get(f"channel:{r}:{c.value}") == "on"] for r in ROLES},
    )


def _render(policy: ReminderPolicy, status: int = 200, errors: dict | None = None,
            webhook: dict | None = None):
    town_id = current_user.town_id
    runs = db.session.scalars(select(ReminderRun).where(ReminderRun.town_id == town_id)
                              .order_by(ReminderRun.id.desc()).limit(10)).all()
    return render_template(
        "reminders/policy.html", policy=policy, errors=errors or {},
        webhook=webhook or notify.town_webhook(db.session, town_id), runs=runs,
        trigger_labels=TRIGGER_LABELS,
        levels=LEVELS, level_labels=LEVEL_LABELS, roles=ROLES, role_labels=ROLE_LABELS,
        channels=[c for c in Channel if c is not Channel.IN_APP], channel_labels=CHANNEL_LABELS,
        webhook_styles=notify.WEBHOOK_STYLES, mail_enabled=notify.mail_enabled(),
    ), status


@bp.route("/", methods=["GET", "POST"])
def policy():
    """Edit the town's reminder policy and group robot."""
    town_id = current_user.town_id
    if request.method == "GET":
        return _render(load_policy(db.session, town_id))
    form = request.form
    webhook = {"url": form.get("webhook_url", ""), "style": form.get("webhook_style", "wecom"),
               "secret": ""}

    def save():
        save_policy(db.session, town_id, _policy_from_form(form))
        secret = form.get("webhook_secret") or None
        if form.get("clear_secret") == "on":
            secret = ""
        notify.save_webhook(db.session, town_id, url=webhook["url"], style=webhook["style"],
                            secret=secret)
        flash(_("提醒设置已保存"), "success")
        return redirect(url_for("reminders.policy"))

    def refused(exc: DomainError):
        try:
            shown = _policy_from_form(form)
        except DomainError:  # the form itself was refused: show the saved policy
            shown = load_policy(db.session, town_id)
        return _render(shown, exc.http_status, exc.fields, webhook)

    return page_unit(save, refused)


@bp.route("/provisional")
def provisional():
    """Open cases whose due date could not be computed exactly (a year without holiday
    data): they are recomputed when the admin enters that year."""
    today = local_date(app_now())
    year = first_unknown_year(db.session, today, current_user.town_id)
    stmt = (select(Case).where(Case.status.in_(sorted(OPEN_STATUSES)),
                               Case.due_is_exact.is_(False))
            .options(selectinload(Case.village), selectinload(Case.handler))
            .order_by(Case.due_on, Case.id))
    page, past_end = paginate_or_last(scope_cases(stmt, current_user),
                                      current_app.config["PAGE_SIZE"])
    try:
        cal_url = url_for("calendar.index")
    except Exception:  # BuildError
        cal_url = calendar_path()
    return render_template("reminders/provisional.html", page=page, year=year, today=today,
                           calendar_url=cal_url, case_url=_case_url,
                           past_end=past_end), 400 if past_end is not None else 200


def _case_url(case_id: int) -> str:
    try:
        return url_for("cases.detail", case_id=case_id)
    except Exception:  # BuildError
        return f"/cases/{case_id}"

