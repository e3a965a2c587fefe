# casetrack instance configuration (Python). scripts/run copies this file to
# instance/config.py on first start and replaces the secret key with a random one.
# instance/config.py is not in git: keep it private. Every setting and its default is in
# casetrack/config.py; environment variables CASETRACK_<NAME> override this file.

#: signing key for sessions and CSRF tokens; must be secret and stay the same across restarts
SECRET_KEY = "change-me"

#: database; the default (None) is the SQLite file instance/casetrack.sqlite3.
#: PostgreSQL (recommended for several users): create the database, then `flask db upgrade`.
# SQLALCHEMY_DATABASE_URI = "postgresql+psycopg://casetrack:PASSWORD@127.0.0.1:5432/casetrack"

#: send session cookies over HTTPS only (turn on behind an HTTPS reverse proxy)
# SESSION_COOKIE_SECURE = True
# REMEMBER_COOKIE_SECURE = True

#: zone in which dates are shown and due dates are counted
# TIMEZONE = "Asia/Shanghai"

#: a case turns yellow this many days before its due date
# WARNING_YELLOW_DAYS = 3

#: change a deadline rule's length, e.g. mediation within 20 days instead of a month
# DEADLINE_RULES = {"dispute.mediate": {"amount": 20}}

#: where attachments are stored (default instance/uploads)
# UPLOAD_FOLDER = "/srv/casetrack/uploads"
