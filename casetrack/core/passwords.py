"""The password policy: long enough, not common or guessable, not like the username.

Strength is judged by zxcvbn (Dropbox's estimator, the maintained ``zxcvbn`` package on
PyPI: dictionaries of common passwords, names, keyboard patterns, dates, l33t), given the
username and full name as words to avoid; a hand-made list would miss most of what it knows.
Messages are Chinese through Flask-Babel (the caller shows them as they are).
"""

from __future__ import annotations

import unicodedata

from flask import current_app
from flask_babel import gettext as _
from zxcvbn import zxcvbn

#: defaults when the settings are absent (see config.py)
DEFAULT_MIN_LENGTH = 10
DEFAULT_MIN_SCORE = 3
MAX_LENGTH = 128


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").casefold()


def password_problem(password: str, *, username: str = "", name: str = "") -> str | None:
    """Why ``password`` is refused (one Chinese sentence), or None when it is acceptable."""
    config = current_app.config
    min_length = int(config.get("PASSWORD_MIN_LENGTH", DEFAULT_MIN_LENGTH))
    min_score = int(config.get("PASSWORD_MIN_SCORE", DEFAULT_MIN_SCORE))
    password = password or ""
    if len(password) < min_length:
        return _("密码至少需要 %(n)s 个字符", n=min_length)
    if len(password) > MAX_LENGTH:
        return _("密码不能超过 %(n)s 个字符", n=MAX_LENGTH)
    folded = _fold(password)
    for word in (username, name):
        word = _fold(word)
        if len(word) >= 3 and (word in folded or folded in word):
            return _("密码不能包含用户名或姓名")
    # zxcvbn slows down on very long input; beyond 100 characters length alone is enough
    result = zxcvbn(password[:100], user_inputs=[w for w in (username, name) if w])
    if result["score"] < min_score:
        return _("密码太容易被猜到（常见密码、键盘顺序、日期或重复字符），"
                 "请使用更长、更少见的组合，例如几个不相关的词加数字")
    return None
