"""Own every permission check on programs, cohorts, members, sessions and staff."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import Select, select

from groups.errors import Forbidden, NotAuthenticated, NotFound
from groups.models import Cohort, Program, Role, User, cohort_facilitator, program_coordinator


class CohortAccess(StrEnum):
    """What an actor wants to do with a cohort, from least to most revealing."""

    VIEW = "view"  # name, schedule, session list, aggregates: never a person
    ROSTER = "roster"  # member names and attendance of individuals
    RUN = "run"  # start sessions, edit attendance, add members
    MANAGE = "manage"  # rename, reschedule, assign facilitators


class SystemActor:
    """The actor behind CLI commands and jobs run by whoever holds the server."""

    id = None
    role = Role.ADMIN
    is_authenticated = True
    is_active = True
    display_name = "system"


SYSTEM = SystemActor()
Actor = User | SystemActor


def require_actor(actor: Any) -> Actor:
    """Refuse an anonymous or deactivated actor."""
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        raise NotAuthenticated("Please sign in.")
    return actor


def is_admin(actor: Actor) -> bool:
    return actor.role == Role.ADMIN


def access_staff(actor: Any) -> Actor:
    """Only admins manage staff accounts."""
    actor = require_actor(actor)
    if not is_admin(actor):
        raise Forbidden("Only an admin manages staff accounts.")
    return actor


def access_new_program(actor: Any) -> Actor:
    """Only admins create programs."""
    actor = require_actor(actor)
    if not is_admin(actor):
        raise Forbidden("Only an admin creates programs.")
    return actor


def _coordinates(actor: Actor, program: Program) -> bool:
    return actor.role == Role.COORDINATOR and any(c.id == actor.id for c in program.coordinators)


def _facilitates(actor: Actor, cohort: Cohort) -> bool:
    return actor.role == Role.FACILITATOR and any(f.id == actor.id for f in cohort.facilitators)


def access_program(actor: Any, program: Program | None, *, manage: bool = False) -> Program:
    """See a program (admins, its coordinators, facilitators of its cohorts); only admins change it.

    A program the actor may not see answers as not found, so its existence does not leak.
    """
    actor = require_actor(actor)
    if program is None:
        raise NotFound("No such program.")
    if is_admin(actor):
        return program
    visible = _coordinates(actor, program) or any(_facilitates(actor, c) for c in program.cohorts)
    if not visible:
        raise NotFound("No such program.")
    if manage:
        raise Forbidden("Only an admin changes a program and its ladder.")
    return program


def access_cohort(actor: Any, cohort: Cohort | None, need: CohortAccess) -> Cohort:
    """Check one cohort permission: facilitators run their own; coordinators see only aggregates."""
    actor = require_actor(actor)
    if cohort is None:
        raise NotFound("No such cohort.")
    if is_admin(actor):
        return cohort
    if _facilitates(actor, cohort):
        if need == CohortAccess.MANAGE:
            raise Forbidden("A coordinator or an admin changes a cohort's schedule and staff.")
        return cohort
    if _coordinates(actor, cohort.program):
        # Coordinators review cohorts: never a member's name or an individual's attendance.
        if need in (CohortAccess.ROSTER, CohortAccess.RUN):
            raise Forbidden("Coordinators see cohorts in aggregate only.")
        return cohort
    raise NotFound("No such cohort.")


def access_new_cohort(actor: Any, program: Program | None) -> Program:
    """Create a cohort: admins anywhere, coordinators in their own programs."""
    actor = require_actor(actor)
    program = access_program(actor, program)
    if is_admin(actor) or _coordinates(actor, program):
        return program
    raise Forbidden("Only a coordinator of this program or an admin creates cohorts.")


def visible_programs(actor: Any) -> Select[tuple[Program]]:
    """Select the programs an actor may see."""
    actor = require_actor(actor)
    query = select(Program).order_by(Program.name)
    if is_admin(actor):
        return query
    coordinated = select(program_coordinator.c.program_id).where(
        program_coordinator.c.user_id == actor.id
    )
    facilitated = (
        select(Cohort.program_id)
        .join(cohort_facilitator, cohort_facilitator.c.cohort_id == Cohort.id)
        .where(cohort_facilitator.c.user_id == actor.id)
    )
    return query.where(Program.id.in_(coordinated.union(facilitated)))


def visible_cohorts(actor: Any) -> Select[tuple[Cohort]]:
    """Select the cohorts an actor may see (in aggregate at least)."""
    actor = require_actor(actor)
    query = select(Cohort).order_by(Cohort.start_date.desc(), Cohort.name, Cohort.id)
    if is_admin(actor):
        return query
    if actor.role == Role.COORDINATOR:
        coordinated = select(program_coordinator.c.program_id).where(
            program_coordinator.c.user_id == actor.id
        )
        return query.where(Cohort.program_id.in_(coordinated))
    facilitated = select(cohort_facilitator.c.cohort_id).where(
        cohort_facilitator.c.user_id == actor.id
    )
    return query.where(Cohort.id.in_(facilitated))


def can(actor: Any, cohort: Cohort, need: CohortAccess) -> bool:
    """Say whether access_cohort would allow it (for templates choosing what to show)."""
    try:
        access_cohort(actor, cohort, need)
    except (Forbidden, NotFound, NotAuthenticated):
        return False
    return True
