"""Every setting, with a safe default and a one-line comment.

Override in ``instance/config.py`` (see ``instance/config.example.py``) or with environment
variables prefixed ``CASETRACK_`` (e.g. ``CASETRACK_SQLALCHEMY_DATABASE_URI``).
"""

from __future__ import annotations


class DefaultConfig:
    #: signing key for sessions and CSRF tokens; scripts/run writes a random one to instance/
    SECRET_KEY = "dev-only-change-me"
    #: database URL; None means instance/casetrack.sqlite3
    SQLALCHEMY_DATABASE_URI: str | None = None
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    #: zone in which dates are shown and due dates counted
    TIMEZONE = "Asia/Shanghai"
    #: UI languages; the first is the default
    LANGUAGES = ["zh_CN", "en"]
    BABEL_DEFAULT_LOCALE = "zh_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    #: session cookie hardening (SESSION_COOKIE_SECURE is turned on when served over HTTPS)
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    PERMANENT_SESSION_LIFETIME = 8 * 3600
    #: CSRF tokens on every form
    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = 8 * 3600
    #: failed logins before the account is locked, and for how long (minutes)
    LOGIN_MAX_FAILURES = 5
    LOGIN_LOCK_MINUTES = 15
    #: largest request body accepted (bytes): attachments and imports
    MAX_CONTENT_LENGTH = 25 * 1024 * 1024
    #: attachments: allowed file name endings and the largest size (bytes)
    ATTACHMENT_EXTENSIONS = frozenset(
        {"pdf", "jpg", "jpeg", "png", "doc", "docx", "xls", "xlsx", "txt", "mp3", "m4a", "amr",
         "ofd"}
    )
    ATTACHMENT_MAX_BYTES = 20 * 1024 * 1024
    #: where attachments are stored; None means instance/uploads
    UPLOAD_FOLDER: str | None = None
    #: overrides of deadline rules, e.g. {"dispute.mediate": {"amount": 20}}
    DEADLINE_RULES: dict = {}
    #: a case turns yellow this many days before its due date
    WARNING_YELLOW_DAYS = 3
    #: rows per page in lists
    PAGE_SIZE = 20
    #: path of the demo town's villages CSV (../shared/demo/beihe_villages.csv when present)
    DEMO_VILLAGES_CSV: str | None = None
    #: pin "now" (ISO datetime) for tests and demos; None means the wall clock
    FIXED_NOW = None
    #: start the reminder scheduler inside the web process (scripts/run sets it)
    SCHEDULER_EMBEDDED = False
    #: TrueType CJK font embedded in report PDFs; None searches /usr/share/fonts for
    #: wqy-microhei.ttc, uming.ttc, LXGW WenKai (Debian package fonts-wqy-microhei)
    REPORT_FONT_PATH: str | None = None
