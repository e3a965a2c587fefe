"""Imports every domain's models, so that Alembic and ``db.create_all`` see every table."""

from casetrack.auth.models import User, user_villages  # noqa: F401
from casetrack.auth.tokens import ApiToken  # noqa: F401
from casetrack.cases import kinds  # noqa: F401  (each kind registers its steps and deadline rules)
from casetrack.cases.generations import TownDataGeneration  # noqa: F401  (and its triggers)
from casetrack.cases.last_event import PG_TRIGGER  # noqa: F401  (DDL of cases.last_event_at)
from casetrack.cases.models import (  # noqa: F401
    Attachment,
    AttachmentChunk,
    Case,
    CaseEvent,
    CaseNumberCounter,
    IdNumberView,
    Party,
)
from casetrack.cases.search_index import TermMatch  # noqa: F401  (DDL of the search index)
from casetrack.deadlines.models import (  # noqa: F401
    CalendarYear,
    HolidayOverride,
    TownCalendarYear,
)
from casetrack.notify.models import Notification, NotificationPreference  # noqa: F401
from casetrack.org.models import Town, TownSetting, Unit, Village  # noqa: F401
from casetrack.reminders.models import ReminderLog, ReminderRun, SchedulerLease  # noqa: F401
