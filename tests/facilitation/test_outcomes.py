"""Outcomes: every figure by hand, the small-number rules across all outputs, and who sees what."""

from __future__ import annotations

import csv
import io
import itertools
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from facilitation import disclosure, outcomes
from facilitation.disclosure import Figure
from facilitation.models import (
    ActivityState,
    Answer,
    Appreciation,
    Moderation,
    PauseSignal,
    SessionActivity,
    SessionAggregate,
)
from facilitation.retention import purge_expired
from groups.access import SYSTEM
from groups.extensions import db
from groups.models import ActivityKind, Attendance, AttendanceSource, AuditEvent, SessionState

NAMES = ("Robin", "Sam", "Alex", "Jo", "Kim", "Lee")
PRESENT = "present"


@pytest.fixture
def pages(app):
    """The app with the outcome pages and API (registered by wsgi.create_app)."""
    return app


def _member(cohort, name):
    return next(m for m in cohort.members if m.display_name == name)


def hold(
    cohort,
    number,
    *,
    marks=None,
    check_in=None,
    check_out=None,
    questionnaires=None,
    ended_at=None,
):
    """Record a held session as a live one leaves it; answers keyed by person ("p1" or None).

    check_in: {person: (pleasure, arousal)}; check_out: {person: (pleasure, arousal, circles)};
    a list of (person, values) pairs is accepted too, for unlinked answers (person None).
    """
    group_session = cohort.sessions[number - 1]
    start = group_session.scheduled_at
    group_session.state = SessionState.ENDED
    group_session.started_at = start
    group_session.ended_at = ended_at or start + timedelta(minutes=90)
    marks = marks if marks is not None else dict.fromkeys(NAMES, PRESENT)
    for name, status in marks.items():
        db.session.add(
            Attendance(
                group_session=group_session,
                member=_member(cohort, name),
                status=status,
                source=AttendanceSource.FACILITATOR,
            )
        )
    position = itertools.count(1)

    def activity(kind, config=None):
        row = SessionActivity(
            group_session=group_session,
            position=next(position),
            kind=kind,
            title=kind.value,
            config=config or {},
            state=ActivityState.CLOSED,
        )
        db.session.add(row)
        db.session.flush()
        return row

    def answer(act, person, **values):
        db.session.add(
            Answer(
                activity_id=act.id,
                slot_key=uuid.uuid4().hex,
                pseudonym_hash=f"pseudonym-{person}" if person else None,
                client_id=uuid.uuid4().hex,
                **values,
            )
        )

    def pairs(data):
        return data.items() if isinstance(data, dict) else data

    act = activity(ActivityKind.CHECK_IN)
    for person, value in pairs(check_in or {}):
        if value is None:
            answer(act, person, passed=True)
        else:
            answer(act, person, pleasure=value[0], arousal=value[1])
    act = activity(ActivityKind.CHECK_OUT)
    for person, value in pairs(check_out or {}):
        if value is None:
            answer(act, person, passed=True)
        else:
            answer(act, person, pleasure=value[0], arousal=value[1], connectedness=value[2])
    for key, scores in (questionnaires or {}).items():
        act = activity(ActivityKind.QUESTIONNAIRE, {"instrument": key})
        for person, score in scores.items():
            answer(act, person, score=float(score), items={})
    db.session.commit()
    return group_session


SESSION_1_IN = {
    "p1": (0.2, 0.3),
    "p2": (0.3, 0.3),
    "p3": (0.4, 0.3),
    "p4": (0.5, 0.3),
    "p5": (0.6, 0.3),
    "p6": (0.4, 0.3),
}
SESSION_1_OUT = {
    "p1": (0.3, 0.4, 2),
    "p2": (0.4, 0.4, 3),
    "p3": (0.5, 0.4, 3),
    "p4": (0.6, 0.4, 4),
    "p5": (0.7, 0.4, 4),
    "p6": (0.6, 0.4, 5),
}


def _csv_rows(response):
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


# --- figures by hand ---------------------------------------------------------------------------


def test_session_summary_figures_match_hand_calculation(cohort, facilitator):
    group_session = hold(cohort, 1, check_in=SESSION_1_IN, check_out=SESSION_1_OUT)
    db.session.add(PauseSignal(group_session_id=group_session.id, client_id="c1"))
    db.session.commit()

    s = outcomes.session_summary(facilitator, group_session.id)

    assert s["attendance"]["present"] == 6 and s["attendance"]["absent"] == 0
    assert s["attendance"]["first_timers"] == sorted(NAMES)  # roster order is by name
    check_in = s["mood"]["check_in"]
    assert check_in["published"] and check_in["n"] == 6 and not check_in["aligned"]
    # mean 0.4; sd sqrt(0.1/5); t(.975, 5) = 2.570582: 0.4 -+ 0.148413
    assert check_in["pleasure"]["mean"] == pytest.approx(0.4)
    assert check_in["pleasure"]["lo"] == pytest.approx(0.2516, abs=1e-4)
    assert check_in["pleasure"]["hi"] == pytest.approx(0.5484, abs=1e-4)
    assert check_in["pleasure_bins"] == [0, 2, 3, 1, 0]  # .2,.3 | .4,.5(->.4-.6),.4 | .6
    # numb: pleasure and arousal below .5 -> .2 .3 .4 .4: 4 of 6, Wilson 0.300-0.903
    assert (check_in["numb"]["count"], check_in["numb"]["n"]) == (4, 6)
    assert check_in["numb"]["lo"] == pytest.approx(0.3000, abs=1e-4)
    assert check_in["numb"]["hi"] == pytest.approx(0.9032, abs=1e-4)
    shift = s["mood"]["shift"]
    # changes .1 x5 and .2: mean .116667, sd .040825, CI .073824 to .159510
    assert shift["paired"] and shift["n"] == 6
    assert shift["pleasure"]["mean"] == pytest.approx(0.1167, abs=1e-4)
    assert shift["pleasure"]["lo"] == pytest.approx(0.0738, abs=1e-4)
    assert shift["pleasure"]["hi"] == pytest.approx(0.1595, abs=1e-4)
    assert shift["arousal"]["mean"] == pytest.approx(0.1) and shift["arousal"]["sd"] == 0
    conn = s["connectedness"]
    # 2 3 3 4 4 5: mean 3.5, sd sqrt(1.1) = 1.048809, half 1.100665
    assert conn["mean"]["mean"] == 3.5
    assert (conn["mean"]["lo"], conn["mean"]["hi"]) == pytest.approx((2.3993, 4.6007), abs=1e-4)
    assert conn["counts"] == [0, 1, 2, 2, 1, 0, 0]
    assert s["pauses"] == 1
    assert any("more pleasant" in point for point in s["discuss"])
    assert any("numb quadrant" in point for point in s["discuss"])


def test_answers_without_a_pseudonym_are_compared_unpaired(cohort, facilitator):
    ins = [(None, (0.1 * i, 0.3)) for i in range(1, 7)]  # .1 .. .6: mean .35
    outs = [(None, (0.1 * i + 0.2, 0.4, 3)) for i in range(1, 7)]  # mean .55
    group_session = hold(cohort, 1, check_in=ins, check_out=outs)

    shift = outcomes.session_summary(facilitator, group_session.id)["mood"]["shift"]

    assert shift["published"] and shift["paired"] is False
    # n is the smaller group (6 people at most), never 6 + 6 answers
    assert shift["n"] == 6
    assert shift["pleasure"]["mean"] == pytest.approx(0.2)
    # equal variances .035/6 each: se = .108012, df = 10, t = 2.228139
    assert shift["pleasure"]["hi"] == pytest.approx(0.2 + 2.228139 * 0.108012, abs=1e-4)


def test_questionnaires_first_middle_last_with_reliable_change(cohort, facilitator):
    people = ["p1", "p2", "p3", "p4", "p5", "p6"]
    first = dict(zip(people, (40, 40, 40, 60, 52, 28), strict=True))
    middle = dict(zip(people, (48, 44, 40, 60, 52, 30), strict=True))
    last = dict(zip(people, (64, 56, 16, 60, 52, 36), strict=True))
    hold(cohort, 1, questionnaires={"who5": first})
    hold(cohort, 2, questionnaires={"who5": middle})
    hold(cohort, 3, questionnaires={"who5": last})

    (who5,) = outcomes.cohort_overview(facilitator, cohort.id)["questionnaires"]

    assert [o["label"] for o in who5["occasions"]] == ["first", "middle", "last"]
    assert who5["occasions"][0]["mean"]["mean"] == pytest.approx(260 / 6, abs=1e-4)
    change = who5["change"]
    # changes +24 +16 -24 0 0 +8: mean 4; reliable beyond 22.17 points: +24 and -24
    assert change["published"] and change["change"]["mean"] == pytest.approx(4.0)
    assert change["reliable"]["improved"] == 1
    assert change["reliable"]["worse"] == 1
    assert change["reliable"]["unchanged"] == 4


def test_attendance_matrix_streaks_retention_and_follow_up(cohort, facilitator):
    absent, late, excused = "absent", "late", "excused"
    pattern = {
        1: {**dict.fromkeys(NAMES, PRESENT)},
        2: {**dict.fromkeys(NAMES, PRESENT), "Sam": late, "Lee": absent},
        3: {**dict.fromkeys(NAMES, PRESENT), "Jo": excused, "Lee": absent},
        4: {**dict.fromkeys(NAMES, PRESENT), "Kim": absent},
    }
    for number, marks in pattern.items():
        hold(cohort, number, marks=marks)

    o = outcomes.cohort_overview(facilitator, cohort.id)

    rows = {r["name"]: r for r in o["attendance"]["rows"]}
    assert rows["Lee"]["cells"] == ["present", "absent", "absent", "present"]
    assert (rows["Lee"]["attended"], rows["Lee"]["possible"]) == (2, 4)
    assert rows["Jo"]["possible"] == 3 and rows["Jo"]["rate"] == 1.0  # excused is not a miss
    assert rows["Kim"]["streak"] == {"kind": "missed", "length": 1}
    assert rows["Sam"]["streak"] == {"kind": "attended", "length": 4}
    assert [s["attended"] for s in o["attendance"]["per_session"]] == [6, 5, 4, 5]
    # Everyone came to session 4 or later except Kim: retention 6,6,6 then 5 of 6.
    assert [r["still"] for r in o["retention"]] == [6, 6, 6, 5]
    assert o["attendance"]["follow_up"] == []
    hold(cohort, 5, marks={**dict.fromkeys(NAMES, PRESENT), "Kim": absent})
    follow_up = outcomes.cohort_overview(facilitator, cohort.id)["attendance"]["follow_up"]
    assert [(f["name"], f["why"]) for f in follow_up] == [("Kim", "missed the last two sessions")]


def test_returning_members_and_first_timers(cohort, facilitator):
    hold(cohort, 1, marks={**dict.fromkeys(NAMES, PRESENT), "Lee": "absent"})
    hold(cohort, 2, marks={**dict.fromkeys(NAMES, PRESENT), "Robin": "absent"})
    third = hold(cohort, 3)

    a = outcomes.session_summary(facilitator, third.id)["attendance"]

    assert a["returning"] == ["Robin"]
    assert a["first_timers"] == []
    second = outcomes.session_summary(facilitator, cohort.sessions[1].id)["attendance"]
    assert second["first_timers"] == ["Lee"]


def test_program_comparison_by_hand(cohort, coordinator):
    hold(cohort, 1, check_in=SESSION_1_IN, check_out=SESSION_1_OUT)
    hold(cohort, 2, marks={**dict.fromkeys(NAMES, PRESENT), "Lee": "absent", "Kim": "excused"})

    (c,) = outcomes.program_comparison(coordinator, cohort.program_id)["cohorts"]

    # 12 member-sessions, 1 excused -> 11 marked, 10 attended: Wilson 0.623 to 0.984
    assert (c["attendance"]["rate"]["count"], c["attendance"]["rate"]["n"]) == (10, 11)
    assert c["attendance"]["rate"]["lo"] == pytest.approx(0.6226, abs=1e-3)
    assert c["retention"]["rate"]["p"] == 1.0  # all six came in the last two sessions
    assert c["mood_shift"]["published"] and c["mood_shift"]["sessions"] == 1
    assert c["mood_shift"]["mean"] == pytest.approx(0.1167, abs=1e-4)


# --- the small-number rules --------------------------------------------------------------------


def _fig(key, people, *, family="mood", sources=None, unlinked=0):
    figure = Figure.from_people(key, family, sources or (key,), [*people, *[None] * unlinked])
    return figure


def test_threshold_withholds_figures_from_fewer_than_k():
    (fig,) = disclosure.resolve([_fig("a", "abcd")], 5)
    assert not fig.published and fig.reason == disclosure.FEWER_THAN_K
    assert disclosure.withheld_text(fig.reason, 5) == "fewer than 5"


def test_block_differencing_withholds_a_figure_over_nearly_the_same_answers():
    # Check-in over seven, and the shift (drawing on the same check-in answers) over six of them.
    check_in = _fig("s3.check_in", "abcdefg", sources=("s3.check_in",))
    shift = _fig("s3.shift", "abcdef", sources=("s3.check_in", "s3.check_out"))
    disclosure.resolve([check_in, shift], 5)
    assert check_in.published and not shift.published
    assert shift.reason == disclosure.DIFFERENCING
    # Differing by k or more people, or over exactly the same people: both shown.
    same = _fig("s3.shift", "abcdefg", sources=("s3.check_in", "s3.check_out"))
    far = _fig("s4.x", "fghijkl", sources=("s3.check_in",))
    disclosure.resolve([_fig("s3.check_in", "abcdefg"), same, far], 5)
    assert same.published and far.published


def test_the_session_3_and_4_example_under_both_scopes():
    """Seven answered in session 3, six of them in session 4 (the issue's example)."""
    s3, s4 = _fig("s3.check_in", "abcdefg"), _fig("s4.check_in", "abcdef")
    disclosure.resolve([s3, s4], 5, strict_series=True)
    assert s3.published and not s4.published and s4.reason == disclosure.DIFFERENCING
    # Default scope: different occasions are different answers, held apart only when shared.
    s3, s4 = _fig("s3.check_in", "abcdefg"), _fig("s4.check_in", "abcdef")
    disclosure.resolve([s3, s4], 5)
    assert s3.published and s4.published


def test_unlinked_answers_and_purged_figures_are_compared_conservatively():
    a = _fig("x", "abcdef", sources=("s1",))
    b = _fig("y", "abcdef", sources=("s1",), unlinked=1)  # 7: the extra one could be anyone
    assert disclosure.difference_bounds(a, b) == (1, 1)
    assert disclosure.conflicts(a, b, 5)
    c = _fig("z", "abcde", sources=("s1",), unlinked=1)  # 6, could be the same six
    assert disclosure.difference_bounds(a, c) == (0, 2) and disclosure.conflicts(a, c, 5)
    stored = Figure("s1.check_in", "mood", 6, frozenset({"s1"}), known=False)
    assert disclosure.conflicts(stored, _fig("w", "abcdef", sources=("s1",)), 5)
    assert not disclosure.conflicts(stored, _fig("v", "abcdefghijk", sources=("s1",)), 5)


def test_session_figures_are_aligned_to_the_paired_people(cohort, facilitator):
    check_in = {**SESSION_1_IN, "p6": (0.9, 0.3)}  # p6 arrives high, then passes the check-out
    check_out = {**SESSION_1_OUT, "p6": None}
    group_session = hold(cohort, 1, check_in=check_in, check_out=check_out)

    mood = outcomes.session_summary(facilitator, group_session.id)["mood"]

    # Over all six the check-in mean would be .4833; next to the shift over five, that gives
    # p6 away. So the check-in is shown over the five who answered both: .2 .3 .4 .5 .6.
    assert mood["check_in"]["published"] and mood["check_in"]["aligned"]
    assert mood["check_in"]["n"] == 5 and mood["check_in"]["pleasure"]["mean"] == pytest.approx(0.4)
    assert mood["shift"]["n"] == 5 and mood["check_out"]["n"] == 5


def _published_pairs(figures):
    shown = [f for fs in figures.by_session.values() for f in fs if f.published]
    shown += [f for f in figures.changes.values() if f.published]
    return [(a, b) for a, b in itertools.combinations(shown, 2) if disclosure.comparable(a, b)]


def test_no_two_published_figures_over_the_same_answers_differ_by_fewer_than_k(cohort, facilitator):
    people = ["p1", "p2", "p3", "p4", "p5", "p6"]
    sessions = [people, people[:5], people[1:], people[:4], people]
    for number, came in enumerate(sessions, start=1):
        ins = {p: (0.1 * (i + number) % 1, 0.4) for i, p in enumerate(came)}
        outs = {p: (0.1 * (i + number + 1) % 1, 0.5, 1 + i) for i, p in enumerate(came[:-1])}
        hold(
            cohort,
            number,
            check_in=ins,
            check_out=outs,
            questionnaires={"who5": dict.fromkeys(came, 40 + number)},
        )

    figures = outcomes.CohortFigures(cohort)

    assert any(f.published for fs in figures.by_session.values() for f in fs)
    for a, b in _published_pairs(figures):
        lower, upper = disclosure.difference_bounds(a, b)
        assert upper == 0 or lower >= figures.k, (a.key, b.key)
    for fs in figures.by_session.values():
        for f in fs:
            assert f.published or f.n < figures.k or f.reason == disclosure.DIFFERENCING


def test_subtracting_two_views_reveals_no_one(pages, cohort, facilitator, login):
    """The session CSV, the cohort CSV and the API agree; no two of their n differ by 1..k-1."""
    check_out = {**SESSION_1_OUT, "p6": None}
    group_session = hold(cohort, 1, check_in=SESSION_1_IN, check_out=check_out)
    client = login(facilitator)

    session_rows = _csv_rows(client.get(f"/sessions/{group_session.id}/summary.csv"))
    cohort_rows = _csv_rows(client.get(f"/cohorts/{cohort.id}/outcomes.csv"))
    api = client.get(f"/api/v1/sessions/{group_session.id}/summary").get_json()

    mood_ns = {
        int(r["n"])
        for r in session_rows + cohort_rows
        if r["figure"] in ("check_in", "check_out", "shift") and r["n"]
    }
    mood_ns |= {api["mood"][m]["n"] for m in ("check_in", "check_out", "shift")}
    assert mood_ns == {5}
    for a, b in itertools.combinations(mood_ns, 2):
        assert abs(a - b) >= 5


def test_withheld_figures_leave_no_value_in_any_output(pages, cohort, facilitator, login):
    few = {"p1": (0.11, 0.2), "p2": (0.13, 0.2), "p3": (0.17, 0.2), "p4": (0.2, 0.2)}
    group_session = hold(cohort, 1, check_in=few, check_out={})
    client = login(facilitator)

    page = client.get(f"/sessions/{group_session.id}/summary").get_data(as_text=True)
    rows = _csv_rows(client.get(f"/sessions/{group_session.id}/summary.csv"))
    api = client.get(f"/api/v1/sessions/{group_session.id}/summary").get_json()

    assert "fewer than 5" in page and "0.15" not in page and "0.1525" not in page
    check_in_rows = [r for r in rows if r["figure"] == "check_in"]
    assert check_in_rows == [
        {**check_in_rows[0], "n": "", "value": "", "ci_low": "", "ci_high": ""}
    ]
    assert check_in_rows[0]["note"] == "fewer than 5"
    assert api["mood"]["check_in"] == {
        "key": "s1.check_in",
        "published": False,
        "reason": "fewer_than_k",
        "note": "fewer than 5",
        "n": None,
    }


def test_coordinator_outputs_hold_no_member_names(pages, cohort, coordinator, login):
    hold(cohort, 1, check_in=SESSION_1_IN, check_out=SESSION_1_OUT)
    hold(cohort, 2, marks={**dict.fromkeys(NAMES, PRESENT), "Lee": "absent"})
    client = login(coordinator)

    page = client.get(f"/programs/{cohort.program_id}/outcomes")
    export = client.get(f"/programs/{cohort.program_id}/outcomes.csv")
    api = client.get(f"/api/v1/programs/{cohort.program_id}/outcomes")

    assert page.status_code == export.status_code == api.status_code == 200
    for body in (
        page.get_data(as_text=True),
        export.get_data(as_text=True),
        api.get_data(as_text=True),
    ):
        for name in NAMES:
            assert name not in body
        assert "attendance-matrix" not in body
    assert "<svg" in page.get_data(as_text=True)
    (c,) = api.get_json()["cohorts"]
    assert set(c) == {
        "cohort_id",
        "name",
        "status",
        "sessions_held",
        "members",
        "attendance",
        "retention",
        "connectedness",
        "connectedness_change",
        "mood_shift",
    }


def test_a_cohort_smaller_than_k_shows_only_fewer_than_k_to_coordinators(cohort, coordinator):
    small = dict.fromkeys(NAMES[:4], PRESENT)
    for name in NAMES[4:]:
        _member(cohort, name).status = "left"
    hold(cohort, 1, marks=small)
    (c,) = outcomes.program_comparison(coordinator, cohort.program_id)["cohorts"]
    assert c["members"] == {"published": False, "n": None, "note": "fewer than 5"}
    assert c["attendance"]["rate"] is None and c["retention"]["rate"] is None


# --- pages, exports and who may see them -------------------------------------------------------


def test_facilitator_pages_render_charts_without_inline_style(pages, cohort, facilitator, login):
    group_session = hold(cohort, 1, check_in=SESSION_1_IN, check_out=SESSION_1_OUT)
    hold(cohort, 2, check_in=SESSION_1_IN, check_out=SESSION_1_OUT)
    client = login(facilitator)

    for url in (f"/sessions/{group_session.id}/summary", f"/cohorts/{cohort.id}/outcomes"):
        response = client.get(url)
        html = response.get_data(as_text=True)
        assert response.status_code == 200
        assert "<svg" in html and "<title>" in html and "style=" not in html
        assert "<script" not in html
        assert "Data table" in html
    cohort_html = client.get(f"/cohorts/{cohort.id}/outcomes").get_data(as_text=True)
    assert "Robin" in cohort_html and "attendance-matrix" in cohort_html


def test_attendance_sheet_export_is_audited(pages, cohort, facilitator, login):
    hold(cohort, 1, marks={**dict.fromkeys(NAMES, PRESENT), "Lee": "absent"})
    client = login(facilitator)

    response = client.get(f"/cohorts/{cohort.id}/attendance.csv")

    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = {r["member"]: r for r in _csv_rows(response)}
    assert rows["Lee"]["session_1"] == "absent" and rows["Robin"]["session_1"] == "present"
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "outcomes.export"))
    assert [(e.target_type, e.detail["what"]) for e in events] == [("cohort", "attendance_sheet")]


@pytest.mark.parametrize(
    "path",
    [
        "/sessions/{session}/summary",
        "/sessions/{session}/summary.csv",
        "/cohorts/{cohort}/outcomes",
        "/cohorts/{cohort}/outcomes.csv",
        "/cohorts/{cohort}/attendance.csv",
        "/api/v1/sessions/{session}/summary",
        "/api/v1/cohorts/{cohort}/outcomes",
    ],
)
def test_role_refusals_on_facilitator_views(
    pages, app, cohort, other_facilitator, coordinator, login, path
):
    group_session = hold(cohort, 1)
    url = path.format(session=group_session.id, cohort=cohort.id)

    anonymous = app.test_client().get(url)
    if url.startswith("/api/"):
        assert anonymous.status_code == 401
    else:
        assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    assert login(other_facilitator).get(url).status_code == 404
    client = app.test_client()
    client.post("/login", data={"email": coordinator.email, "password": "correct horse battery"})
    assert client.get(url).status_code == 403
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "outcomes.export")
        )
        == 0
    )


def test_role_refusals_on_the_program_comparison(
    pages, app, cohort, facilitator, other_coordinator, login
):
    for url in (
        f"/programs/{cohort.program_id}/outcomes",
        f"/programs/{cohort.program_id}/outcomes.csv",
        f"/api/v1/programs/{cohort.program_id}/outcomes",
    ):
        assert app.test_client().get(url).status_code in (302, 401)
        client = app.test_client()
        client.post(
            "/login", data={"email": facilitator.email, "password": "correct horse battery"}
        )
        assert client.get(url).status_code == 403
        client = app.test_client()
        client.post(
            "/login", data={"email": other_coordinator.email, "password": "correct horse battery"}
        )
        assert client.get(url).status_code == 404


def test_summary_waits_for_the_session_to_end(cohort, facilitator):
    from groups.errors import Conflict

    with pytest.raises(Conflict):
        outcomes.session_summary(facilitator, cohort.sessions[0].id)


# --- retention ---------------------------------------------------------------------------------


def test_purge_keeps_suppressed_aggregates_and_the_dashboards_still_show(
    pages, cohort, facilitator, login
):
    ended = datetime(2026, 9, 1, 19, 0, tzinfo=UTC)
    hold(cohort, 1, check_in=SESSION_1_IN, check_out=SESSION_1_OUT, ended_at=ended)
    few = {"p1": (0.1, 0.2), "p2": (0.2, 0.2)}
    second = hold(cohort, 2, check_in=few, check_out={}, ended_at=ended + timedelta(weeks=1))
    db.session.add(
        Appreciation(
            activity_id=db.session.scalar(select(SessionActivity.id).limit(1)),
            client_id="a1",
            text="Thank you all.",
            moderation=Moderation.APPROVED,
        )
    )
    db.session.commit()
    before = outcomes.cohort_overview(facilitator, cohort.id)["trends"]

    purge_expired(SYSTEM, now=ended + timedelta(days=400))

    assert db.session.scalar(select(func.count()).select_from(Answer)) == 0
    stored = list(db.session.scalars(select(SessionAggregate)))
    assert stored and all(a.value is None and a.n is None for a in stored if not a.published)
    after = outcomes.cohort_overview(facilitator, cohort.id)["trends"]
    for name in ("check_in", "check_out", "shift", "connectedness"):
        assert [
            (v["published"], v["n"], v.get("mean") or v.get("pleasure")) for v in after[name]
        ] == [(v["published"], v["n"], v.get("mean") or v.get("pleasure")) for v in before[name]]
    summary = outcomes.session_summary(facilitator, second.id)
    assert summary["purged"] and summary["mood"]["check_in"]["note"] == "fewer than 5"
    page = login(facilitator).get(f"/cohorts/{cohort.id}/outcomes")
    assert page.status_code == 200 and "0.4" in page.get_data(as_text=True)
    # A second purge stores nothing twice.
    purge_expired(SYSTEM, now=ended + timedelta(days=401))
    assert db.session.scalar(select(func.count()).select_from(SessionAggregate)) == len(stored)


@pytest.mark.parametrize(
    ("who", "cohort_link", "program_link"),
    [("facilitator", True, False), ("coordinator", False, True), ("admin", True, True)],
)
def test_dashboards_are_linked_for_those_who_may_open_them(
    request, pages, cohort, login, who, cohort_link, program_link
):
    client = login(request.getfixturevalue(who))
    cohort_url = f"/cohorts/{cohort.id}/outcomes"
    program_url = f"/programs/{cohort.program_id}/outcomes"

    cohort_page = client.get(f"/cohorts/{cohort.id}").get_data(as_text=True)
    program_page = client.get(f"/programs/{cohort.program_id}")

    assert (f'href="{cohort_url}"' in cohort_page) is cohort_link
    if program_page.status_code == 200:
        assert (f'href="{program_url}"' in program_page.get_data(as_text=True)) is program_link
    else:
        assert not program_link
    # Every link shown leads somewhere the person may go.
    assert (client.get(cohort_url).status_code == 200) is cohort_link
    assert (client.get(program_url).status_code == 200) is program_link
