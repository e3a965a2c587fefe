"""Case pages: list, register, detail, one POST route per step, attachments.

Each view parses, calls one service, commits once, and flashes or redirects. On a
``DomainError`` the transaction is rolled back and the Chinese message is shown with the
error's 4xx status. Cases outside the user's scope are 404 everywhere; a step the user's role
may not take on a visible case is 403.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    stream_with_context,
    url_for,
)
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from casetrack.auth.models import Role, User
from casetrack.auth.permissions import TOWN_WIDE_ROLES, has_right
from casetrack.cases import forms as F
from casetrack.cases import kinds, rules, steps, storage
from casetrack.cases import services as svc
from casetrack.cases.display import (
    DUE_BASIS_LABELS,
    EXTENSION_LABELS,
    action_label,
    clock_label,
    due_facts,
    known_label,
    label,
    rule_label,
    timeline,
    warning_for,
    yellow_days,
)
from casetrack.cases.kinds.petition import steps as petition_steps
from casetrack.cases.listing import list_choices, list_rows
from casetrack.cases.models import Attachment, Case, Party
from casetrack.cases.queries import (
    ALL,
    CHOICE_FILTERS,
    DATE_FILTERS,
    LIST_DEFERRED,
    OPEN,
    SEARCH_MAX,
    SORTS,
    CaseFilters,
    filters_in_scope,
    invalid_date_filters,
    invalid_filters,
    invalid_status_filter,
    page_or_last,
    reversed_dates,
    search_too_long,
    select_cases,
)
from casetrack.cases.repeats import cases_with_reference
from casetrack.cases.scoping import can_see_case, require_visible
from casetrack.core.db import read_only_page
from casetrack.core.errors import DomainError, NotFound
from casetrack.core.i18n import gettext as _
from casetrack.core.i18n import tr
from casetrack.core.params import MAX_INT, form_ids, page_arg
from casetrack.core.time import app_now, local_date
from casetrack.core.unit import page_unit
from casetrack.extensions import db
from casetrack.org.models import Village

bp = Blueprint("cases", __name__)
bp.add_app_template_filter(known_label, "known")


def _user() -> User:
    return current_user._get_current_object()


def _today() -> dt.date:
    return local_date(app_now())


def _load_case(case_id: int, options=()) -> Case:
    """The case, or 404 when it does not exist or the user may not see it; ``options``
    (loader options) load what the page shows with it."""
    try:
        return require_visible(_user(), db.session.get(Case, case_id, options=list(options)))
    except NotFound:
        abort(404)


#: the case page's village, unit and handler, joined into the case's own statement
_DETAIL_JOINED = (joinedload(Case.village), joinedload(Case.unit), joinedload(Case.handler))


@bp.errorhandler(404)
def _not_found(exc):
    return render_template("cases/error.html", message=_("案件不存在或您无权查看")), 404


@bp.errorhandler(403)
def _forbidden(exc):
    return render_template("cases/error.html", message=_("您没有执行此操作的权限")), 403


# --------------------------------------------------------------------------- list


def _villages_for(user: User) -> list[Village]:
    """Villages a user works in: their own for grid workers, the town's for others."""
    if Role(user.role) is Role.GRID_WORKER:
        return sorted(user.villages, key=lambda v: (v.sort_order, v.id))
    if user.town is None:
        return []
    return [v for v in user.town.villages if v.is_active]


#: page sizes a user may choose on the list
PAGE_SIZES = (20, 50, 100)
#: the longest note a bulk assignment takes
BULK_NOTE_MAX = 500


@bp.route("/cases")
@read_only_page
@login_required
def list_cases():
    """Cases in the user's scope, filtered and paginated."""
    user = _user()
    today = _today()
    filters = CaseFilters.from_args(request.args)
    filters_in_scope(user, filters)
    # a date that is no date is said on the page (400), the other filters still apply
    bad_dates = invalid_date_filters(request.args)
    date_errors = {name: _("%(field)s“%(value)s”不是有效日期（应为 YYYY-MM-DD），本次未按该日期筛选",
                           field=tr(DATE_FILTERS[name]), value=value)
                   for name, value in bad_dates.items()}
    # so is a status that is no status: the default (open cases) is listed instead
    bad_status = invalid_status_filter(request.args)
    if bad_status is not None:
        date_errors["status"] = _("状态“%(value)s”无效，本次只列出在办案件", value=bad_status)
    # and a menu value that is none of the menu's (kind=bogus, village_id=abc): left out
    for name, value in invalid_filters(request.args).items():
        date_errors[name] = _("%(field)s“%(value)s”无效，本次未按该条件筛选",
                              field=tr(CHOICE_FILTERS[name]), value=value)
    if search_too_long(request.args):
        date_errors["q"] = _("搜索词超过%(n)s个字符，本次只按前%(n)s个字符搜索", n=SEARCH_MAX)
    reversed_days = reversed_dates(request.args)
    if reversed_days is not None:
        date_errors["received"] = _("收到日期自（%(start)s）晚于收到日期至（%(end)s），"
                                    "本次未按收到日期筛选", start=reversed_days[0].isoformat(),
                                    end=reversed_days[1].isoformat())
    # what only changes how the list is shown (page size, order, page number) is said too,
    # without hiding the export (which it does not change)
    notices = []
    per_page = request.args.get("per_page", type=int)
    if per_page not in PAGE_SIZES:
        per_page = current_app.config["PAGE_SIZE"]
        if (request.args.get("per_page") or "").strip():
            notices.append(_("每页“%(value)s”件无效（可选 %(sizes)s），本次每页 %(n)s 件",
                             value=request.args["per_page"].strip()[:20],
                             sizes="、".join(map(str, PAGE_SIZES)), n=per_page))
    sort = (request.args.get("sort") or "").strip()
    if sort and sort not in SORTS:
        notices.append(_("排序方式“%(value)s”无效，本次按默认顺序排列", value=sort[:20]))
    # village, unit and handler joined into the page's one query (not three more)
    stmt = select_cases(user, filters, today, yellow_days()).options(
        joinedload(Case.village), joinedload(Case.unit), joinedload(Case.handler),
        *LIST_DEFERRED)
    page, past_end = page_or_last(db.session, stmt, filters, per_page=per_page,
                                  after=request.args.get("after"),
                                  before=request.args.get("before"), number=page_arg())
    if past_end is not None:
        notices.append(tr(past_end))
    kind_labels = {k: _(v) for k, v in kinds.labels().items()}
    status_labels = {k: _(v) for k, v in rules.STATUS_LABELS.items()}
    rows = list_rows(page.items, today, kind_labels, status_labels)
    cur = filters.to_args()
    if per_page != current_app.config["PAGE_SIZE"]:
        cur["per_page"] = str(per_page)
    bulk = has_right(user, "assign") and user.town_id is not None
    villages, units, handlers = list_choices(db.session, user, handlers=bulk)
    if filters.kind:
        categories = list(kinds.kind_of(filters.kind).categories)
    else:
        categories = list(kinds.all_categories())
    return render_template(
        "cases/list.html", rows=rows, page=page, filters=filters,
        args=filters.to_args(), villages=villages, units=units, rules=rules,
        categories=categories, sorts=SORTS, page_sizes=PAGE_SIZES,
        cur=cur, cur_no_status={k: v for k, v in cur.items() if k != "status"},
        bulk=bulk, handlers=handlers,
        repeat_label=_("重信重访"), risk_label=_("风险"),
        open_status=OPEN, open_label=rules.OPEN_LABEL, all_status=ALL, label=label,
        today=today, provisional_label=_("暂定"), bad_dates=bad_dates, date_errors=date_errors,
        notices=notices,
    ), 400 if date_errors or notices else 200


# --------------------------------------------------------------------------- register


@bp.route("/cases/new", methods=["GET", "POST"])
@login_required
def new():
    """Register a petition or a dispute; the kind is chosen first (``?kind=``)."""
    user = _user()
    if not has_right(user, "register"):
        abort(403)
    default_kind = kinds.default_for(user.role)
    kind = (request.values.get("kind") or "").strip() or default_kind
    bad_kind = None
    if kinds.get(kind) is None:
        # a kind that is none of the installed ones: said; the default kind's form shown,
        # and nothing registered as a kind nobody chose
        bad_kind, kind = kind[:20], default_kind
    form = F.CaseForm()
    villages = [(v.id, v.name) for v in _villages_for(user)]
    form.configure(kind, villages, Role(user.role) in TOWN_WIDE_ROLES)
    status, earlier, other_errors, checked = 200, None, {}, False
    same_ref: list = []
    if bad_kind is not None:
        flash(_("类型“%(value)s”无效，本次显示%(kind)s登记表，未登记任何案件", value=bad_kind,
                kind=_(kinds.kind_of(kind).label)), "error")
        status = 400
        if request.method == "GET":
            _registration_defaults(form, kind, villages)
    elif request.method == "GET":
        _registration_defaults(form, kind, villages)
    elif form.check.data:
        form.validate()
        earlier = _earlier(form, user)
        same_ref = cases_with_reference(db.session, user, form.external_ref.data)
        checked = True
    else:
        if form.validate():
            refused: list[DomainError] = []
            case = page_unit(lambda: svc.register_case(db.session, user, app_now(),
                                                       form.to_input()), refused.append)
            if not refused:
                msg = _("已登记，编号 %(number)s", number=case.number)
                if case.is_repeat:
                    msg += _("（重信重访）")
                flash(msg, "success")
                return redirect(url_for("cases.detail", case_id=case.id))
            other_errors = form.apply_field_errors(refused[0].fields)
            status = refused[0].http_status
        else:
            flash(_("请检查填写的内容"), "error")
            status = 422
        earlier = _earlier(form, user)
        same_ref = cases_with_reference(db.session, user, form.external_ref.data)
    return render_template(
        "cases/new.html", form=form, kind=kind, spec=kinds.kind_of(kind), kinds=kinds.all_kinds(),
        earlier=earlier, checked=checked,
        same_ref=same_ref,
        other_errors=other_errors, rules=rules, label=label,
    ), status


def _earlier(form: F.CaseForm, user: User):
    """Earlier cases of the parties entered, or None (nothing to say) when no party was."""
    names, ids = form.party_names_and_ids()
    if not names and not ids:
        return None
    return svc.find_earlier_cases(db.session, user, names, ids)


def _registration_defaults(form: F.CaseForm, kind: str, villages: list[tuple[int, str]]) -> None:
    form.received_on.data = _today()
    form.group_size.data = 1
    if len(villages) == 1:
        form.village_id.data = villages[0][0]
    spec = kinds.kind_of(kind)
    if spec.default_source:
        form.source.data = spec.default_source
    for i, entry in enumerate(form.parties):
        entry.form.role.data = spec.party_roles[min(i, len(spec.party_roles) - 1)]


# --------------------------------------------------------------------------- detail


@bp.route("/cases/<int:case_id>")
@read_only_page
@login_required
def detail(case_id: int):
    """Facts, parties, due date and warning, the steps the user may take, the timeline."""
    return _render_detail(_load_case(case_id, _DETAIL_JOINED))


def _render_detail(case: Case, *, failed: tuple[str, F.StepForm] | None = None,
                   status: int = 200, revealed: dict[int, str] | None = None,
                   upload_form: F.AttachmentForm | None = None,
                   changed_since: int | None = None):
    user = _user()
    today = _today()
    actions = steps.available(db.session, user, case, today)
    forms = {a: _blank_form(a, case, today) for a in actions}
    open_action = None
    if failed is not None and failed[0] in forms:
        forms[failed[0]] = failed[1]
        failed[1].version.data = str(case.version)
        failed[1].seen_event.data = str(_last_event_id(case))
        open_action = failed[0]
    hints = {}
    for a in actions:
        step = steps.STEPS[a]
        hint = step.hint(db.session, case, today) if step.hint else None
        if hint:
            hints[a] = _(hint[0], **hint[1])
    hidden = {a: {i.form_name for i in steps.STEPS[a].inputs if i.kinds and case.kind not in i.kinds}
              for a in actions}
    entries = timeline(db.session, case)
    changed = ([e for e in entries if e.event.id > changed_since]
               if changed_since is not None else None)
    can_attach = has_right(user, "attach")
    resp = render_template(
        "cases/detail.html", case=case, kind=kinds.kind_of(case.kind),
        warning=warning_for(case, today), actions=actions,
        forms=forms, open_action=open_action, entries=entries, hints=hints, hidden=hidden,
        changed=changed, steps=steps.STEPS,
        can_view_id=has_right(user, "view_id"), revealed=revealed or {},
        upload_form=upload_form or (F.AttachmentForm(formdata=None) if can_attach else None),
        confirm_form=F.ConfirmForm(formdata=None), rules=rules, label=label,
        action_label=action_label, rule_label=rule_label, clock_label=clock_label, due_basis_labels=DUE_BASIS_LABELS,
        extension_labels=EXTENSION_LABELS, mask=rules.mask_id_number, today=today,
        due=due_facts(case),
    )
    return resp, status, {"Cache-Control": "no-store"}


def _last_event_id(case: Case) -> int:
    return max((e.id for e in case.events if e.id is not None), default=0)


def _blank_form(action: str, case: Case, today: dt.date) -> F.StepForm:
    """The empty form of a step, with today's date where a date is asked and the case
    version the page shows."""
    step = steps.STEPS[action]
    form = F.step_form(step)(formdata=None)
    form.configure(db.session, case)
    _mark_handler_units(form, case)
    for inp in step.inputs:
        if inp.today_default:
            form[inp.form_name].data = today
        elif inp.default not in (None, "") and inp.type == "choice":
            form[inp.form_name].data = inp.default
    form.version.data = str(case.version)
    form.seen_event.data = str(_last_event_id(case))
    return form


def _mark_handler_units(form: F.StepForm, case: Case) -> None:
    """On the assign form, mark each handler with its unit: static/js/handlers.js narrows
    the handler list to the chosen unit (the service refuses a handler of another unit when
    the script does not run)."""
    if form.step.name != "assign":
        return
    form.handler_id.choices = handler_choices(town_handlers(db.session, case.town_id))
    form.unit_id.render_kw = {"data-handlers": "assign-handler_id"}


def town_handlers(session: Session, town_id: int | None) -> list[User]:
    """The town's enabled handlers, by unit (their units loaded with them)."""
    return list(session.scalars(
        select(User).options(joinedload(User.unit))
        .where(User.town_id == town_id, User.is_enabled,
                           User.role == Role.HANDLER).order_by(User.unit_id, User.id)))


def handler_choices(handlers: list[User]) -> list[F.SelectChoice]:
    """Handler options, each marked with its unit (``data-unit``) for the unit filter."""
    out = [F.SelectChoice("", _("（暂不指定）"))]
    for h in handlers:
        out.append(F.SelectChoice(str(h.id), f"{h.name}（{h.unit.name}）" if h.unit else h.name,
                                  render_kw={"data-unit": str(h.unit_id or "")}))
    return out


# --------------------------------------------------------------------------- bulk


@bp.route("/cases/bulk-assign", methods=["POST"])
@login_required
def bulk_assign():
    """交办所选: assign every selected case to one unit (and handler) in one transaction.

    Only roles with the assign right; each case must be visible to the user and open to the
    step. Either every case is assigned or none is (the refusals are listed).
    """
    user = _user()
    if not has_right(user, "assign"):
        abort(403)
    back = _local_next(request.form.get("next"))
    ids = _selected_ids()
    if not ids:
        flash(_("请先勾选案件"), "error")
        return redirect(back)
    unit_id = _int_or_none(request.form.get("unit_id"))
    handler_id = _int_or_none(request.form.get("handler_id"))
    note = (request.form.get("note") or "").strip()
    if len(note) > BULK_NOTE_MAX:
        # refused, not cut short without a word
        flash(_("交办说明不能超过%(n)s个字符，未交办", n=BULK_NOTE_MAX), "error")
        return redirect(back)
    now = app_now()

    def work() -> int:
        refused: list[str] = []
        cases = db.session.scalars(select(Case).where(Case.id.in_(ids)).order_by(Case.id)).all()
        visible = {c.id: c for c in cases if can_see_case(user, c)}
        for case_id in ids:
            case = visible.get(case_id)
            if case is None:
                refused.append(_("案件 %(id)s：不存在或无权查看", id=case_id))
                continue
            try:
                svc.assign_case(db.session, user, now, case, unit_id, handler_id, note)
            except DomainError as exc:
                refused.append(f"{case.number}：{exc.message}")
        if refused:  # all or nothing: the unit of work rolls every assignment back
            raise DomainError(_("未交办（全部未执行）：%(why)s", why="；".join(refused)))
        return len(ids)

    done = page_unit(work, lambda exc: None)
    if done:
        flash(_("已交办 %(n)s 件", n=done), "success")
    return redirect(back)


def _selected_ids() -> list[int]:
    """The ``case_id`` values of the ticked boxes (at most 500, duplicates removed)."""
    return form_ids("case_id", 500)


def _int_or_none(raw: str | None) -> int | None:
    """A posted id; one outside the ids' range becomes -1, which names nothing (the service
    refuses it) instead of overflowing the database driver."""
    try:
        value = int(raw) if raw else None
    except ValueError:
        return None
    return value if value is None or 0 <= value <= MAX_INT else -1


def _local_next(raw: str | None) -> str:
    """Back to the list the user came from (a path of this app only)."""
    if raw and raw.startswith("/cases") and not raw.startswith("//"):
        return raw
    return url_for("cases.list_cases")


# --------------------------------------------------------------------------- steps


def _step_view(step: steps.Step):
    """The POST view of one declared step: rights, form, version, one service call, one
    commit."""

    @login_required
    def view(case_id: int):
        user = _user()
        case = _load_case(case_id)
        try:
            steps.require_step_of_kind(case, step.name)
        except DomainError as exc:
            flash(exc.message, "error")
            return _render_detail(case, status=exc.http_status)
        if not has_right(user, step.right_for(case.kind)):
            flash(_("您没有执行此操作的权限"), "error")
            return _render_detail(case, status=403)
        form = F.step_form(step)()
        form.configure(db.session, case)
        _mark_handler_units(form, case)
        if not form.validate_on_submit():
            flash(_("请检查填写的内容"), "error")
            return _render_detail(case, failed=(step.name, form), status=422)
        posted = form.posted_version()
        if posted is not None and posted != case.version:
            flash(_("提交未保存：您打开页面后，案件已被他人修改（见下方“打开页面后的变化”）。"
                    "请核对后重新提交。"), "error")
            return _render_detail(case, failed=(step.name, form), status=409,
                                  changed_since=form.posted_seen_event())
        def work():
            step.perform(db.session, user, app_now(), case, form.data_for_service(case.kind))
            flash(_("已完成：%(label)s", label=action_label(case.kind, step.name)), "success")
            return redirect(url_for("cases.detail", case_id=case.id))

        def refused(exc: DomainError):
            form.apply_field_errors(exc.fields)
            stale = exc.code == "stale_write"
            return _render_detail(_load_case(case_id), failed=(step.name, form),
                                  status=exc.http_status,
                                  changed_since=form.posted_seen_event() if stale else None)

        return page_unit(work, refused)

    view.__name__ = f"action_{step.name}"
    view.__doc__ = f"POST /cases/<id>/{step.slug}: the '{step.name}' step."
    return view


def register_step_routes() -> None:
    """One POST route per declared step (called once the services have bound them)."""
    for step in steps.STEPS.values():
        bp.add_url_rule(f"/cases/<int:case_id>/{step.slug}", endpoint=step.name,
                        view_func=_step_view(step), methods=["POST"])


register_step_routes()


# --------------------------------------------------------------------------- settings


@bp.route("/cases/settings", methods=["GET", "POST"])
@login_required
def settings():
    """The town's handling settings (办理设置): whether replies need a leader's approval."""
    user = _user()
    if not has_right(user, "admin") or user.town_id is None:
        abort(403)
    form = F.CaseSettingsForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)

        def save() -> bool:
            svc.set_reply_approval(db.session, user, app_now(), bool(form.reply_approval.data))
            return True

        if page_unit(save, lambda exc: False):
            flash(_("已保存办理设置"), "success")
        return redirect(url_for("cases.settings"))
    form.reply_approval.data = petition_steps.reply_approval_on(db.session, user.town_id)
    return render_template("cases/settings.html", form=form)


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
    return page_unit(
        lambda: _render_detail(case, revealed={
            party.id: svc.reveal_id_number(db.session, user, app_now(), party)}),
        lambda exc: _render_detail(_load_case(case_id), status=exc.http_status))


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
    def work():
        att = svc.add_attachment(db.session, user, app_now(), case, upload.filename,
                                 upload.mimetype or "", upload.stream)
        flash(_("已上传附件 %(name)s", name=att.filename), "success")
        return redirect(url_for("cases.detail", case_id=case.id) + "#attachments")

    def refused(exc: DomainError):
        form.apply_field_errors(exc.fields)
        return _render_detail(_load_case(case_id), upload_form=form, status=exc.http_status)

    return page_unit(work, refused)


@bp.route("/attachments/<int:attachment_id>")
@login_required
def attachment(attachment_id: int):
    """Download an attachment of a case the user may see (404 otherwise)."""
    att = db.session.get(Attachment, attachment_id)
    if att is None:
        abort(404)
    _load_case(att.case_id)
    if att.storage == "database":
        if not storage.is_stored(db.session, att):
            abort(404)
        # streamed a chunk at a time; the request's session stays open while it streams
        resp = Response(stream_with_context(storage.read_chunks(db.session, att)),
                        mimetype=att.content_type)
        resp.content_length = att.size
    else:
        path = storage.file_path(att)
        if path is None:
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
