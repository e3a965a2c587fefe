"""Personal API tokens: created and revoked by their owner, stored only as a hash.

A token is ``ct_`` followed by 43 random URL-safe characters. The database keeps its SHA-256
(to find it again) and its first characters (so the owner can tell tokens apart); the full
token is shown once, when it is created, and never again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from casetrack.auth.models import User
from casetrack.core.db import Base, UTCDateTime
from casetrack.core.errors import NotFound, ValidationError
from casetrack.core.i18n import N_, Msg

TOKEN_PREFIX = "ct_"
#: characters of the token kept in clear for display (``ct_`` + 8)
DISPLAY_CHARS = 11
#: ``last_used_at`` is written at most this often, so reads do not each cost a write
TOUCH_INTERVAL = dt.timedelta(minutes=1)
MAX_TOKENS_PER_USER = 20


class ApiToken(Base):
    """A personal token for the JSON API; it acts with its owner's role and scope."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: the owner's label, e.g. "县平台对接"
    name: Mapped[str] = mapped_column(String(100))
    #: the first characters of the token, shown in the list (the rest is never stored)
    prefix: Mapped[str] = mapped_column(String(20))
    #: hex SHA-256 of the whole token; the token itself is not recoverable
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: set when the owner revokes it; a revoked token is refused with 401
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


def hash_token(secret: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_token(session: Session, user: User, now: dt.datetime, name: str) -> tuple[ApiToken, str]:
    """Make a token for ``user``; returns the row and the secret (to be shown once)."""
    name = (name or "").strip()
    if not name:
        raise ValidationError(N_("请填写令牌名称"), fields={"name": N_("请填写令牌名称")})
    if len(name) > 100:
        raise ValidationError(N_("令牌名称不能超过100字"), fields={"name": N_("令牌名称不能超过100字")})
    active = session.scalars(
        select(ApiToken.id).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    ).all()
    if len(active) >= MAX_TOKENS_PER_USER:
        msg = Msg(N_("每人最多保留%(n)s个有效令牌，请先吊销不用的令牌"), n=MAX_TOKENS_PER_USER)
        raise ValidationError(msg, fields={"name": msg})
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, prefix=secret[:DISPLAY_CHARS],
                     token_hash=hash_token(secret), created_at=now)
    session.add(token)
    session.flush()
    return token, secret


def revoke_token(session: Session, user: User, now: dt.datetime, token_id: int) -> ApiToken:
    """Revoke one of the user's own tokens (revoking twice is harmless)."""
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound(N_("令牌不存在"))
    if token.revoked_at is None:
        token.revoked_at = now
        session.flush()
    return token


def list_tokens(session: Session, user: User) -> list[ApiToken]:
    """The user's tokens, newest first (revoked ones included, marked)."""
    return list(session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())
    ))


def find_active_token(session: Session, secret: str) -> ApiToken | None:
    """The active token whose secret this is, with an enabled owner; else None."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(secret)))
    if token is None or token.revoked_at is not None or not token.user.is_enabled:
        return None
    return token


def touch_token(token: ApiToken, now: dt.datetime) -> bool:
    """Record use; returns whether anything changed (at most once per ``TOUCH_INTERVAL``)."""
    if token.last_used_at is None or now - token.last_used_at >= TOUCH_INTERVAL:
        token.last_used_at = now
        return True
    return False
