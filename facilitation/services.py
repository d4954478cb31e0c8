"""Own every change to a live group session: starting, steering, answers, signals and ending.

Services check access, validate, change the database, queue events for after the commit,
and never emit. Two kinds of actor: a staff member (facilitator or admin) and a Participant,
the phone that authenticated with its device token.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import bindparam, func, insert, select, update

from facilitation.anonymity import is_valid_secret, pseudonym_hash, slot_key, token_hash
from facilitation.models import (
    ActivityState,
    Answer,
    Appreciation,
    Device,
    DyadPairing,
    LiveSession,
    Moderation,
    PauseSignal,
    Phase,
    SessionActivity,
)
from groups import services as group_services
from groups.access import CohortAccess
from groups.errors import (
    Conflict,
    Forbidden,
    HearthError,
    NotAuthenticated,
    NotFound,
    ValidationFailed,
)
from groups.events import Audience, queue_event
from groups.extensions import db
from groups.instruments import FEELING_WORDS
from groups.models import (
    ActivityKind,
    Attendance,
    AttendanceSource,
    AttendanceStatus,
    Cohort,
    GroupSession,
    Member,
    MemberStatus,
    SessionState,
)
from groups.types import utcnow

PRESENCE_GRACE = timedelta(seconds=75)
SCREEN_CODE_TTL = timedelta(minutes=10)
REACTIONS = ("warm", "calm", "hard", "smile", "thanks")
PROMPT_RESPONSES = ("done", "text", "reaction")
MOOD_KINDS = (ActivityKind.CHECK_IN, ActivityKind.CHECK_OUT)
# Rounds where a phone can only pass: nothing about them is counted on any screen.
PASS_ONLY_KINDS = (ActivityKind.APPRECIATION, ActivityKind.DYADS)


@dataclass(frozen=True)
class Participant:
    """A phone that proved its device token: the member it speaks for, in one live session."""

    device_id: int
    member_id: int
    cohort_id: int
    group_session_id: int
    secret: str
    keep_history: bool = True


# Changes that move only the results' counts: every other change bumps the live revision.
COUNT_ONLY_CHANGES = frozenset({"answers"})


def session_changed(group_session_id: int, *what: str) -> None:
    """Queue the fact that a live session changed, for screens, consoles and phones to redraw.

    Any change but a new answer also bumps the session's revision in the database, so every
    server process can tell that a snapshot it built earlier is out of date.
    """
    if set(what) - COUNT_ONLY_CHANGES:
        db.session.execute(
            update(LiveSession)
            .where(LiveSession.group_session_id == group_session_id)
            .values(revision=LiveSession.revision + 1)
        )
    queue_event(
        db.session,
        "session_changed",
        Audience("session", group_session_id),
        {"what": list(what)},
    )


def _live(group_session_id: int) -> tuple[GroupSession, LiveSession]:
    group_session = db.session.get(GroupSession, group_session_id)
    live = db.session.get(LiveSession, group_session_id)
    if group_session is None or live is None or group_session.state != SessionState.LIVE:
        raise Conflict("This session is not live.", code="not_live")
    return group_session, live


def _touch(live: LiveSession) -> None:
    live.revision += 1


# --- starting and ending -----------------------------------------------------------------------


def start_session(actor: Any, group_session_id: int) -> GroupSession:
    """Open the room: draw a join code, copy the plan's agenda, put the lobby on the screen."""
    group_session = group_services.get_group_session(actor, group_session_id, CohortAccess.RUN)
    if group_session.state == SessionState.LIVE:
        return group_session
    if group_session.state == SessionState.ENDED:
        raise Conflict("This session has ended; it cannot be started again.", code="ended")
    other = db.session.scalar(
        select(GroupSession.id).where(
            GroupSession.cohort_id == group_session.cohort_id,
            GroupSession.state == SessionState.LIVE,
        )
    )
    if other is not None:
        raise Conflict("Another session of this cohort is live; end it first.", code="other_live")
    group_session.state = SessionState.LIVE
    group_session.started_at = utcnow()
    group_session.join_code = group_services.ensure_unique_code()
    templates = group_session.plan.activities if group_session.plan else []
    for position, template in enumerate(templates, start=1):
        db.session.add(
            SessionActivity(
                group_session=group_session,
                position=position,
                kind=template.kind,
                title=template.title,
                text=template.text,
                preview=template.preview,
                intensity=template.intensity,
                timer_seconds=template.timer_seconds,
                config=dict(template.config or {}),
                hold_results=template.kind in MOOD_KINDS,
            )
        )
    db.session.add(LiveSession(group_session_id=group_session.id, phase=Phase.LOBBY))
    if group_session.cohort.status.value == "planned":
        from groups.models import CohortStatus

        group_session.cohort.status = CohortStatus.ACTIVE
    group_services.audit(actor, "session.start", "group_session", group_session.id)
    session_changed(group_session.id, "started")
    db.session.commit()
    return group_session


def end_session(actor: Any, group_session_id: int) -> GroupSession:
    """Close the room: record the end, kill the join code, mark the unmarked absent."""
    group_session = group_services.get_group_session(actor, group_session_id, CohortAccess.RUN)
    if group_session.state != SessionState.LIVE:
        raise Conflict("This session is not live.", code="not_live")
    live = db.session.get(LiveSession, group_session.id)
    now = utcnow()
    for activity in _activities(group_session.id):
        if activity.state in (ActivityState.OPEN, ActivityState.PREVIEW):
            activity.state = ActivityState.CLOSED
            activity.closed_at = now
    marked = {a.member_id for a in group_session.attendance}
    for member in group_session.cohort.members:
        if member.status == MemberStatus.ACTIVE and member.id not in marked:
            db.session.add(
                Attendance(
                    group_session=group_session,
                    member=member,
                    status=AttendanceStatus.ABSENT,
                    source=AttendanceSource.FACILITATOR,
                )
            )
    group_session.state = SessionState.ENDED
    group_session.ended_at = now
    group_session.join_code = None
    if live is not None:
        live.phase = Phase.CLOSED
        live.screen_token_hash = None
        live.screen_code_hash = None
        _touch(live)
    group_services.audit(actor, "session.end", "group_session", group_session.id)
    session_changed(group_session.id, "ended")
    db.session.commit()
    return group_session


def _activities(group_session_id: int) -> list[SessionActivity]:
    return list(
        db.session.scalars(
            select(SessionActivity)
            .where(SessionActivity.group_session_id == group_session_id)
            .order_by(SessionActivity.position)
        )
    )


def get_live_session(actor: Any, group_session_id: int) -> tuple[GroupSession, LiveSession]:
    """Return a live session the actor runs."""
    group_services.get_group_session(actor, group_session_id, CohortAccess.RUN)
    return _live(group_session_id)


# --- the screen --------------------------------------------------------------------------------


def issue_screen_code(actor: Any, group_session_id: int) -> str:
    """Make a one-time code that pairs a TV in the room with this session's screen."""
    _, live = get_live_session(actor, group_session_id)
    code = group_services.new_join_code()
    live.screen_code_hash = token_hash(code)
    live.screen_code_expires = utcnow() + SCREEN_CODE_TTL
    db.session.commit()
    return code


def pair_screen(code: Any) -> tuple[int, str]:
    """Trade a one-time screen code for a screen token; the code dies on use."""
    if not isinstance(code, str) or not code.strip():
        raise ValidationFailed("Enter the screen code.", fields={"code": ["Required."]})
    hashed = token_hash(code.strip().upper())
    live = db.session.scalar(select(LiveSession).where(LiveSession.screen_code_hash == hashed))
    if live is None or live.screen_code_expires is None or live.screen_code_expires < utcnow():
        raise NotFound("That screen code is not valid (they last ten minutes and work once).")
    token = secrets.token_urlsafe(32)
    live.screen_token_hash = token_hash(token)
    live.screen_code_hash = None
    live.screen_code_expires = None
    db.session.commit()
    return live.group_session_id, token


def authenticate_screen(token: Any) -> int:
    """Return the live session a screen token shows, or refuse."""
    if not is_valid_secret(token):
        raise NotAuthenticated("This screen is not paired.")
    live = db.session.scalar(
        select(LiveSession).where(LiveSession.screen_token_hash == token_hash(token))
    )
    if live is None or live.phase == Phase.CLOSED:
        raise NotAuthenticated("This screen is not paired with a live session.")
    return live.group_session_id


# --- phones joining ----------------------------------------------------------------------------


def find_live_by_code(code: Any) -> GroupSession:
    """Return the live session a join code opens."""
    text = code.strip().upper() if isinstance(code, str) else ""
    if not text or len(text) != 6:
        raise ValidationFailed("A room code has 6 characters.", fields={"code": ["6 characters."]})
    group_session = db.session.scalar(select(GroupSession).where(GroupSession.join_code == text))
    if group_session is None or group_session.state != SessionState.LIVE:
        raise NotFound("No live session has that code. Check it with your facilitator.")
    return group_session


def join_options(code: Any) -> dict[str, Any]:
    """Say what a phone with this code may pick: the roster's names, guests, the consent text."""
    group_session = find_live_by_code(code)
    cohort = group_session.cohort
    return {
        "group_session": group_session,
        "cohort": cohort,
        "members": [m for m in cohort.members if m.status == MemberStatus.ACTIVE],
        "allow_guests": cohort.program.allow_guests,
        "consent_version": cohort.program.consent_version,
    }


def join_session(
    code: Any,
    device_token: Any,
    *,
    member_id: Any = None,
    guest_name: Any = None,
    consent_version: Any = None,
) -> tuple[GroupSession, Member, Device]:
    """Let a phone take a place on the roster (or join as a guest) and mark it arrived."""
    group_session = find_live_by_code(code)
    cohort = group_session.cohort
    if not is_valid_secret(device_token):
        raise ValidationFailed(
            "This phone's token is malformed.", fields={"device_token": ["Bad."]}
        )
    hashed = token_hash(device_token)
    device = db.session.scalar(select(Device).where(Device.token_hash == hashed))
    if device is not None and device.cohort_id != cohort.id:
        raise Forbidden("This phone belongs to another group.")
    if member_id is not None:
        member = db.session.get(Member, member_id) if isinstance(member_id, int) else None
        if member is None or member.cohort_id != cohort.id or member.status != MemberStatus.ACTIVE:
            raise ValidationFailed(
                "Pick your name from the list.", fields={"member_id": ["Unknown."]}
            )
    elif guest_name is not None:
        if consent_version != cohort.program.consent_version:
            # Ask for consent before the guest is put on the roster, so a retry can succeed.
            raise ValidationFailed(
                "Please read and accept how your answers are used.",
                fields={"consent_version": ["Consent needed."]},
                code="consent_required",
            )
        member = group_services.add_guest(cohort, guest_name)
    else:
        raise ValidationFailed("Pick your name from the list.", fields={"member_id": ["Required."]})
    taken = db.session.scalar(
        select(Device.id).where(
            Device.member_id == member.id,
            Device.token_hash != hashed,
            Device.last_seen_at > utcnow() - PRESENCE_GRACE,
        )
    )
    if taken is not None:
        raise Conflict(
            "This name is in use on another phone right now. Ask your facilitator.",
            code="name_in_use",
        )
    program = cohort.program
    if member.consent_version != program.consent_version:
        if consent_version != program.consent_version:
            raise ValidationFailed(
                "Please read and accept how your answers are used.",
                fields={"consent_version": ["Consent needed."]},
                code="consent_required",
            )
        member.consent_version = program.consent_version
        member.consent_at = utcnow()
    now = utcnow()
    if device is None:
        device = Device(cohort_id=cohort.id, token_hash=hashed)
        db.session.add(device)
    device.member = member
    device.last_seen_at = now
    group_services.record_phone_arrival(group_session, member, now)
    session_changed(group_session.id, "attendance")
    db.session.commit()
    return group_session, member, device


def authenticate_phone(device_token: Any, secret: Any, keep_history: Any = True) -> Participant:
    """Return the participant a phone's token speaks for, in its cohort's live session."""
    if not is_valid_secret(device_token) or not is_valid_secret(secret):
        raise NotAuthenticated("This phone has not joined a session.")
    device = db.session.scalar(select(Device).where(Device.token_hash == token_hash(device_token)))
    if device is None or device.member is None:
        raise NotAuthenticated("This phone has not joined a session.")
    if device.member.status != MemberStatus.ACTIVE:
        raise NotAuthenticated("This place on the roster is closed.")
    group_session_id = db.session.scalar(
        select(GroupSession.id).where(
            GroupSession.cohort_id == device.cohort_id, GroupSession.state == SessionState.LIVE
        )
    )
    if group_session_id is None:
        raise NotAuthenticated("No session of your group is live right now.", code="not_live")
    device.last_seen_at = utcnow()
    # A phone that comes back next week counts as arriving: attendance, pairs, recipients.
    group_services.record_phone_arrival(
        db.session.get(GroupSession, group_session_id), device.member, device.last_seen_at
    )
    db.session.commit()
    return Participant(
        device_id=device.id,
        member_id=device.member_id,
        cohort_id=device.cohort_id,
        group_session_id=group_session_id,
        secret=secret,
        keep_history=keep_history is not False,
    )


def heartbeat(participant: Participant) -> None:
    """Note that a phone is still here (a locked screen is not a departure)."""
    device = db.session.get(Device, participant.device_id)
    if device is not None:
        device.last_seen_at = utcnow()
        db.session.commit()


def phone_left(participant: Participant) -> None:
    """Note a dropped connection; the grace period decides when the console shows them away."""
    session_changed(participant.group_session_id, "presence")
    db.session.commit()


# --- steering the agenda -----------------------------------------------------------------------


def _activity(group_session_id: int, activity_id: Any) -> SessionActivity:
    activity = (
        db.session.get(SessionActivity, activity_id) if isinstance(activity_id, int) else None
    )
    if activity is None or activity.group_session_id != group_session_id:
        raise NotFound("No such activity in this session.")
    return activity


def _current(live: LiveSession) -> SessionActivity | None:
    return (
        db.session.get(SessionActivity, live.current_activity_id)
        if live.current_activity_id
        else None
    )


def show_activity(actor: Any, group_session_id: int, activity_id: Any) -> SessionActivity:
    """Put an activity's preview on the screen and phones, before it starts (consent first)."""
    _, live = get_live_session(actor, group_session_id)
    activity = _activity(group_session_id, activity_id)
    current = _current(live)
    if current is not None and current.id != activity.id and current.state == ActivityState.OPEN:
        _close(current)
    if activity.state == ActivityState.PENDING:
        activity.state = ActivityState.PREVIEW
    live.current_activity_id = activity.id
    live.phase = Phase.ACTIVITY
    live.grounding_since = None
    _touch(live)
    session_changed(group_session_id, "activity")
    db.session.commit()
    return activity


def step_activity(actor: Any, group_session_id: int, step: int) -> SessionActivity:
    """Move to the next (+1) or previous (-1) activity of the agenda."""
    _, live = get_live_session(actor, group_session_id)
    activities = _activities(group_session_id)
    if not activities:
        raise Conflict("This session's plan has no activities.", code="empty_agenda")
    ids = [a.id for a in activities]
    index = ids.index(live.current_activity_id) if live.current_activity_id in ids else -1
    target = index + (1 if step >= 0 else -1)
    if not 0 <= target < len(activities):
        raise Conflict("There is no activity in that direction.", code="agenda_edge")
    return show_activity(actor, group_session_id, activities[target].id)


def open_activity(actor: Any, group_session_id: int, activity_id: Any) -> SessionActivity:
    """Start the current activity: phones may answer, the server's countdown begins."""
    _, live = get_live_session(actor, group_session_id)
    activity = _activity(group_session_id, activity_id)
    if live.current_activity_id != activity.id:
        show_activity(actor, group_session_id, activity.id)
    activity.state = ActivityState.OPEN
    activity.opened_at = activity.opened_at or utcnow()
    activity.closed_at = None
    if (
        activity.timer_seconds
        and activity.timer_deadline is None
        and activity.timer_remaining is None
    ):
        activity.timer_deadline = utcnow() + timedelta(seconds=activity.timer_seconds)
    _touch(live)
    session_changed(group_session_id, "activity")
    db.session.commit()
    return activity


def _close(activity: SessionActivity) -> None:
    activity.state = ActivityState.CLOSED
    activity.closed_at = utcnow()
    if activity.timer_deadline is not None:
        activity.timer_remaining = max(0.0, (activity.timer_deadline - utcnow()).total_seconds())
        activity.timer_deadline = None


def close_activity(actor: Any, group_session_id: int, activity_id: Any) -> SessionActivity:
    """Stop taking answers; mood results then show if at least k answered (and not held)."""
    _, live = get_live_session(actor, group_session_id)
    activity = _activity(group_session_id, activity_id)
    _close(activity)
    _touch(live)
    session_changed(group_session_id, "activity", "results")
    db.session.commit()
    return activity


def reveal_results(actor: Any, group_session_id: int, activity_id: Any) -> SessionActivity:
    """Release held results to the screen; they show once the activity is closed and n >= k."""
    _, live = get_live_session(actor, group_session_id)
    activity = _activity(group_session_id, activity_id)
    activity.revealed = True
    _touch(live)
    session_changed(group_session_id, "results")
    db.session.commit()
    return activity


def control_timer(
    actor: Any, group_session_id: int, activity_id: Any, action: Any
) -> SessionActivity:
    """Start, pause, resume or lengthen the server-owned countdown of an activity."""
    _, live = get_live_session(actor, group_session_id)
    activity = _activity(group_session_id, activity_id)
    now = utcnow()
    if action == "start":
        seconds = activity.timer_remaining or activity.timer_seconds or 60
        activity.timer_deadline = now + timedelta(seconds=seconds)
        activity.timer_remaining = None
    elif action == "pause":
        if activity.timer_deadline is not None:
            activity.timer_remaining = max(0.0, (activity.timer_deadline - now).total_seconds())
            activity.timer_deadline = None
    elif action == "add_minute":
        if activity.timer_deadline is not None:
            activity.timer_deadline = max(activity.timer_deadline, now) + timedelta(minutes=1)
        else:
            activity.timer_remaining = (activity.timer_remaining or 0) + 60
    else:
        raise ValidationFailed(
            "Unknown timer action.", fields={"action": ["One of: start, pause, add_minute."]}
        )
    _touch(live)
    session_changed(group_session_id, "timer")
    db.session.commit()
    return activity


def start_grounding(actor: Any, group_session_id: int) -> LiveSession:
    """Interrupt whatever runs with a grounding guide on every screen; nothing is lost."""
    _, live = get_live_session(actor, group_session_id)
    live.phase = Phase.GROUNDING
    live.grounding_since = utcnow()
    current = _current(live)
    if current is not None and current.timer_deadline is not None:
        current.timer_remaining = max(0.0, (current.timer_deadline - utcnow()).total_seconds())
        current.timer_deadline = None
    _touch(live)
    session_changed(group_session_id, "grounding")
    db.session.commit()
    return live


def end_grounding(actor: Any, group_session_id: int) -> LiveSession:
    """Return to where the group was before the grounding break (the timer resumes)."""
    _, live = get_live_session(actor, group_session_id)
    if live.phase != Phase.GROUNDING:
        return live
    current = _current(live)
    live.phase = Phase.ACTIVITY if current is not None else Phase.LOBBY
    live.grounding_since = None
    if current is not None and current.state == ActivityState.OPEN and current.timer_remaining:
        current.timer_deadline = utcnow() + timedelta(seconds=current.timer_remaining)
        current.timer_remaining = None
    _touch(live)
    session_changed(group_session_id, "grounding")
    db.session.commit()
    return live


# --- answers -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _ActivityFacts:
    """What an answer needs to know of its activity and session; read once for a whole batch."""

    id: int
    group_session_id: int
    kind: ActivityKind
    state: ActivityState
    config: dict[str, Any] | None
    phase: Phase
    live: bool


_SQL_INT = range(-(2**63), 2**63)  # an id outside it is no id (and no driver would take it)


def _activity_facts(activity_ids: Any) -> dict[int, _ActivityFacts]:
    # The hot path of every batch of answers: its activities and their sessions in one query.
    ids = {a for a in activity_ids if isinstance(a, int) and a in _SQL_INT}
    if not ids:
        return {}
    rows = db.session.execute(
        select(
            SessionActivity.id,
            SessionActivity.group_session_id,
            SessionActivity.kind,
            SessionActivity.state,
            SessionActivity.config,
            LiveSession.phase,
            GroupSession.state,
        )
        .join(LiveSession, LiveSession.group_session_id == SessionActivity.group_session_id)
        .join(GroupSession, GroupSession.id == SessionActivity.group_session_id)
        .where(SessionActivity.id.in_(ids))
    )
    return {r[0]: _ActivityFacts(*r[:6], live=r[6] == SessionState.LIVE) for r in rows}


def _open_activity_for(
    participant: Participant, activity_id: Any, facts: dict[int, _ActivityFacts] | None = None
) -> _ActivityFacts:
    if facts is None:
        facts = _activity_facts([activity_id])
    group_session_id = participant.group_session_id
    activity = facts.get(activity_id) if isinstance(activity_id, int) else None
    if activity is None or activity.group_session_id != group_session_id or not activity.live:
        _live(group_session_id)  # say why: not live, or no such activity
        if isinstance(activity_id, int) and activity_id in _SQL_INT:
            _activity(group_session_id, activity_id)
        raise NotFound("No such activity in this session.")
    if activity.state != ActivityState.OPEN:
        raise Conflict("This activity is not taking answers now.", code="not_open")
    if activity.phase == Phase.GROUNDING:
        raise Conflict("The group is taking a grounding break.", code="grounding")
    return activity


def _client_id(value: Any) -> str:
    if not isinstance(value, str) or not 8 <= len(value) <= 64:
        raise ValidationFailed(
            "Each answer needs a client id.", fields={"client_id": ["8-64 chars."]}
        )
    return value


def _unit(errors: dict[str, list[str]], name: str, value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        errors.setdefault(name, []).append("A number from 0 to 1.")
        return None
    return round(float(value), 3)


def _answer_values(activity: _ActivityFacts, payload: Mapping[str, Any]) -> dict[str, Any]:
    """Check one answer's payload against its activity; return the row's answer columns."""
    errors: dict[str, list[str]] = {}
    passed = payload.get("passed") is True
    values: dict[str, Any] = {
        "passed": passed,
        "pleasure": None,
        "arousal": None,
        "words": [],
        "connectedness": None,
        "response": None,
        "text": None,
        "reaction": None,
        "moderation": None,
        "items": None,
        "score": None,
    }
    if not passed:
        if activity.kind in MOOD_KINDS:
            values.update(_mood_values(errors, activity, payload))
        elif activity.kind == ActivityKind.PROMPT:
            values.update(_prompt_values(errors, payload))
        elif activity.kind == ActivityKind.QUESTIONNAIRE:
            values.update(_questionnaire_values(errors, activity, payload))
        else:
            errors.setdefault("kind", []).append("This activity takes no answers from phones.")
    if errors:
        raise ValidationFailed("That answer needs another look.", fields=errors)
    return values


AnswerRequest = tuple[Participant, Any, Mapping[str, Any]]  # who, which activity, the payload


def submit_answer(
    participant: Participant, activity_id: Any, payload: Mapping[str, Any]
) -> dict[str, Any]:
    """Store or change a phone's anonymous answer to the open activity (idempotent per client id).

    Returns the stored row's columns. The stored row names no member and no device: only a key
    that means something in this activity alone, and the phone's keyed pseudonym if it keeps
    its history.
    """
    result = submit_answers([(participant, activity_id, payload)])[0]
    if isinstance(result, Exception):
        raise result
    return result


def submit_answers(requests: list[AnswerRequest]) -> list[dict[str, Any] | Exception]:
    """Store a batch of answers in one transaction and one commit (group commit).

    Each request gets its own outcome, in order: the stored row's columns, or the error that
    refused it (a refusal of one answer never refuses another). Within the batch a phone's
    later answer to an activity replaces its earlier one, as it would one commit later. If the
    batch cannot be written, each answer is retried alone.
    """
    facts = _activity_facts(a for _, a, _ in requests)
    results: list[dict[str, Any] | Exception | None] = [None] * len(requests)
    checked = []
    for i, (participant, activity_id, payload) in enumerate(requests):
        try:
            activity = _open_activity_for(participant, activity_id, facts)
            client_id = _client_id(payload.get("client_id"))
            values = _answer_values(activity, payload)
        except HearthError as exc:
            results[i] = exc
            continue
        key = slot_key(participant.secret, activity.id)
        checked.append((i, participant, activity.id, key, client_id, values))
    if not checked:
        return results  # type: ignore[return-value]
    table = Answer.__table__
    rows: dict[tuple[int, str], dict[str, Any]] = {
        (r["activity_id"], r["slot_key"]): dict(r)
        for r in db.session.execute(
            select(table).where(
                table.c.activity_id.in_({c[2] for c in checked}),
                table.c.slot_key.in_({c[3] for c in checked}),
            )
        ).mappings()
    }
    inserts: dict[tuple[int, str], dict[str, Any]] = {}
    updates: dict[tuple[int, str], dict[str, Any]] = {}
    changed: dict[int, set[str]] = {}
    today = utcnow().date()
    for i, participant, activity_id, key, client_id, values in checked:
        slot = (activity_id, key)
        row = rows.get(slot)
        if row is not None and row["client_id"] == client_id:
            results[i] = dict(row)  # a re-sent answer after a reconnect: already counted
            continue
        # A text joins (or a changed answer leaves) the moderation queue: more than a count moved.
        queued = (row is not None and row["moderation"] is not None) or values[
            "moderation"
        ] is not None
        new = {
            "id": row["id"] if row is not None else uuid.uuid4().hex,
            "activity_id": activity_id,
            "slot_key": key,
            "client_id": client_id,
            "pseudonym_hash": pseudonym_hash(current_app.config["SECRET_KEY"], participant.secret)
            if participant.keep_history
            else None,
            "answered_on": today,
            **values,
        }
        (updates if row is not None and slot not in inserts else inserts)[slot] = new
        rows[slot] = new
        results[i] = dict(new)
        changed.setdefault(participant.group_session_id, {"answers"}).update(
            ("moderation",) if queued else ()
        )
    try:
        if inserts:
            db.session.execute(insert(table), list(inserts.values()))
        if updates:
            db.session.execute(
                update(table).where(table.c.id == bindparam("row_id")),
                [
                    {"row_id": r["id"]} | {k: v for k, v in r.items() if k != "id"}
                    for r in updates.values()
                ],
            )
        for group_session_id, what in changed.items():
            session_changed(group_session_id, *sorted(what))
        db.session.commit()
    except Exception:
        db.session.rollback()
        if len(requests) == 1:
            raise
        return [_submit_alone(request) for request in requests]
    return results  # type: ignore[return-value]


def _submit_alone(request: AnswerRequest) -> dict[str, Any] | Exception:
    try:
        return submit_answers([request])[0]
    except Exception as exc:  # noqa: BLE001 - handed to the one answer it belongs to
        return exc


def _mood_values(errors, activity: _ActivityFacts, payload: Mapping[str, Any]) -> dict[str, Any]:
    pleasure = _unit(errors, "pleasure", payload.get("pleasure"))
    arousal = _unit(errors, "arousal", payload.get("arousal"))
    words = payload.get("words") or []
    if not isinstance(words, list) or any(w not in FEELING_WORDS for w in words) or len(words) > 5:
        errors.setdefault("words", []).append("Up to 5 words from the list.")
        words = []
    connectedness = payload.get("connectedness")
    if connectedness is not None:
        if isinstance(connectedness, bool) or connectedness not in range(1, 8):
            errors.setdefault("connectedness", []).append("A pair of circles from 1 to 7.")
            connectedness = None
        elif activity.kind != ActivityKind.CHECK_OUT:
            errors.setdefault("connectedness", []).append("Only asked at check-out.")
    if pleasure is None and arousal is None and not words and connectedness is None and not errors:
        errors.setdefault("pleasure", []).append("Move a slider, pick a word, or pass.")
    return {
        "pleasure": pleasure,
        "arousal": arousal,
        "words": sorted(set(words)),
        "connectedness": connectedness,
    }


def _prompt_values(errors, payload: Mapping[str, Any]) -> dict[str, Any]:
    response = payload.get("response")
    if response not in PROMPT_RESPONSES:
        errors.setdefault("response", []).append("One of: done, text, reaction (or pass).")
        return {}
    out: dict[str, Any] = {"response": response}
    if response == "text":
        text = payload.get("text")
        if not isinstance(text, str) or not text.strip() or len(text.strip()) > 280:
            errors.setdefault("text", []).append("Write 1 to 280 characters.")
        else:
            out["text"] = text.strip()
            out["moderation"] = Moderation.PENDING
    if response == "reaction":
        if payload.get("reaction") not in REACTIONS:
            errors.setdefault("reaction", []).append("Pick one of the reactions.")
        else:
            out["reaction"] = payload["reaction"]
    return out


def _questionnaire_values(errors, activity: _ActivityFacts, payload: Mapping[str, Any]) -> dict:
    from groups.models import Instrument

    key = (activity.config or {}).get("instrument")
    instrument = db.session.scalar(select(Instrument).where(Instrument.key == key))
    if instrument is None:
        errors.setdefault("instrument", []).append("This activity has no instrument.")
        return {}
    items = payload.get("items")
    fmt = instrument.response_format
    keys = [i["key"] for i in instrument.items]
    if not isinstance(items, dict) or set(items) - set(keys):
        errors.setdefault("items", []).append("Answer the listed items.")
        return {}
    for item_key, value in items.items():
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or not fmt["min"] <= value <= fmt["max"]
        ):
            errors.setdefault(f"items.{item_key}", []).append(f"From {fmt['min']} to {fmt['max']}.")
    if errors:
        return {}
    score = None
    if set(items) == set(keys):  # a total only when every item was answered
        score = float(sum(items.values()) * instrument.scoring.get("multiplier", 1))
    return {"items": dict(items), "score": score}


def find_own_answer(participant: Participant, activity_id: int) -> Answer | None:
    """Return this phone's answer to one activity, found through its slot key alone."""
    key = slot_key(participant.secret, activity_id)
    return db.session.scalar(
        select(Answer).where(Answer.activity_id == activity_id, Answer.slot_key == key)
    )


def own_history(participant: Participant) -> list[Answer]:
    """Return this phone's own mood answers across the cycle, through its keyed pseudonym."""
    hashed = pseudonym_hash(current_app.config["SECRET_KEY"], participant.secret)
    return list(
        db.session.scalars(
            select(Answer).where(Answer.pseudonym_hash == hashed).order_by(Answer.answered_on)
        )
    )


def forget_own_history(participant: Participant) -> int:
    """Delete every answer linked to this phone's pseudonym; return how many went."""
    answers = own_history(participant)
    for answer in answers:
        db.session.delete(answer)
    session_changed(participant.group_session_id, "answers")
    db.session.commit()
    return len(answers)


def moderate(actor: Any, group_session_id: int, kind: Any, item_id: Any, decision: Any) -> None:
    """Approve or reject a text (prompt answer or appreciation) before the room sees it."""
    get_live_session(actor, group_session_id)
    if decision not in ("approve", "reject"):
        raise ValidationFailed("Approve or reject.", fields={"decision": ["approve or reject."]})
    status = Moderation.APPROVED if decision == "approve" else Moderation.REJECTED
    if kind == "answer":
        item = db.session.get(Answer, item_id) if isinstance(item_id, str) else None
    elif kind == "appreciation":
        item = db.session.get(Appreciation, item_id) if isinstance(item_id, int) else None
    else:
        raise ValidationFailed("Unknown item.", fields={"kind": ["answer or appreciation."]})
    if item is None or item.activity.group_session_id != group_session_id:
        raise NotFound("No such text in this session.")
    item.moderation = status
    session_changed(group_session_id, "moderation")
    if kind == "appreciation" and status == Moderation.APPROVED and item.recipient_id:
        queue_event(
            db.session,
            "appreciation_received",
            Audience("member", item.recipient_id),
            {"text": item.text, "signature": item.signature},
        )
    db.session.commit()


# --- warmth: appreciations and dyads -----------------------------------------------------------


def send_appreciation(
    participant: Participant, activity_id: Any, payload: Mapping[str, Any]
) -> Appreciation:
    """Queue a short appreciation for the facilitator to approve; signed only if the sender says."""
    activity = _open_activity_for(participant, activity_id)
    if activity.kind != ActivityKind.APPRECIATION:
        raise Conflict("This activity is not an appreciation round.", code="wrong_activity")
    client_id = _client_id(payload.get("client_id"))
    existing = db.session.scalar(
        select(Appreciation).where(
            Appreciation.activity_id == activity.id, Appreciation.client_id == client_id
        )
    )
    if existing is not None:
        return existing
    errors: dict[str, list[str]] = {}
    text = payload.get("text")
    if not isinstance(text, str) or not text.strip() or len(text.strip()) > 280:
        errors["text"] = ["Write 1 to 280 characters."]
    recipient_id = payload.get("recipient_id")
    if recipient_id is not None:
        recipient = db.session.get(Member, recipient_id) if isinstance(recipient_id, int) else None
        if recipient is None or recipient.cohort_id != participant.cohort_id:
            errors["recipient_id"] = ["Pick someone from the group, or the whole group."]
        elif recipient.id == participant.member_id:
            errors["recipient_id"] = ["Appreciate someone else (or the group)."]
    if errors:
        raise ValidationFailed("That appreciation needs another look.", fields=errors)
    sender = db.session.get(Member, participant.member_id)
    appreciation = Appreciation(
        activity_id=activity.id,
        client_id=client_id,
        recipient_id=recipient_id,
        text=text.strip(),
        signature=sender.display_name if payload.get("signed") is True and sender else None,
    )
    db.session.add(appreciation)
    session_changed(participant.group_session_id, "moderation")
    db.session.commit()
    return appreciation


def present_members(group_session_id: int) -> list[Member]:
    """Members marked present or late in this session, in a stable order."""
    return list(
        db.session.scalars(
            select(Member)
            .join(Attendance, Attendance.member_id == Member.id)
            .where(
                Attendance.group_session_id == group_session_id,
                Attendance.status.in_([AttendanceStatus.PRESENT, AttendanceStatus.LATE]),
            )
            .order_by(Member.id)
        )
    )


def _pair_history(cohort_id: int) -> set[frozenset[int]]:
    rows = db.session.execute(
        select(
            DyadPairing.activity_id,
            DyadPairing.round,
            DyadPairing.group_index,
            DyadPairing.member_id,
        )
        .join(SessionActivity, SessionActivity.id == DyadPairing.activity_id)
        .join(GroupSession, GroupSession.id == SessionActivity.group_session_id)
        .where(GroupSession.cohort_id == cohort_id)
    )
    groups: dict[tuple[int, int, int], list[int]] = {}
    for activity_id, round_no, group_index, member_id in rows:
        groups.setdefault((activity_id, round_no, group_index), []).append(member_id)
    pairs: set[frozenset[int]] = set()
    for members in groups.values():
        for i, a in enumerate(members):
            for b in members[i + 1 :]:
                pairs.add(frozenset((a, b)))
    return pairs


def pair_up(
    member_ids: list[int], history: set[frozenset[int]], rng: secrets.SystemRandom | Any
) -> list[list[int]]:
    """Pair people so that as few pairs as possible repeat; an odd one out makes a triad."""
    best: list[list[int]] | None = None
    best_repeats = None
    for _ in range(200):
        order = list(member_ids)
        rng.shuffle(order)
        groups = [order[i : i + 2] for i in range(0, len(order) - len(order) % 2, 2)]
        if len(order) % 2:
            if groups:
                groups[-1].append(order[-1])
            else:
                groups = [[order[-1]]]
        repeats = sum(
            frozenset((a, b)) in history
            for g in groups
            for i, a in enumerate(g)
            for b in g[i + 1 :]
        )
        if best_repeats is None or repeats < best_repeats:
            best, best_repeats = groups, repeats
            if repeats == 0:
                break
    return best or []


def form_dyads(actor: Any, group_session_id: int, activity_id: Any) -> list[list[int]]:
    """Pair the people present for the next round, avoiding earlier pairs of the cohort."""
    group_session, live = get_live_session(actor, group_session_id)
    activity = _activity(group_session_id, activity_id)
    if activity.kind != ActivityKind.DYADS:
        raise Conflict("This activity is not a dyads exercise.", code="wrong_activity")
    members = [m.id for m in present_members(group_session_id)]
    if len(members) < 2:
        raise Conflict("Pairs need at least two people present.", code="too_few")
    last_round = db.session.scalar(
        select(func.max(DyadPairing.round)).where(DyadPairing.activity_id == activity.id)
    )
    round_no = (last_round or 0) + 1
    groups = pair_up(members, _pair_history(group_session.cohort_id), secrets.SystemRandom())
    for index, group in enumerate(groups):
        for member_id in group:
            db.session.add(
                DyadPairing(
                    activity_id=activity.id, round=round_no, group_index=index, member_id=member_id
                )
            )
    activity.config = {**(activity.config or {}), "round": round_no}
    if activity.state != ActivityState.OPEN:
        activity.state = ActivityState.OPEN
        activity.opened_at = activity.opened_at or utcnow()
    if activity.timer_seconds:
        activity.timer_deadline = utcnow() + timedelta(seconds=activity.timer_seconds)
        activity.timer_remaining = None
    live.current_activity_id = activity.id
    live.phase = Phase.ACTIVITY
    _touch(live)
    session_changed(group_session_id, "dyads", "activity")
    db.session.commit()
    return groups


def current_partners(group_session_id: int, activity: SessionActivity, member_id: int) -> list[str]:
    """Names of this member's partners in the latest round (shown on their phone, by design)."""
    round_no = (activity.config or {}).get("round")
    if not round_no:
        return []
    rows = db.session.execute(
        select(DyadPairing.group_index, DyadPairing.member_id).where(
            DyadPairing.activity_id == activity.id, DyadPairing.round == round_no
        )
    ).all()
    mine = next((g for g, m in rows if m == member_id), None)
    if mine is None:
        return []
    ids = [m for g, m in rows if g == mine and m != member_id]
    return [db.session.get(Member, i).display_name for i in ids]


# --- safety ------------------------------------------------------------------------------------


def request_pause(participant: Participant, payload: Mapping[str, Any]) -> PauseSignal:
    """Tell the facilitator, privately, that someone needs a pause; named only if they ask."""
    _live(participant.group_session_id)
    client_id = _client_id(payload.get("client_id"))
    existing = db.session.scalar(select(PauseSignal).where(PauseSignal.client_id == client_id))
    if existing is not None:
        return existing
    check_in = payload.get("check_in") is True
    signal = PauseSignal(
        group_session_id=participant.group_session_id,
        client_id=client_id,
        # The name travels only when the participant asked to be checked in with.
        member_id=participant.member_id if check_in else None,
    )
    db.session.add(signal)
    session_changed(participant.group_session_id, "pause")
    db.session.commit()
    return signal


def acknowledge_pause(actor: Any, group_session_id: int, signal_id: Any) -> PauseSignal:
    """Mark a pause request as seen by the facilitator."""
    get_live_session(actor, group_session_id)
    signal = db.session.get(PauseSignal, signal_id) if isinstance(signal_id, int) else None
    if signal is None or signal.group_session_id != group_session_id:
        raise NotFound("No such pause request.")
    signal.acknowledged_at = signal.acknowledged_at or utcnow()
    session_changed(group_session_id, "pause")
    db.session.commit()
    return signal


def set_attendance(actor: Any, group_session_id: int, member_id: Any, status: Any) -> None:
    """Correct one member's attendance from the console."""
    if not isinstance(member_id, int):
        raise ValidationFailed("Pick a member.", fields={"member_id": ["Required."]})
    group_services.record_attendance(actor, group_session_id, {member_id: status})
    session_changed(group_session_id, "attendance")
    db.session.commit()


def live_sessions_of(cohort: Cohort) -> GroupSession | None:
    """Return the cohort's live session, if one runs."""
    return db.session.scalar(
        select(GroupSession).where(
            GroupSession.cohort_id == cohort.id, GroupSession.state == SessionState.LIVE
        )
    )


def presence(group_session_id: int, now: datetime | None = None) -> dict[int, bool]:
    """Map member id to whether one of their phones was seen within the grace period."""
    now = now or utcnow()
    group_session = db.session.get(GroupSession, group_session_id)
    rows = db.session.execute(
        select(Device.member_id, func.max(Device.last_seen_at))
        .where(Device.cohort_id == group_session.cohort_id, Device.member_id.is_not(None))
        .group_by(Device.member_id)
    ).all()
    result = {}
    for member_id, seen in rows:
        if seen is not None and seen.tzinfo is None:
            from datetime import UTC

            seen = seen.replace(tzinfo=UTC)
        result[member_id] = seen is not None and now - seen <= PRESENCE_GRACE
    return result
