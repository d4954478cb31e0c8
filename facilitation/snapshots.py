"""Own what each audience of a live session sees: the screen, the console, and the phones.

Every snapshot is built from the database alone, so a restarted or second server process
sends the same picture. Anonymous results follow two rules: nothing from fewer than k people,
and mood distributions only once the activity is closed (and revealed, if held), so nobody in
the room learns an answer by watching the picture change as one person taps.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from facilitation.models import (
    ActivityState,
    Answer,
    Appreciation,
    DyadPairing,
    LiveSession,
    Moderation,
    PauseSignal,
    Phase,
    SessionActivity,
)
from facilitation.services import (
    MOOD_KINDS,
    PASS_ONLY_KINDS,
    REACTIONS,
    Participant,
    current_partners,
    find_own_answer,
    presence,
    present_members,
)
from groups.extensions import db
from groups.instruments import FEELING_WORDS
from groups.models import (
    ActivityKind,
    Attendance,
    AttendanceStatus,
    GroupSession,
    Instrument,
    Member,
    MemberStatus,
)
from groups.types import utcnow

GRID_BINS = 5


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _timer(activity: SessionActivity, phase: Phase) -> dict[str, Any] | None:
    if (
        not activity.timer_seconds
        and activity.timer_deadline is None
        and activity.timer_remaining is None
    ):
        return None
    running = activity.timer_deadline is not None and phase != Phase.GROUNDING
    return {
        "seconds": activity.timer_seconds,
        "deadline": _iso(activity.timer_deadline),
        "remaining": activity.timer_remaining
        if activity.timer_deadline is None
        else max(0.0, (activity.timer_deadline - utcnow()).total_seconds()),
        "running": running,
    }


def _activity_public(activity: SessionActivity | None, phase: Phase) -> dict[str, Any] | None:
    if activity is None:
        return None
    return {
        "id": activity.id,
        "position": activity.position,
        "kind": activity.kind.value,
        "title": activity.title,
        "text": activity.text,
        "preview": activity.preview,
        "intensity": activity.intensity,
        "state": activity.state.value,
        "timer": _timer(activity, phase),
        "round": (activity.config or {}).get("round"),
    }


def _bin(value: float) -> int:
    return min(GRID_BINS - 1, int(value * GRID_BINS))


def results(activity: SessionActivity, k: int) -> dict[str, Any]:
    """Anonymous results of one activity, each part withheld below k respondents."""
    if activity.kind in PASS_ONLY_KINDS:
        # These rounds take no answer, only passes: any count would be a count of passes.
        return {"k": k}
    if activity.kind in MOOD_KINDS:
        closed = activity.state == ActivityState.CLOSED
        released = closed and (activity.revealed or not activity.hold_results)
        if not released:
            # Only the count shows while a poll is open or held: count, load no answer.
            count = select(func.count(Answer.id)).where(Answer.activity_id == activity.id)
            return {
                "responded": db.session.scalar(count) or 0,
                "k": k,
                "released": False,
                "reason": "held" if closed else "open",
            }
    rows = list(db.session.scalars(select(Answer).where(Answer.activity_id == activity.id)))
    # Passes and answers count together: how many passed never reaches any screen.
    out: dict[str, Any] = {"responded": len(rows), "k": k}
    answered = [a for a in rows if not a.passed]
    if activity.kind in MOOD_KINDS:
        out["released"] = True
        out["reason"] = None
        rated = [a for a in answered if a.pleasure is not None and a.arousal is not None]
        grid = [[0] * GRID_BINS for _ in range(GRID_BINS)]
        for a in rated:
            grid[_bin(a.arousal)][_bin(a.pleasure)] += 1
        out["grid"] = _part(len(rated), k, {"cells": grid, "n": len(rated)})
        with_words = [a for a in answered if a.words]
        words = Counter(w for a in with_words for w in a.words)
        out["words"] = _part(
            len(with_words),
            k,
            {
                "counts": [{"word": w, "count": words[w]} for w in FEELING_WORDS if words[w]],
                "n": len(with_words),
            },
        )
        if activity.kind == ActivityKind.CHECK_OUT:
            rated_c = [a.connectedness for a in answered if a.connectedness is not None]
            counts = Counter(rated_c)
            out["connectedness"] = _part(
                len(rated_c),
                k,
                {"counts": [counts[i] for i in range(1, 8)], "n": len(rated_c)},
            )
    elif activity.kind == ActivityKind.PROMPT:
        reactions = Counter(a.reaction for a in answered if a.reaction)
        total = sum(reactions.values())
        out["reactions"] = _part(
            total,
            k,
            {"counts": [{"reaction": r, "count": reactions[r]} for r in REACTIONS], "n": total},
        )
    return out


def _part(n: int, k: int, shown: dict[str, Any]) -> dict[str, Any]:
    if n < k:
        return {"withheld": True, "n_below": k}
    return {"withheld": False, **shown}


def _approved_texts(group_session_id: int) -> list[dict[str, Any]]:
    answers = db.session.scalars(
        select(Answer)
        .join(SessionActivity, SessionActivity.id == Answer.activity_id)
        .where(
            SessionActivity.group_session_id == group_session_id,
            Answer.moderation == Moderation.APPROVED,
            Answer.passed.is_(False),
        )
        .order_by(SessionActivity.position, Answer.text)
    )
    return [{"activity_id": a.activity_id, "text": a.text} for a in answers]


def _approved_appreciations(group_session_id: int) -> list[dict[str, Any]]:
    rows = db.session.scalars(
        select(Appreciation)
        .join(SessionActivity, SessionActivity.id == Appreciation.activity_id)
        .where(
            SessionActivity.group_session_id == group_session_id,
            Appreciation.moderation == Moderation.APPROVED,
        )
        .order_by(Appreciation.id)
    )
    return [
        {
            "id": a.id,
            "text": a.text,
            "to": a.recipient.display_name if a.recipient else None,
            "signature": a.signature,
        }
        for a in rows
    ]


def _pairs(activity: SessionActivity | None) -> list[list[str]] | None:
    if activity is None or activity.kind != ActivityKind.DYADS:
        return None
    round_no = (activity.config or {}).get("round")
    if not round_no:
        return []
    rows = db.session.execute(
        select(DyadPairing.group_index, Member.display_name)
        .join(Member, Member.id == DyadPairing.member_id)
        .where(DyadPairing.activity_id == activity.id, DyadPairing.round == round_no)
        .order_by(DyadPairing.group_index, Member.display_name)
    ).all()
    groups: dict[int, list[str]] = {}
    for index, name in rows:
        groups.setdefault(index, []).append(name)
    return list(groups.values())


def _base(group_session: GroupSession, live: LiveSession) -> dict[str, Any]:
    current = (
        db.session.get(SessionActivity, live.current_activity_id)
        if live.current_activity_id
        else None
    )
    return {
        "session": {
            "id": group_session.id,
            "number": group_session.number,
            "cohort": group_session.cohort.name,
            "state": group_session.state.value,
            "phase": live.phase.value,
            "join_code": group_session.join_code,
            "language": group_session.cohort.language,
        },
        "activity": _activity_public(current, live.phase),
        "revision": live.revision,
        "server_now": utcnow().isoformat(),
        "_current": current,
    }


def _arrived_count(group_session_id: int) -> int:
    return (
        db.session.scalar(
            select(func.count(Attendance.id)).where(
                Attendance.group_session_id == group_session_id,
                Attendance.status.in_([AttendanceStatus.PRESENT, AttendanceStatus.LATE]),
            )
        )
        or 0
    )


def screen_state(group_session_id: int) -> dict[str, Any]:
    """What the shared screen shows: never a pass, a pause, or a name outside warmth exercises."""
    group_session = db.session.get(GroupSession, group_session_id)
    live = db.session.get(LiveSession, group_session_id)
    if group_session is None or live is None:
        return {"session": {"id": group_session_id, "state": "unknown", "phase": "closed"}}
    state = _base(group_session, live)
    current = state.pop("_current")
    k = group_session.cohort.program.min_group_size
    state["arrived"] = _arrived_count(group_session_id)
    state["results"] = results(current, k) if current is not None else None
    state["texts"] = _approved_texts(group_session_id)
    state["appreciations"] = _approved_appreciations(group_session_id)
    state["pairs"] = _pairs(current)
    return state


def with_fresh_results(group_session_id: int, state: dict[str, Any]) -> dict[str, Any] | None:
    """Renew a screen or console snapshot after new answers alone: results, timer, clock.

    Returns None when the session has changed in any other way since `state` was built (its
    revision moved on, in this process or another): then build the snapshot afresh.
    """
    live = db.session.get(LiveSession, group_session_id)
    activity = state.get("activity") or {}
    if (
        live is None
        or live.revision != state.get("revision")
        or live.current_activity_id is None
        or live.current_activity_id != activity.get("id")
        or not isinstance(state.get("results"), dict)
        or "k" not in state["results"]
    ):
        return None
    current = db.session.get(SessionActivity, live.current_activity_id)
    if current is None:
        return None
    return {
        **state,
        "activity": _activity_public(current, live.phase),
        "results": results(current, state["results"]["k"]),
        "server_now": utcnow().isoformat(),
    }


def console_state(group_session_id: int, screen: dict[str, Any] | None = None) -> dict[str, Any]:
    """What the facilitator's console shows: agenda, attendance, moderation queue, pauses.

    It is the screen's snapshot plus the console's own parts; pass a screen snapshot built in
    the same transaction to save building it twice (the publisher does, on every redraw).
    """
    state = dict(screen) if screen is not None else screen_state(group_session_id)
    group_session = db.session.get(GroupSession, group_session_id)
    if group_session is None or db.session.get(LiveSession, group_session_id) is None:
        return state
    activities = db.session.scalars(
        select(SessionActivity)
        .where(SessionActivity.group_session_id == group_session_id)
        .order_by(SessionActivity.position)
    )
    state["agenda"] = [
        {
            "id": a.id,
            "position": a.position,
            "kind": a.kind.value,
            "title": a.title,
            "intensity": a.intensity,
            "state": a.state.value,
            "timer_seconds": a.timer_seconds,
            "hold_results": a.hold_results,
            "revealed": a.revealed,
        }
        for a in activities
    ]
    here = presence(group_session_id)
    marks = {a.member_id: a for a in group_session.attendance}
    state["attendance"] = [
        {
            "member_id": m.id,
            "name": m.display_name,
            "guest": m.is_guest,
            "status": marks[m.id].status.value if m.id in marks else None,
            "arrived_at": _iso(marks[m.id].arrived_at) if m.id in marks else None,
            "connected": here.get(m.id, False),
        }
        for m in group_session.cohort.members
        if m.status == MemberStatus.ACTIVE or m.id in marks
    ]
    pending_answers = db.session.scalars(
        select(Answer)
        .join(SessionActivity, SessionActivity.id == Answer.activity_id)
        .where(
            SessionActivity.group_session_id == group_session_id,
            Answer.moderation == Moderation.PENDING,
        )
    )
    pending_apps = db.session.scalars(
        select(Appreciation)
        .join(SessionActivity, SessionActivity.id == Appreciation.activity_id)
        .where(
            SessionActivity.group_session_id == group_session_id,
            Appreciation.moderation == Moderation.PENDING,
        )
        .order_by(Appreciation.id)
    )
    state["moderation"] = [
        {"kind": "answer", "id": a.id, "activity_id": a.activity_id, "text": a.text}
        for a in pending_answers
    ] + [
        {
            "kind": "appreciation",
            "id": a.id,
            "activity_id": a.activity_id,
            "text": a.text,
            "to": a.recipient.display_name if a.recipient else None,
            "signature": a.signature,
        }
        for a in pending_apps
    ]
    pauses = db.session.scalars(
        select(PauseSignal)
        .where(PauseSignal.group_session_id == group_session_id)
        .order_by(PauseSignal.id.desc())
    )
    state["pauses"] = [
        {
            "id": p.id,
            "at": _iso(p.created_at),
            "check_in_with": p.member.display_name if p.member else None,
            "acknowledged": p.acknowledged_at is not None,
        }
        for p in pauses
    ]
    return state


def phone_state(group_session_id: int, participant: Participant | None = None) -> dict[str, Any]:
    """What a phone shows; with a participant, also its own answer and private items."""
    group_session = db.session.get(GroupSession, group_session_id)
    live = db.session.get(LiveSession, group_session_id)
    if group_session is None or live is None:
        return {"session": {"id": group_session_id, "state": "unknown", "phase": "closed"}}
    state = _base(group_session, live)
    current = state.pop("_current")
    state["session"].pop("join_code", None)
    if current is not None:
        if current.kind in MOOD_KINDS:
            state["activity"]["words"] = FEELING_WORDS
            state["activity"]["connectedness"] = current.kind == ActivityKind.CHECK_OUT
        elif current.kind == ActivityKind.PROMPT:
            state["activity"]["reactions"] = list(REACTIONS)
        elif current.kind == ActivityKind.QUESTIONNAIRE:
            instrument = db.session.scalar(
                select(Instrument).where(Instrument.key == (current.config or {}).get("instrument"))
            )
            if instrument is not None:
                state["activity"]["instrument"] = {
                    "key": instrument.key,
                    "name": instrument.name,
                    "items": instrument.items,
                    "response_format": instrument.response_format,
                    "licence": instrument.licence,
                }
        elif current.kind == ActivityKind.APPRECIATION:
            state["activity"]["recipients"] = [
                {"id": m.id, "name": m.display_name} for m in present_members(group_session_id)
            ]
    if participant is not None:
        state["me"] = private_state(participant, current)
    return state


def private_state(participant: Participant, current: SessionActivity | None) -> dict[str, Any]:
    """A phone's own view: its name, its answer now, its partners, the warmth it received."""

    member = db.session.get(Member, participant.member_id)
    mine = find_own_answer(participant, current.id) if current is not None else None
    received = db.session.scalars(
        select(Appreciation)
        .join(SessionActivity, SessionActivity.id == Appreciation.activity_id)
        .where(
            SessionActivity.group_session_id == participant.group_session_id,
            Appreciation.recipient_id == participant.member_id,
            Appreciation.moderation == Moderation.APPROVED,
        )
        .order_by(Appreciation.id)
    )
    return {
        "member_id": participant.member_id,
        "name": member.display_name if member else None,
        "answer": answer_view(mine),
        "partners": current_partners(participant.group_session_id, current, participant.member_id)
        if current is not None and current.kind == ActivityKind.DYADS
        else [],
        "appreciations": [{"text": a.text, "signature": a.signature} for a in received],
    }


ANSWER_VIEW = (
    "activity_id",
    "client_id",
    "passed",
    "pleasure",
    "arousal",
    "words",
    "connectedness",
    "response",
    "text",
    "reaction",
    "items",
)


def answer_view(answer: Answer | Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A phone's own answer as the phone may see it (an Answer, or a row's columns)."""
    if answer is None:
        return None
    if not isinstance(answer, Mapping):
        answer = {name: getattr(answer, name) for name in (*ANSWER_VIEW, "moderation")}
    moderation = answer["moderation"]
    return {name: answer[name] for name in ANSWER_VIEW} | {
        "moderation": moderation.value if moderation else None
    }
