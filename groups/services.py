"""Own every change to staff, programs, ladders, cohorts, members, sessions and attendance.

Each function takes the acting person first and plain values, checks access through
groups.access, validates, commits, and raises a HearthError the edges turn into 4xx answers.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from marshmallow import ValidationError
from sqlalchemy import func, select

from groups.access import (
    SYSTEM,
    Actor,
    CohortAccess,
    access_cohort,
    access_new_cohort,
    access_new_program,
    access_program,
    access_staff,
    require_actor,
    visible_cohorts,
    visible_programs,
)
from groups.errors import Conflict, Forbidden, NotAuthenticated, NotFound, ValidationFailed
from groups.events import Audience, queue_event
from groups.extensions import db
from groups.i18n import LANGUAGES
from groups.instruments import ensure_builtin_instruments, parse_instrument
from groups.models import (
    ActivityKind,
    ActivityTemplate,
    Attendance,
    AttendanceSource,
    AttendanceStatus,
    AuditEvent,
    Cohort,
    CohortStatus,
    GroupSession,
    Instrument,
    Member,
    MemberStatus,
    Program,
    Role,
    SessionPlan,
    SessionState,
    User,
)
from groups.types import utcnow

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD_LENGTH = 10
LATE_AFTER = timedelta(minutes=10)

_hasher = PasswordHasher()
# A hash to verify against when the email is unknown, so timing does not reveal who has an account.
_DUMMY_HASH = _hasher.hash("not a real password")


def configure_password_hasher(hasher: PasswordHasher) -> None:
    """Swap the argon2 parameters (tests use the cheapest profile)."""
    global _hasher, _DUMMY_HASH
    _hasher = hasher
    _DUMMY_HASH = hasher.hash("not a real password")


class _Errors:
    """Collect field errors and raise them together, so a form shows every problem at once."""

    def __init__(self) -> None:
        self.fields: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.fields.setdefault(field, []).append(message)

    def check(self, ok: bool, field: str, message: str) -> None:
        if not ok:
            self.add(field, message)

    def raise_if_any(self, message: str = "Some fields need another look.") -> None:
        if self.fields:
            raise ValidationFailed(message, fields=self.fields)


def _text(errors: _Errors, field: str, value: Any, *, max_len: int, required: bool = True) -> str:
    text = (value or "").strip() if isinstance(value, str) or value is None else None
    if text is None:
        errors.add(field, "Must be text.")
        return ""
    if required and not text:
        errors.add(field, "Required.")
    if len(text) > max_len:
        errors.add(field, f"At most {max_len} characters.")
    return text


def _int(errors: _Errors, field: str, value: Any, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        errors.add(field, "Must be a whole number.")
        return lo
    if not lo <= value <= hi:
        errors.add(field, f"Must be between {lo} and {hi}.")
    return value


def audit(
    actor: Actor, action: str, target_type: str, target_id: int | None, **detail: Any
) -> None:
    """Record a staff action in the audit log (committed with the action it describes)."""
    db.session.add(
        AuditEvent(
            actor_id=getattr(actor, "id", None),
            action=action,
            target_type=target_type,
            target_id=target_id,
            detail=detail,
        )
    )


# --- staff -------------------------------------------------------------------------------------


def _check_password(errors: _Errors, password: Any) -> None:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        errors.add("password", f"At least {MIN_PASSWORD_LENGTH} characters.")
    elif len(password) > 256:
        errors.add("password", "At most 256 characters.")


def create_user(
    actor: Any, *, email: Any, display_name: Any, password: Any, role: Any, active: bool = True
) -> User:
    """Create a staff account."""
    access_staff(actor)
    errors = _Errors()
    email_text = _text(errors, "email", email, max_len=254).lower()
    errors.check(
        not email_text or bool(EMAIL_RE.match(email_text)), "email", "Not an email address."
    )
    name = _text(errors, "display_name", display_name, max_len=80)
    _check_password(errors, password)
    errors.check(role in set(Role), "role", "One of: admin, coordinator, facilitator.")
    if email_text and db.session.scalar(select(User.id).where(User.email == email_text)):
        errors.add("email", "An account with this email exists already.")
    errors.raise_if_any()
    user = User(
        email=email_text,
        display_name=name,
        password_hash=_hasher.hash(password),
        role=Role(role),
        active=active,
    )
    db.session.add(user)
    db.session.flush()
    audit(actor, "user.create", "staff_user", user.id, role=str(role))
    db.session.commit()
    return user


def update_user(
    actor: Any,
    user_id: int,
    *,
    display_name: Any = None,
    role: Any = None,
    active: bool | None = None,
    password: Any = None,
) -> User:
    """Change a staff account; deactivating or a new password ends its sessions everywhere."""
    access_staff(actor)
    user = get_user(actor, user_id)
    errors = _Errors()
    if display_name is not None:
        user.display_name = _text(errors, "display_name", display_name, max_len=80)
    if role is not None:
        errors.check(role in set(Role), "role", "One of: admin, coordinator, facilitator.")
    if password is not None:
        _check_password(errors, password)
    if active is False and getattr(actor, "id", None) == user.id:
        errors.add("active", "You cannot deactivate your own account.")
    errors.raise_if_any()
    if role is not None:
        user.role = Role(role)
    if password is not None:
        user.password_hash = _hasher.hash(password)
        user.rotate_session_token()
    if active is not None and active != user.active:
        user.active = active
        user.rotate_session_token()
    audit(actor, "user.update", "staff_user", user.id)
    db.session.commit()
    return user


def get_user(actor: Any, user_id: int) -> User:
    """Return one staff account (admins only)."""
    access_staff(actor)
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("No such staff account.")
    return user


def list_users(actor: Any, *, role: Role | None = None) -> list[User]:
    """List staff accounts (admins only)."""
    access_staff(actor)
    query = select(User).order_by(User.display_name, User.id)
    if role is not None:
        query = query.where(User.role == role)
    return list(db.session.scalars(query))


def list_staff_choices(actor: Any, role: Role) -> list[User]:
    """List active staff of one role, for choosing facilitators or coordinators."""
    require_actor(actor)
    query = select(User).where(User.role == role, User.active).order_by(User.display_name)
    return list(db.session.scalars(query))


def authenticate(email: Any, password: Any) -> User:
    """Return the active account with this email and password, or refuse without saying which."""
    email_text = email.strip().lower() if isinstance(email, str) else ""
    user = db.session.scalar(select(User).where(User.email == email_text)) if email_text else None
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password or "")
    except (VerificationError, InvalidHashError):
        user = None
    if user is None or not user.active:
        raise NotAuthenticated("That email and password do not match an active account.")
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
        db.session.commit()
    return user


def find_user_by_session_token(token: str) -> User | None:
    """Return the active account a login cookie names, if it is still valid."""
    user = db.session.scalar(select(User).where(User.session_token == token))
    return user if user is not None and user.active else None


def end_sessions_everywhere(user: User) -> None:
    """Invalidate every login cookie of this account and close its open consoles."""
    user.rotate_session_token()
    queue_event(db.session, "staff_signed_out", Audience("staff", user.id), {})
    db.session.commit()


# --- programs and their ladder -----------------------------------------------------------------


def _program_fields(errors: _Errors, data: Mapping[str, Any], program: Program | None) -> dict:
    out: dict[str, Any] = {}
    if "name" in data or program is None:
        out["name"] = _text(errors, "name", data.get("name"), max_len=120)
        clash = select(Program.id).where(func.lower(Program.name) == out["name"].lower())
        if program is not None:
            clash = clash.where(Program.id != program.id)
        if out["name"] and db.session.scalar(clash):
            errors.add("name", "A program with this name exists already.")
    if "description" in data:
        out["description"] = _text(
            errors, "description", data["description"], max_len=4000, required=False
        )
    if "cycle_length" in data:
        out["cycle_length"] = _int(errors, "cycle_length", data["cycle_length"], 1, 52)
    if "min_group_size" in data:
        # Never below 3: with two people, each learns the other's answer from any aggregate.
        out["min_group_size"] = _int(errors, "min_group_size", data["min_group_size"], 3, 50)
    if "retention_days" in data:
        out["retention_days"] = _int(errors, "retention_days", data["retention_days"], 1, 3650)
    if "allow_guests" in data:
        errors.check(isinstance(data["allow_guests"], bool), "allow_guests", "Must be true/false.")
        out["allow_guests"] = bool(data["allow_guests"])
    if "language" in data:
        errors.check(data["language"] in LANGUAGES, "language", "One of: en, es.")
        out["language"] = data["language"]
    if "consent_text" in data:
        out["consent_text"] = _text(
            errors, "consent_text", data["consent_text"], max_len=8000, required=False
        )
    return out


def _coordinators(errors: _Errors, ids: Iterable[Any]) -> list[User]:
    ids = list(ids)
    if not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        errors.add("coordinator_ids", "Must be a list of staff ids.")
        return []
    users = list(db.session.scalars(select(User).where(User.id.in_(ids)))) if ids else []
    if len(users) != len(set(ids)) or any(u.role != Role.COORDINATOR for u in users):
        errors.add("coordinator_ids", "Each must be a coordinator's account.")
    return users


def create_program(actor: Any, **data: Any) -> Program:
    """Create a program with the shipped instruments and an empty ladder (admins only)."""
    access_new_program(actor)
    errors = _Errors()
    fields = _program_fields(errors, data, None)
    coordinators = _coordinators(errors, data.get("coordinator_ids", []))
    errors.raise_if_any()
    instruments = ensure_builtin_instruments(db.session)
    program = Program(**fields)
    db.session.add(program)
    program.coordinators = coordinators
    program.instruments = instruments
    db.session.flush()
    audit(actor, "program.create", "program", program.id)
    db.session.commit()
    return program


def update_program(actor: Any, program_id: int, **data: Any) -> Program:
    """Change a program's settings (admins only)."""
    program = access_program(actor, db.session.get(Program, program_id), manage=True)
    errors = _Errors()
    fields = _program_fields(errors, data, program)
    coordinators = (
        _coordinators(errors, data["coordinator_ids"]) if "coordinator_ids" in data else None
    )
    errors.raise_if_any()
    if "consent_text" in fields and fields["consent_text"] != program.consent_text:
        # New words need new consent: phones ask again on their next join.
        program.consent_version += 1
    for key, value in fields.items():
        setattr(program, key, value)
    if coordinators is not None:
        program.coordinators = coordinators
    audit(actor, "program.update", "program", program.id, fields=sorted(fields))
    db.session.commit()
    return program


def get_program(actor: Any, program_id: int) -> Program:
    """Return a program the actor may see."""
    return access_program(actor, db.session.get(Program, program_id))


def list_programs(actor: Any) -> list[Program]:
    """List the programs the actor may see."""
    return list(db.session.scalars(visible_programs(actor)))


def add_session_plan(actor: Any, program_id: int, *, title: Any, goal: Any = "") -> SessionPlan:
    """Add a rung at the top of a program's ladder."""
    program = access_program(actor, db.session.get(Program, program_id), manage=True)
    errors = _Errors()
    title_text = _text(errors, "title", title, max_len=120)
    goal_text = _text(errors, "goal", goal, max_len=4000, required=False)
    errors.raise_if_any()
    plan = SessionPlan(
        program=program, position=len(program.plans) + 1, title=title_text, goal=goal_text
    )
    db.session.add(plan)
    db.session.commit()
    return plan


def get_session_plan(actor: Any, plan_id: int) -> SessionPlan:
    """Return a session plan of a program the actor may see."""
    plan = db.session.get(SessionPlan, plan_id)
    if plan is None:
        raise NotFound("No such session plan.")
    access_program(actor, plan.program)
    return plan


def update_session_plan(actor: Any, plan_id: int, **data: Any) -> SessionPlan:
    """Rename a rung or change its goal."""
    plan = get_session_plan(actor, plan_id)
    access_program(actor, plan.program, manage=True)
    errors = _Errors()
    if "title" in data:
        plan.title = _text(errors, "title", data["title"], max_len=120)
    if "goal" in data:
        plan.goal = _text(errors, "goal", data["goal"], max_len=4000, required=False)
    errors.raise_if_any()
    db.session.commit()
    return plan


def _flat_messages(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """Turn marshmallow's nested messages into the API's {"field.sub": [message]} shape."""
    if isinstance(messages, list):
        return {prefix or "_schema": [str(m) for m in messages]}
    out: dict[str, list[str]] = {}
    for key, value in messages.items():
        name = str(key) if key != "_schema" or not prefix else ""
        out.update(_flat_messages(value, f"{prefix}.{name}".strip(".") if name else prefix))
    return out


def add_instrument(actor: Any, program_id: int, data: Any) -> Instrument:
    """Add a questionnaire of the program's own (with its licence note) to its instrument set."""
    program = access_program(actor, db.session.get(Program, program_id), manage=True)
    try:
        document = parse_instrument(data)
    except ValidationError as error:
        raise ValidationFailed(
            "This instrument needs another look.", fields=_flat_messages(error.messages)
        ) from None
    if db.session.scalar(select(Instrument.id).where(Instrument.key == document["key"])):
        raise Conflict(
            "An instrument with this key exists already; choose another key.",
            fields={"key": ["Already taken."]},
        )
    instrument = Instrument(builtin=False, **document)
    db.session.add(instrument)
    program.instruments.append(instrument)
    db.session.flush()
    audit(actor, "instrument.add", "program", program.id, instrument=instrument.key)
    db.session.commit()
    return instrument


def _check_instrument(errors: _Errors, program: Program, fields: Mapping[str, Any], kind) -> None:
    """A questionnaire activity must name one of its program's questionnaires."""
    if kind != ActivityKind.QUESTIONNAIRE:
        return
    key = (fields.get("config") or {}).get("instrument")
    allowed = {i.key for i in program.instruments if i.kind == "questionnaire"}
    errors.check(
        key in allowed,
        "config.instrument",
        "Choose one of the program's questionnaires: " + ", ".join(sorted(allowed)) + ".",
    )


def _activity_fields(errors: _Errors, data: Mapping[str, Any], partial: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "kind" in data or not partial:
        kind = data.get("kind")
        errors.check(kind in set(ActivityKind), "kind", "Unknown activity kind.")
        out["kind"] = ActivityKind(kind) if kind in set(ActivityKind) else None
    if "title" in data or not partial:
        out["title"] = _text(errors, "title", data.get("title"), max_len=120)
    for field, limit in (("text", 4000), ("preview", 2000)):
        if field in data:
            out[field] = _text(errors, field, data[field], max_len=limit, required=False)
    if "intensity" in data:
        out["intensity"] = _int(errors, "intensity", data["intensity"], 1, 5)
    if "timer_seconds" in data:
        value = data["timer_seconds"]
        out["timer_seconds"] = (
            None if value is None else _int(errors, "timer_seconds", value, 10, 3600)
        )
    if "config" in data:
        errors.check(isinstance(data["config"], dict), "config", "Must be an object.")
        out["config"] = data["config"] if isinstance(data["config"], dict) else {}
    return out


def add_activity(actor: Any, plan_id: int, **data: Any) -> ActivityTemplate:
    """Append an activity to a session plan's agenda."""
    plan = get_session_plan(actor, plan_id)
    access_program(actor, plan.program, manage=True)
    errors = _Errors()
    fields = _activity_fields(errors, data, partial=False)
    _check_instrument(errors, plan.program, fields, fields.get("kind"))
    errors.raise_if_any()
    activity = ActivityTemplate(plan=plan, position=len(plan.activities) + 1, **fields)
    db.session.add(activity)
    db.session.commit()
    return activity


def update_activity(actor: Any, activity_id: int, **data: Any) -> ActivityTemplate:
    """Change an activity of a session plan."""
    activity = db.session.get(ActivityTemplate, activity_id)
    if activity is None:
        raise NotFound("No such activity.")
    access_program(actor, activity.plan.program, manage=True)
    errors = _Errors()
    fields = _activity_fields(errors, data, partial=True)
    if "kind" in fields or "config" in fields:
        merged = {"config": fields.get("config", activity.config)}
        _check_instrument(errors, activity.plan.program, merged, fields.get("kind", activity.kind))
    errors.raise_if_any()
    for key, value in fields.items():
        setattr(activity, key, value)
    db.session.commit()
    return activity


def remove_activity(actor: Any, activity_id: int) -> None:
    """Remove an activity from its plan and close the gap in the order."""
    activity = db.session.get(ActivityTemplate, activity_id)
    if activity is None:
        raise NotFound("No such activity.")
    plan = activity.plan
    access_program(actor, plan.program, manage=True)
    plan.activities.remove(activity)
    db.session.flush()
    for position, item in enumerate(plan.activities, start=1):
        item.position = -position  # two steps, so the unique (plan, position) never clashes
    db.session.flush()
    for item in plan.activities:
        item.position = -item.position
    db.session.commit()


# --- cohorts and their schedule ----------------------------------------------------------------


@lru_cache(maxsize=1)
def _timezones() -> frozenset[str]:
    return frozenset(available_timezones())


def _facilitators(errors: _Errors, ids: Iterable[Any]) -> list[User]:
    ids = list(ids)
    if not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        errors.add("facilitator_ids", "Must be a list of staff ids.")
        return []
    users = list(db.session.scalars(select(User).where(User.id.in_(ids)))) if ids else []
    if len(users) != len(set(ids)) or any(
        u.role != Role.FACILITATOR or not u.active for u in users
    ):
        errors.add("facilitator_ids", "Each must be an active facilitator's account.")
    return users


def _plan_for(program: Program, number: int) -> SessionPlan | None:
    """The ladder rung for session N: rung N, or the highest rung below it."""
    candidates = [p for p in program.plans if p.position <= number]
    return candidates[-1] if candidates else (program.plans[0] if program.plans else None)


def schedule_times(start: date, at: time, tz_name: str, count: int) -> list[datetime]:
    """Return the UTC start of each weekly session, keeping the local wall clock across DST."""
    tz = ZoneInfo(tz_name)
    return [
        datetime.combine(start + timedelta(weeks=n), at, tzinfo=tz).astimezone(ZoneInfo("UTC"))
        for n in range(count)
    ]


def create_cohort(actor: Any, program_id: int, **data: Any) -> Cohort:
    """Create a cohort and its weekly group sessions, each with its rung of the ladder."""
    program = access_new_cohort(actor, db.session.get(Program, program_id))
    errors = _Errors()
    name = _text(errors, "name", data.get("name"), max_len=120)
    if name and db.session.scalar(
        select(Cohort.id).where(
            Cohort.program_id == program.id, func.lower(Cohort.name) == name.lower()
        )
    ):
        errors.add("name", "This program has a cohort with this name already.")
    start = data.get("start_date")
    errors.check(
        isinstance(start, date) and not isinstance(start, datetime),
        "start_date",
        "A date is required.",
    )
    at = data.get("meeting_time")
    errors.check(isinstance(at, time), "meeting_time", "A time of day is required.")
    tz_name = data.get("timezone") or "UTC"
    errors.check(tz_name in _timezones(), "timezone", "Unknown time zone.")
    count = data.get("session_count") or program.cycle_length
    count = _int(errors, "session_count", count, 1, 52)
    duration = _int(errors, "duration_minutes", data.get("duration_minutes", 90), 15, 480)
    language = data.get("language") or program.language
    errors.check(language in LANGUAGES, "language", "One of: en, es.")
    facilitators = _facilitators(errors, data.get("facilitator_ids", []))
    errors.raise_if_any()
    cohort = Cohort(
        program=program,
        name=name,
        start_date=start,
        meeting_time=at.replace(tzinfo=None),
        timezone=tz_name,
        session_count=count,
        duration_minutes=duration,
        language=language,
    )
    db.session.add(cohort)
    cohort.facilitators = facilitators
    for number, when in enumerate(schedule_times(start, at, tz_name, count), start=1):
        cohort.sessions.append(
            GroupSession(number=number, scheduled_at=when, plan=_plan_for(program, number))
        )
    db.session.add(cohort)
    db.session.flush()
    audit(actor, "cohort.create", "cohort", cohort.id)
    db.session.commit()
    return cohort


def update_cohort(actor: Any, cohort_id: int, **data: Any) -> Cohort:
    """Rename a cohort, change its status, language or facilitators."""
    cohort = access_cohort(actor, db.session.get(Cohort, cohort_id), CohortAccess.MANAGE)
    errors = _Errors()
    changes: dict[str, Any] = {}
    if "name" in data:
        changes["name"] = _text(errors, "name", data["name"], max_len=120)
        if changes["name"] and db.session.scalar(
            select(Cohort.id).where(
                Cohort.program_id == cohort.program_id,
                func.lower(Cohort.name) == changes["name"].lower(),
                Cohort.id != cohort.id,
            )
        ):
            errors.add("name", "This program has a cohort with this name already.")
    if "status" in data:
        errors.check(data["status"] in set(CohortStatus), "status", "Unknown status.")
        changes["status"] = data["status"]
    if "language" in data:
        errors.check(data["language"] in LANGUAGES, "language", "One of: en, es.")
        changes["language"] = data["language"]
    facilitators = (
        _facilitators(errors, data["facilitator_ids"]) if "facilitator_ids" in data else None
    )
    errors.raise_if_any()
    for key, value in changes.items():
        setattr(cohort, key, CohortStatus(value) if key == "status" else value)
    if facilitators is not None:
        cohort.facilitators = facilitators
    audit(actor, "cohort.update", "cohort", cohort.id, fields=sorted(changes))
    db.session.commit()
    return cohort


def get_cohort(actor: Any, cohort_id: int, need: CohortAccess = CohortAccess.VIEW) -> Cohort:
    """Return a cohort if the actor may do `need` with it."""
    return access_cohort(actor, db.session.get(Cohort, cohort_id), need)


def list_cohorts(actor: Any, *, program_id: int | None = None) -> list[Cohort]:
    """List the cohorts the actor may see, optionally of one program."""
    query = visible_cohorts(actor)
    if program_id is not None:
        query = query.where(Cohort.program_id == program_id)
    return list(db.session.scalars(query))


# --- members -----------------------------------------------------------------------------------


def name_key(display_name: str) -> str:
    """Fold a display name for uniqueness: case and inner spacing do not make a new person."""
    return " ".join(display_name.split()).casefold()


def add_member(actor: Any, cohort_id: int, *, display_name: Any, is_guest: bool = False) -> Member:
    """Add a participant to a cohort's roster under a pseudonymous display name."""
    cohort = access_cohort(actor, db.session.get(Cohort, cohort_id), CohortAccess.RUN)
    return _add_member(cohort, display_name, is_guest=is_guest, actor=actor)


def _add_member(cohort: Cohort, display_name: Any, *, is_guest: bool, actor: Any) -> Member:
    errors = _Errors()
    name = " ".join(_text(errors, "display_name", display_name, max_len=40).split())
    key = name_key(name)
    if key and db.session.scalar(
        select(Member.id).where(Member.cohort_id == cohort.id, Member.name_key == key)
    ):
        errors.add("display_name", "Someone on this roster has this name already.")
    errors.raise_if_any()
    member = Member(cohort=cohort, display_name=name, name_key=key, is_guest=is_guest)
    db.session.add(member)
    db.session.flush()
    audit(actor, "member.add", "cohort", cohort.id)
    db.session.commit()
    return member


def add_guest(cohort: Cohort, display_name: Any) -> Member:
    """Add a guest who joined from a phone, where the program allows guests."""
    if not cohort.program.allow_guests:
        raise Forbidden("This program does not take guests; ask the facilitator to add you.")
    return _add_member(cohort, display_name, is_guest=True, actor=SYSTEM)


def update_member(actor: Any, member_id: int, **data: Any) -> Member:
    """Rename a member, or mark them as having left the cohort (or back)."""
    member = get_member(actor, member_id)
    errors = _Errors()
    if "display_name" in data:
        name = " ".join(_text(errors, "display_name", data["display_name"], max_len=40).split())
        key = name_key(name)
        if key and db.session.scalar(
            select(Member.id).where(
                Member.cohort_id == member.cohort_id, Member.name_key == key, Member.id != member.id
            )
        ):
            errors.add("display_name", "Someone on this roster has this name already.")
    if "status" in data:
        errors.check(data["status"] in set(MemberStatus), "status", "One of: active, left.")
    errors.raise_if_any()
    if "display_name" in data:
        member.display_name, member.name_key = name, key
    if "status" in data and data["status"] != member.status:
        member.status = MemberStatus(data["status"])
        member.left_at = utcnow() if member.status == MemberStatus.LEFT else None
    db.session.commit()
    return member


def get_member(actor: Any, member_id: int) -> Member:
    """Return a member of a cohort whose roster the actor may see."""
    member = db.session.get(Member, member_id)
    if member is None:
        raise NotFound("No such member.")
    access_cohort(actor, member.cohort, CohortAccess.RUN)
    return member


def list_members(actor: Any, cohort_id: int) -> list[Member]:
    """List a cohort's roster (facilitators of the cohort and admins)."""
    cohort = access_cohort(actor, db.session.get(Cohort, cohort_id), CohortAccess.ROSTER)
    audit(actor, "roster.view", "cohort", cohort.id)
    db.session.commit()
    return list(cohort.members)


def get_cohort_and_roster(actor: Any, cohort_id: int) -> tuple[Cohort, list[Member] | None]:
    """Return a cohort and, to those who may see names, its roster (audited); None to the rest."""
    cohort = get_cohort(actor, cohort_id)
    try:
        return cohort, list_members(actor, cohort.id)
    except Forbidden:
        # Coordinators review cohorts in aggregate: no names reach them.
        return cohort, None


def remove_member(actor: Any, member_id: int) -> None:
    """Delete a member and their attendance, on their request."""
    member = get_member(actor, member_id)
    cohort_id = member.cohort_id
    # Delete the attendance through the ORM too: SQLite ignores ON DELETE CASCADE by default.
    for row in list(member.attendance):
        db.session.delete(row)
    db.session.delete(member)
    audit(actor, "member.delete", "cohort", cohort_id)
    db.session.commit()


def record_consent(member: Member, version: int) -> Member:
    """Record that a member read and accepted this version of the consent text."""
    member.consent_version = version
    member.consent_at = utcnow()
    db.session.commit()
    return member


# --- group sessions and attendance -------------------------------------------------------------


def get_group_session(
    actor: Any, session_id: int, need: CohortAccess = CohortAccess.VIEW
) -> GroupSession:
    """Return a group session if the actor may do `need` with its cohort."""
    group_session = db.session.get(GroupSession, session_id)
    if group_session is None:
        raise NotFound("No such group session.")
    access_cohort(actor, group_session.cohort, need)
    return group_session


def list_group_sessions(actor: Any, cohort_id: int) -> list[GroupSession]:
    """List a cohort's group sessions in order."""
    return list(get_cohort(actor, cohort_id).sessions)


def update_group_session(actor: Any, session_id: int, **data: Any) -> GroupSession:
    """Move a planned session, or give it another rung of the ladder (repeat a shaky one)."""
    group_session = get_group_session(actor, session_id, CohortAccess.RUN)
    errors = _Errors()
    if "plan_id" in data:
        plan_id = data["plan_id"]
        plan = db.session.get(SessionPlan, plan_id) if isinstance(plan_id, int) else None
        errors.check(
            plan_id is None
            or (plan is not None and plan.program_id == group_session.cohort.program_id),
            "plan_id",
            "Must be a session plan of this cohort's program.",
        )
    if "scheduled_at" in data:
        when = data["scheduled_at"]
        errors.check(
            isinstance(when, datetime) and when.tzinfo is not None,
            "scheduled_at",
            "A date and time with a time zone is required.",
        )
        errors.check(
            group_session.state == SessionState.PLANNED,
            "scheduled_at",
            "Only a planned session can be moved.",
        )
    errors.raise_if_any()
    if "plan_id" in data:
        group_session.plan_id = data["plan_id"]
    if "scheduled_at" in data:
        group_session.scheduled_at = data["scheduled_at"]
    db.session.commit()
    return group_session


def attendance_sheet(
    actor: Any, session_id: int
) -> tuple[GroupSession, list[tuple[Member, Attendance | None]]]:
    """Return a session and, for each member on the roster, their attendance (None: not marked)."""
    group_session = get_group_session(actor, session_id, CohortAccess.ROSTER)
    by_member = {a.member_id: a for a in group_session.attendance}
    rows = [
        (m, by_member.get(m.id))
        for m in group_session.cohort.members
        if m.status == MemberStatus.ACTIVE or m.id in by_member
    ]
    audit(actor, "attendance.view", "group_session", group_session.id)
    db.session.commit()
    return group_session, rows


def record_attendance(actor: Any, session_id: int, marks: Mapping[int, Any]) -> list[Attendance]:
    """Set attendance for several members of one session at once, all or nothing."""
    group_session = get_group_session(actor, session_id, CohortAccess.RUN)
    errors = _Errors()
    roster = {m.id: m for m in group_session.cohort.members}
    for member_id, status in marks.items():
        errors.check(member_id in roster, f"marks.{member_id}", "Not a member of this cohort.")
        errors.check(
            status in set(AttendanceStatus),
            f"marks.{member_id}",
            "One of: present, late, absent, excused.",
        )
    if (
        group_session.state == SessionState.PLANNED
        and group_session.scheduled_at > utcnow() + timedelta(days=1)
    ):
        errors.add("session", "Attendance opens on the day of the session.")
    errors.raise_if_any()
    by_member = {a.member_id: a for a in group_session.attendance}
    changed = []
    for member_id, status in marks.items():
        row = by_member.get(member_id)
        if row is None:
            row = Attendance(
                group_session=group_session,
                member_id=member_id,
                status=AttendanceStatus(status),
                source=AttendanceSource.FACILITATOR,
            )
            db.session.add(row)
        elif row.status != status:
            row.status = AttendanceStatus(status)
            row.source = AttendanceSource.FACILITATOR
        changed.append(row)
    audit(actor, "attendance.edit", "group_session", group_session.id, count=len(marks))
    db.session.commit()
    return changed


def record_phone_arrival(group_session: GroupSession, member: Member, at: datetime) -> Attendance:
    """Mark a member present, or late by the clock, when their phone joins; never overrule staff."""
    row = db.session.scalar(
        select(Attendance).where(
            Attendance.group_session_id == group_session.id, Attendance.member_id == member.id
        )
    )
    start = max(group_session.scheduled_at, group_session.started_at or group_session.scheduled_at)
    status = AttendanceStatus.LATE if at > start + LATE_AFTER else AttendanceStatus.PRESENT
    if row is None:
        row = Attendance(
            group_session=group_session,
            member=member,
            status=status,
            source=AttendanceSource.PHONE,
            arrived_at=at,
        )
        db.session.add(row)
    elif row.arrived_at is None:
        row.arrived_at = at
        if row.source == AttendanceSource.PHONE or row.status == AttendanceStatus.ABSENT:
            row.status, row.source = status, AttendanceSource.PHONE
    db.session.flush()
    return row


def new_join_code(alphabet: str = "ACDEFGHJKMNPQRTUVWXY3479", length: int = 6) -> str:
    """Draw a join code from an alphabet without look-alikes (no 0/O, 1/I/L, 2/Z, 5/S, 8/B)."""
    return "".join(secrets.choice(alphabet) for _ in range(length))


def ensure_unique_code(make=new_join_code, tries: int = 20) -> str:
    """Draw join codes until one is not held by a live session."""
    for _ in range(tries):
        code = make()
        if not db.session.scalar(select(GroupSession.id).where(GroupSession.join_code == code)):
            return code
    raise Conflict("Could not draw a free join code; try again.")


def hash_password(password: str) -> str:
    """Hash a password with the configured argon2 parameters (for loaders that commit once)."""
    return _hasher.hash(password)


# --- staff pages -------------------------------------------------------------------------------


def get_activity(actor: Any, activity_id: int) -> ActivityTemplate:
    """Return an activity of a session plan of a program the actor may see."""
    activity = db.session.get(ActivityTemplate, activity_id)
    if activity is None:
        raise NotFound("No such activity.")
    access_program(actor, activity.plan.program)
    return activity


def find_next_group_session(
    actor: Any, cohort_id: int, *, now: datetime | None = None
) -> GroupSession | None:
    """Return a cohort's live session, else its next one not yet over (None after the cycle)."""
    cohort = get_cohort(actor, cohort_id)
    open_sessions = [s for s in cohort.sessions if s.state != SessionState.ENDED]
    for group_session in open_sessions:
        if group_session.state == SessionState.LIVE:
            return group_session
    moment = now or utcnow()
    length = timedelta(minutes=cohort.duration_minutes)
    # A session stays "next" until its planned end, so it is still listed while it runs late.
    upcoming = [s for s in open_sessions if s.scheduled_at + length > moment]
    return upcoming[0] if upcoming else None


def count_members(actor: Any, cohort_id: int) -> int:
    """Count a cohort's active members: a number anyone who sees the cohort may see, never who."""
    cohort = get_cohort(actor, cohort_id)
    query = select(func.count(Member.id)).where(
        Member.cohort_id == cohort.id, Member.status == MemberStatus.ACTIVE
    )
    return db.session.scalar(query) or 0
