"""Case pages: list, register, detail, one POST route per step, attachments.

Each view parses, calls one service, commits once, and flashes or redirects. On a
``DomainError`` the transaction is rolled back and the Chinese message is shown with the
error's 4xx status. Cases outside the user's scope are 404 everywhere; a step the user's role
may not take on a visible case is 403.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from casetrack.auth.models import Role, User
from casetrack.auth.permissions import TOWN_WIDE_ROLES, has_right, require_visible
from casetrack.cases import forms as F
from casetrack.cases import rules
from casetrack.cases import services as svc
from casetrack.cases.display import (
    DUE_BASIS_LABELS,
    EXTENSION_LABELS,
    action_label,
    available_actions,
    known_label,
    label,
    return_deadline,
    right_for,
    rule_label,
    timeline,
    warning_for,
    yellow_days,
)
from casetrack.cases.models import Attachment, Case, CaseKind, Party
from casetrack.cases.queries import OPEN, CaseFilters, filters_in_scope, select_cases
from casetrack.core.errors import DomainError, NotFound
from casetrack.core.params import page_arg
from casetrack.core.time import app_now, local_date
from casetrack.extensions import db
from casetrack.org.models import Unit, Village

bp = Blueprint("cases", __name__)
bp.add_app_template_filter(known_label, "known")


def _user() -> User:
    return current_user._get_current_object()


def _today() -> dt.date:
    return local_date(app_now())


def _load_case(case_id: int) -> Case:
    """The case, or 404 when it does not exist or the user may not see it."""
    try:
        return require_visible(_user(), db.session.get(Case, case_id))
    except NotFound:
        abort(404)


@bp.errorhandler(404)
def _not_found(exc):
    return render_template("cases/error.html", message=_("案件不存在或您无权查看")), 404


@bp.errorhandler(403)
def _forbidden(exc):
    return render_template("cases/error.html", message=_("您没有执行此操作的权限")), 403


@bp.route("/")
@login_required
def index():
    """The start page is the case list."""
    return redirect(url_for("cases.list_cases"))


# --------------------------------------------------------------------------- list


def _villages_for(user: User) -> list[Village]:
    """Villages a user works in: their own for grid workers, the town's for others."""
    if Role(user.role) is Role.GRID_WORKER:
        return sorted(user.villages, key=lambda v: (v.sort_order, v.id))
    if user.town is None:
        return []
    return [v for v in user.town.villages if v.is_active]


@bp.route("/cases")
@login_required
def list_cases():
    """Cases in the user's scope, filtered and paginated."""
    user = _user()
    today = _today()
    filters = CaseFilters.from_args(request.args)
    filters_in_scope(user, filters)
    page = page_arg()
    stmt = select_cases(user, filters, today, yellow_days()).options(
        selectinload(Case.village), selectinload(Case.unit), selectinload(Case.handler))
    pagination = db.paginate(stmt, page=page, per_page=current_app.config["PAGE_SIZE"],
                             error_out=False)
    rows = [(c, warning_for(c, today)) for c in pagination.items]
    units = [u for u in user.town.units if u.is_active] if user.town else []
    if filters.kind:
        categories = list(rules.CATEGORIES[CaseKind(filters.kind)])
    else:
        categories = list(dict.fromkeys(rules.PETITION_CATEGORIES + rules.DISPUTE_CATEGORIES))
    return render_template(
        "cases/list.html", rows=rows, pagination=pagination, filters=filters,
        args=filters.to_args(), villages=_villages_for(user), units=units, rules=rules,
        categories=categories,
        open_status=OPEN, label=label, today=today,
    )


# --------------------------------------------------------------------------- register


@bp.route("/cases/new", methods=["GET", "POST"])
@login_required
def new():
    """Register a petition or a dispute; the kind is chosen first (``?kind=``)."""
    user = _user()
    if not has_right(user, "register"):
        abort(403)
    default_kind = CaseKind.DISPUTE if Role(user.role) is Role.GRID_WORKER else CaseKind.PETITION
    kind = request.values.get("kind") or default_kind
    if kind not in (CaseKind.PETITION, CaseKind.DISPUTE):
        kind = default_kind
    form = F.CaseForm()
    villages = [(v.id, v.name) for v in _villages_for(user)]
    form.configure(kind, villages, Role(user.role) in TOWN_WIDE_ROLES)
    status, earlier, other_errors, checked = 200, None, {}, False
    if request.method == "GET":
        _registration_defaults(form, kind, villages)
    elif form.check.data:
        form.validate()
        names, ids = form.party_names_and_ids()
        earlier = svc.find_earlier_cases(db.session, user, names, ids)
        checked = True
    else:
        if form.validate():
            try:
                case = svc.register_case(db.session, user, app_now(), form.to_input())
                db.session.commit()
            except DomainError as exc:
                db.session.rollback()
                other_errors = form.apply_field_errors(exc.fields)
                flash(exc.message, "error")
                status = exc.http_status
            else:
                msg = _("已登记，编号 %(number)s", number=case.number)
                if case.is_repeat:
                    msg += _("（重信重访）")
                flash(msg, "success")
                return redirect(url_for("cases.detail", case_id=case.id))
        else:
            flash(_("请检查填写的内容"), "error")
            status = 422
        names, ids = form.party_names_and_ids()
        earlier = svc.find_earlier_cases(db.session, user, names, ids)
    return render_template(
        "cases/new.html", form=form, kind=kind, earlier=earlier, checked=checked,
        other_errors=other_errors, rules=rules, label=label,
    ), status


def _registration_defaults(form: F.CaseForm, kind: str, villages: list[tuple[int, str]]) -> None:
    form.received_on.data = _today()
    form.group_size.data = 1
    if len(villages) == 1:
        form.village_id.data = villages[0][0]
    if kind == CaseKind.DISPUTE:
        form.parties[0].form.role.data = "applicant"
        form.parties[1].form.role.data = "respondent"
        form.source.data = "screening"
        for entry in form.parties[2:]:
            entry.form.role.data = "party"


# --------------------------------------------------------------------------- detail


@bp.route("/cases/<int:case_id>")
@login_required
def detail(case_id: int):
    """Facts, parties, due date and warning, the steps the user may take, the timeline."""
    return _render_detail(_load_case(case_id))


def _render_detail(case: Case, *, failed: tuple[str, F.ActionForm] | None = None,
                   status: int = 200, revealed: dict[int, str] | None = None,
                   upload_form: F.AttachmentForm | None = None):
    user = _user()
    today = _today()
    actions = available_actions(db.session, user, case, today)
    forms = {a: _blank_form(a, case, today) for a in actions}
    open_action = None
    if failed is not None and failed[0] in forms:
        forms[failed[0]] = failed[1]
        open_action = failed[0]
    can_attach = has_right(user, "attach")
    resp = render_template(
        "cases/detail.html", case=case, warning=warning_for(case, today), actions=actions,
        forms=forms, open_action=open_action, entries=timeline(db.session, case),
        can_view_id=has_right(user, "view_id"), revealed=revealed or {},
        upload_form=upload_form or (F.AttachmentForm(formdata=None) if can_attach else None),
        confirm_form=F.ConfirmForm(formdata=None), rules=rules, label=label,
        action_label=action_label, rule_label=rule_label, due_basis_labels=DUE_BASIS_LABELS,
        extension_labels=EXTENSION_LABELS, return_deadline=return_deadline(db.session, case),
        mask=rules.mask_id_number, today=today,
    )
    return resp, status, {"Cache-Control": "no-store"}


def _blank_form(action: str, case: Case, today: dt.date) -> F.ActionForm:
    """The empty form of a step, with today's date where a date is asked."""
    form = ACTIONS[action].form(formdata=None)
    _configure(action, form, case)
    for name in ("held_on", "visited_on", "delivered_on"):
        if name in form._fields:
            form[name].data = today
    if action == "start_mediation":
        form.level.data = "village"
    return form


def _configure(action: str, form: F.ActionForm, case: Case) -> None:
    """Choice lists that depend on the case (units and handlers of its town)."""
    if action != "assign":
        return
    units = db.session.scalars(
        select(Unit).where(Unit.town_id == case.town_id, Unit.is_active).order_by(Unit.id))
    handlers = db.session.scalars(
        select(User).where(User.town_id == case.town_id, User.is_enabled,
                           User.role == Role.HANDLER).order_by(User.unit_id, User.id))
    form.unit_id.choices = F.opts([("", _("请选择"))] + [(u.id, u.name) for u in units])
    form.handler_id.choices = F.opts([("", _("（暂不指定）"))] + [
        (h.id, f"{h.name}（{h.unit.name}）" if h.unit else h.name) for h in handlers])


# --------------------------------------------------------------------------- steps


@dataclass(frozen=True)
class ActionSpec:
    """One step: its URL, its form and the one service call it makes."""

    slug: str
    form: type[F.ActionForm]
    run: Callable[[Session, User, dt.datetime, Case, F.ActionForm], object]


ACTIONS: dict[str, ActionSpec] = {
    "accept": ActionSpec("accept", F.AcceptForm, lambda s, u, n, c, f: svc.accept_case(
        s, u, n, c, accepted_on=f.accepted_on.data)),
    "reject": ActionSpec("reject", F.ReasonForm, lambda s, u, n, c, f: svc.reject_case(
        s, u, n, c, f.reason.data or "")),
    "return": ActionSpec("return", F.ReasonForm, lambda s, u, n, c, f: svc.return_case(
        s, u, n, c, f.reason.data or "")),
    "assign": ActionSpec("assign", F.AssignForm, lambda s, u, n, c, f: svc.assign_case(
        s, u, n, c, f.unit_id.data, f.handler_id.data, f.note.data or "")),
    "progress": ActionSpec("progress", F.NoteForm, lambda s, u, n, c, f: svc.record_progress(
        s, u, n, c, f.note.data or "")),
    "extend_request": ActionSpec("extend-request", F.ExtendRequestForm,
                                 lambda s, u, n, c, f: svc.request_extension(
                                     s, u, n, c, f.days.data, f.reason.data or "")),
    "extend_decide": ActionSpec("extend-decide", F.ExtendDecideForm,
                                lambda s, u, n, c, f: svc.decide_extension(
                                    s, u, n, c, f.decision.data == "approve",
                                    f.note.data or "")),
    "reply": ActionSpec("reply", F.ReplyForm, lambda s, u, n, c, f: svc.reply_case(
        s, u, n, c, f.outcome.data or "", f.reply_text.data or "", f.delivered_on.data)),
    "close": ActionSpec("close", F.CloseForm, lambda s, u, n, c, f: svc.close_case(
        s, u, n, c, rating=f.rating.data or None, closed_on=f.closed_on.data,
        note=f.note.data or "")),
    "rework": ActionSpec("rework", F.ReworkForm, lambda s, u, n, c, f: svc.rework_case(
        s, u, n, c, f.reason.data or "", due_on=f.due_on.data)),
    "start_mediation": ActionSpec("start-mediation", F.StartMediationForm,
                                  lambda s, u, n, c, f: svc.start_mediation(
                                      s, u, n, c, f.level.data or "", f.note.data or "")),
    "mediation_session": ActionSpec("mediation-session", F.MediationSessionForm,
                                    lambda s, u, n, c, f: svc.record_mediation_session(
                                        s, u, n, c, f.held_on.data, f.note.data or "")),
    "escalate": ActionSpec("escalate", F.ReasonForm, lambda s, u, n, c, f: svc.escalate_dispute(
        s, u, n, c, f.reason.data or "")),
    "resolve": ActionSpec("resolve", F.ResolveForm, lambda s, u, n, c, f: svc.resolve_dispute(
        s, u, n, c, f.agreement_type.data or "", f.agreement_text.data or "")),
    "terminate": ActionSpec("terminate", F.ReasonForm,
                            lambda s, u, n, c, f: svc.terminate_dispute(
                                s, u, n, c, f.reason.data or "")),
    "follow_up": ActionSpec("follow-up", F.FollowUpForm, lambda s, u, n, c, f: svc.record_follow_up(
        s, u, n, c, f.visited_on.data, f.honoured.data == "yes", f.note.data or "")),
    "flag_risk": ActionSpec("flag-risk", F.NoteForm, lambda s, u, n, c, f: svc.flag_risk(
        s, u, n, c, f.note.data or "")),
}


def _action_view(action: str):
    """The POST view of one step: rights, form, one service call, one commit."""
    spec = ACTIONS[action]

    @login_required
    def view(case_id: int):
        user = _user()
        case = _load_case(case_id)
        if not has_right(user, right_for(case, action)):
            flash(_("您没有执行此操作的权限"), "error")
            return _render_detail(case, status=403)
        form = spec.form()
        _configure(action, form, case)
        if not form.validate_on_submit():
            flash(_("请检查填写的内容"), "error")
            return _render_detail(case, failed=(action, form), status=422)
        try:
            spec.run(db.session, user, app_now(), case, form)
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            form.apply_field_errors(exc.fields)
            flash(exc.message, "error")
            return _render_detail(_load_case(case_id), failed=(action, form),
                                  status=exc.http_status)
        flash(_("已完成：%(label)s", label=action_label(case.kind, action)), "success")
        return redirect(url_for("cases.detail", case_id=case.id))

    view.__name__ = f"action_{action}"
    view.__doc__ = f"POST /cases/<id>/{spec.slug}: the '{action}' step."
    return view


for _name, _spec in ACTIONS.items():
    bp.add_url_rule(f"/cases/<int:case_id>/{_spec.slug}", endpoint=_name,
                    view_func=_action_view(_name), methods=["POST"])


# --------------------------------------------------------------------------- parties


@bp.route("/cases/<int:case_id>/parties/<int:party_id>/id-number", methods=["POST"])
@login_required
def reveal_id(case_id: int, party_id: int):
    """Show one party's full ID number on this response only (the view is logged)."""
    user = _user()
    case = _load_case(case_id)
    party = db.session.get(Party, party_id)
    if party is None or party.case_id != case.id:
        abort(404)
    if not F.ConfirmForm().validate_on_submit():
        abort(400)
    try:
        full = svc.reveal_id_number(db.session, user, app_now(), party)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return _render_detail(_load_case(case_id), status=exc.http_status)
    return _render_detail(case, revealed={party.id: full})


# --------------------------------------------------------------------------- attachments


@bp.route("/cases/<int:case_id>/attachments", methods=["POST"])
@login_required
def attach(case_id: int):
    """Upload a file to a case."""
    user = _user()
    case = _load_case(case_id)
    if not has_right(user, "attach"):
        flash(_("您没有上传附件的权限"), "error")
        return _render_detail(case, status=403)
    form = F.AttachmentForm()
    upload = form.file.data
    if not form.validate_on_submit() or upload is None or not upload.filename:
        form.file.errors = [*form.file.errors, _("请选择要上传的文件")]
        return _render_detail(case, upload_form=form, status=422)
    try:
        att = svc.add_attachment(db.session, user, app_now(), case, upload.filename,
                                 upload.mimetype or "", upload.stream)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        form.apply_field_errors(exc.fields)
        flash(exc.message, "error")
        return _render_detail(_load_case(case_id), upload_form=form, status=exc.http_status)
    flash(_("已上传附件 %(name)s", name=att.filename), "success")
    return redirect(url_for("cases.detail", case_id=case.id) + "#attachments")


@bp.route("/attachments/<int:attachment_id>")
@login_required
def attachment(attachment_id: int):
    """Download an attachment of a case the user may see (404 otherwise)."""
    att = db.session.get(Attachment, attachment_id)
    if att is None:
        abort(404)
    _load_case(att.case_id)
    path = Path(current_app.config["UPLOAD_FOLDER"]) / att.storage_key
    if not path.is_file():
        abort(404)
    resp = send_file(path, mimetype=att.content_type, max_age=0, conditional=True)
    resp.headers["Content-Disposition"] = _content_disposition(att)
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


def _content_disposition(att: Attachment) -> str:
    """``attachment`` with an ASCII fallback name and the real (UTF-8) one.

    Werkzeug reduces a Chinese-only name to ``filename=.pdf``; a plain
    ``attachment-<id>.<ext>`` fallback is clearer for old clients.
    """
    ext = att.filename.rsplit(".", 1)[-1].lower() if "." in att.filename else ""
    ascii_name = att.filename if att.filename.isascii() else f"attachment-{att.id}"
    if not att.filename.isascii() and ext.isascii() and ext:
        ascii_name += f".{ext}"
    ascii_name = "".join(ch for ch in ascii_name if ch.isalnum() or ch in "._-") or "attachment"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(att.filename)}"
