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
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    #: a pooled database connection unused this long (seconds) is checked (SELECT 1) before
    #: a request gets it, and replaced when dead (core/db.py ``ping_when_idle``); 0 checks it
    #: before every request (one more round trip each)
    DATABASE_PING_IDLE_SECONDS = 10
    #: zone in which dates are shown and due dates counted
    TIMEZONE = "Asia/Shanghai"
    #: UI languages; the first is the default
    LANGUAGES = ["zh_CN", "en"]
    BABEL_DEFAULT_LOCALE = "zh_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    #: session cookie hardening; the cookie is marked Secure on every HTTPS request anyway
    #: (see casetrack/core/security.py), True marks it Secure always (production behind HTTPS)
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    #: reverse proxies in front of the app whose X-Forwarded-For/-Proto/-Host are trusted
    #: (1 behind one nginx; 0 when clients connect directly: the headers are then ignored)
    PROXY_FIX_HOPS = 0
    #: scheme of absolute URLs built outside a request ("https" in production)
    PREFERRED_URL_SCHEME = "http"
    PERMANENT_SESSION_LIFETIME = 8 * 3600
    #: sent on every response: scripts and styles only from our own files (no inline script
    #: or style, so a name that slips through as markup still cannot run), no framing
    CONTENT_SECURITY_POLICY = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'"
    )
    #: what the browser tells other sites about the page a link was followed from
    REFERRER_POLICY = "same-origin"
    #: CSRF tokens on every form
    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = 8 * 3600
    #: password policy (auth/passwords.py): shortest length, and the lowest zxcvbn strength
    #: score accepted (0-4; 3 = "safely unguessable": hard for an online attacker)
    PASSWORD_MIN_LENGTH = 10
    PASSWORD_MIN_SCORE = 3
    #: where rate-limit counters live (Flask-Limiter / limits): "memory://" for the single
    #: embedded process; with gunicorn workers or several hosts use one shared store, e.g.
    #: "redis://127.0.0.1:6379" (production), so every process counts the same attempts
    RATELIMIT_STORAGE_URI = "memory://"
    #: prefix of the counters' keys in that store (several installations may share a Redis)
    RATELIMIT_KEY_PREFIX = "casetrack"
    #: failed logins accepted from one address (every account together), and from one
    #: address for one username; past them that address waits, nobody else does. Counted
    #: alike for existing and unknown usernames, so the answer reveals no name.
    LOGIN_LIMIT_PER_ADDRESS = "30 per 15 minutes"
    LOGIN_LIMIT_PER_ACCOUNT = "5 per 15 minutes"
    #: largest request body accepted (bytes): attachments and imports
    MAX_CONTENT_LENGTH = 25 * 1024 * 1024
    #: largest JSON body the API accepts (bytes); bigger ones get 413
    API_MAX_BODY_BYTES = 1024 * 1024
    #: most data rows one import file may hold
    IMPORT_MAX_ROWS = 20000
    #: spreadsheet bombs: most rows a sheet may span (empty ones included), most non-empty
    #: cells, most bytes an .xlsx may unpack to, most shared strings it may declare
    IMPORT_MAX_SHEET_ROWS = 100_000
    IMPORT_MAX_CELLS = 1_200_000
    IMPORT_MAX_UNPACKED_BYTES = 100 * 1024 * 1024
    IMPORT_MAX_SHARED_STRINGS = 400_000
    #: attachments: allowed file name endings and the largest size (bytes)
    ATTACHMENT_EXTENSIONS = frozenset(
        {"pdf", "jpg", "jpeg", "png", "doc", "docx", "xls", "xlsx", "txt", "mp3", "m4a", "amr",
         "ofd"}
    )
    ATTACHMENT_MAX_BYTES = 20 * 1024 * 1024
    #: where attachment bytes are kept: "filesystem" (UPLOAD_FOLDER, one host) or "database"
    #: (chunks in the database, read by every app process on every host)
    ATTACHMENT_STORAGE = "filesystem"
    #: Redis shared by every app process (e.g. redis://127.0.0.1:6379/0): figures of past
    #: cut-offs are cached there; None keeps that cache in each process's memory
    REDIS_URL: str | None = None
    #: PostgreSQL memory for the sorts and hashes of one figures statement (SET LOCAL
    #: work_mem, with jit off): a county year groups ~150,000 as-of rows, which spill to
    #: disk at the server's default 4MB (5.9 s -> 2.5 s at a million cases); None keeps it
    STATS_WORK_MEM: str | None = "64MB"
    #: PostgreSQL: a county's figures computed afresh (the towns whose cached parts are out of
    #: date) are split over this many statements run at once, each on its own connection, when
    #: every one gets at least ``stats.batch.PARALLEL_MIN_TOWNS`` towns: the server runs them
    #: on separate cores (``stats.batch._in_parallel``). 1: one statement (SQLite always).
    #: Each takes a pooled connection for its time: keep it below the pool's size.
    STATS_PARALLEL_STATEMENTS: int = 2
    #: folder of filesystem attachments; None means instance/uploads
    UPLOAD_FOLDER: str | None = None
    #: overrides of deadline rules, e.g. {"dispute.mediate": {"amount": 20}}
    DEADLINE_RULES: dict = {}
    #: a case turns yellow this many days before its due date
    WARNING_YELLOW_DAYS = 3
    #: a handler's reply is a draft until a town leader approves it (approve-reply); each
    #: town may switch this off on its 办理设置 page (town setting ``cases.reply_approval``)
    REPLY_APPROVAL = True
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
    #: TrueType fonts for the characters the main font lacks (CJK Extension A–F in rare
    #: names: 𠮷 䶮 𬀩 㛃), tried in order per character; None searches /usr/share/fonts for
    #: HanaMinA.ttf, HanaMinB.ttf (fonts-hanazono) and BabelStoneHan.ttf (fonts-babelstone-han)
    REPORT_FALLBACK_FONT_PATHS: list[str] | None = None
    #: absolute address of the app, for links in mail and group-robot messages
    BASE_URL = "http://127.0.0.1:5000"
    #: SMTP server for notification mail; None turns the mail channel off
    MAIL_SERVER: str | None = None
    #: SMTP port (25 plain / 587 STARTTLS / 465 SSL)
    MAIL_PORT = 25
    #: upgrade the connection with STARTTLS (port 587)
    MAIL_USE_STARTTLS = False
    #: connect over SSL/TLS from the start (port 465)
    MAIL_USE_SSL = False
    #: SMTP login; None sends without authentication
    MAIL_USERNAME: str | None = None
    MAIL_PASSWORD: str | None = None
    #: envelope and From address of notification mail, and the display name
    MAIL_SENDER = "casetrack@localhost"
    MAIL_SENDER_NAME = "信访与矛盾纠纷台账"
    #: seconds to wait for the SMTP server / the group robot
    MAIL_TIMEOUT = 10
    WEBHOOK_TIMEOUT = 10
    #: networks the group robot may never post to, besides the built-in refusals (loopback,
    #: link-local incl. 169.254.169.254, unspecified, multicast, reserved), e.g.
    #: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"] to refuse the private ranges,
    #: which are allowed by default (town offices sit on closed government networks)
    WEBHOOK_DENIED_NETWORKS: list[str] = []
    #: networks exempt from the built-in refusals (a robot relay on the server itself,
    #: ["127.0.0.1/32"]); WEBHOOK_DENIED_NETWORKS still wins
    WEBHOOK_ALLOWED_NETWORKS: list[str] = []
    #: SMS gateway: "http" (JSON POST to SMS_GATEWAY_URL), "log" (write to the log only) or
    #: None (no SMS channel)
    SMS_GATEWAY: str | None = None
    SMS_GATEWAY_URL: str | None = None
    #: sent as "Authorization: Bearer ..." to the gateway
    SMS_GATEWAY_TOKEN: str | None = None
    SMS_TIMEOUT = 10
    #: the signature the SMS provider requires at the start of each text
    SMS_SIGNATURE = "【信访台账】"
    #: channels for decision notifications (assigned, extension requested/decided, rework)
    NOTIFY_EVENT_CHANNELS = ["in_app", "email"]
    #: outbox delivery: attempts before a row is marked failed, backoff base and cap (s)
    NOTIFY_MAX_ATTEMPTS = 8
    NOTIFY_RETRY_BASE_SECONDS = 60
    NOTIFY_RETRY_MAX_SECONDS = 6 * 3600
    #: rows a sender claims at once, and how long its claim lasts (s) if it dies mid-batch
    NOTIFY_BATCH_SIZE = 100
    NOTIFY_CLAIM_SECONDS = 300
    #: reminder policy defaults (each town may change them on /admin/reminders/):
    #: whether the daily reminder run is on
    REMINDER_ENABLED = True
    #: local time of the daily run
    REMINDER_SEND_TIME = "08:30"
    #: zone of the send time and of "today"; None means TIMEZONE
    REMINDER_TIMEZONE: str | None = None
    #: days before the due date a case is reminded as due soon; None means WARNING_YELLOW_DAYS
    REMINDER_YELLOW_DAYS: int | None = None
    #: the leader is reminded of cases overdue by at least this many days
    REMINDER_LEADER_OVERDUE_DAYS = 3
    #: a case that stays due is reminded again every N days (1: in each daily digest)
    REMINDER_CADENCE_DAYS = 1
    #: which roles are told of each level (provisional: due date in a year without holidays)
    REMINDER_LEVEL_ROLES = {
        "yellow": ["handler"],
        "due_today": ["handler"],
        "overdue": ["handler", "supervisor"],
        "escalated": ["leader"],
        "provisional": ["admin"],
    }
    #: channels per role besides in-app (always on); webhook needs the town's robot URL
    REMINDER_ROLE_CHANNELS = {
        "handler": ["email", "webhook"],
        "supervisor": ["email", "webhook"],
        "leader": ["email"],
        "admin": ["email"],
    }
    #: scheduler: seconds between ticks, and the SQLite sender lease (renewed each tick)
    SCHEDULER_TICK_SECONDS = 60
    SCHEDULER_LEASE_SECONDS = 180
