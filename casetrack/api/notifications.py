"""The user's in-app notifications over the API: list (newest first) and mark read."""

from __future__ import annotations

from typing import Any

from casetrack.api.core import PAGE_QUERY, PAGINATION_FIELDS, api_route, current_api_user, paginate
from casetrack.api.schema import Boolean, DateTime, Id, Integer, ListOf, Schema, String
from casetrack.core.time import app_now
from casetrack.extensions import db
from casetrack.notify import services as svc
from casetrack.notify.models import Notification

TAG = "notifications"

NOTIFICATION_OUT = Schema("Notification", {
    "id": Id(required=True),
    "kind": String(required=True, max_length=40),
    "subject": String(required=True, max_length=300),
    "body_text": String(required=True, max_length=1_000_000),
    "link": String(required=True, max_length=300, description="应用内路径，如 /cases/12"),
    "created_at": DateTime(required=True),
    "read_at": DateTime(required=True, nullable=True),
    "is_read": Boolean(required=True),
})
NOTIFICATION_META = Schema("NotificationListMeta", {
    **PAGINATION_FIELDS,
    "unread": Integer(required=True, minimum=0, description="未读消息数"),
})
NOTIFICATION_QUERY = Schema("NotificationListQuery", {
    "unread_only": Boolean(default=False),
    **PAGE_QUERY,
})
MARKED_OUT = Schema("MarkedRead", {"marked": Integer(required=True, minimum=0)})


def notification_out(row: Notification) -> dict[str, Any]:
    """A notification as the bell shows it."""
    return {
        "id": row.id,
        "kind": row.kind,
        "subject": row.subject,
        "body_text": row.body_text,
        "link": row.link,
        "created_at": row.created_at.isoformat(),
        "read_at": row.read_at.isoformat() if row.read_at else None,
        "is_read": row.read_at is not None,
    }


@api_route("/notifications", "GET", summary="我的站内消息", tag=TAG,
           response=ListOf(NOTIFICATION_OUT, max_items=100), query=NOTIFICATION_QUERY,
           meta=NOTIFICATION_META, errors=(400, 401, 422))
def list_notifications(query: dict[str, Any]):
    """The caller's in-app notifications, newest first, with the unread count."""
    user = current_api_user()
    stmt = svc.inbox_query(user, unread_only=query["unread_only"])
    items, meta = paginate(stmt, query["page"], query["per_page"])
    meta["unread"] = svc.unread_count(db.session, user)
    return [notification_out(n) for n in items], meta


@api_route("/notifications/<int:notification_id>/read", "POST", summary="标记一条消息为已读",
           tag=TAG, response=NOTIFICATION_OUT, errors=(401, 404))
def mark_notification_read(notification_id: int):
    """Mark one of the caller's notifications read (idempotent)."""
    row = svc.mark_read(db.session, current_api_user(), notification_id, app_now())
    return notification_out(row)


@api_route("/notifications/read-all", "POST", summary="全部标记为已读", tag=TAG,
           response=MARKED_OUT, errors=(401,))
def mark_all_notifications_read():
    """Mark every unread notification of the caller read."""
    marked = svc.mark_all_read(db.session, current_api_user(), app_now())
    return {"marked": marked}
