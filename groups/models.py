"""Own the tables for staff, programs and ladders, cohorts, members, sessions and attendance."""

from __future__ import annotations

import secrets
from datetime import date, datetime, time
from enum import StrEnum
from typing import Any

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from groups.extensions import db
from groups.types import UTCDateTime, enum_column, utcnow


class Role(StrEnum):
    ADMIN = "admin"
    COORDINATOR = "coordinator"
    FACILITATOR = "facilitator"


class ActivityKind(StrEnum):
    CHECK_IN = "check_in"
    PROMPT = "prompt"
    APPRECIATION = "appreciation"
    DYADS = "dyads"
    CHECK_OUT = "check_out"
    QUESTIONNAIRE = "questionnaire"


class CohortStatus(StrEnum):
    PLANNED = "planned"
    ACTIVE = "active"
    COMPLETED = "completed"
    ARCHIVED = "archived"


class MemberStatus(StrEnum):
    ACTIVE = "active"
    LEFT = "left"


class SessionState(StrEnum):
    PLANNED = "planned"
    LIVE = "live"
    ENDED = "ended"


class AttendanceStatus(StrEnum):
    PRESENT = "present"
    LATE = "late"
    ABSENT = "absent"
    EXCUSED = "excused"


class AttendanceSource(StrEnum):
    PHONE = "phone"
    FACILITATOR = "facilitator"


def _new_session_token() -> str:
    return secrets.token_urlsafe(24)


program_coordinator = Table(
    "program_coordinator",
    db.metadata,
    Column("program_id", ForeignKey("program.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("staff_user.id", ondelete="CASCADE"), primary_key=True),
)

cohort_facilitator = Table(
    "cohort_facilitator",
    db.metadata,
    Column("cohort_id", ForeignKey("cohort.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("staff_user.id", ondelete="CASCADE"), primary_key=True),
)

program_instrument = Table(
    "program_instrument",
    db.metadata,
    Column("program_id", ForeignKey("program.id", ondelete="CASCADE"), primary_key=True),
    Column("instrument_id", ForeignKey("instrument.id", ondelete="CASCADE"), primary_key=True),
)


class User(UserMixin, db.Model):
    """A staff account: admin, coordinator or facilitator. Participants never have one."""

    __tablename__ = "staff_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(80))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(enum_column(Role))
    active: Mapped[bool] = mapped_column(default=True)
    # Rotated on logout-everywhere, password change and deactivation: old cookies stop working.
    session_token: Mapped[str] = mapped_column(String(64), default=_new_session_token, unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    coordinated_programs: Mapped[list[Program]] = relationship(
        secondary=program_coordinator, back_populates="coordinators"
    )
    cohorts: Mapped[list[Cohort]] = relationship(
        secondary=cohort_facilitator, back_populates="facilitators"
    )

    @property
    def is_active(self) -> bool:  # type: ignore[override]
        return self.active

    def get_id(self) -> str:
        return self.session_token

    def rotate_session_token(self) -> None:
        self.session_token = _new_session_token()

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"


class Instrument(db.Model):
    """A measure as data: items, response format, scoring, norms, licence and citation."""

    __tablename__ = "instrument"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(32))  # mood | connectedness | questionnaire
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    response_format: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    scoring: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    norms: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    licence: Mapped[str] = mapped_column(String(200))
    citation: Mapped[str] = mapped_column(Text, default="")
    builtin: Mapped[bool] = mapped_column(default=False)


class Program(db.Model):
    """A program: its ladder of session plans, privacy thresholds and instrument set."""

    __tablename__ = "program"
    __table_args__ = (
        CheckConstraint("min_group_size >= 3", name="min_group_size_at_least_3"),
        CheckConstraint("cycle_length BETWEEN 1 AND 52", name="cycle_length_range"),
        CheckConstraint("retention_days >= 1", name="retention_days_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    cycle_length: Mapped[int] = mapped_column(Integer, default=8)
    # k: no anonymous figure is shown from fewer than this many people.
    min_group_size: Mapped[int] = mapped_column(Integer, default=5)
    retention_days: Mapped[int] = mapped_column(Integer, default=365)
    allow_guests: Mapped[bool] = mapped_column(default=False)
    language: Mapped[str] = mapped_column(String(8), default="en")
    consent_version: Mapped[int] = mapped_column(Integer, default=1)
    consent_text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    plans: Mapped[list[SessionPlan]] = relationship(
        back_populates="program",
        order_by="SessionPlan.position",
        cascade="all, delete-orphan",
    )
    coordinators: Mapped[list[User]] = relationship(
        secondary=program_coordinator, back_populates="coordinated_programs"
    )
    instruments: Mapped[list[Instrument]] = relationship(
        secondary=program_instrument, order_by="Instrument.key"
    )
    cohorts: Mapped[list[Cohort]] = relationship(
        back_populates="program", order_by="Cohort.start_date"
    )


class SessionPlan(db.Model):
    """One rung of a program's ladder: the agenda of one weekly session."""

    __tablename__ = "session_plan"
    __table_args__ = (UniqueConstraint("program_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("program.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(120))
    goal: Mapped[str] = mapped_column(Text, default="")

    program: Mapped[Program] = relationship(back_populates="plans")
    activities: Mapped[list[ActivityTemplate]] = relationship(
        back_populates="plan",
        order_by="ActivityTemplate.position",
        cascade="all, delete-orphan",
    )

    @property
    def rung(self) -> int:
        return self.position


class ActivityTemplate(db.Model):
    """One item of a session plan's agenda, copied into a live session when it starts."""

    __tablename__ = "activity_template"
    __table_args__ = (
        UniqueConstraint("plan_id", "position"),
        CheckConstraint("intensity BETWEEN 1 AND 5", name="intensity_range"),
        CheckConstraint(
            "timer_seconds IS NULL OR timer_seconds BETWEEN 10 AND 3600", name="timer_range"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("session_plan.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[ActivityKind] = mapped_column(enum_column(ActivityKind))
    title: Mapped[str] = mapped_column(String(120))
    text: Mapped[str] = mapped_column(Text, default="")
    preview: Mapped[str] = mapped_column(Text, default="")
    intensity: Mapped[int] = mapped_column(Integer, default=1)
    timer_seconds: Mapped[int | None] = mapped_column(Integer, default=None)
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    plan: Mapped[SessionPlan] = relationship(back_populates="activities")


class Cohort(db.Model):
    """One run of a program: facilitators, a weekly schedule, members and their sessions."""

    __tablename__ = "cohort"
    __table_args__ = (UniqueConstraint("program_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("program.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(120))
    start_date: Mapped[date]
    meeting_time: Mapped[time]
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    session_count: Mapped[int] = mapped_column(Integer)
    duration_minutes: Mapped[int] = mapped_column(Integer, default=90)
    language: Mapped[str] = mapped_column(String(8), default="en")
    status: Mapped[CohortStatus] = mapped_column(
        enum_column(CohortStatus), default=CohortStatus.PLANNED
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    program: Mapped[Program] = relationship(back_populates="cohorts")
    facilitators: Mapped[list[User]] = relationship(
        secondary=cohort_facilitator, back_populates="cohorts", order_by="User.display_name"
    )
    members: Mapped[list[Member]] = relationship(
        back_populates="cohort", order_by="Member.display_name", cascade="all, delete-orphan"
    )
    sessions: Mapped[list[GroupSession]] = relationship(
        back_populates="cohort", order_by="GroupSession.number", cascade="all, delete-orphan"
    )

    @property
    def weekday(self) -> int:
        return self.start_date.weekday()


class Member(db.Model):
    """A participant of one cohort, known only by a pseudonymous display name."""

    __tablename__ = "member"
    __table_args__ = (UniqueConstraint("cohort_id", "name_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohort.id", ondelete="CASCADE"))
    display_name: Mapped[str] = mapped_column(String(40))
    # Case- and space-folded display name, so "Sam" and " sam " cannot both be on a roster.
    name_key: Mapped[str] = mapped_column(String(40))
    status: Mapped[MemberStatus] = mapped_column(
        enum_column(MemberStatus), default=MemberStatus.ACTIVE
    )
    is_guest: Mapped[bool] = mapped_column(default=False)
    consent_version: Mapped[int | None] = mapped_column(Integer, default=None)
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    cohort: Mapped[Cohort] = relationship(back_populates="members")
    attendance: Mapped[list[Attendance]] = relationship(
        back_populates="member", cascade="all, delete-orphan", passive_deletes=True
    )


class GroupSession(db.Model):
    """One weekly meeting of a cohort (never called Session: that name is taken three times)."""

    __tablename__ = "group_session"
    __table_args__ = (UniqueConstraint("cohort_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohort.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    scheduled_at: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[SessionState] = mapped_column(
        enum_column(SessionState), default=SessionState.PLANNED
    )
    plan_id: Mapped[int | None] = mapped_column(
        ForeignKey("session_plan.id", ondelete="SET NULL"), default=None
    )
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # Set only while live; unique so two live rooms never share a code, cleared when it ends.
    join_code: Mapped[str | None] = mapped_column(String(6), unique=True, default=None)

    cohort: Mapped[Cohort] = relationship(back_populates="sessions")
    plan: Mapped[SessionPlan | None] = relationship()
    attendance: Mapped[list[Attendance]] = relationship(
        back_populates="group_session", cascade="all, delete-orphan"
    )


class Attendance(db.Model):
    """Whether one member came to one group session, and who said so."""

    __tablename__ = "attendance"
    __table_args__ = (UniqueConstraint("group_session_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_session_id: Mapped[int] = mapped_column(
        ForeignKey("group_session.id", ondelete="CASCADE")
    )
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    status: Mapped[AttendanceStatus] = mapped_column(enum_column(AttendanceStatus))
    source: Mapped[AttendanceSource] = mapped_column(enum_column(AttendanceSource))
    arrived_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    group_session: Mapped[GroupSession] = relationship(back_populates="attendance")
    member: Mapped[Member] = relationship(back_populates="attendance")


class AuditEvent(db.Model):
    """A staff action worth answering for later: exports, roster views, deletions."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_user.id", ondelete="SET NULL"), default=None
    )
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[int | None] = mapped_column(Integer, default=None)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
