"""Case, Party, CaseEvent, Attachment and the per-town number counters."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    event,
    inspect,
    select,
    true,
)
from sqlalchemy.orm import (
    Mapped,
    Session,
    mapped_column,
    relationship,
    selectinload,
    validates,
)

from casetrack.auth.models import User
from casetrack.core.db import Base, StrEnumType, UTCDateTime
from casetrack.core.normalize import canonical_ref, search_document
from casetrack.core.time import utcnow
from casetrack.org.models import Town, Unit, Village


class CaseKind(enum.StrEnum):
    """The codes of the kinds the installation ships with; every kind (these and any other)
    is a folder registered in ``cases.kinds``, which is what a case's ``kind`` must name."""

    PETITION = "petition"  # 信访事项
    DISPUTE = "dispute"  # 矛盾纠纷


class KindType(TypeDecorator):
    """A case's kind, stored as its code (VARCHAR); the built-in kinds load as ``CaseKind``
    members. A case is given only a registered kind (``Case._registered_kind``); queries may
    name any code (a statement cached while a kind was registered stays valid after)."""

    impl = String
    cache_ok = True

    def __init__(self) -> None:
        super().__init__(20)

    def process_bind_param(self, value, dialect):
        return None if value is None else str(value)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return CaseKind(value) if value in CaseKind._value2member_map_ else value


class CaseStatus(enum.StrEnum):
    """Statuses of every kind; which apply to which kind is in the step list (``steps``)."""

    REGISTERED = "registered"  # 已登记
    ACCEPTED = "accepted"  # 已受理
    HANDLING = "handling"  # 办理中
    REPLIED = "replied"  # 已答复
    NOT_ACCEPTED = "not_accepted"  # 不予受理
    RETURNED = "returned"  # 已退回
    MEDIATING = "mediating"  # 调解中
    RESOLVED = "resolved"  # 调解成功
    TERMINATED = "terminated"  # 调解终止
    CLOSED = "closed"  # 已办结
    REPLY_PENDING = "reply_pending"  # 答复待审批 (the leader approves the draft reply)
    REVIEWING = "reviewing"  # 复查中 (Art. 35)
    REVIEWED = "reviewed"  # 已复查
    REEXAMINING = "reexamining"  # 复核中 (Art. 36)
    REEXAMINED = "reexamined"  # 已复核: final, the same matter is not accepted again


class ExtensionState(enum.StrEnum):
    NONE = "none"  # 未申请
    PENDING = "pending"  # 待审批
    APPROVED = "approved"  # 已批准
    REJECTED = "rejected"  # 未批准


#: statuses in which a case is finished (the rest are open); ``rules`` builds on this
FINAL_STATUSES = frozenset({CaseStatus.CLOSED, CaseStatus.REVIEWED, CaseStatus.REEXAMINED,
                            CaseStatus.NOT_ACCEPTED, CaseStatus.RETURNED})


class Case(Base):
    """A petition (信访事项) or a dispute (矛盾纠纷) of one town.

    Warning colour, overdue and days left are derived from ``due_on`` and "now" and are never
    stored; the due date is stored because it is a decision (rule, basis, extension).
    """

    __tablename__ = "cases"
    __table_args__ = (
        UniqueConstraint("town_id", "kind", "number_year", "number_seq"),
        Index("ix_cases_town_status_due", "town_id", "status", "due_on"),
        Index("ix_cases_town_received", "town_id", "received_on"),
        #: the latest write to a town's cases: part of the key of cached past figures
        Index("ix_cases_updated_at", "updated_at"),
        #: the case list's default order (open cases by due date) for a town, a village
        #: and the county, read in index order: no sort, keyset pagination on (due_on, id)
        Index("ix_cases_town_open_due", "town_id", "is_open", "due_on", "id"),
        Index("ix_cases_village_open_due", "village_id", "is_open", "due_on", "id"),
        Index("ix_cases_open_due", "is_open", "due_on", "id"),
        #: the county's other orders and filters (a run of open or of closed cases each)
        Index("ix_cases_open_received", "is_open", "received_on", "id"),
        Index("ix_cases_open_category_due", "is_open", "category", "due_on", "id"),
        Index("ix_cases_open_number", "is_open", "kind", "number_year", "number_seq", "id"),
        Index("ix_cases_open_updated", "is_open", "updated_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    town_id: Mapped[int] = mapped_column(ForeignKey("towns.id"))
    #: the code of a registered kind (``cases.kinds``): petition, dispute, ...
    kind: Mapped[str] = mapped_column(KindType())
    #: GB/T 9704 number, e.g. 北和信〔2026〕18号
    number: Mapped[str] = mapped_column(String(50), index=True)
    number_year: Mapped[int]
    number_seq: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    #: channel code (see ``rules.SOURCES``), e.g. "assigned" for 上级交办
    source: Mapped[str] = mapped_column(String(30))
    #: petition class: 建议意见 / 检举控告 / 申诉求决 (petitions only)
    petition_class: Mapped[str | None] = mapped_column(String(20))
    #: content category, from the town's list (城乡建设, 邻里, ...)
    category: Mapped[str] = mapped_column(String(50), default="其他")
    village_id: Mapped[int | None] = mapped_column(ForeignKey("villages.id"), index=True)
    received_on: Mapped[dt.date] = mapped_column(Date)
    accepted_on: Mapped[dt.date | None] = mapped_column(Date)
    #: the assigning authority's reference number (上级交办/转送), stored as typed
    external_ref: Mapped[str | None] = mapped_column(String(100), index=True)
    #: ``core.normalize.canonical_ref`` of ``external_ref`` (brackets, widths, spaces folded):
    #: the one form references are compared in (重复导入, 同一交办文号); kept by a flush hook
    external_ref_key: Mapped[str | None] = mapped_column(String(100), index=True)
    #: the assigning authority's own reply deadline
    external_due_on: Mapped[dt.date | None] = mapped_column(Date)
    #: reference of the authority's latest extension of its deadline (上级同意延期)
    external_extension_ref: Mapped[str | None] = mapped_column(String(100))
    #: authority that assigned or forwarded the case, e.g. 雷州市信访局
    external_authority: Mapped[str] = mapped_column(String(100), default="")
    #: number of people (group visits elect at most 5 representatives)
    group_size: Mapped[int] = mapped_column(default=1)
    #: 重信重访: the same petitioner has petitioned on the matter before
    is_repeat: Mapped[bool] = mapped_column(default=False)
    handler_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    status: Mapped[CaseStatus] = mapped_column(StrEnumType(CaseStatus),
                                               default=CaseStatus.REGISTERED)
    #: False once ``status`` is final; kept in step with ``status`` by an attribute event so
    #: that the list's order (open cases by due date) is an index range, not a sort
    is_open: Mapped[bool] = mapped_column(default=True, server_default=true())
    #: the current effective due date (after the earlier-of rule and any extension)
    due_on: Mapped[dt.date | None] = mapped_column(Date)
    #: the statutory date behind ``due_on`` (the rule plus the town's extension); for an
    #: assigned case ``due_on`` is the earlier of this and ``external_due_on``
    statutory_due_on: Mapped[dt.date | None] = mapped_column(Date)
    #: petition: the day by which the petitioner must be told in writing that the petition
    #: was received (rule petition.notify); 及时受理 means accepted by this day
    notify_due_on: Mapped[dt.date | None] = mapped_column(Date)
    #: the day the current clock runs from (acceptance; the day of a rework that restarted
    #: the statutory clock)
    due_start_on: Mapped[dt.date | None] = mapped_column(Date)
    #: code of the deadline rule behind ``due_on``, e.g. petition.handle
    due_rule: Mapped[str | None] = mapped_column(String(50))
    #: "statutory" or "external": which date won for an assigned case
    due_basis: Mapped[str | None] = mapped_column(String(20))
    #: False when the due date falls in a year with no holiday data: ``due_on`` is then the
    #: earliest the date can be, shown as provisional until the admin enters the year
    due_is_exact: Mapped[bool] = mapped_column(default=True)
    #: days granted by an approved extension (at most once)
    extension_days: Mapped[int] = mapped_column(default=0)
    #: none / pending / approved / rejected
    extension_state: Mapped[ExtensionState] = mapped_column(StrEnumType(ExtensionState),
                                                            default=ExtensionState.NONE)
    extension_requested_days: Mapped[int | None]
    extension_reason: Mapped[str] = mapped_column(Text, default="")
    #: 支持 / 解释说明 / 不予支持
    outcome: Mapped[str | None] = mapped_column(String(20))
    reply_text: Mapped[str] = mapped_column(Text, default="")
    #: the day the written reply was delivered to the petitioner
    reply_delivered_on: Mapped[dt.date | None] = mapped_column(Date)
    #: 满意 / 基本满意 / 不满意 / 未评价
    rating: Mapped[str | None] = mapped_column(String(20))
    closed_on: Mapped[dt.date | None] = mapped_column(Date)
    #: reason for 不予受理, 退回 or 调解终止
    exit_reason: Mapped[str] = mapped_column(Text, default="")
    #: dispute: level now mediating ("village" 村调委会 or "town" 镇综治中心/司法所)
    mediation_level: Mapped[str | None] = mapped_column(String(20))
    #: dispute: level at which it was resolved (reported: 小事不出村，大事不出镇)
    resolution_level: Mapped[str | None] = mapped_column(String(20))
    #: dispute: "written" 调解协议书 or "oral" 口头协议
    agreement_type: Mapped[str | None] = mapped_column(String(20))
    agreement_text: Mapped[str] = mapped_column(Text, default="")
    #: petition: 复查 requested by the petitioner (Art. 35) and its answer
    review_requested_on: Mapped[dt.date | None] = mapped_column(Date)
    #: the review's clock when it was requested (timeliness of 复查 is judged against it)
    review_due_on: Mapped[dt.date | None] = mapped_column(Date)
    review_decided_on: Mapped[dt.date | None] = mapped_column(Date)
    #: 维持 / 撤销 / 变更 (the review or re-examination keeps, sets aside or changes the reply)
    review_outcome: Mapped[str | None] = mapped_column(String(20))
    review_text: Mapped[str] = mapped_column(Text, default="")
    #: petition: 复核 requested (Art. 36) and its answer; hearing days do not count
    reexam_requested_on: Mapped[dt.date | None] = mapped_column(Date)
    #: the re-examination's clock (hearing days added) when it was requested
    reexam_due_on: Mapped[dt.date | None] = mapped_column(Date)
    reexam_decided_on: Mapped[dt.date | None] = mapped_column(Date)
    reexam_outcome: Mapped[str | None] = mapped_column(String(20))
    reexam_text: Mapped[str] = mapped_column(Text, default="")
    #: days of hearings (听证) held during re-examination: added to its clock
    hearing_days: Mapped[int] = mapped_column(default=0)
    #: dispute: the parties applied to a court for judicial confirmation (人民调解法 Art. 33)
    judicial_applied_on: Mapped[dt.date | None] = mapped_column(Date)
    judicial_court: Mapped[str] = mapped_column(String(100), default="")
    #: dispute at risk of turning violent: reported to the police (人民调解法 Art. 25)
    is_risk: Mapped[bool] = mapped_column(default=False)
    #: dispute: day of the mediation outcome (agreement or termination); 按期 compares it
    #: with the mediation due date
    mediated_on: Mapped[dt.date | None] = mapped_column(Date)
    #: dispute: the mediation due date when the outcome was reached (按期 compares
    #: ``mediated_on`` with it); after an agreement the running clock is the follow-up's
    mediation_due_on: Mapped[dt.date | None] = mapped_column(Date)
    #: dispute: the follow-up visit is due by this day (rule dispute.follow_up)
    follow_up_due_on: Mapped[dt.date | None] = mapped_column(Date)
    follow_up_on: Mapped[dt.date | None] = mapped_column(Date)
    #: whether the follow-up visit found the agreement honoured
    follow_up_honoured: Mapped[bool | None]
    reported_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: folded text searched by the case list and the API: number, reference, title, summary,
    #: party names and phones through ``core.normalize.search_document``; kept by a flush
    #: hook (``_keep_search_keys``), never written by hand
    search_text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    #: the instant of the case's latest event (NULL: none yet), kept by the database's
    #: triggers on ``case_events`` (``cases/last_event.py``), never written by the app; the
    #: figures of a past cut-off look for later events only where it is at or after the
    #: cut-off. Deferred: not loaded with the case, so no stale copy is ever written back.
    last_event_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, deferred=True)
    #: optimistic lock: a stale write is refused (API answers 409)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    @validates("kind")
    def _registered_kind(self, key: str, value: str) -> str:
        """A case is of a registered kind (``cases.kinds``)."""
        from casetrack.cases import kinds  # the kinds build on the models

        if kinds.get(value) is None:
            raise ValueError(f"{value!r} is not a registered kind of case")
        return value

    town: Mapped[Town] = relationship()
    village: Mapped[Village | None] = relationship()
    unit: Mapped[Unit | None] = relationship()
    handler: Mapped[User | None] = relationship(foreign_keys=[handler_id])
    reported_by: Mapped[User | None] = relationship(foreign_keys=[reported_by_id])
    parties: Mapped[list[Party]] = relationship(
        back_populates="case", order_by="Party.id", cascade="all, delete-orphan"
    )
    events: Mapped[list[CaseEvent]] = relationship(
        back_populates="case", order_by="CaseEvent.id", cascade="all, delete-orphan"
    )
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="case", order_by="Attachment.id", cascade="all, delete-orphan"
    )



@event.listens_for(Case.status, "set")
def _status_sets_is_open(target: Case, value: str, oldvalue: Any, initiator: Any) -> None:
    target.is_open = value not in FINAL_STATUSES


class Party(Base):
    """A petitioner or a party to a dispute. ID numbers are shown masked unless allowed."""

    __tablename__ = "parties"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    #: petitioner / applicant / respondent
    role: Mapped[str] = mapped_column(String(20), default="petitioner")
    name: Mapped[str] = mapped_column(String(64), index=True)
    #: 18-character resident ID, validated (check digit); may be empty
    id_number: Mapped[str | None] = mapped_column(String(18), index=True)
    phone: Mapped[str] = mapped_column(String(20), default="")
    address: Mapped[str] = mapped_column(String(200), default="")

    case: Mapped[Case] = relationship(back_populates="parties")


#: the case fields that feed ``Case.search_text``
SEARCHED_CASE_FIELDS = ("number", "external_ref", "title", "summary")


def case_search_text(case: Case) -> str:
    """The folded search text of a case (see ``Case.search_text``)."""
    parties = list(case.parties)
    return search_document(case.number, case.external_ref, case.title, case.summary,
                           *(p.name for p in parties), *(p.phone for p in parties))


def refresh_search_keys(case: Case) -> None:
    """Recompute ``search_text`` and ``external_ref_key``, writing only what changed."""
    text = case_search_text(case)
    if case.search_text != text:
        case.search_text = text
    key = canonical_ref(case.external_ref) or None
    if case.external_ref_key != key:
        case.external_ref_key = key


def rebuild_search_keys(session: Session, batch: int = 1000) -> int:
    """Recompute the search keys of every case (after rows were written around the ORM, e.g.
    a bulk load); flushes each batch, never commits. Returns the number of cases changed."""
    changed, last = 0, 0
    while True:
        cases = list(session.scalars(select(Case).where(Case.id > last).order_by(Case.id)
                                     .limit(batch).options(selectinload(Case.parties))))
        if not cases:
            return changed
        for case in cases:
            before = (case.search_text, case.external_ref_key)
            refresh_search_keys(case)
            changed += before != (case.search_text, case.external_ref_key)
        session.flush()
        last = cases[-1].id


@event.listens_for(Session, "before_flush")
def _keep_search_keys(session: Session, flush_context, instances) -> None:
    """Every flush that creates a case, changes a searched field or a party refreshes the
    case's search keys: one place, whichever service, import or script wrote the case."""
    touched: dict[int, Case] = {}
    for obj in (*session.new, *session.dirty):
        if isinstance(obj, Case):
            state = inspect(obj)
            if obj in session.new or any(state.attrs[name].history.has_changes()
                                         for name in SEARCHED_CASE_FIELDS):
                touched[id(obj)] = obj
        elif isinstance(obj, Party) and obj.case is not None:
            touched[id(obj.case)] = obj.case
    for obj in session.deleted:
        if isinstance(obj, Party) and obj.case_id is not None:
            case = session.get(Case, obj.case_id)
            if case is not None and case not in session.deleted:
                touched[id(case)] = case
    for case in touched.values():
        refresh_search_keys(case)


class CaseEvent(Base):
    """One step on a case's timeline: who, when, what, with before and after values.

    Append-only: updates and deletes are refused at the ORM level.
    """

    __tablename__ = "case_events"
    __table_args__ = (
        Index("ix_case_events_case_at", "case_id", "at"),
        #: the statistics' probe for a case's events after a cut-off (``stats.queries``)
        Index("ix_case_events_case_at_status", "case_id", "at", "to_status", "from_status"),
        #: whether any event lies after a cut-off: one probe (``stats.queries.later_events``)
        Index("ix_case_events_at", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    #: the service step, e.g. "accept", "extend_decide", "mediation_session"
    action: Mapped[str] = mapped_column(String(40))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    #: {field: [before, after]} for every field the step changed
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    note: Mapped[str] = mapped_column(Text, default="")

    case: Mapped[Case] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()


@event.listens_for(CaseEvent, "before_update")
@event.listens_for(CaseEvent, "before_delete")
def _events_are_append_only(mapper, connection, target) -> None:
    raise RuntimeError("case events are append-only")


class Attachment(Base):
    """A file on a case: under the upload folder by its random storage key, or in the
    database as ``AttachmentChunk`` rows (setting ``ATTACHMENT_STORAGE``; see
    ``cases/storage.py``)."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    #: random file name under the upload folder; never derived from user input
    storage_key: Mapped[str] = mapped_column(String(64), unique=True)
    #: where the bytes are: "filesystem" (upload folder) or "database" (attachment_chunks)
    storage: Mapped[str] = mapped_column(String(20), default="filesystem",
                                         server_default="filesystem")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    case: Mapped[Case] = relationship(back_populates="attachments")


class AttachmentChunk(Base):
    """One piece of an attachment stored in the database, in order of ``seq``: every app
    process on every host reads it, and neither upload nor download holds the whole file in
    memory."""

    __tablename__ = "attachment_chunks"

    attachment_id: Mapped[int] = mapped_column(
        ForeignKey("attachments.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class CaseNumberCounter(Base):
    """The last sequence number issued per town, kind and year.

    Incremented with ``UPDATE ... RETURNING`` inside the registering transaction: the row
    lock serialises concurrent registrations, so numbers have no gaps and no duplicates.
    """

    __tablename__ = "case_number_counters"

    town_id: Mapped[int] = mapped_column(ForeignKey("towns.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_value: Mapped[int] = mapped_column(default=0)


class IdNumberView(Base):
    """A log line for each time a user saw a party's full resident ID number."""

    __tablename__ = "id_number_views"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id", ondelete="CASCADE"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    #: where it was shown: "web" or "api"
    channel: Mapped[str] = mapped_column(String(10), default="web")
