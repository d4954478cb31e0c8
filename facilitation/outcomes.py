"""Own the program-cycle outcomes: a session's summary, a cohort's cycle, a program's cohorts.

Every anonymous figure goes through facilitation.disclosure before it leaves this module, and
every page, CSV export and API answer is built from what these services return: a withheld
figure carries its reason and no value, so no edge can leak what the rules hold back.

Audiences: the facilitator of a cohort (and admins) sees names with attendance and the session
and cycle figures; a coordinator sees only program_comparison, per cohort and suppressed, with no
member, no per-member row and no attendance matrix.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from typing import Any

from sqlalchemy import func, select

from facilitation import stats
from facilitation.disclosure import Figure, resolve, withheld_text
from facilitation.models import (
    Answer,
    Appreciation,
    Moderation,
    PauseSignal,
    SessionActivity,
    SessionAggregate,
)
from groups.access import CohortAccess, access_cohort, access_program, is_admin, require_actor
from groups.errors import Conflict, Forbidden, HearthError, NotFound
from groups.extensions import db
from groups.models import (
    ActivityKind,
    AttendanceStatus,
    Cohort,
    GroupSession,
    Instrument,
    Member,
    Program,
    Role,
    SessionState,
)
from groups.services import audit

ATTENDED = (AttendanceStatus.PRESENT, AttendanceStatus.LATE)
MOOD_BINS = 5
NUMB_BELOW = 0.5  # the Affective Slider's numb quadrant: pleasure and arousal both below this


def questionnaire_keys(program: Program) -> list[str]:
    """The program's questionnaires: shipped ones first, then its own, in a fixed order.

    The order matters: the small-number rules decide figures first come, first kept.
    """
    chosen = [i for i in program.instruments if i.kind == "questionnaire"]
    return [i.key for i in sorted(chosen, key=lambda i: (not i.builtin, i.id))]
# Mood figures of one session, in the order the differencing rule considers them.
MOOD_MOMENTS = ("check_in", "check_out", "shift")


# --- raw answers into figures ------------------------------------------------------------------


def _held(cohort: Cohort) -> list[GroupSession]:
    return [s for s in cohort.sessions if s.state == SessionState.ENDED]


def _person(answer: Answer) -> str:
    # An answer without a pseudonym stands alone: it is one person we can never match.
    return answer.pseudonym_hash or f"~{answer.id}"


def _linked(person: str) -> str | None:
    return None if person.startswith("~") else person


def _mean(m: stats.MeanCI | None) -> dict[str, float] | None:
    return (
        None
        if m is None
        else {k: round(v, 4) if isinstance(v, float) else v for k, v in asdict(m).items()}
    )


def _prop(p: stats.Proportion | None) -> dict[str, float] | None:
    return (
        None
        if p is None
        else {k: round(v, 4) if isinstance(v, float) else v for k, v in asdict(p).items()}
    )


def _bins(values: Iterable[float]) -> list[int]:
    counts = [0] * MOOD_BINS
    for v in values:
        counts[min(MOOD_BINS - 1, int(v * MOOD_BINS))] += 1
    return counts


def _by_person(answers: Iterable[Answer], attr: str) -> dict[str, float]:
    return stats.person_means((_person(a), getattr(a, attr)) for a in answers)


def _mood_value(pleasure: dict[str, float], arousal: dict[str, float]) -> dict[str, Any]:
    people = sorted(pleasure.keys() & arousal.keys())
    numb = sum(1 for p in people if pleasure[p] < NUMB_BELOW and arousal[p] < NUMB_BELOW)
    return {
        "pleasure": _mean(stats.mean_ci(pleasure[p] for p in people)),
        "arousal": _mean(stats.mean_ci(arousal[p] for p in people)),
        "pleasure_bins": _bins(pleasure[p] for p in people),
        "arousal_bins": _bins(arousal[p] for p in people),
        "numb": _prop(stats.wilson(numb, len(people))),
    }


def _restrict(values: dict[str, float], people: Iterable[str]) -> dict[str, float]:
    keep = set(people)
    return {p: v for p, v in values.items() if p in keep}


def _mood_figures(number: int, answers: Sequence[Answer], k: int) -> list[Figure]:
    """Check-in, check-out and the shift between them, for one session (family "mood").

    Alignment: when the check-in (or check-out) respondents differ from the paired ones by
    fewer than k, that figure is computed over the paired people only, so all three share one
    group and the session keeps its figures instead of losing one to the differencing rule.
    """
    rated = [
        a for a in answers if not a.passed and a.pleasure is not None and a.arousal is not None
    ]
    moments = {}
    for kind in (ActivityKind.CHECK_IN, ActivityKind.CHECK_OUT):
        mine = [a for a in rated if a.activity.kind == kind]
        moments[kind] = (_by_person(mine, "pleasure"), _by_person(mine, "arousal"))
    (in_p, in_a), (out_p, out_a) = moments[ActivityKind.CHECK_IN], moments[ActivityKind.CHECK_OUT]
    paired = sorted(p for p in in_p.keys() & out_p.keys() if _linked(p))
    if paired:
        shift = {
            "paired": True,
            "pleasure": _mean(stats.paired_change(in_p, _restrict(out_p, paired))),
            "arousal": _mean(stats.paired_change(in_a, _restrict(out_a, paired))),
        }
    else:
        shift = {
            "paired": False,
            "pleasure": _mean(stats.welch_change(in_p.values(), out_p.values())),
            "arousal": _mean(stats.welch_change(in_a.values(), out_a.values())),
        }
    family = "mood"
    src_in, src_out = f"s{number}.check_in", f"s{number}.check_out"
    if shift["paired"]:
        shift_figure = Figure.from_people(
            f"s{number}.shift", family, (src_in, src_out), paired, shift
        )
    else:
        # Unlinked answers: the shift is the difference of the two published means, a function
        # of them alone, so it is shown exactly when both are (see CohortFigures) and n is the
        # smaller group, never the two added up.
        n = min(len(in_p), len(out_p))
        shift_figure = Figure(f"s{number}.shift", "mood_derived", n, frozenset(), value=shift)
        shift_figure.extra["derived_from"] = (src_in, src_out)
    figures = []
    for name, (p, a) in (("check_in", (in_p, in_a)), ("check_out", (out_p, out_a))):
        source = f"s{number}.{name}"
        figure = Figure.from_people(source, family, (source,), map(_linked, p), _mood_value(p, a))
        figure.extra["aligned"] = False
        if shift["paired"] and len(paired) >= k:
            from facilitation.disclosure import conflicts

            if conflicts(figure, shift_figure, k):
                p2, a2 = _restrict(p, paired), _restrict(a, paired)
                figure = Figure.from_people(
                    source, family, (source,), map(_linked, p2), _mood_value(p2, a2)
                )
                figure.extra["aligned"] = True
        figures.append(figure)
    figures.append(shift_figure)
    return figures


def _connectedness_figure(number: int, answers: Sequence[Answer]) -> Figure:
    rated = [
        a
        for a in answers
        if a.activity.kind == ActivityKind.CHECK_OUT
        and not a.passed
        and a.connectedness is not None
    ]
    values = _by_person(rated, "connectedness")
    counts = [0] * 7
    for v in values.values():
        counts[min(6, max(0, round(v) - 1))] += 1
    value = {"mean": _mean(stats.mean_ci(values.values())), "counts": counts}
    key = f"s{number}.connectedness"
    return Figure.from_people(key, "connectedness", (key,), map(_linked, values), value)


def _questionnaire_scores(answers: Sequence[Answer], key: str) -> dict[str, float]:
    rows = [
        a
        for a in answers
        if a.activity.kind == ActivityKind.QUESTIONNAIRE
        and (a.activity.config or {}).get("instrument") == key
        and not a.passed
        and a.score is not None
    ]
    return _by_person(rows, "score")


def _session_figures(
    group_session: GroupSession, answers: Sequence[Answer], k: int
) -> list[Figure]:
    """Every anonymous figure of one ended session, in the order the rules consider them."""
    figures = _mood_figures(group_session.number, answers, k)
    figures.append(_connectedness_figure(group_session.number, answers))
    for key in questionnaire_keys(group_session.cohort.program):
        scores = _questionnaire_scores(answers, key)
        if scores:
            value = {"mean": _mean(stats.mean_ci(scores.values()))}
            source = f"s{group_session.number}.{key}"
            figure = Figure.from_people(source, key, (source,), map(_linked, scores), value)
            figure.extra["scores"] = scores  # for the cycle change; never published as such
            figures.append(figure)
    return figures


def _stored(group_session: GroupSession) -> list[SessionAggregate]:
    return list(
        db.session.scalars(
            select(SessionAggregate)
            .where(SessionAggregate.group_session_id == group_session.id)
            .order_by(SessionAggregate.position)
        )
    )


def _answers_by_session(sessions: Sequence[GroupSession]) -> dict[int, list[Answer]]:
    ids = [s.id for s in sessions]
    out: dict[int, list[Answer]] = defaultdict(list)
    if not ids:
        return out
    rows = db.session.scalars(
        select(Answer)
        .join(SessionActivity, SessionActivity.id == Answer.activity_id)
        .where(SessionActivity.group_session_id.in_(ids))
    )
    for answer in rows:
        out[answer.activity.group_session_id].append(answer)
    return out


class CohortFigures:
    """The resolved anonymous figures of one cohort's ended sessions: one set of decisions."""

    def __init__(self, cohort: Cohort) -> None:
        self.cohort = cohort
        self.k = cohort.program.min_group_size
        self.sessions = _held(cohort)
        answers = _answers_by_session(self.sessions)
        ordered: list[Figure] = []
        self.by_session: dict[int, list[Figure]] = {}
        self.purged: set[int] = set()
        for group_session in self.sessions:
            stored = _stored(group_session)
            if stored:
                # Raw answers are gone (or going): the decisions made with them stand.
                self.purged.add(group_session.id)
                figures = [_from_stored(row) for row in stored]
            else:
                figures = _session_figures(group_session, answers.get(group_session.id, []), self.k)
            self.by_session[group_session.number] = figures
            ordered.extend(figures)
        self.changes = self._questionnaire_changes()
        ordered.extend(self.changes.values())
        resolve(ordered, self.k)
        by_key = {f.key: f for f in ordered}
        for figure in ordered:
            derived = figure.extra.get("derived_from")
            if derived and figure.published:
                if not all(by_key[key].published for key in derived):
                    figure.published, figure.reason = (
                        False,
                        by_key[derived[0]].reason or (by_key[derived[1]].reason),
                    )

    def figure(self, number: int, name: str) -> Figure | None:
        for figure in self.by_session.get(number, []):
            if figure.key == f"s{number}.{name}":
                return figure
        return None

    def _questionnaire_changes(self) -> dict[str, Figure]:
        """First to last occasion of each questionnaire: paired change and reliable change."""
        out = {}
        for key in questionnaire_keys(self.cohort.program):
            occasions = [
                f for figures in self.by_session.values() for f in figures if f.family == key
            ]
            if len(occasions) < 2 or not all("scores" in f.extra for f in occasions):
                continue
            first, last = occasions[0].extra["scores"], occasions[-1].extra["scores"]
            linked_first = {p: v for p, v in first.items() if _linked(p)}
            linked_last = {p: v for p, v in last.items() if _linked(p)}
            both = sorted(linked_first.keys() & linked_last.keys())
            instrument = db.session.scalar(select(Instrument).where(Instrument.key == key))
            value: dict[str, Any] = {
                "change": _mean(stats.paired_change(linked_first, linked_last)),
                "reliable": None,
            }
            norms = instrument.norms if instrument is not None else None
            if norms:
                rc = stats.reliable_change(
                    linked_first,
                    linked_last,
                    sd=norms["sd"],
                    reliability=norms["reliability"],
                    higher_is_better=instrument.scoring.get("higher_is_better", True),
                )
                value["reliable"] = {
                    k: round(v, 4) if isinstance(v, float) else v for k, v in asdict(rc).items()
                }
            sources = (occasions[0].key, occasions[-1].key)
            out[key] = Figure.from_people(f"{key}.change", key, sources, both, value)
        return out


def _from_stored(row: SessionAggregate) -> Figure:
    figure = Figure(
        row.key,
        row.family,
        row.n or 0,
        frozenset(row.sources or ()),
        known=False,
        value=row.value,
        fixed=True,
    )
    figure.published, figure.reason = row.published, row.reason
    return figure


def figure_view(figure: Figure | None, k: int) -> dict[str, Any]:
    """The one shape every edge shows: the value only when published, else why not.

    Privacy: this is the choke point. A withheld figure leaves with its reason and no value and
    no n (a count below k is itself a figure from fewer than k people).
    """
    if figure is None:
        return {"key": None, "published": False, "reason": "missing", "note": "missing", "n": None}
    if not figure.published:
        return {
            "key": figure.key,
            "published": False,
            "reason": figure.reason,
            "note": withheld_text(figure.reason, k),
            "n": None,
        }
    out = {"key": figure.key, "published": True, "reason": None, "note": "", "n": figure.n}
    out.update(figure.value or {})
    out["aligned"] = bool(figure.extra.get("aligned"))
    return out


# --- attendance --------------------------------------------------------------------------------


def _marks(sessions: Sequence[GroupSession]) -> dict[int, dict[int, AttendanceStatus]]:
    """member id -> session number -> status, for the given sessions."""
    out: dict[int, dict[int, AttendanceStatus]] = defaultdict(dict)
    for group_session in sessions:
        for row in group_session.attendance:
            out[row.member_id][group_session.number] = row.status
    return out


def _attended(status: AttendanceStatus | None) -> bool:
    return status in ATTENDED


def _missed(status: AttendanceStatus | None) -> bool:
    # Excused is not a miss; an unmarked session of an ended meeting is.
    return status is None or status == AttendanceStatus.ABSENT


def _streak(statuses: list[AttendanceStatus | None]) -> dict[str, Any]:
    counted = [s for s in statuses if s != AttendanceStatus.EXCUSED]
    if not counted:
        return {"kind": None, "length": 0}
    kind = "attended" if _attended(counted[-1]) else "missed"
    length = 0
    for status in reversed(counted):
        if _attended(status) != (kind == "attended"):
            break
        length += 1
    return {"kind": kind, "length": length}


def _follow_up(statuses: list[AttendanceStatus | None]) -> str | None:
    """Why a member needs a call: two misses in a row, or attendance falling off lately."""
    counted = [s for s in statuses if s != AttendanceStatus.EXCUSED]
    if len(counted) >= 2 and _missed(counted[-1]) and _missed(counted[-2]):
        return "missed the last two sessions"
    if len(counted) >= 5:
        before, recent = counted[:-3], counted[-3:]
        rate_before = sum(map(_attended, before)) / len(before)
        rate_recent = sum(map(_attended, recent)) / len(recent)
        if rate_before - rate_recent >= 1 / 3:
            return "coming less often lately"
    return None


def _attendance_matrix(cohort: Cohort, sessions: Sequence[GroupSession]) -> dict[str, Any]:
    marks = _marks(sessions)
    numbers = [s.number for s in sessions]
    rows, follow_up = [], []
    for member in cohort.members:
        statuses = [marks.get(member.id, {}).get(n) for n in numbers]
        if member.status.value == "left" and not any(statuses):
            continue
        possible = sum(1 for s in statuses if s != AttendanceStatus.EXCUSED)
        attended = sum(1 for s in statuses if _attended(s))
        why = _follow_up(statuses) if member.status.value == "active" else None
        rows.append(
            {
                "member_id": member.id,
                "name": member.display_name,
                "left": member.status.value == "left",
                "cells": [s.value if s else None for s in statuses],
                "attended": attended,
                "possible": possible,
                "rate": attended / possible if possible else None,
                "streak": _streak(statuses),
            }
        )
        if why:
            follow_up.append({"member_id": member.id, "name": member.display_name, "why": why})
    per_session = []
    for index, number in enumerate(numbers):
        came = sum(1 for r in rows if r["cells"][index] in ("present", "late"))
        per_session.append({"number": number, "attended": came, "of": len(rows)})
    return {"numbers": numbers, "rows": rows, "per_session": per_session, "follow_up": follow_up}


def _retention(rows: Sequence[dict[str, Any]], numbers: Sequence[int]) -> list[dict[str, Any]]:
    """Share of everyone who ever came who still comes: attended this session or a later one."""
    starters = [r for r in rows if r["attended"]]
    curve = []
    for index, number in enumerate(numbers):
        still = sum(
            1 for r in starters if any(c in ("present", "late") for c in r["cells"][index:])
        )
        curve.append(
            {
                "number": number,
                "still": still,
                "of": len(starters),
                "share": _prop(stats.wilson(still, len(starters))),
            }
        )
    return curve


# --- services ----------------------------------------------------------------------------------


def _load_session(actor: Any, group_session_id: int) -> GroupSession:
    group_session = db.session.get(GroupSession, group_session_id)
    if group_session is None:
        raise NotFound("No such group session.")
    # Facilitator-only: names with attendance. Coordinators get 403, other staff 404.
    access_cohort(actor, group_session.cohort, CohortAccess.ROSTER)
    return group_session


def session_summary(actor: Any, group_session_id: int) -> dict[str, Any]:
    """Summarize one ended session for its facilitator: attendance, mood, warmth, next steps."""
    group_session = _load_session(actor, group_session_id)
    if group_session.state != SessionState.ENDED:
        raise Conflict("The summary is ready once the session has ended.", code="not_ended")
    cohort = group_session.cohort
    figures = CohortFigures(cohort)
    k, number = figures.k, group_session.number
    earlier = [s for s in figures.sessions if s.number < number]
    marks = _marks([*earlier, group_session])
    counts = {status.value: 0 for status in AttendanceStatus}
    first_timers, returning = [], []
    previous = earlier[-1].number if earlier else None
    for member in cohort.members:
        status = marks.get(member.id, {}).get(number)
        if status is None:
            continue
        counts[status.value] += 1
        if not _attended(status):
            continue
        before = [marks.get(member.id, {}).get(s.number) for s in earlier]
        if not any(_attended(s) for s in before):
            first_timers.append(member.display_name)
        elif previous is not None and not _attended(marks.get(member.id, {}).get(previous)):
            returning.append(member.display_name)
    activities = list(
        db.session.scalars(
            select(SessionActivity)
            .where(SessionActivity.group_session_id == group_session.id)
            .order_by(SessionActivity.position)
        )
    )
    view = {name: figure_view(figures.figure(number, name), k) for name in MOOD_MOMENTS}
    connectedness = figure_view(figures.figure(number, "connectedness"), k)
    prior_conn = None
    for s in reversed(earlier):
        candidate = figure_view(figures.figure(s.number, "connectedness"), k)
        if candidate["published"]:
            prior_conn = {"number": s.number, **candidate}
            break
    pauses = db.session.scalar(
        select(func.count(PauseSignal.id)).where(PauseSignal.group_session_id == group_session.id)
    )
    summary = {
        "session": group_session,
        "cohort": cohort,
        "k": k,
        "purged": group_session.id in figures.purged,
        "attendance": {
            **counts,
            "first_timers": first_timers,
            "returning": returning,
        },
        "mood": view,
        "connectedness": connectedness,
        "previous_connectedness": prior_conn,
        "pauses": pauses or 0,
        "activities": [
            {
                "title": a.title,
                "kind": a.kind.value,
                "intensity": a.intensity,
                "state": a.state.value,
            }
            for a in activities
        ],
        "texts": _approved_texts(group_session.id),
    }
    summary["discuss"] = _discussion_points(summary)
    return summary


def _approved_texts(group_session_id: int) -> list[str]:
    """Approved prompt answers and appreciations: texts the room has seen already, no names."""
    prompt_texts = db.session.scalars(
        select(Answer.text)
        .join(SessionActivity, SessionActivity.id == Answer.activity_id)
        .where(
            SessionActivity.group_session_id == group_session_id,
            Answer.moderation == Moderation.APPROVED,
            Answer.text.is_not(None),
        )
        .order_by(SessionActivity.position, Answer.text)
    )
    appreciations = db.session.scalars(
        select(Appreciation.text)
        .join(SessionActivity, SessionActivity.id == Appreciation.activity_id)
        .where(
            SessionActivity.group_session_id == group_session_id,
            Appreciation.moderation == Moderation.APPROVED,
        )
        .order_by(Appreciation.id)
    )
    return [*prompt_texts, *appreciations]


def _fmt(value: float) -> str:
    return f"{value:+.2f}"


def _discussion_points(summary: dict[str, Any]) -> list[str]:
    """A few plain sentences from the figures, for the facilitator to bring to the group."""
    points = []
    shift = summary["mood"]["shift"]
    if shift["published"] and shift.get("pleasure"):
        p = shift["pleasure"]
        interval = (
            f"{_fmt(p['mean'])} on a 0–1 scale, 95% CI {_fmt(p['lo'])} to {_fmt(p['hi'])}, "
            f"n={p['n']}"
        )
        if p["lo"] > 0:
            points.append(
                f"The group left feeling more pleasant than it arrived ({interval}): "
                "ask what helped."
            )
        elif p["hi"] < 0:
            points.append(
                f"The group left feeling less pleasant than it arrived ({interval}): "
                "was tonight's rung too steep?"
            )
        else:
            points.append(
                f"No clear change in pleasantness from check-in to check-out ({interval})."
            )
    check_in = summary["mood"]["check_in"]
    if check_in["published"] and check_in.get("numb") and check_in["numb"]["p"] >= 0.5:
        points.append(
            f"{check_in['numb']['count']} of {check_in['numb']['n']} arrived in the numb quadrant "
            "(low pleasure, low arousal): keep the first activity gentle and sensory."
        )
    conn, prior = summary["connectedness"], summary["previous_connectedness"]
    if conn["published"] and conn.get("mean") and prior and prior.get("mean"):
        delta = conn["mean"]["mean"] - prior["mean"]["mean"]
        direction = "rose" if delta > 0 else "fell" if delta < 0 else "held steady"
        points.append(
            f"Connectedness {direction} since session {prior['number']} "
            f"({prior['mean']['mean']:.1f} → {conn['mean']['mean']:.1f} of 7)."
        )
    if summary["pauses"]:
        n = summary["pauses"]
        points.append(
            f"{n} pause request{'s' if n != 1 else ''}: "
            "name the pause as welcome, and check the pace."
        )
    attendance = summary["attendance"]
    if attendance["first_timers"]:
        points.append("First time here: " + ", ".join(attendance["first_timers"]) + ".")
    if attendance["returning"]:
        points.append("Back after missing a session: " + ", ".join(attendance["returning"]) + ".")
    if attendance["absent"]:
        points.append(
            f"{attendance['absent']} absent: follow up before next week if it was unexpected."
        )
    if any(not summary["mood"][m]["published"] for m in MOOD_MOMENTS):
        points.append(
            f"Some mood figures are withheld (small-number rule, k={summary['k']}); talk about the "
            "session's feel without them."
        )
    return points


def cohort_overview(actor: Any, cohort_id: int) -> dict[str, Any]:
    """The facilitator's view of the cycle: attendance, follow-ups, trends and questionnaires."""
    cohort = access_cohort(actor, db.session.get(Cohort, cohort_id), CohortAccess.ROSTER)
    figures = CohortFigures(cohort)
    k = figures.k
    attendance = _attendance_matrix(cohort, figures.sessions)
    trends = {
        name: [
            {"number": s.number, **figure_view(figures.figure(s.number, name), k)}
            for s in figures.sessions
        ]
        for name in (*MOOD_MOMENTS, "connectedness")
    }
    questionnaires = []
    for key in questionnaire_keys(cohort.program):
        occasions = [
            (s.number, f)
            for s in figures.sessions
            for f in figures.by_session[s.number]
            if f.family == key
        ]
        if not occasions:
            continue
        picks = [("first", occasions[0])]
        if len(occasions) >= 3:
            picks.append(("middle", occasions[len(occasions) // 2]))
        if len(occasions) >= 2:
            picks.append(("last", occasions[-1]))
        instrument = db.session.scalar(select(Instrument).where(Instrument.key == key))
        questionnaires.append(
            {
                "key": key,
                "name": instrument.name if instrument else key,
                "scoring": instrument.scoring if instrument else {},
                "occasions": [
                    {"label": label, "number": number, **figure_view(f, k)}
                    for label, (number, f) in picks
                ],
                "change": figure_view(figures.changes.get(key), k),
            }
        )
    return {
        "cohort": cohort,
        "k": k,
        "sessions": figures.sessions,
        "attendance": attendance,
        "retention": _retention(attendance["rows"], attendance["numbers"]),
        "trends": trends,
        "questionnaires": questionnaires,
    }


def _access_comparison(actor: Any, program: Program | None) -> Program:
    """Coordinators of the program and admins compare its cohorts; others are refused."""
    actor = require_actor(actor)
    program = access_program(actor, program)
    if is_admin(actor):
        return program
    if actor.role == Role.COORDINATOR and any(c.id == actor.id for c in program.coordinators):
        return program
    raise Forbidden("Cohort comparisons are for the program's coordinators.")


def may_compare(actor: Any, program: Program) -> bool:
    """Whether the program's cohort comparison is open to this actor (for links to it)."""
    try:
        _access_comparison(actor, program)
    except HearthError:
        return False
    return True


def _cycle_shift(figures: CohortFigures) -> dict[str, Any]:
    """The cycle's mood shift for coordinators: the mean of the published session shifts.

    Privacy: built only from figures already published to the facilitator, so it adds nothing
    a difference could use (a person-level cycle average would: one person who came once
    weighs differently in it than in the session figures, and falls out of the subtraction).
    Each session counts once; the interval is across sessions.
    """
    k = figures.k
    shifts = [figure_view(figures.figure(s.number, "shift"), k) for s in figures.sessions]
    shown = [s for s in shifts if s["published"] and s.get("pleasure")]
    if not shown:
        reason = "fewer_than_k" if all(s["reason"] == "fewer_than_k" for s in shifts) else "none"
        note = f"fewer than {k}" if reason == "fewer_than_k" else "no session shift published"
        return {"published": False, "reason": reason, "note": note, "n": None}
    means = [s["pleasure"]["mean"] for s in shown]
    estimate = stats.mean_ci(means)
    return {
        "published": True,
        "reason": None,
        "note": "",
        "sessions": len(shown),
        "n": min(s["n"] for s in shown),  # the fewest people behind any one session shift
        "mean": round(sum(means) / len(means), 4),
        "pleasure": _mean(estimate),
    }


def _cohort_comparison(cohort: Cohort) -> dict[str, Any]:
    figures = CohortFigures(cohort)
    k = figures.k
    attendance = _attendance_matrix(cohort, figures.sessions)
    rows = attendance["rows"]
    # Privacy: no row, name or per-member figure leaves; only totals over at least k members.
    marked = sum(r["possible"] for r in rows)
    attended = sum(r["attended"] for r in rows)
    enough_members = len(rows) >= k
    starters = [r for r in rows if r["attended"]]
    still = sum(1 for r in starters if any(c in ("present", "late") for c in r["cells"][-2:]))
    connectedness = [
        {"number": s.number, **figure_view(figures.figure(s.number, "connectedness"), k)}
        for s in figures.sessions
    ]
    shown = [c for c in connectedness if c["published"] and c.get("mean")]
    return {
        "cohort_id": cohort.id,
        "name": cohort.name,
        "status": cohort.status.value,
        "sessions_held": len(figures.sessions),
        "members": {
            "published": enough_members,
            "n": len(rows) if enough_members else None,
            "note": "" if enough_members else f"fewer than {k}",
        },
        "attendance": {
            "published": enough_members and marked > 0,
            "note": "" if enough_members else f"fewer than {k}",
            "n": len(rows) if enough_members else None,
            "rate": _prop(stats.wilson(attended, marked)) if enough_members else None,
        },
        "retention": {
            "published": len(starters) >= k,
            "note": "" if len(starters) >= k else f"fewer than {k}",
            "n": len(starters) if len(starters) >= k else None,
            "rate": _prop(stats.wilson(still, len(starters))) if len(starters) >= k else None,
        },
        "connectedness": connectedness,
        "connectedness_change": (
            round(shown[-1]["mean"]["mean"] - shown[0]["mean"]["mean"], 4)
            if len(shown) >= 2
            else None
        ),
        "mood_shift": _cycle_shift(figures),
    }


def program_comparison(actor: Any, program_id: int) -> dict[str, Any]:
    """Each cohort of a program side by side, in aggregate only (coordinators and admins)."""
    program = _access_comparison(actor, db.session.get(Program, program_id))
    cohorts = list(
        db.session.scalars(
            select(Cohort)
            .where(Cohort.program_id == program.id)
            .order_by(Cohort.start_date, Cohort.id)
        )
    )
    # No program total: with a cohort withheld, total minus the others would reveal it.
    return {
        "program": program,
        "k": program.min_group_size,
        "cohorts": [_cohort_comparison(c) for c in cohorts],
    }


# --- retention and exports ---------------------------------------------------------------------


def store_aggregates(program: Program, session_ids: Sequence[int]) -> int:
    """Keep the resolved figures of these sessions before their raw answers go; return how many."""
    stored = 0
    wanted = set(session_ids)
    cohorts = {
        s.cohort
        for s in db.session.scalars(select(GroupSession).where(GroupSession.id.in_(wanted)))
    }
    for cohort in sorted(cohorts, key=lambda c: c.id):
        figures = CohortFigures(cohort)
        for group_session in figures.sessions:
            if group_session.id not in wanted or group_session.id in figures.purged:
                continue
            for position, figure in enumerate(figures.by_session[group_session.number]):
                db.session.add(
                    SessionAggregate(
                        group_session_id=group_session.id,
                        key=figure.key,
                        family=figure.family,
                        sources=sorted(figure.sources),
                        position=position,
                        n=figure.n if figure.published else None,
                        published=figure.published,
                        reason=figure.reason,
                        # Privacy: a withheld figure keeps no value.
                        value=figure.value if figure.published else None,
                    )
                )
                stored += 1
    db.session.flush()
    return stored


def log_export(actor: Any, what: str, target_type: str, target_id: int) -> None:
    """Record an export in the audit log and commit it."""
    audit(actor, "outcomes.export", target_type, target_id, what=what)
    db.session.commit()


def member_count(cohort: Cohort) -> int:
    return (
        db.session.scalar(select(func.count(Member.id)).where(Member.cohort_id == cohort.id)) or 0
    )


# --- flat rows for CSV exports -----------------------------------------------------------------

CSV_HEADER = ("section", "session", "figure", "measure", "n", "value", "ci_low", "ci_high", "note")


def _rows_of(section: str, number: int | str, view: dict[str, Any]) -> list[tuple]:
    """Flatten one figure view into CSV rows; a withheld figure is one row with its note only."""
    name = (view.get("key") or "").split(".")[-1] or section
    if not view.get("published"):
        return [(section, number, name, "", "", "", "", "", view.get("note") or "missing")]
    rows = []
    for measure in ("pleasure", "arousal", "mean", "change"):
        m = view.get(measure)
        if isinstance(m, dict) and "mean" in m:
            rows.append((section, number, name, measure, m["n"], m["mean"], m["lo"], m["hi"], ""))
    numb = view.get("numb")
    if numb:
        rows.append(
            (section, number, name, "numb_share", numb["n"], numb["p"], numb["lo"], numb["hi"], "")
        )
    reliable = view.get("reliable")
    if reliable:
        for label in ("improved", "unchanged", "worse"):
            rows.append(
                (
                    section,
                    number,
                    name,
                    f"reliably_{label}",
                    reliable["n"],
                    reliable[label],
                    "",
                    "",
                    "",
                )
            )
    if not rows:
        rows.append((section, number, name, "", view.get("n"), "", "", "", "no estimate"))
    return rows


def session_summary_rows(summary: dict[str, Any]) -> list[tuple]:
    """The session summary's figures as CSV rows (facilitator)."""
    number = summary["session"].number
    a = summary["attendance"]
    rows = [
        ("attendance", number, status, "count", "", a[status], "", "", "")
        for status in ("present", "late", "absent", "excused")
    ]
    for moment in MOOD_MOMENTS:
        rows += _rows_of("mood", number, summary["mood"][moment])
    rows += _rows_of("connectedness", number, summary["connectedness"])
    rows.append(("pauses", number, "pause_requests", "count", "", summary["pauses"], "", "", ""))
    return rows


def cohort_overview_rows(overview: dict[str, Any]) -> list[tuple]:
    """The cohort's aggregate figures as CSV rows (no per-member rows: see the attendance CSV)."""
    rows = []
    for s in overview["attendance"]["per_session"]:
        rows.append(
            ("attendance", s["number"], "attended", "count", s["of"], s["attended"], "", "", "")
        )
    for r in overview["retention"]:
        share = r["share"] or {}
        rows.append(
            (
                "retention",
                r["number"],
                "still_coming",
                "share",
                r["of"],
                share.get("p", ""),
                share.get("lo", ""),
                share.get("hi", ""),
                "",
            )
        )
    for name, series in overview["trends"].items():
        for view in series:
            rows += _rows_of(f"trend_{name}", view["number"], view)
    for q in overview["questionnaires"]:
        for occasion in q["occasions"]:
            rows += _rows_of(q["key"], occasion["number"], occasion)
        rows += _rows_of(q["key"], "first_to_last", q["change"])
    return rows


def attendance_rows(overview: dict[str, Any]) -> tuple[list[str], list[tuple]]:
    """The attendance sheet across the cycle: one row per member (facilitator only)."""
    matrix = overview["attendance"]
    header = ["member", *[f"session_{n}" for n in matrix["numbers"]], "attended", "possible"]
    rows = [
        (r["name"], *[c or "" for c in r["cells"]], r["attended"], r["possible"])
        for r in matrix["rows"]
    ]
    return header, rows


def program_comparison_rows(comparison: dict[str, Any]) -> list[tuple]:
    """Each cohort's suppressed aggregates as CSV rows (coordinators): never a member."""
    rows = []
    for c in comparison["cohorts"]:
        name = c["name"]
        for measure in ("attendance", "retention"):
            block = c[measure]
            rate = block.get("rate") or {}
            rows.append(
                (
                    name,
                    "",
                    measure,
                    "share",
                    block["n"] or "",
                    rate.get("p", ""),
                    rate.get("lo", ""),
                    rate.get("hi", ""),
                    block["note"],
                )
            )
        for view in c["connectedness"]:
            if view["published"] and view.get("mean"):
                m = view["mean"]
                rows.append(
                    (
                        name,
                        view["number"],
                        "connectedness",
                        "mean",
                        m["n"],
                        m["mean"],
                        m["lo"],
                        m["hi"],
                        "",
                    )
                )
            else:
                rows.append(
                    (name, view["number"], "connectedness", "", "", "", "", "", view["note"])
                )
        shift = c["mood_shift"]
        if shift["published"]:
            p = shift["pleasure"] or {}
            rows.append(
                (
                    name,
                    "",
                    "mood_shift",
                    "pleasure",
                    shift["n"],
                    shift["mean"],
                    p.get("lo", ""),
                    p.get("hi", ""),
                    f"mean over {shift['sessions']} sessions",
                )
            )
        else:
            rows.append((name, "", "mood_shift", "", "", "", "", "", shift["note"]))
    return rows


PROGRAM_CSV_HEADER = (
    "cohort",
    "session",
    "figure",
    "measure",
    "n",
    "value",
    "ci_low",
    "ci_high",
    "note",
)
