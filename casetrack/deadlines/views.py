"""Admin pages for the holiday calendar: year status, single overrides, whole years.

(The banner asking admins for next year's schedule is registered by ``reminders.views``.)
"""

from __future__ import annotations

import datetime as dt

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from casetrack.auth.views import require_town_admin
from casetrack.cases import due_updates
from casetrack.core.errors import DomainError, ValidationError
from casetrack.core.i18n import N_
from casetrack.core.time import app_now, local_date
from casetrack.core.unit import page_unit
from casetrack.deadlines import services as svc
from casetrack.deadlines.rules import DayUnit
from casetrack.deadlines.town_rules import town_rules
from casetrack.extensions import db

bp = Blueprint("calendar", __name__, url_prefix="/admin/calendar")

#: the units a rule may be counted in, as the rules page names them
UNIT_LABELS = {DayUnit.DAYS: N_("日"), DayUnit.WORKDAYS: N_("工作日"), DayUnit.MONTHS: N_("月")}


bp.before_request(require_town_admin)


def _today() -> dt.date:
    return local_date(app_now())


def _index_page(status: int = 200, form: dict | None = None, errors: dict | None = None):
    return render_template(
        "deadlines/calendar.html",
        years=svc.list_calendar_years(db.session, _today(), current_user.town_id),
        overrides=svc.list_overrides(db.session, town_id=current_user.town_id),
        provisional=due_updates.count_provisional(db.session, current_user),
        form=form or {},
        errors=errors or {},
    ), status


def _changes_message(changes: list[due_updates.DueChange]) -> str:
    mine = [c for c in changes if c.town_id == current_user.town_id]
    if not mine:
        return _("没有案件的期限因此改变。")
    return _(
        "本镇 %(n)s 个案件的期限已重新计算：%(list)s",
        n=len(mine),
        list="、".join(f"{c.number} {c.before or '—'} → {c.after or '—'}" for c in mine[:10])
        + ("……" if len(mine) > 10 else ""),
    )


@bp.route("/")
def index():
    """Each year's status and the list of overrides, with a form to add one."""
    return _index_page()


@bp.route("/overrides", methods=["POST"])
def override_add():
    """Add one holiday or adjusted workday."""
    form = request.form

    def add():
        try:
            day = dt.date.fromisoformat(form.get("day", "").strip())
        except ValueError:
            raise ValidationError(
                _("日期无效，应为 YYYY-MM-DD"), fields={"day": _("日期无效，应为 YYYY-MM-DD")}
            ) from None
        # 1 is an adjusted workday, 0 a holiday: anything else (maybe, yes) is no answer,
        # never saved as a holiday
        is_workday = form.get("is_workday", "").strip()
        if is_workday not in ("0", "1"):
            msg = _("请选择放假或调休上班")
            raise ValidationError(msg, fields={"is_workday": msg})
        override, changes = due_updates.add_override(
            db.session, current_user, app_now(), day, is_workday == "1",
            form.get("name", ""))
        flash(_("已添加 %(day)s。", day=override.day.isoformat()) + _changes_message(changes),
              "success")
        return redirect(url_for("calendar.index"))

    return page_unit(add, lambda exc: _index_page(exc.http_status, form, exc.fields))


@bp.route("/overrides/<int:override_id>/delete", methods=["POST"])
def override_delete(override_id: int):
    """Remove one override."""

    def remove():
        override, changes = due_updates.remove_override(db.session, current_user, app_now(),
                                                        override_id)
        flash(_("已删除 %(day)s。", day=override.day.isoformat()) + _changes_message(changes),
              "success")
        return redirect(url_for("calendar.index"))

    return page_unit(remove, lambda exc: _index_page(exc.http_status))


@bp.route("/year/<int:year>", methods=["GET", "POST"])
def year_form(year: int):
    """Enter a whole year's holidays and adjusted workdays, typed or as an uploaded CSV.
    A year no override may name (outside 2000..2100) has no such page (404), never a form
    that refuses whatever is entered."""
    if not svc.YEARS.start <= year < svc.YEARS.stop:
        abort(404)
    status = svc.year_status(db.session, year, current_user.town_id)
    text = (svc.overrides_as_text(db.session, year, current_user.town_id)
            if status == svc.YearStatus.ENTERED else "")
    source = ""
    errors: list[str] = []
    code = 200
    if request.method == "POST":
        text = request.form.get("entries", "")
        source = request.form.get("source", "")
        upload = request.files.get("file")

        def enter():
            if upload is not None and upload.filename:
                content = svc.decode_upload(upload.read())
                entries = svc.parse_entries(content, year, require_header=True)
            else:
                entries = svc.parse_entries(text, year)
            result = due_updates.enter_year(db.session, current_user, app_now(), year, entries,
                                            source)
            flash(_("已录入 %(year)s 年节假日安排：放假 %(h)s 天，调休上班 %(w)s 天。",
                    year=year, h=result.holidays, w=result.workdays)
                  + _changes_message(result.changes), "success")
            return redirect(url_for("calendar.index"))

        def refused(exc: DomainError):
            errors.extend(
                exc.fields.get("entries")
                or list(dict.fromkeys(v for v in exc.fields.values() if isinstance(v, str)))
                or [exc.message])
            return exc.http_status

        answer = page_unit(enter, refused, flash_refusal=False)
        if not isinstance(answer, int):
            return answer
        code = answer
    return render_template(
        "deadlines/year_form.html",
        year=year,
        status=status,
        text=text,
        source=source,
        errors=errors,
    ), code


@bp.route("/rules", methods=["GET", "POST"])
def rules_page():
    """The town's deadline rules: each clock's period and longest extension, editable. A
    change recomputes the open cases on that clock (with a timeline entry); the refusals,
    page wordings and figures that state it follow at once."""
    town_id = current_user.town_id
    errors: dict = {}
    status = 200
    if request.method == "POST":
        code = request.form.get("rule", "")
        try:
            amount = int(request.form.get("amount", "").strip())
            raw_max = request.form.get("max_extension_days", "").strip()
            most = int(raw_max) if raw_max else None
        except ValueError:
            errors = {"amount": _("请填写整数")}
            status = 422
        else:

            def change():
                _rule, changes = due_updates.change_town_rule(
                    db.session, current_user, app_now(), town_id, code, amount=amount,
                    unit=request.form.get("unit") or None, max_extension_days=most)
                flash(_("期限规则已更新，重新计算了 %(n)s 个案件的期限。", n=len(changes)),
                      "success")
                return redirect(url_for("calendar.rules_page"))

            def refused(exc: DomainError) -> int:
                errors.update({"rule": code, **exc.fields, "message": exc.message})
                return exc.http_status

            answer = page_unit(change, refused, flash_refusal=False)
            if not isinstance(answer, int):
                return answer
            status = answer
    return render_template("deadlines/rules.html", rules=town_rules(db.session, town_id),
                           errors=errors, units=UNIT_LABELS), status
