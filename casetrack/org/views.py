"""Admin pages: villages, units, users of the admin's own town.

Every route needs the "admin" right (403 otherwise); every object outside the admin's town
is 404. Views parse the form and call one service inside one unit of work (``page_unit``:
it commits, or rolls back on a refusal and the page shows the Chinese message with a 4xx
status).
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from casetrack.auth import services as user_svc
from casetrack.auth.models import ROLE_LABELS, Role, User
from casetrack.auth.views import require_town_admin
from casetrack.cases.numbering import DEFAULT_PREFIXES
from casetrack.cases.rules import KIND_LABELS
from casetrack.core.errors import DomainError, ValidationError
from casetrack.core.i18n import N_, Msg, tr
from casetrack.core.params import MAX_INT, paginate_or_last
from casetrack.core.time import app_now, to_local
from casetrack.core.unit import page_unit
from casetrack.extensions import db
from casetrack.org import services as svc
from casetrack.org.models import Unit, Village
from casetrack.org.prefixes import town_prefixes

bp = Blueprint("admin", __name__, url_prefix="/admin")


bp.before_request(require_town_admin)


def _int_or_none(value: str | None, label: str, field_name: str) -> int | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        number = int(value)
    except ValueError:
        msg = Msg(N_("%(label)s应为整数"), label=label)
        raise ValidationError(msg, fields={field_name: msg}) from None
    # the columns are 32-bit: a larger number overflowed the database driver (a 500)
    if not -MAX_INT - 1 <= number <= MAX_INT:
        msg = (Msg(N_("不能大于%(n)s"), n=MAX_INT) if number > 0
               else Msg(N_("不能小于%(n)s"), n=-MAX_INT - 1))
        raise ValidationError(msg, fields={field_name: msg})
    return number


def _is_on(value: str | None) -> bool:
    return value in ("1", "true", "on", "yes")


# --------------------------------------------------------------------------- dashboard


@bp.route("/")
def index():
    """The admin's start page: links to every admin page with a few counts."""
    town_id = current_user.town_id
    villages = db.session.execute(
        select(Village.is_active, func.count())
        .where(Village.town_id == town_id)
        .group_by(Village.is_active)
    ).all()
    units = db.session.scalar(
        select(func.count())
        .select_from(Unit)
        .where(Unit.town_id == town_id, Unit.is_active.is_(True))
    )
    by_role = dict(
        db.session.execute(
            select(User.role, func.count()).where(User.town_id == town_id).group_by(User.role)
        ).all()
    )
    return render_template(
        "admin/index.html",
        villages_active=sum(n for active, n in villages if active),
        villages_total=sum(n for _a, n in villages),
        units_active=units,
        by_role=[(str(r), ROLE_LABELS[r], by_role.get(str(r), 0)) for r in user_svc.TOWN_ROLES],
        users_total=sum(by_role.values()),
    )


# --------------------------------------------------------------------------- villages


def _villages_page(status: int = 200, form: dict | None = None, errors: dict | None = None):
    return render_template(
        "admin/villages.html",
        villages=svc.list_villages(db.session, current_user.town_id),
        kinds=svc.VILLAGE_KINDS,
        form=form or {},
        errors=errors or {},
    ), status


@bp.route("/villages")
def villages():
    """The town's villages and residents' committees, with add and edit forms."""
    return _villages_page()


@bp.route("/villages", methods=["POST"])
def village_create():
    """Add a village."""

    def work():
        sort_order = _int_or_none(request.form.get("sort_order"), N_("排序"), "sort_order")
        village = svc.create_village(db.session, current_user, app_now(),
                                     request.form.get("name", ""), request.form.get("kind", ""),
                                     sort_order)
        flash(_("已添加：%(name)s", name=village.name), "success")
        return redirect(url_for("admin.villages"))

    return page_unit(work, lambda exc: _villages_page(exc.http_status, request.form, exc.fields))


@bp.route("/villages/<int:village_id>", methods=["POST"])
def village_update(village_id: int):
    """Rename a village, change its kind or its place in the list."""

    def work():
        village = svc.get_village(db.session, current_user, village_id)
        sort_order = _int_or_none(request.form.get("sort_order"), N_("排序"), "sort_order")
        svc.update_village(db.session, current_user, app_now(), village,
                           name=request.form.get("name", ""), kind=request.form.get("kind"),
                           sort_order=sort_order)
        flash(_("已保存：%(name)s", name=village.name), "success")
        return redirect(url_for("admin.villages"))

    return page_unit(work, lambda exc: _villages_page(exc.http_status))


@bp.route("/villages/<int:village_id>/active", methods=["POST"])
def village_active(village_id: int):
    """Deactivate a village (no longer offered in forms) or activate it again."""

    def work():
        village = svc.get_village(db.session, current_user, village_id)
        svc.update_village(db.session, current_user, app_now(), village,
                           is_active=_is_on(request.form.get("active")))
        flash(_("已启用：%(name)s", name=village.name) if village.is_active
              else _("已停用：%(name)s", name=village.name), "success")
        return redirect(url_for("admin.villages"))

    return page_unit(work, lambda exc: _villages_page(exc.http_status))


# --------------------------------------------------------------------------- units


def _units_page(status: int = 200, form: dict | None = None, errors: dict | None = None):
    units = svc.list_units(db.session, current_user.town_id)
    counts = dict(
        db.session.execute(
            select(User.unit_id, func.count())
            .where(User.town_id == current_user.town_id, User.unit_id.is_not(None))
            .group_by(User.unit_id)
        ).all()
    )
    return render_template(
        "admin/units.html", units=units, counts=counts, form=form or {}, errors=errors or {}
    ), status


@bp.route("/units")
def units():
    """The town's handling units, with add and edit forms."""
    return _units_page()


@bp.route("/units", methods=["POST"])
def unit_create():
    """Add a unit."""

    def work():
        unit = svc.create_unit(db.session, current_user, app_now(), request.form.get("name", ""))
        flash(_("已添加：%(name)s", name=unit.name), "success")
        return redirect(url_for("admin.units"))

    return page_unit(work, lambda exc: _units_page(exc.http_status, request.form, exc.fields))


@bp.route("/units/<int:unit_id>", methods=["POST"])
def unit_update(unit_id: int):
    """Rename a unit."""

    def work():
        unit = svc.get_unit(db.session, current_user, unit_id)
        svc.update_unit(db.session, current_user, app_now(), unit,
                        name=request.form.get("name", ""))
        flash(_("已保存：%(name)s", name=unit.name), "success")
        return redirect(url_for("admin.units"))

    return page_unit(work, lambda exc: _units_page(exc.http_status))


@bp.route("/units/<int:unit_id>/active", methods=["POST"])
def unit_active(unit_id: int):
    """Deactivate a unit (no longer offered for assignment) or activate it again."""

    def work():
        unit = svc.get_unit(db.session, current_user, unit_id)
        svc.update_unit(db.session, current_user, app_now(), unit,
                        is_active=_is_on(request.form.get("active")))
        flash(_("已启用：%(name)s", name=unit.name) if unit.is_active
              else _("已停用：%(name)s", name=unit.name), "success")
        return redirect(url_for("admin.units"))

    return page_unit(work, lambda exc: _units_page(exc.http_status))


# --------------------------------------------------------------------------- number prefixes


def _prefixes_page(status: int = 200, form: dict | None = None, errors: dict | None = None):
    own = town_prefixes(db.session, current_user.town_id)
    rows = [(kind, label, own.get(kind), DEFAULT_PREFIXES[kind])
            for kind, label in KIND_LABELS.items()]
    return render_template(
        "admin/prefixes.html", rows=rows, year=to_local(app_now()).year, form=form or {},
        errors=errors or {},
    ), status


@bp.route("/prefixes")
def prefixes():
    """The issuer codes (机关代字) before the town's case numbers, one per case kind."""
    return _prefixes_page()


@bp.route("/prefixes/<kind>", methods=["POST"])
def prefix_update(kind: str):
    """Set the issuer code of one kind's case numbers (the next registration uses it)."""
    if kind not in KIND_LABELS:
        abort(404)
    code = request.form.get("code", "")

    def work():
        svc.set_number_prefix(db.session, current_user, app_now(), kind, code,
                              kinds=KIND_LABELS.keys(), defaults=DEFAULT_PREFIXES)
        flash(_("已保存：%(kind)s的机关代字", kind=_(KIND_LABELS[kind])), "success")
        return redirect(url_for("admin.prefixes"))

    return page_unit(work, lambda exc: _prefixes_page(exc.http_status,
                                                      {"kind": kind, "code": code}, exc.fields))


# --------------------------------------------------------------------------- users


@bp.route("/users")
def users():
    """The town's users, filtered by role and searched by username or name."""
    notices = []
    role = request.args.get("role", "").strip()
    if role not in {str(r) for r in user_svc.TOWN_ROLES}:
        if role:  # a role that is none of the town's: said, every role listed
            notices.append(_("角色“%(value)s”无效，本次列出全部角色", value=role[:20]))
        role = ""
    q = request.args.get("q", "")
    page, past_end = paginate_or_last(
        user_svc.users_query(current_user.town_id, role or None, q),
        current_app.config["PAGE_SIZE"] * 2)
    if past_end is not None:
        notices.append(tr(past_end))
    return render_template(
        "admin/users.html",
        page=page,
        role=role,
        q=q,
        roles=user_svc.role_choices(),
        notices=notices,
    ), 400 if notices else 200


def _user_input(with_password: bool) -> user_svc.UserInput:
    form = request.form
    village_ids = []
    for raw in form.getlist("village_ids"):
        try:
            number = int(raw)
            # outside the 32-bit ids: no village (refused as not of this town, never a 500)
            village_ids.append(number if 0 <= number <= MAX_INT else -1)
        except ValueError:
            raise ValidationError(
                _("所选村（社区）无效"), fields={"village_ids": _("所选村（社区）无效")}
            ) from None
    return user_svc.UserInput(
        username=form.get("username", "").strip(),
        name=form.get("name", ""),
        role=form.get("role", ""),
        unit_id=_int_or_none(form.get("unit_id"), N_("单位"), "unit_id"),
        village_ids=village_ids,
        phone=form.get("phone", ""),
        email=form.get("email", ""),
        password=form.get("password", "") if with_password else "",
    )


def _user_form(
    user: User | None,
    status: int = 200,
    errors: dict | None = None,
    data: user_svc.UserInput | None = None,
):
    if data is None and user is not None:
        data = user_svc.UserInput(
            username=user.username,
            name=user.name,
            role=user.role,
            unit_id=user.unit_id,
            village_ids=[v.id for v in user.villages],
            phone=user.phone,
            email=user.email,
        )
    data = data or user_svc.UserInput(username="", name="", role=str(Role.GRID_WORKER))
    town_id = current_user.town_id
    return render_template(
        "admin/user_form.html",
        user=user,
        data=data,
        errors=errors or {},
        roles=user_svc.role_choices(),
        units=[
            u for u in svc.list_units(db.session, town_id) if u.is_active or u.id == data.unit_id
        ],
        villages=[
            v
            for v in svc.list_villages(db.session, town_id)
            if v.is_active or v.id in data.village_ids
        ],
        min_password=current_app.config["PASSWORD_MIN_LENGTH"],
    ), status


@bp.route("/users/new", methods=["GET", "POST"])
def user_new():
    """Create a user with a role, unit or villages, contact details and an initial password."""
    if request.method == "GET":
        return _user_form(None)
    typed: list[user_svc.UserInput] = []

    def work():
        typed.append(_user_input(with_password=True))
        user = user_svc.create_user(db.session, current_user, app_now(), typed[0])
        flash(_("已创建用户 %(username)s，请把初始密码告知本人", username=user.username),
              "success")
        return redirect(url_for("admin.user_edit", user_id=user.id))

    def refused(exc: DomainError):
        data = typed[0] if typed else None
        if data is not None:
            data.password = ""  # never sent back to the browser
        return _user_form(None, exc.http_status, exc.fields or {"_": exc.message}, data)

    return page_unit(work, refused, flash_refusal=False)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def user_edit(user_id: int):
    """Edit a user's name, role, unit, villages and contact details."""
    try:
        user = user_svc.get_user(db.session, current_user, user_id)
    except DomainError as exc:
        abort(exc.http_status)
    if request.method == "GET":
        return _user_form(user)
    typed: list[user_svc.UserInput] = []

    def work():
        typed.append(_user_input(with_password=False))
        typed[0].username = user.username
        user_svc.update_user(db.session, current_user, app_now(), user, typed[0])
        flash(_("已保存：%(name)s", name=user.name), "success")
        return redirect(url_for("admin.user_edit", user_id=user.id))

    def refused(exc: DomainError):
        return _user_form(db.session.get(User, user_id), exc.http_status,
                          exc.fields or {"_": exc.message}, typed[0] if typed else None)

    return page_unit(work, refused, flash_refusal=False)


def _user_action(user_id: int, action, done_message: str):
    """Run one account action (password, enable) and come back to the user's page."""

    def work():
        user = user_svc.get_user(db.session, current_user, user_id)
        action(user)
        flash(done_message % {"username": user.username}, "success")
        return redirect(url_for("admin.user_edit", user_id=user_id))

    def refused(exc: DomainError):
        user = db.session.get(User, user_id)
        if user is None or user.town_id != current_user.town_id:
            abort(404)
        return _user_form(user, exc.http_status)

    return page_unit(work, refused)


@bp.route("/users/<int:user_id>/password", methods=["POST"])
def user_password(user_id: int):
    """Set a new password for a user."""
    password = request.form.get("password", "")
    return _user_action(
        user_id,
        lambda u: user_svc.set_password(db.session, current_user, app_now(), u, password),
        _("已为 %(username)s 设置新密码"),
    )


@bp.route("/users/<int:user_id>/enabled", methods=["POST"])
def user_enabled(user_id: int):
    """Enable or disable a user's login."""
    enabled = _is_on(request.form.get("enabled"))
    return _user_action(
        user_id,
        lambda u: user_svc.set_user_enabled(db.session, current_user, app_now(), u, enabled),
        _("已启用 %(username)s") if enabled else _("已停用 %(username)s"),
    )
