"""Login, logout and the language switch."""

from __future__ import annotations

import secrets
import unicodedata
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import LoginManager, current_user, login_required, login_user, logout_user
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload
from werkzeug.security import check_password_hash, generate_password_hash

from casetrack.auth.models import User
from casetrack.auth.passwords import change_own_password
from casetrack.auth.permissions import current_rights, has_right
from casetrack.core.errors import DomainError
from casetrack.core.i18n import N_
from casetrack.core.security import cookie_secure
from casetrack.core.time import app_now
from casetrack.core.unit import page_unit, unit_of_work
from casetrack.extensions import db, limiter

bp = Blueprint("auth", __name__)

#: the session key holding the user's ``session_version`` at login
SESSION_VERSION_KEY = "_sv"


#: the session's user, their town in the same statement (every page's heading shows its
#: name); built once, as every request asks it
_USER_WITH_TOWN = select(User).options(joinedload(User.town)).where(
    User.id == bindparam("user_id"))


def init_app(app: Flask, login_manager: LoginManager) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = N_("请先登录")
    login_manager.localize_callback = _
    login_manager.session_protection = "strong"
    # templates ask ``current_rights()`` which buttons and menu entries to show
    app.context_processor(lambda: {"current_rights": current_rights})

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        """The session's user, unless the session predates the user's last logout, password
        change or reset, disabling or role change (its version is then behind)."""
        try:
            key = int(user_id)
        except (TypeError, ValueError):
            return None
        user = db.session.execute(_USER_WITH_TOWN, {"user_id": key}).scalar_one_or_none()
        if user is None or session.get(SESSION_VERSION_KEY) != user.session_version:
            return None
        return user

    app.before_request(_require_own_password)


def require_town_admin():
    """``before_request`` gate of the admin blueprints: log in first, then town admins only."""
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    if not has_right(current_user, "admin") or current_user.town_id is None:
        abort(403)
    return None


def _safe_next(target: str | None) -> str:
    """``target`` when it is a plain path of this site, else the case list: never another
    host (``//evil``, ``/\\evil`` which browsers read as ``//evil``), never a control
    character (a CR/LF would split the Location header)."""
    if (target and target.startswith("/") and not target.startswith("//")
            and "\\" not in target and target.isprintable() and len(target) <= 2000
            and not urlsplit(target).netloc):
        return target
    return url_for("work.home")


_DUMMY_HASH: list[str] = []


def _check_dummy_password(password: str) -> None:
    """Spend the time of one password check (for a username that does not exist)."""
    if not _DUMMY_HASH:
        _DUMMY_HASH.append(generate_password_hash(secrets.token_hex(16)))
    check_password_hash(_DUMMY_HASH[0], password)


def _address() -> str:
    """The client's address (behind the proxy: the one ProxyFix trusted)."""
    return request.remote_addr or "unknown"


def _address_and_account() -> str:
    """The address together with the username typed (folded), real or not."""
    name = unicodedata.normalize("NFKC", (request.form.get("username") or "").strip())
    return f"{_address()}|{name.casefold()[:64]}"


def _failed(response) -> bool:
    """Only refused logins count against the limits (a login that works redirects)."""
    return response.status_code != 302


def _limit(setting: str):
    return lambda: current_app.config[setting]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_limit("LOGIN_LIMIT_PER_ADDRESS"), key_func=_address, methods=["POST"],
               deduct_when=_failed, scope="login-address")
@limiter.limit(_limit("LOGIN_LIMIT_PER_ACCOUNT"), key_func=_address_and_account,
               methods=["POST"], deduct_when=_failed, scope="login-account")
def login():
    """Password login. Refused attempts are throttled per address and per (address,
    username), never per account alone: someone guessing elsewhere slows only themselves
    and cannot lock the real user out. Unknown and existing usernames get the same answer
    (message, status and the work of one password check)."""
    if current_user.is_authenticated:
        return redirect(url_for("work.home"))
    if request.method == "POST":
        username = (request.form.get("username") or "").strip()
        password = request.form.get("password") or ""
        user = db.session.scalar(select(User).where(User.username == username))
        if user is None:
            _check_dummy_password(password)  # as slow as a wrong password: no name probing
        if user is None or not user.check_password(password) or not user.is_enabled:
            db.session.rollback()
            flash(_("用户名或密码错误"), "error")
            return render_template("auth/login.html", username=username), 401
        login_user(user)
        session[SESSION_VERSION_KEY] = user.session_version
        if user.must_change_password:
            return redirect(url_for("auth.password"))
        return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", username="")


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """Log out, ending every session of the user (a copied cookie stops working too)."""
    message = _("您已退出登录")  # in the user's language, before they become anonymous
    with unit_of_work():
        current_user.end_sessions()
    logout_user()
    session.pop(SESSION_VERSION_KEY, None)
    flash(message, "info")
    return redirect(url_for("auth.login"))


#: endpoints a user who must change their password may still reach
_PASSWORD_EXEMPT = frozenset({"auth.password", "auth.logout", "auth.set_language", "static"})


def _require_own_password():
    """``before_request``: a user whose password an administrator set goes to the password
    page first (the JSON API, authenticated by token, is not a session and is not held)."""
    if (request.endpoint not in _PASSWORD_EXEMPT and not request.path.startswith("/api/")
            and current_user.is_authenticated and current_user.must_change_password):
        return redirect(url_for("auth.password"))
    return None


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password():
    """Change one's own password (the current one is required); every other session of the
    user ends, this one continues."""
    user = current_user._get_current_object()
    errors: dict[str, str] = {}
    if request.method == "POST":

        def change() -> bool:
            change_own_password(db.session, user, app_now(),
                                request.form.get("old_password") or "",
                                request.form.get("new_password") or "",
                                request.form.get("confirm_password") or "")
            return True

        def refused(exc: DomainError) -> bool:
            errors.update(exc.fields or {"new_password": exc.message})
            return False

        if page_unit(change, refused, flash_refusal=False):
            session[SESSION_VERSION_KEY] = user.session_version
            flash(_("密码已修改，其他设备上的登录已退出"), "success")
            return redirect(url_for("work.home"))
    return render_template("auth/password.html", errors=errors, forced=user.must_change_password,
                           min_length=current_app.config["PASSWORD_MIN_LENGTH"]), \
        400 if errors else 200


@bp.route("/lang/<code>", methods=["POST"])
def set_language(code: str):
    """Switch the interface language (remembered on the user and in a cookie)."""
    if code not in current_app.config["LANGUAGES"]:
        code = current_app.config["LANGUAGES"][0]
    if current_user.is_authenticated:
        with unit_of_work():
            current_user.locale = code
    resp = make_response(redirect(_safe_next(request.form.get("next") or request.referrer and urlsplit(request.referrer).path)))
    resp.set_cookie("lang", code, max_age=365 * 86400, samesite="Lax", httponly=True,
                    secure=cookie_secure(current_app))
    return resp
