"""The data model for the whole product, as typed SQLAlchemy 2.0 tables.

Privacy shapes it: a person exists only after they consented; what partners write
(appreciations, invitation lines) lives in its own tables, owned by the writer and erased
with them; therapists reach couples only through links that each partner agreed to, and
nothing a therapist can query joins to those text columns. Every timestamp is aware and
stored in UTC (see `UTCDateTime`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    Time,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UTCDateTime(TypeDecorator[dt.datetime]):
    """An aware datetime stored as UTC; naive values are refused, not guessed."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(dt.UTC)
        # SQLite has no time zone type: store the UTC wall time, so string order is time order.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        assert isinstance(value, dt.datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dt.datetime: UTCDateTime(), dt.time: Time()}


# Kinds of scheduled nudge. Kept as strings (not a DB enum) so adding one needs no migration.
NIGHTLY_APPRECIATION = "nightly_appreciation"
WEEKLY_CHECKIN = "weekly_checkin"
TIMING_TIP = "timing_tip"
PATH_FOR_ONE = "path_for_one"
# The delivery kinds that carry a "just one session" invitation to a paired partner, and
# the one reminder a partner may ask for.
INVITATION = "invitation"
INVITATION_REMINDER = "invitation_reminder"
SCHEDULE_KINDS = (NIGHTLY_APPRECIATION, WEEKLY_CHECKIN, TIMING_TIP, PATH_FOR_ONE)


class Person(Base):
    """Someone who consented to use the bot. Nothing about a person exists before that."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    telegram_user_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    # Private chats share the user's id, but Telegram may migrate a chat; keep both.
    chat_id: Mapped[int] = mapped_column(BigInteger)
    display_name: Mapped[str] = mapped_column(String(64))
    timezone: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8))
    consented_at: Mapped[dt.datetime]
    created_at: Mapped[dt.datetime]
    # Paused: no nudges. paused_at without paused_until means "until /resume".
    paused_at: Mapped[dt.datetime | None]
    paused_until: Mapped[dt.datetime | None]
    # Stopped: no message of any kind until /start.
    stopped_at: Mapped[dt.datetime | None]
    # Telegram answered 403: the person blocked the bot. /start clears it.
    blocked_at: Mapped[dt.datetime | None]
    quiet_start: Mapped[dt.time | None]
    quiet_end: Mapped[dt.time | None]
    # Which free-text answer the bot is waiting for ("name", "timezone", ...), if any.
    awaiting: Mapped[str | None] = mapped_column(String(32))
    awaiting_ref: Mapped[int | None]
    # A prompt (delivery id) that arrived while another question was open: its question
    # opens when that one closes, instead of taking over what the person was writing.
    held_ref: Mapped[int | None]
    # A deep link (a /start payload) opened before onboarding finished: routed when it
    # does, unless it has expired. In the database, not in process memory, so a restart
    # or another process continues it; erased with the person.
    pending_start: Mapped[str | None] = mapped_column(String(64))
    pending_start_expires_at: Mapped[dt.datetime | None]

    schedules: Mapped[list[Schedule]] = relationship(
        back_populates="person",
        cascade="all, delete-orphan",
        passive_deletes=True,
        foreign_keys="Schedule.person_id",
    )
    membership: Mapped[CoupleMember | None] = relationship(
        back_populates="person", cascade="all, delete-orphan", passive_deletes=True
    )


class Couple(Base):
    """Two people who each chose to pair."""

    __tablename__ = "couples"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[dt.datetime]
    # "Reveal when both have written": each sees the other's appreciation after writing theirs.
    reveal_together: Mapped[bool] = mapped_column(Boolean, default=False)
    checkins_completed: Mapped[int] = mapped_column(Integer, default=0)
    # A proposed weekly check-in, waiting for the other partner to confirm it.
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    proposed_weekday: Mapped[int | None] = mapped_column(SmallInteger)
    proposed_time: Mapped[dt.time | None]
    proposed_zone: Mapped[str | None] = mapped_column(String(64))

    members: Mapped[list[CoupleMember]] = relationship(
        back_populates="couple", cascade="all, delete-orphan", passive_deletes=True
    )


class CoupleMember(Base):
    """One partner's own consent to a couple; a person is in at most one couple."""

    __tablename__ = "couple_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    couple_id: Mapped[int] = mapped_column(ForeignKey("couples.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), unique=True)
    joined_at: Mapped[dt.datetime]
    # Set when this partner privately paused relays to the other.
    relay_paused_at: Mapped[dt.datetime | None]

    couple: Mapped[Couple] = relationship(back_populates="members")
    person: Mapped[Person] = relationship(back_populates="membership")


class Schedule(Base):
    """A recurring nudge as data: a rule in local wall-clock time and the next UTC instant."""

    __tablename__ = "schedules"
    __table_args__ = (
        CheckConstraint("(person_id IS NULL) <> (couple_id IS NULL)", name="one_owner"),
        CheckConstraint("weekdays > 0 AND weekdays < 128", name="weekdays_mask"),
        CheckConstraint("window_minutes >= 0 AND window_minutes <= 180", name="window"),
        # Claimed in (next_fire_at, turn) order straight from the index: see `turn`.
        Index("ix_schedules_due", "next_fire_at", "turn"),
        UniqueConstraint("person_id", "kind"),
        UniqueConstraint("couple_id", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    couple_id: Mapped[int | None] = mapped_column(ForeignKey("couples.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    local_time: Mapped[dt.time]
    # Bit i set = weekday i (0 = Monday) is on.
    weekdays: Mapped[int] = mapped_column(SmallInteger, default=127)
    window_minutes: Mapped[int] = mapped_column(SmallInteger, default=0)
    zone: Mapped[str] = mapped_column(String(64))
    # When the dispatcher should next fire it; NULL = off.
    next_fire_at: Mapped[dt.datetime | None]
    # Its place among schedules due at the same instant (ascending): a rotation in [0, 1)
    # that changes every night, minus how many of its nudges in a row missed or came late
    # past their window, so a crowd is not claimed in the same order nightly and who
    # missed last time goes first (scheduler.slots.queue_turn, scheduler.claims).
    turn: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    set_by: Mapped[str] = mapped_column(String(16), default="person")
    therapist_id: Mapped[int | None] = mapped_column(
        ForeignKey("therapists.id", ondelete="SET NULL")
    )
    # A therapist's own wording, rendered in the sandbox.
    custom_template: Mapped[str | None] = mapped_column(Text)
    # When the bot last asked whether fewer of these would suit better (asked once).
    care_asked_at: Mapped[dt.datetime | None]
    # The partner who turned it off themselves (set_by "person", next_fire_at NULL): their
    # choice, which no therapist change or plan step undoes. Names who, for a shared one.
    turned_off_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]

    person: Mapped[Person | None] = relationship(
        back_populates="schedules", foreign_keys=[person_id]
    )


class Delivery(Base):
    """One nudge to one person: claimed, then sent, with its outcome. Holds no message text."""

    __tablename__ = "deliveries"
    __table_args__ = (
        # The idempotency key: one delivery per schedule, person and due instant.
        UniqueConstraint("schedule_id", "person_id", "due_at"),
        Index("ix_deliveries_pending", "status", "send_after"),
        Index("ix_deliveries_due_at", "due_at"),  # retention
        Index("ix_deliveries_person_kind", "person_id", "kind", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    schedule_id: Mapped[int | None] = mapped_column(ForeignKey("schedules.id", ondelete="SET NULL"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    due_at: Mapped[dt.datetime]
    # When it may go: the due time, or a later slot inside the delivery window.
    send_after: Mapped[dt.datetime]
    # The end of the window, after which it is missed rather than sent late.
    deadline: Mapped[dt.datetime]
    # claimed -> sending -> sent | failed | blocked | ambiguous; or missed, skipped.
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0)
    claimed_at: Mapped[dt.datetime]
    sent_at: Mapped[dt.datetime | None]
    # A short error class name, never message text.
    error: Mapped[str | None] = mapped_column(String(64))
    telegram_message_id: Mapped[int | None] = mapped_column(BigInteger)
    # What a relay carries: the appreciation it delivers or acknowledges.
    ref_id: Mapped[int | None]
    # Which wording was used, so prompts do not repeat within 14 days.
    variant: Mapped[str | None] = mapped_column(String(64))
    silent: Mapped[bool] = mapped_column(Boolean, default=False)
    # What the person did with it: snoozed, done, skipped (a week), replied.
    response: Mapped[str | None] = mapped_column(String(16))
    responded_at: Mapped[dt.datetime | None]
    snoozed_until: Mapped[dt.datetime | None]
    # The process (`Worker`) that took it while it is queued or sending.
    worker_id: Mapped[int | None]


class Worker(Base):
    """A running `nudgebot run` process; its lease lasts while its heartbeat is fresh."""

    __tablename__ = "workers"

    id: Mapped[int] = mapped_column(primary_key=True)
    # host:pid, for operators' eyes only.
    name: Mapped[str] = mapped_column(String(128))
    roles: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[dt.datetime]
    heartbeat_at: Mapped[dt.datetime] = mapped_column(index=True)
    stopped_at: Mapped[dt.datetime | None]


class Lease(Base):
    """A job only one process may do at a time (polling), held while it is renewed."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    worker_id: Mapped[int]
    expires_at: Mapped[dt.datetime]


class SeenUpdate(Base):
    """An update some process handled: never handled twice across a handover."""

    __tablename__ = "seen_updates"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    seen_at: Mapped[dt.datetime] = mapped_column(index=True)


class InboxUpdate(Base):
    """A polled update not yet handled (deleted once it is): what a process that takes
    over polling finishes for one that died. Holds what the person wrote, briefly."""

    __tablename__ = "update_inbox"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    worker_id: Mapped[int]
    payload: Mapped[str] = mapped_column(Text)
    received_at: Mapped[dt.datetime] = mapped_column(index=True)


class SendBudget(Base):
    """The next free global send slot (Unix seconds), shared by every process."""

    __tablename__ = "send_budget"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    next_free: Mapped[float] = mapped_column(Float)


class WeeklyCount(Base):
    """What purged deliveries counted for the therapist, per person, week and kind.

    Retention (`storage.retention`) deletes old delivery rows; before it does, it adds what
    they counted here, so the weekly figures a therapist sees stay the same. Counts only,
    erased with the person.
    """

    __tablename__ = "weekly_counts"
    __table_args__ = (UniqueConstraint("person_id", "week_start", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    # The Monday (UTC date) of the week the deliveries were due in.
    week_start: Mapped[dt.date]
    kind: Mapped[str] = mapped_column(String(32))
    delivered: Mapped[int] = mapped_column(Integer, default=0)
    snoozed: Mapped[int] = mapped_column(Integer, default=0)
    # Check-in occurrences marked done, credited once per occurrence (to one partner).
    checkins_done: Mapped[int] = mapped_column(Integer, default=0)
    # Delivered and answered (anything but a snooze), and delivered with no answer at all:
    # the engagement the therapist's overview and export show. NULL on rows from before
    # migration 0013, which did not keep them (and stays NULL if more is added to one).
    answered: Mapped[int | None] = mapped_column(Integer)
    ignored: Mapped[int | None] = mapped_column(Integer)


APPRECIATION = "appreciation"
PATH_NOTE = "path_note"


class Appreciation(Base):
    """What a person wrote in reply to a prompt; private unless they share it.

    `kind` is an appreciation (the nightly prompt; the writer may share it) or a path note
    (an answer to a path-for-one prompt: the writer's alone, never shared with anyone).
    """

    __tablename__ = "appreciations"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16), default=APPRECIATION, server_default=APPRECIATION)
    couple_id: Mapped[int | None] = mapped_column(ForeignKey("couples.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    written_at: Mapped[dt.datetime]
    # The local evening it belongs to, for "reveal when both have written".
    local_date: Mapped[dt.date]
    shared_at: Mapped[dt.datetime | None]
    delivered_at: Mapped[dt.datetime | None]
    thanked_at: Mapped[dt.datetime | None]


class OneTimeToken(Base):
    """A secret in a deep link or login link; only its hash is stored."""

    __tablename__ = "one_time_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    # pair, invite, therapist_register, therapist_link, dashboard_login
    purpose: Mapped[str] = mapped_column(String(24))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    therapist_id: Mapped[int | None] = mapped_column(
        ForeignKey("therapists.id", ondelete="CASCADE")
    )
    ref_id: Mapped[int | None]
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]


class Invitation(Base):
    """A "just one session" invitation from an initiator to their partner."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    initiator_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    # draft, scheduled, link, sent, seen, answered, cancelled, undelivered
    status: Mapped[str] = mapped_column(String(16))
    # The initiator's choices (framing, offer, hopes, variant); never shown to anyone else.
    choices: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    personal_line: Mapped[str | None] = mapped_column(Text)
    send_at: Mapped[dt.datetime | None]
    sent_at: Mapped[dt.datetime | None]
    seen_at: Mapped[dt.datetime | None]
    answered_at: Mapped[dt.datetime | None]
    # yes, more, not_now, never
    answer: Mapped[str | None] = mapped_column(String(16))
    # The once-only reminder the partner asked for, and when it went.
    reminder_at: Mapped[dt.datetime | None]
    reminded_at: Mapped[dt.datetime | None]
    # Who opened the link (a hash of their Telegram id): only they may answer it.
    opened_by_hash: Mapped[str | None] = mapped_column(String(64))
    # Kept only when a partner who is not signed up asks for the reminder.
    recipient_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime]
    # When the initiator was told that it could not be delivered (status "undelivered").
    initiator_told_at: Mapped[dt.datetime | None]


class InviteOptOut(Base):
    """'Please don't ask me through this bot again', kept even after /delete.

    Holds only a keyed hash of the Telegram user id, so it cannot be turned back into a
    person without the server's secret.
    """

    __tablename__ = "invite_opt_outs"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime]


class InviteCooldown(Base):
    """An initiator's "not now" pause that outlives their /delete, until it ends.

    Holds only a keyed hash of the initiator's Telegram user id and the end of the pause,
    so that erasing and starting again does not reset it. Removed when the pause ends.
    """

    __tablename__ = "invite_cooldowns"
    __table_args__ = (Index("ix_invite_cooldowns_until", "until"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_hash: Mapped[str] = mapped_column(String(64), unique=True)
    until: Mapped[dt.datetime]


class Therapist(Base):
    """A therapist account, created only by the operator."""

    __tablename__ = "therapists"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    telegram_user_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime]
    registered_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]
    # The dashboard's language ("en", "de"): chosen on the dashboard, or Telegram's
    # language_code when the bot saw one; unset, the browser's Accept-Language decides.
    language: Mapped[str | None] = mapped_column(String(8))


class TherapistLink(Base):
    """A therapist's link to a couple; active for a partner only while their consent stands."""

    __tablename__ = "therapist_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    therapist_id: Mapped[int] = mapped_column(ForeignKey("therapists.id", ondelete="CASCADE"))
    couple_id: Mapped[int] = mapped_column(ForeignKey("couples.id", ondelete="CASCADE"))
    created_at: Mapped[dt.datetime]
    ended_at: Mapped[dt.datetime | None]
    # A practice plan over weeks: [{"kind": "weekly_checkin", "from_week": 3}, ...]; a step
    # may end with "to_week" (inclusive), so a plan is a list of phases.
    plan: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    plan_starts_on: Mapped[dt.date | None]
    # What the therapist set: times per kind, per-partner overrides, a pause (no text).
    config: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The therapist's own short code for the couple ("MJ-04"), shown instead of names.
    client_code: Mapped[str | None] = mapped_column(String(24))


class PlanTemplate(Base):
    """A therapist's named plan, to apply to several couples: steps as in `TherapistLink.plan`."""

    __tablename__ = "plan_templates"
    __table_args__ = (UniqueConstraint("therapist_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    therapist_id: Mapped[int] = mapped_column(ForeignKey("therapists.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(60))
    # [{"kind": "weekly_checkin", "from_week": 3, "to_week": 8}, ...]; no text.
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime]


class WordingVersion(Base):
    """One saved version of a therapist's own wording for a couple's prompt of one kind.

    `kind` is the prompt (`WORDING_KINDS`); `text` is the therapist's template, or NULL
    for "back to the library's wording". The newest row is the wording in force; older
    ones are the history a therapist can restore. Only the therapist's own words: nothing
    a partner wrote is ever stored here.
    """

    __tablename__ = "wording_versions"
    __table_args__ = (
        Index("ix_wording_versions_link_kind", "therapist_id", "couple_id", "kind", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    therapist_id: Mapped[int] = mapped_column(ForeignKey("therapists.id", ondelete="CASCADE"))
    couple_id: Mapped[int] = mapped_column(ForeignKey("couples.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    text: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime]


class DashboardSession(Base):
    """A signed-in dashboard browser. Only a hash of the session id (the cookie) is kept.

    Ends at `expires_at`, on sign-out, or when the therapist signs out everywhere.
    """

    __tablename__ = "dashboard_sessions"
    __table_args__ = (Index("ix_dashboard_sessions_therapist_id", "therapist_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    id_hash: Mapped[str] = mapped_column(String(64), unique=True)
    therapist_id: Mapped[int] = mapped_column(ForeignKey("therapists.id", ondelete="CASCADE"))
    # Sent in every form; a forged cross-site POST cannot know it.
    csrf_token: Mapped[str] = mapped_column(String(64))
    # "Remember this device": a longer session, chosen by the therapist.
    remembered: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]


class TherapistConsent(Base):
    """One partner's agreement to a therapist link."""

    __tablename__ = "therapist_consents"
    __table_args__ = (UniqueConstraint("link_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("therapist_links.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    agreed_at: Mapped[dt.datetime]
    withdrawn_at: Mapped[dt.datetime | None]


# What a notice is about (`Notice.topic`).
SCHEDULE_CHANGED = "schedule_changed"
LINK_ENDED = "link_ended"
# A plan's new phase changed what a partner receives: told once, at a sensible local hour.
PHASE_STARTED = "phase_started"

# To a partner: their therapist ended the link from the dashboard (as /endlink tells them).
ENDED_BY_THERAPIST = "ended_by_therapist"


class Notice(Base):
    """A message owed to someone about a change they did not make, sent once.

    A partner is owed one when what they receive changes because of their therapist (a
    link, a saved setting, a plan step, a revoked account): one row per practice that
    changed, sent together as one message. A therapist is owed one when a link ends
    (`couple_ref`: the couple's number as /clients shows it, nothing a partner wrote).
    Recorded in the same transaction as the change, so no change goes untold.
    """

    __tablename__ = "notices"
    __table_args__ = (
        CheckConstraint("(person_id IS NULL) <> (therapist_id IS NULL)", name="one_recipient"),
        Index("ix_notices_unsent", "sent_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    therapist_id: Mapped[int | None] = mapped_column(
        ForeignKey("therapists.id", ondelete="CASCADE")
    )
    topic: Mapped[str] = mapped_column(String(32))
    # For schedule_changed: the practice, and "started", "changed" or "stopped".
    kind: Mapped[str | None] = mapped_column(String(32))
    change: Mapped[str | None] = mapped_column(String(16))
    next_at: Mapped[dt.datetime | None]
    # Whose change it was (for the partner's message: the therapist's name).
    by_therapist_id: Mapped[int | None] = mapped_column(
        ForeignKey("therapists.id", ondelete="SET NULL")
    )
    couple_ref: Mapped[int | None]
    # The therapist's own code for that couple when the link ended (the link may be gone).
    couple_code: Mapped[str | None] = mapped_column(String(24))
    created_at: Mapped[dt.datetime]
    sent_at: Mapped[dt.datetime | None]
    # Not sent before this instant (a phase notice waits out the partner's night).
    send_after: Mapped[dt.datetime | None]
    # For phase_started: what the practice becomes, in the partner's zone (weekdays, time,
    # how often); never any text.
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
