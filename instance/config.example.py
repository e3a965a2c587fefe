# casetrack instance configuration (Python). scripts/run copies this file to
# instance/config.py on first start and replaces the secret key with a random one.
# instance/config.py is not in git: keep it private. Every setting and its default is in
# casetrack/config.py; environment variables CASETRACK_<NAME> override this file.

#: signing key for sessions and CSRF tokens; must be secret and stay the same across restarts
SECRET_KEY = "change-me"

#: database; the default (None) is the SQLite file instance/casetrack.sqlite3.
#: PostgreSQL (recommended for several users): create the database, then `flask db upgrade`.
# SQLALCHEMY_DATABASE_URI = "postgresql+psycopg://casetrack:PASSWORD@127.0.0.1:5432/casetrack"

#: production behind an HTTPS reverse proxy (nginx): trust its X-Forwarded-* headers (one
#: proxy), send the login cookie over HTTPS only, and build absolute links with https.
#: (Without SESSION_COOKIE_SECURE the cookie is still marked Secure on every request that
#: reaches the app as HTTPS, which behind a proxy needs PROXY_FIX_HOPS.)
# PROXY_FIX_HOPS = 1
# SESSION_COOKIE_SECURE = True
# REMEMBER_COOKIE_SECURE = True
# PREFERRED_URL_SCHEME = "https"
# BASE_URL = "https://casetrack.example.gov.cn"

#: zone in which dates are shown and due dates are counted
# TIMEZONE = "Asia/Shanghai"

#: a case turns yellow this many days before its due date
# WARNING_YELLOW_DAYS = 3

#: change a deadline rule's length, e.g. mediation within 20 days instead of a month
# DEADLINE_RULES = {"dispute.mediate": {"amount": 20}}

#: where attachments are stored (default instance/uploads)
# UPLOAD_FOLDER = "/srv/casetrack/uploads"
