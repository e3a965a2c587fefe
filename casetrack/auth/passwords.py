"""Changing one's own password (the policy itself is ``core.passwords``)."""

from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from casetrack.auth.models import User
from casetrack.core.errors import ValidationError
from casetrack.core.passwords import password_problem


def change_own_password(session: Session, user: User, now: dt.datetime, old: str, new: str,
                        confirm: str) -> User:
    """The user sets their own password: the current one is required, the new one must pass
    the policy and differ from it. Ends every session of the user (the caller keeps its
    own by storing the new ``session_version``). Flushes, never commits."""
    errors: dict[str, str] = {}
    if not user.check_password(old or ""):
        errors["old_password"] = _("当前密码不正确")
    problem = password_problem(new, username=user.username, name=user.name)
    if problem:
        errors["new_password"] = problem
    elif new == old:
        errors["new_password"] = _("新密码不能与当前密码相同")
    if new != confirm and "new_password" not in errors:
        errors["confirm_password"] = _("两次输入的新密码不一致")
    if errors:
        raise ValidationError(next(iter(errors.values())), fields=errors)
    user.set_password(new)
    user.must_change_password = False
    user.end_sessions()
    session.flush()
    return user
