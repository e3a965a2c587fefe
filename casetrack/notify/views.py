"""The bell: the user's in-app notifications, mark read, open the linked page; preferences."""

from __future__ import annotations

from flask import (
    Blueprint,
    Flask,
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

from casetrack.auth.permissions import has_right
from casetrack.core.params import paginate_or_last
from casetrack.core.templating import add_nav_provider
from casetrack.core.time import app_now
from casetrack.core.unit import page_unit, unit_of_work
from casetrack.extensions import db
from casetrack.notify import services as svc
from casetrack.notify.models import CHANNEL_LABELS, Channel
from casetrack.notify.registry import CHANNELS

bp = Blueprint("notify", __name__, url_prefix="/notifications")


def init_app(app: Flask) -> None:
    """Register the blueprint and the bell in the top navigation; refuse to start with a
    malformed WEBHOOK_ALLOWED_NETWORKS / WEBHOOK_DENIED_NETWORKS (not at the first send)."""
    from casetrack.notify.targets import TargetPolicy

    TargetPolicy.from_config(app.config)
    app.register_blueprint(bp)
    add_nav_provider(app, _bell)


def _bell() -> list[dict]:
    """The nav link with the unread count as its badge."""
    count = svc.unread_count(db.session, current_user)
    return [{"url": url_for("notify.index"), "label": _("消息"), "icon": "bell",
             "badge": str(count) if count else ""}]


def _local_path(link: str) -> str | None:
    """Only paths inside this app are followed (never another site)."""
    if link.startswith("/") and not link.startswith("//"):
        return link
    return None


@bp.route("/")
@login_required
def index():
    """The user's notifications, newest first; ``?unread=1`` shows unread ones only."""
    unread_only = request.args.get("unread") == "1"
    page, past_end = paginate_or_last(svc.inbox_query(current_user, unread_only=unread_only),
                                      current_app.config["PAGE_SIZE"])
    return render_template("notify/index.html", page=page, unread_only=unread_only,
                           unread=svc.unread_count(db.session, current_user),
                           link_of=_local_path, past_end=past_end), \
        400 if past_end is not None else 200


@bp.route("/<int:notification_id>/open", methods=["POST"])
@login_required
def open_(notification_id: int):
    """Mark read and go to the linked page (the case)."""
    with unit_of_work():
        row = svc.mark_read(db.session, current_user, notification_id, app_now())
        target = _local_path(row.link) or url_for("notify.index")
    return redirect(target)


@bp.route("/<int:notification_id>/read", methods=["POST"])
@login_required
def read(notification_id: int):
    """Mark one notification read and come back to the list."""
    with unit_of_work():
        svc.mark_read(db.session, current_user, notification_id, app_now())
    return redirect(url_for("notify.index", unread=request.args.get("unread") or None))


@bp.route("/read-all", methods=["POST"])
@login_required
def read_all():
    """Mark every notification read."""
    with unit_of_work():
        count = svc.mark_all_read(db.session, current_user, app_now())
    flash(_("已将 %(n)s 条消息标为已读", n=count), "success")
    return redirect(url_for("notify.index"))


@bp.route("/preferences", methods=["GET", "POST"])
@login_required
def preferences():
    """Which channels reach the user: mail and the group robot can be turned off, the
    in-app bell cannot."""
    if request.method == "POST":

        def save():
            for channel in CHANNELS:
                svc.set_preference(db.session, current_user, channel,
                                   request.form.get(channel) == "on")
            flash(_("通知设置已保存"), "success")
            return redirect(url_for("notify.preferences"))

        return page_unit(save, lambda exc: _preferences_page(exc.http_status))
    return _preferences_page()


def _preferences_page(status: int = 200):
    return render_template("notify/preferences.html",
                           prefs=svc.get_preferences(db.session, current_user),
                           labels=CHANNEL_LABELS, channels=list(Channel),
                           mail_enabled=svc.mail_enabled()), status


def _town_admin() -> None:
    if not has_right(current_user, "admin") or current_user.town_id is None:
        abort(403)


@bp.route("/undelivered")
@login_required
def undelivered():
    """Admins: the town's mail and robot messages that failed (parked, or waiting for their
    next try), each with its error, attempts and a button to send it again."""
    _town_admin()
    page, past_end = paginate_or_last(svc.undelivered_query(current_user.town_id),
                                      current_app.config["PAGE_SIZE"])
    return render_template("notify/undelivered.html", page=page, labels=CHANNEL_LABELS,
                           max_attempts=current_app.config["NOTIFY_MAX_ATTEMPTS"],
                           past_end=past_end), 400 if past_end is not None else 200


@bp.route("/undelivered/<int:notification_id>/retry", methods=["POST"])
@login_required
def retry(notification_id: int):
    """Admins: send a failed message again at the next delivery run."""
    _town_admin()
    with unit_of_work():
        svc.retry_notification(db.session, current_user, app_now(), notification_id)
    flash(_("已安排重发，将在下一次发送时投递"), "success")
    return redirect(url_for("notify.undelivered"))
