"""Login, logout and the language switch."""

from __future__ import annotations

import datetime as dt
import secrets
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
    url_for,
)
from flask_babel import gettext as _
from flask_login import LoginManager, current_user, login_required, login_user, logout_user
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from casetrack.auth.models import User
from casetrack.auth.permissions import current_rights, has_right
from casetrack.core.i18n import N_
from casetrack.core.security import cookie_secure
from casetrack.core.time import app_now
from casetrack.extensions import db

bp = Blueprint("auth", __name__)


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
        return db.session.get(User, int(user_id))


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
    return url_for("cases.index")


_DUMMY_HASH: list[str] = []


def _check_dummy_password(password: str) -> None:
    """Spend the time of one password check (for a username that does not exist)."""
    if not _DUMMY_HASH:
        _DUMMY_HASH.append(generate_password_hash(secrets.token_hex(16)))
    check_password_hash(_DUMMY_HASH[0], password)


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Password login; repeated failures lock the account for a while."""
    if current_user.is_authenticated:
        return redirect(url_for("cases.index"))
    if request.method == "POST":
        username = (request.form.get("username") or "").strip()
        password = request.form.get("password") or ""
        now = app_now()
        user = db.session.scalar(select(User).where(User.username == username))
        if user is not None and user.locked_until and user.locked_until > now:
            minutes = int((user.locked_until - now).total_seconds() // 60) + 1
            flash(_("登录失败次数过多，账号已暂时锁定，请 %(m)s 分钟后再试", m=minutes), "error")
            return render_template("auth/login.html", username=username), 429
        if user is None:
            _check_dummy_password(password)  # as slow as a wrong password: no name probing
        if user is None or not user.check_password(password) or not user.is_enabled:
            if user is not None:
                # counted in SQL: parallel guesses cannot overwrite each other's count
                user.failed_logins = User.failed_logins + 1
                db.session.flush()
                db.session.refresh(user, ["failed_logins"])
                if user.failed_logins >= current_app.config["LOGIN_MAX_FAILURES"]:
                    user.locked_until = now + dt.timedelta(
                        minutes=current_app.config["LOGIN_LOCK_MINUTES"]
                    )
                    user.failed_logins = 0
                db.session.commit()
            flash(_("用户名或密码错误"), "error")
            return render_template("auth/login.html", username=username), 401
        user.failed_logins = 0
        user.locked_until = None
        db.session.commit()
        login_user(user)
        return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", username="")


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    message = _("您已退出登录")  # in the user's language, before they become anonymous
    logout_user()
    flash(message, "info")
    return redirect(url_for("auth.login"))


@bp.route("/lang/<code>", methods=["POST"])
def set_language(code: str):
    """Switch the interface language (remembered on the user and in a cookie)."""
    if code not in current_app.config["LANGUAGES"]:
        code = current_app.config["LANGUAGES"][0]
    if current_user.is_authenticated:
        current_user.locale = code
        db.session.commit()
    resp = make_response(redirect(_safe_next(request.form.get("next") or request.referrer and urlsplit(request.referrer).path)))
    resp.set_cookie("lang", code, max_age=365 * 86400, samesite="Lax", httponly=True,
                    secure=cookie_secure(current_app))
    return resp
