"""Register tables. The case row mirrors the workflow's state; case_events is its timeline."""

from datetime import date, datetime, timezone

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from onedoor.store.sealed import SealedJSON, SealedText


class UtcDateTime(TypeDecorator):
    """Stores UTC and always gives back aware datetimes (SQLite drops the zone otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return value.astimezone(timezone.utc) if value is not None else None

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UtcDateTime}


class Jurisdiction(Base):
    __tablename__ = "jurisdictions"
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(16))
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("jurisdictions.code"))
    has_center: Mapped[bool] = mapped_column(Boolean, default=True)
    leaders: Mapped[list | None] = mapped_column(JSON)  # the center's leaders, duty leader first: red alerts climb this list


class Unit(Base):
    __tablename__ = "units"
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    jurisdiction_code: Mapped[str] = mapped_column(ForeignKey("jurisdictions.code"))
    mode: Mapped[str] = mapped_column(String(16))
    endpoint_url: Mapped[str | None] = mapped_column(String(500))
    backstop: Mapped[str | None] = mapped_column(String(16), index=True)  # arbitration, litigation, legal aid, notary body
    rota_days: Mapped[list | None] = mapped_column(JSON)  # rotating units: ISO weekdays on duty at the center
    # department, industry (行业部门), backstop, police (警情平台) or partner (跨省协作中心): see domain.labels.UnitKind
    kind: Mapped[str] = mapped_column(String(16), default="department", server_default="department", index=True)
    # webhook: documents are POSTed to endpoint_url, signed with signing_secret; inbox: staff work from the API
    channel: Mapped[str] = mapped_column(String(16), default="webhook", server_default="webhook")
    # HMAC-SHA256 key shared with the unit's system: signs what we send, verifies its callbacks
    signing_secret: Mapped[str | None] = mapped_column(String(128))
    province_code: Mapped[str | None] = mapped_column(String(2), index=True)  # a partner center's province (GB/T 2260)


class Mediator(Base):
    """A people's mediator in a center's pool; gold mediators (金牌调解员) take yellow and red first."""

    __tablename__ = "mediators"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    jurisdiction_code: Mapped[str] = mapped_column(ForeignKey("jurisdictions.code"), index=True)
    gold: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class DutyLine(Base):
    __tablename__ = "duty_list"
    __table_args__ = (UniqueConstraint("jurisdiction_code", "category", "unit_code"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    jurisdiction_code: Mapped[str] = mapped_column(ForeignKey("jurisdictions.code"), index=True)
    category: Mapped[str] = mapped_column(String(16))
    unit_code: Mapped[str] = mapped_column(ForeignKey("units.code"))
    lead: Mapped[bool] = mapped_column(Boolean, default=True)


class CaseSequence(Base):
    __tablename__ = "case_sequences"
    county_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class IntakeRequest(Base):
    """Maps an operator's client request id to its case, so a retried intake never makes two."""

    __tablename__ = "intake_requests"
    client_request_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    case_no: Mapped[str] = mapped_column(String(32), unique=True)
    digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]


class IntakeJoin(Base):
    """重复来访: an operator's registration that joined the open case about the same parties instead
    of opening one. Its request id answers with that case again; the case number stays unique to
    the request that claimed it (IntakeRequest)."""

    __tablename__ = "intake_joins"
    client_request_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    case_no: Mapped[str] = mapped_column(String(32), index=True)
    digest: Mapped[str] = mapped_column(String(64))
    joined_at: Mapped[datetime]


class Case(Base):
    __tablename__ = "cases"
    case_no: Mapped[str] = mapped_column(String(32), primary_key=True)
    source: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(16), index=True)
    township_code: Mapped[str] = mapped_column(String(32), index=True)
    village_code: Mapped[str | None] = mapped_column(String(32))
    # The parties' names, ID numbers, phones and addresses, and the account of the dispute: sealed (store/sealed.py).
    summary: Mapped[str] = mapped_column(SealedText)
    parties: Mapped[list] = mapped_column(SealedJSON)
    stage: Mapped[str] = mapped_column(String(16), index=True)
    grade: Mapped[str | None] = mapped_column(String(8), index=True)
    level: Mapped[str | None] = mapped_column(String(16))
    jurisdiction_code: Mapped[str | None] = mapped_column(String(32), index=True)
    lead_unit: Mapped[str | None] = mapped_column(String(32), index=True)
    mediator_id: Mapped[str | None] = mapped_column(String(32))  # indexed with settled_at below: a mediator's open cases
    result: Mapped[str | None] = mapped_column(String(16))
    received_at: Mapped[datetime]
    triaged_at: Mapped[datetime | None]
    dispatched_at: Mapped[datetime | None]
    responded_at: Mapped[datetime | None]
    feedback_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    settled_at: Mapped[datetime | None]
    next_deadline: Mapped[datetime | None] = mapped_column(index=True)
    overdue: Mapped[bool] = mapped_column(Boolean, default=False)
    escalation_count: Mapped[int] = mapped_column(Integer, default=0)
    satisfied: Mapped[bool | None] = mapped_column(Boolean)  # the return visit's verdict (回访满意)
    household_id: Mapped[str | None] = mapped_column(String(32), index=True)
    last_step: Mapped[int] = mapped_column(Integer, default=0)  # the newest step applied: older snapshots never overwrite it

    __table_args__ = (Index("ix_cases_mediator_open", "mediator_id", "settled_at"),)  # pick_mediator counts each one's load


class CaseEvent(Base):
    """The case's timeline, one row per step; (case_no, key) makes a retried write a no-op."""

    __tablename__ = "case_events"
    __table_args__ = (UniqueConstraint("case_no", "key"), Index("ix_case_events_case_at", "case_no", "at"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_no: Mapped[str] = mapped_column(ForeignKey("cases.case_no"))
    key: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime]
    note: Mapped[str] = mapped_column(SealedText)  # the step's words, which may be a person's: sealed
    # The body or unit the step was addressed to: a confirmation_applied step's court (what the body's
    # scope finds its cases by, the note being sealed), a supervised step's unit.
    body_code: Mapped[str | None] = mapped_column(String(32), index=True)
    # The words a paper prints apart from the note (domain.messages.StepParts: an agreement's terms, a
    # refusal's reason, a supervisor's order), sealed as the note is; None when the note says it all.
    parts: Mapped[dict | None] = mapped_column(SealedJSON)
    recorded_at: Mapped[datetime] = mapped_column(default=lambda: datetime.now(timezone.utc))  # when it was written


class CaseClock(Base):
    """Every clock of every case as of its last step: due time, what remained, its state."""

    __tablename__ = "case_clocks"
    case_no: Mapped[str] = mapped_column(ForeignKey("cases.case_no"), primary_key=True)
    clock_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(16))
    unit_code: Mapped[str | None] = mapped_column(String(32), index=True)
    level: Mapped[str | None] = mapped_column(String(16))
    basis: Mapped[str] = mapped_column(String(16))  # natural, working, working_days, months
    started_at: Mapped[datetime]
    due_at: Mapped[datetime] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    remaining_seconds: Mapped[int | None] = mapped_column(Integer)
    reminded_at: Mapped[datetime | None]
    breached_at: Mapped[datetime | None]
    done_at: Mapped[datetime | None]


class SupervisionOrder(Base):
    """督办: raised to the level above when a clock breaches; counts in the unit's assessment."""

    __tablename__ = "supervision_orders"
    __table_args__ = (UniqueConstraint("case_no", "clock_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_no: Mapped[str] = mapped_column(ForeignKey("cases.case_no"), index=True)
    clock_id: Mapped[int] = mapped_column(Integer)
    clock: Mapped[str] = mapped_column(String(16))
    unit_code: Mapped[str | None] = mapped_column(String(32), index=True)
    from_level: Mapped[str] = mapped_column(String(16))
    to_level: Mapped[str | None] = mapped_column(String(16))
    due_at: Mapped[datetime]
    issued_at: Mapped[datetime]
    text: Mapped[str] = mapped_column(SealedText)


class AuditEntry(Base):
    """Append-only: every change to a case, who made it in which role, and the fields before and after."""

    __tablename__ = "audit_log"
    __table_args__ = (UniqueConstraint("case_no", "key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_no: Mapped[str] = mapped_column(ForeignKey("cases.case_no"), index=True)
    key: Mapped[str] = mapped_column(String(64))  # the step's key: a retried write is a no-op
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(SealedText)  # the name given: a person's (sealed), a unit's code, the channel, or the system
    role: Mapped[str] = mapped_column(String(16))  # the part they acted in on the case
    # The signed-in user the API bound the change to (None: the system's own steps).
    user_id: Mapped[str | None] = mapped_column(String(32), index=True)
    user_role: Mapped[str | None] = mapped_column(String(16))
    user_jurisdiction: Mapped[str | None] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(32), index=True)
    before: Mapped[dict] = mapped_column(JSON)
    after: Mapped[dict] = mapped_column(JSON)


class GridWorker(Base):
    """网格员: visits the households of a township's grid."""

    __tablename__ = "grid_workers"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    jurisdiction_code: Mapped[str] = mapped_column(ForeignKey("jurisdictions.code"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Household(Base):
    """家庭和谐服务档案: a family followed up after its disputes; the register mirrors its workflow."""

    __tablename__ = "households"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # Keyed digest (codec.FieldSealer.digest) of domain.household.address_key: finds the file, shows no address.
    address_key: Mapped[str] = mapped_column(String(64), unique=True)
    township_code: Mapped[str] = mapped_column(String(32), index=True)
    village_code: Mapped[str | None] = mapped_column(String(32))
    address: Mapped[str] = mapped_column(SealedText)
    risk: Mapped[str | None] = mapped_column(String(8), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    grid_worker_id: Mapped[str | None] = mapped_column(String(32))
    case_count: Mapped[int] = mapped_column(Integer, default=0)
    opened_at: Mapped[datetime]
    next_visit_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]


class HouseholdVisit(Base):
    __tablename__ = "household_visits"
    __table_args__ = (UniqueConstraint("household_id", "seq"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    household_id: Mapped[str] = mapped_column(ForeignKey("households.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime]
    visitor: Mapped[str] = mapped_column(SealedText)  # a person's name: sealed
    risk: Mapped[str | None] = mapped_column(String(8))
    notes: Mapped[str] = mapped_column(SealedText)  # what the family said: sealed


class WeeklyReport(Base):
    """研判会 report for one jurisdiction and week: its figures and its charts (PNG), kept for the record."""

    __tablename__ = "weekly_reports"
    __table_args__ = (UniqueConstraint("scope_code", "week_start"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scope_code: Mapped[str] = mapped_column(String(32), index=True)
    week_start: Mapped[date] = mapped_column(Date)
    generated_at: Mapped[datetime]
    figures: Mapped[dict] = mapped_column(SealedJSON)  # the repeat households' addresses among them: sealed
    charts: Mapped[dict] = mapped_column(JSON)  # chart name -> base64 PNG


class User(Base):
    """Someone who signs in to the API with a bearer key; only the key's SHA-256 is kept."""

    __tablename__ = "users"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    jurisdiction_code: Mapped[str | None] = mapped_column(ForeignKey("jurisdictions.code"))  # scope of operators and supervisors
    unit_code: Mapped[str | None] = mapped_column(ForeignKey("units.code"))  # unit staff
    mediator_id: Mapped[str | None] = mapped_column(ForeignKey("mediators.id"))  # mediators
    key_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class UiSession(Base):
    """A signed-in browser of the Temporal UI served under /temporal: the cookie carries a random
    session id, the register only its SHA-256, never the user's API key. Kept in the register, not in
    memory, so any API replica answers the browser and a sign-out holds everywhere at once."""

    __tablename__ = "ui_sessions"
    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)


class CallbackReceipt(Base):
    """A unit's signed callback, by its idempotency key: the same callback sent twice is refused."""

    __tablename__ = "callback_receipts"
    unit_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    case_no: Mapped[str] = mapped_column(String(32))
    received_at: Mapped[datetime] = mapped_column(default=lambda: datetime.now(timezone.utc))


class SpentSignature(Base):
    """A verified callback signature, kept whatever the answer: the same signed bytes are never acted
    on twice (a refused callback replayed after the case moved must not land). Kept only while its
    timestamp could still verify (store/callbacks.py prunes them)."""

    __tablename__ = "spent_signatures"
    unit_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    signature: Mapped[str] = mapped_column(String(128), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(index=True)


class PoliceIncident(Base):
    """警情流转: each incident the police platform transferred, and the case it opened or joined."""

    __tablename__ = "police_incidents"
    incident_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    case_no: Mapped[str] = mapped_column(String(32), index=True)
    linked: Mapped[bool] = mapped_column(Boolean, default=False)  # joined an open case about the same parties
    reported_at: Mapped[datetime]
    received_at: Mapped[datetime] = mapped_column(default=lambda: datetime.now(timezone.utc))


class PartyMark(Base):
    """A keyed digest of a party's identity (ID number, else name and phone), never the identity
    itself: finds the open case about the same people without keeping personal data in clear."""

    __tablename__ = "party_marks"
    case_no: Mapped[str] = mapped_column(String(32), primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    at: Mapped[datetime]


class Notice(Base):
    """Every notification sent (to a party, a unit, a leader, an operator), once per idempotency key."""

    __tablename__ = "notices"
    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    case_no: Mapped[str | None] = mapped_column(String(32), index=True)
    audience: Mapped[str] = mapped_column(String(16))
    # A party's name (or a unit's code, a leader's, an operator's), sealed; found by its keyed digest.
    recipient: Mapped[str] = mapped_column(SealedText)
    recipient_digest: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(SealedText)
    channels: Mapped[list] = mapped_column(JSON)
    sent_at: Mapped[datetime] = mapped_column(default=lambda: datetime.now(timezone.utc), index=True)


class LookupDigest(Base):
    """便民服务: a keyed digest of a case number with the last four digits of a party's phone, so a
    citizen can look up their case's progress while the register keeps neither the phone nor its
    digits in clear (store/lookup.py)."""

    __tablename__ = "lookup_digests"
    case_no: Mapped[str] = mapped_column(String(32), primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)


class CenterCalendar(Base):
    """A scope's own calendar entries (domain.calendar.CalendarEntries): the county's for all its
    centers, a center's over them."""

    __tablename__ = "center_calendars"
    scope_code: Mapped[str] = mapped_column(ForeignKey("jurisdictions.code"), primary_key=True)
    entries: Mapped[dict] = mapped_column(JSON)
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(100))
