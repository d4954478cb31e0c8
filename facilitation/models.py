"""Own the tables of a live session: its activities, phones, anonymous answers and signals.

Privacy by construction: Answer has no column that points at a member, a device or a
connection. It carries a per-activity slot key (so a phone can change its answer), an optional
keyed hash of a pseudonym only the phone holds (so the phone can see its own trend), a random
primary key (no insertion order to line up with arrivals) and the day only.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from groups.extensions import db
from groups.models import ActivityKind, GroupSession, Member
from groups.types import UTCDateTime, enum_column, utcnow


def _uuid() -> str:
    return uuid.uuid4().hex


class Phase(StrEnum):
    LOBBY = "lobby"
    ACTIVITY = "activity"
    GROUNDING = "grounding"
    CLOSED = "closed"


class ActivityState(StrEnum):
    PENDING = "pending"
    PREVIEW = "preview"
    OPEN = "open"
    CLOSED = "closed"


class Moderation(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class LiveSession(db.Model):
    """The state of a running group session: everything a restarted server needs to resume."""

    __tablename__ = "live_session"

    group_session_id: Mapped[int] = mapped_column(
        ForeignKey("group_session.id", ondelete="CASCADE"), primary_key=True
    )
    phase: Mapped[Phase] = mapped_column(enum_column(Phase), default=Phase.LOBBY)
    current_activity_id: Mapped[int | None] = mapped_column(
        ForeignKey("session_activity.id", ondelete="SET NULL"), default=None
    )
    grounding_since: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    screen_token_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    screen_code_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    screen_code_expires: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    revision: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    group_session: Mapped[GroupSession] = relationship()
    current_activity: Mapped[SessionActivity | None] = relationship(
        foreign_keys=[current_activity_id]
    )


class SessionActivity(db.Model):
    """One agenda item of one group session, copied from the plan when the session starts."""

    __tablename__ = "session_activity"
    __table_args__ = (UniqueConstraint("group_session_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_session_id: Mapped[int] = mapped_column(
        ForeignKey("group_session.id", ondelete="CASCADE")
    )
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[ActivityKind] = mapped_column(enum_column(ActivityKind))
    title: Mapped[str] = mapped_column(String(120))
    text: Mapped[str] = mapped_column(Text, default="")
    preview: Mapped[str] = mapped_column(Text, default="")
    intensity: Mapped[int] = mapped_column(Integer, default=1)
    timer_seconds: Mapped[int | None] = mapped_column(Integer, default=None)
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[ActivityState] = mapped_column(
        enum_column(ActivityState), default=ActivityState.PENDING
    )
    hold_results: Mapped[bool] = mapped_column(default=False)
    revealed: Mapped[bool] = mapped_column(default=False)
    timer_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    timer_remaining: Mapped[float | None] = mapped_column(Float, default=None)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    group_session: Mapped[GroupSession] = relationship()


class Device(db.Model):
    """A phone of a cohort, known by the hash of a random token it keeps; no account."""

    __tablename__ = "device"

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohort.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("member.id", ondelete="CASCADE"), default=None
    )
    language: Mapped[str | None] = mapped_column(String(8), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    member: Mapped[Member | None] = relationship()


class Answer(db.Model):
    """One anonymous answer to one activity: mood, connectedness, questionnaire or prompt.

    Deliberately no member_id, device_id or precise time: see the module docstring.
    """

    __tablename__ = "answer"
    __table_args__ = (UniqueConstraint("activity_id", "slot_key"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=_uuid)
    activity_id: Mapped[int] = mapped_column(ForeignKey("session_activity.id", ondelete="CASCADE"))
    # HMAC of the phone's answer secret and this activity alone: lets a phone change its answer.
    slot_key: Mapped[str] = mapped_column(String(64))
    # Keyed hash of a pseudonym token only the phone holds; null when the phone keeps no history.
    pseudonym_hash: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    client_id: Mapped[str] = mapped_column(String(64))
    passed: Mapped[bool] = mapped_column(default=False)
    pleasure: Mapped[float | None] = mapped_column(Float, default=None)
    arousal: Mapped[float | None] = mapped_column(Float, default=None)
    words: Mapped[list[str]] = mapped_column(JSON, default=list)
    connectedness: Mapped[int | None] = mapped_column(Integer, default=None)
    response: Mapped[str | None] = mapped_column(String(16), default=None)
    text: Mapped[str | None] = mapped_column(String(280), default=None)
    reaction: Mapped[str | None] = mapped_column(String(16), default=None)
    moderation: Mapped[Moderation | None] = mapped_column(enum_column(Moderation), default=None)
    items: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    score: Mapped[float | None] = mapped_column(Float, default=None)
    answered_on: Mapped[date] = mapped_column(default=lambda: utcnow().date())

    activity: Mapped[SessionActivity] = relationship()


class Appreciation(db.Model):
    """A short appreciation to a peer or the group, shown only once the facilitator approves it."""

    __tablename__ = "appreciation"
    __table_args__ = (UniqueConstraint("activity_id", "client_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("session_activity.id", ondelete="CASCADE"))
    client_id: Mapped[str] = mapped_column(String(64))
    recipient_id: Mapped[int | None] = mapped_column(
        ForeignKey("member.id", ondelete="CASCADE"), default=None
    )
    # Kept only when the sender chose to sign; an unsigned one has no link to its sender.
    signature: Mapped[str | None] = mapped_column(String(40), default=None)
    text: Mapped[str] = mapped_column(String(280))
    moderation: Mapped[Moderation] = mapped_column(
        enum_column(Moderation), default=Moderation.PENDING
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    recipient: Mapped[Member | None] = relationship()
    activity: Mapped[SessionActivity] = relationship()


class PauseSignal(db.Model):
    """A private "I need a pause": seen by the facilitator only, never by the screen."""

    __tablename__ = "pause_signal"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_session_id: Mapped[int] = mapped_column(
        ForeignKey("group_session.id", ondelete="CASCADE")
    )
    # Set only when the participant asked "please check in with me".
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("member.id", ondelete="CASCADE"), default=None
    )
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    member: Mapped[Member | None] = relationship()


class DyadPairing(db.Model):
    """Who was paired with whom in one round of a dyads activity (names shown by design)."""

    __tablename__ = "dyad_pairing"
    __table_args__ = (UniqueConstraint("activity_id", "round", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("session_activity.id", ondelete="CASCADE"))
    round: Mapped[int] = mapped_column(Integer)
    group_index: Mapped[int] = mapped_column(Integer)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))


class SessionAggregate(db.Model):
    """One small-number-suppressed figure of a session, kept after its raw answers are purged.

    Written by the retention purge just before the answers go. A withheld figure keeps only its
    decision and count band (never a value), so a dashboard says "fewer than k" as it did before.
    """

    __tablename__ = "session_aggregate"
    __table_args__ = (UniqueConstraint("group_session_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_session_id: Mapped[int] = mapped_column(
        ForeignKey("group_session.id", ondelete="CASCADE"), index=True
    )
    key: Mapped[str] = mapped_column(String(64))
    family: Mapped[str] = mapped_column(String(32))
    # The measurements the figure drew on, so later figures are still checked against it.
    sources: Mapped[list[str]] = mapped_column(JSON, default=list)
    position: Mapped[int] = mapped_column(Integer)
    # The respondent count of a published figure; None for a withheld one (a count below k is
    # itself a figure from fewer than k people).
    n: Mapped[int | None] = mapped_column(Integer, default=None)
    published: Mapped[bool] = mapped_column(default=False)
    reason: Mapped[str | None] = mapped_column(String(32), default=None)
    value: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    group_session: Mapped[GroupSession] = relationship()
