"""Own the retention rule: a program's raw answers, appreciations and pause signals expire.

Each program keeps raw rows for `retention_days` after a group session ended. After that the
anonymous answers, the appreciation texts and the pause signals of that session are deleted;
the session, its agenda copy and its attendance stay (they belong to the roster, which has its
own delete-on-request path).

Aggregates: dashboards keep small-number-suppressed aggregates of expired sessions
(facilitation.models.SessionAggregate). They are computed from the raw rows *before* those
rows go, in the same transaction: `keep_aggregates` is called first for each program.

Purging is idempotent: a second run with the same clock finds nothing left to delete.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Delete, Select, delete, select

from facilitation.models import Answer, Appreciation, PauseSignal, SessionActivity
from facilitation.outcomes import store_aggregates
from groups.access import is_admin, require_actor
from groups.errors import Forbidden
from groups.extensions import db
from groups.models import Cohort, GroupSession, Program
from groups.services import audit


@dataclass(frozen=True)
class PurgeResult:
    """What one program lost to its retention period in one run."""

    program_id: int
    program_name: str
    retention_days: int
    cutoff: datetime
    answers: int
    appreciations: int
    pause_signals: int

    @property
    def total(self) -> int:
        return self.answers + self.appreciations + self.pause_signals


def expired_sessions(program: Program, cutoff: datetime) -> Select[tuple[int]]:
    """Select the ids of a program's group sessions that ended before the cutoff."""
    return (
        select(GroupSession.id)
        .join(Cohort, Cohort.id == GroupSession.cohort_id)
        .where(
            Cohort.program_id == program.id,
            GroupSession.ended_at.is_not(None),
            GroupSession.ended_at < cutoff,
        )
    )


def keep_aggregates(program: Program, session_ids: Sequence[int]) -> None:
    """Hook: store the suppressed aggregates of these sessions before their raw rows go.

    Runs inside the purge's transaction, so the aggregates and the deletion commit together.
    The figures are resolved exactly as the dashboards resolve them (facilitation.outcomes),
    and withheld ones keep their decision but no value.
    """
    store_aggregates(program, session_ids)


def _count(statement: Delete) -> int:
    # Bulk delete: rows are never loaded, and the commit below expires anything stale.
    result = db.session.execute(statement.execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)


def purge_expired(actor, *, now: datetime) -> list[PurgeResult]:
    """Delete raw answers, appreciations and pause signals past each program's retention."""
    actor = require_actor(actor)
    if not is_admin(actor):
        raise Forbidden("Only an admin purges expired data.")
    if now.tzinfo is None:
        raise ValueError("purge_expired needs an aware datetime")
    results = []
    for program in db.session.scalars(select(Program).order_by(Program.name)).all():
        cutoff = now - timedelta(days=program.retention_days)
        session_ids = list(db.session.scalars(expired_sessions(program, cutoff)))
        answers = appreciations = pause_signals = 0
        if session_ids:
            keep_aggregates(program, session_ids)
            activity_ids = select(SessionActivity.id).where(
                SessionActivity.group_session_id.in_(session_ids)
            )
            answers = _count(delete(Answer).where(Answer.activity_id.in_(activity_ids)))
            appreciations = _count(
                delete(Appreciation).where(Appreciation.activity_id.in_(activity_ids))
            )
            pause_signals = _count(
                delete(PauseSignal).where(PauseSignal.group_session_id.in_(session_ids))
            )
        result = PurgeResult(
            program.id,
            program.name,
            program.retention_days,
            cutoff,
            answers,
            appreciations,
            pause_signals,
        )
        if result.total:
            audit(
                actor,
                "retention.purge",
                "program",
                program.id,
                answers=answers,
                appreciations=appreciations,
                pause_signals=pause_signals,
            )
        db.session.commit()
        results.append(result)
    return results
