"""seed-demo fills only an empty database, believably; purge-expired honours retention."""

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, inspect, select

from facilitation import demo
from facilitation.models import (
    ActivityState,
    Answer,
    Appreciation,
    DyadPairing,
    Moderation,
    PauseSignal,
    SessionActivity,
)
from facilitation.retention import purge_expired
from groups import services
from groups.access import SYSTEM, CohortAccess
from groups.errors import Conflict, Forbidden
from groups.extensions import db
from groups.instruments import BUILTIN_INSTRUMENTS, FEELING_WORDS
from groups.models import (
    ActivityKind,
    Attendance,
    AttendanceStatus,
    Cohort,
    GroupSession,
    Member,
    Program,
    Role,
    SessionState,
    User,
)
from groups.types import utcnow
from tests.conftest import make_test_app

NOW = datetime(2026, 3, 10, 11, 0, tzinfo=UTC)
DEMO_EMAILS = {"admin@example.org", "coordinator@example.org", "facilitator@example.org"}


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _answers_of(group_session: GroupSession, kind: ActivityKind | None = None) -> list[Answer]:
    query = (
        select(Answer)
        .join(SessionActivity, SessionActivity.id == Answer.activity_id)
        .where(SessionActivity.group_session_id == group_session.id)
    )
    if kind is not None:
        query = query.where(SessionActivity.kind == kind)
    return list(db.session.scalars(query))


def _sessions() -> list[GroupSession]:
    return list(db.session.scalars(select(GroupSession).order_by(GroupSession.number)))


@pytest.fixture
def demo_cohort(app) -> Cohort:
    demo.build_demo(NOW)
    return db.session.scalar(select(Cohort))


# --- seed-demo -------------------------------------------------------------------------------


def test_seed_demo_loads_the_demo_into_an_empty_database(runner):
    before = utcnow()
    result = runner.invoke(args=["seed-demo"])

    assert result.exit_code == 0, result.output
    for text in (*DEMO_EMAILS, "hearth-demo", "http://127.0.0.1:5000"):
        assert text in result.output
    users = {u.email: u.role for u in db.session.scalars(select(User))}
    assert users == {
        "admin@example.org": Role.ADMIN,
        "coordinator@example.org": Role.COORDINATOR,
        "facilitator@example.org": Role.FACILITATOR,
    }
    assert services.authenticate("facilitator@example.org", "hearth-demo").role == Role.FACILITATOR
    program = db.session.scalar(select(Program))
    assert (program.name, program.min_group_size, program.retention_days) == (
        "Reconnecting with Warmth",
        5,
        365,
    )
    assert program.allow_guests and program.description
    assert [c.email for c in program.coordinators] == ["coordinator@example.org"]
    sessions = _sessions()
    assert [s.state for s in sessions] == [SessionState.ENDED] * 6 + [SessionState.PLANNED] * 2
    today = sessions[6]
    assert today.scheduled_at > before
    assert today.scheduled_at.date() == before.date() or before.hour == 23
    assert _count(Answer) > 0


def test_demo_ladder_climbs_slowly_with_questionnaires_at_1_4_and_8(demo_cohort):
    plans = demo_cohort.program.plans

    assert [p.position for p in plans] == list(range(1, 9))
    peaks = [max(a.intensity for a in p.activities) for p in plans]
    assert peaks == sorted(peaks) and peaks[0] == 1 and peaks[-1] == 4
    for plan in plans:
        kinds = [a.kind for a in plan.activities]
        assert kinds[0] == ActivityKind.CHECK_IN and kinds[-1] == ActivityKind.CHECK_OUT
        assert ActivityKind.PROMPT in kinds
        assert all(
            a.timer_seconds is None or 10 <= a.timer_seconds <= 3600 for a in plan.activities
        )
        questionnaires = [a.config for a in plan.activities if a.kind == ActivityKind.QUESTIONNAIRE]
        expected = [{"instrument": "who5"}, {"instrument": "ucla3"}]
        assert questionnaires == (expected if plan.position in (1, 4, 8) else [])
        has_warmth = ActivityKind.APPRECIATION in kinds or ActivityKind.DYADS in kinds
        assert has_warmth == (plan.position >= 4)


def test_demo_cohort_is_six_sessions_in_with_session_7_later_today(demo_cohort):
    assert demo_cohort.name == "Tuesday evenings"
    assert [f.email for f in demo_cohort.facilitators] == ["facilitator@example.org"]
    services.get_cohort(demo_cohort.facilitators[0], demo_cohort.id, CohortAccess.RUN)
    members = demo_cohort.members
    assert len(members) == 10
    assert all(m.consent_version == 1 and m.consent_at is not None for m in members)
    sessions = _sessions()
    for held in sessions[:6]:
        assert held.state == SessionState.ENDED
        assert held.scheduled_at < held.started_at < held.ended_at < NOW
        assert held.join_code is None
    session_7 = sessions[6]
    assert session_7.state == SessionState.PLANNED and session_7.started_at is None
    assert session_7.scheduled_at.date() == NOW.date()
    assert NOW < session_7.scheduled_at <= NOW + timedelta(hours=1)
    assert sessions[7].scheduled_at == session_7.scheduled_at + timedelta(weeks=1)
    assert _count(SessionActivity, SessionActivity.group_session_id == session_7.id) == 0


def test_demo_session_7_is_still_today_late_at_night(app):
    late = datetime(2026, 3, 10, 23, 50, tzinfo=UTC)
    demo.build_demo(late)

    session_7 = _sessions()[6]
    assert session_7.scheduled_at.date() == late.date()
    assert session_7.scheduled_at > late


def test_demo_attendance_has_late_excused_and_one_drifting_away(demo_cohort):
    rows = db.session.execute(
        select(Member.display_name, GroupSession.number, Attendance.status)
        .join(Attendance, Attendance.member_id == Member.id)
        .join(GroupSession, GroupSession.id == Attendance.group_session_id)
    ).all()
    by_status = Counter(status for _, _, status in rows)

    assert len(rows) == 6 * 10
    assert by_status[AttendanceStatus.PRESENT] >= 50
    assert by_status[AttendanceStatus.LATE] >= 2
    assert by_status[AttendanceStatus.EXCUSED] == 1
    absences = sorted((name, number) for name, number, s in rows if s == AttendanceStatus.ABSENT)
    assert absences == [("Moss", 5), ("Moss", 6)]


def test_demo_past_sessions_keep_their_agenda_and_answers_as_a_live_session_would(demo_cohort):
    by_key = {i["key"]: i for i in BUILTIN_INSTRUMENTS}
    responses = Counter()
    for held in _sessions()[:6]:
        activities = list(
            db.session.scalars(
                select(SessionActivity)
                .where(SessionActivity.group_session_id == held.id)
                .order_by(SessionActivity.position)
            )
        )
        assert [(a.kind, a.title) for a in activities] == [
            (t.kind, t.title) for t in held.plan.activities
        ]
        assert all(a.state == ActivityState.CLOSED and a.closed_at for a in activities)
        present = _count(
            Attendance,
            Attendance.group_session_id == held.id,
            Attendance.status.in_([AttendanceStatus.PRESENT, AttendanceStatus.LATE]),
        )
        for kind in (ActivityKind.CHECK_IN, ActivityKind.CHECK_OUT):
            moods = _answers_of(held, kind)
            assert present - 3 <= len(moods) <= present
            for answer in moods:
                assert answer.answered_on == held.scheduled_at.date()
                if answer.passed:
                    assert answer.pleasure is None and answer.connectedness is None
                    continue
                assert 0 <= answer.pleasure <= 1 and 0 <= answer.arousal <= 1
                assert set(answer.words) <= set(FEELING_WORDS)
                if kind == ActivityKind.CHECK_OUT:
                    assert 1 <= answer.connectedness <= 7
        questionnaires = _answers_of(held, ActivityKind.QUESTIONNAIRE)
        assert bool(questionnaires) == (held.number in (1, 4))
        for answer in questionnaires:
            if answer.passed:
                continue
            instrument = by_key[answer.activity.config["instrument"]]
            assert set(answer.items) == {i["key"] for i in instrument["items"]}
            assert answer.score == sum(answer.items.values()) * instrument["scoring"]["multiplier"]
        for answer in _answers_of(held, ActivityKind.PROMPT):
            responses["pass" if answer.passed else answer.response] += 1
            if answer.response == "text":
                assert answer.text and answer.moderation in (
                    Moderation.APPROVED,
                    Moderation.PENDING,
                )
    assert {"text", "done", "pass"} <= set(responses)
    assert _count(Appreciation) >= 8
    assert _count(Appreciation, Appreciation.moderation != Moderation.APPROVED) == 0
    assert _count(PauseSignal) == 2
    assert _count(DyadPairing) > 0


def test_demo_connectedness_rises_over_the_weeks(demo_cohort):
    def mean_connectedness(group_session):
        values = [a.connectedness for a in _answers_of(group_session, ActivityKind.CHECK_OUT)]
        values = [v for v in values if v is not None]
        return sum(values) / len(values)

    sessions = _sessions()
    assert mean_connectedness(sessions[5]) > mean_connectedness(sessions[0]) + 1


def test_demo_answers_name_no_member_and_no_device(demo_cohort):
    columns = {c["name"] for c in inspect(db.engine).get_columns("answer")}
    linked = {fk["referred_table"] for fk in inspect(db.engine).get_foreign_keys("answer")}

    assert linked == {"session_activity"}
    assert not {c for c in columns if any(w in c for w in ("member", "device", "user", "sid"))}
    # One keyed pseudonym per phone links a phone's answers across the cycle, and nothing else.
    pseudonyms = Counter(db.session.scalars(select(Answer.pseudonym_hash)))
    assert len(pseudonyms) == 10 and min(pseudonyms.values()) > 6


def test_demo_phone_secrets_are_never_stored(app, monkeypatch):
    made = []
    original = demo.new_secret

    def recording_secret():
        made.append(original())
        return made[-1]

    monkeypatch.setattr(demo, "new_secret", recording_secret)
    demo.build_demo(NOW)

    assert len(made) == 10
    for table in db.metadata.sorted_tables:
        dump = repr(db.session.execute(select(table)).all())
        assert not any(secret in dump for secret in made), table.name


def test_demo_refuses_a_database_that_is_not_empty(app, other_facilitator):
    with pytest.raises(Conflict):
        demo.build_demo(NOW)
    assert _count(Program) == 0


def test_seed_demo_without_if_empty_refuses_and_changes_nothing(runner, other_facilitator):
    result = runner.invoke(args=["seed-demo"])

    assert result.exit_code == 1
    assert "only into an empty database" in result.stderr
    assert list(db.session.scalars(select(User.email))) == ["other@example.org"]
    assert _count(Program) == 0


def test_seed_demo_if_empty_leaves_a_database_with_staff_untouched(runner, other_facilitator):
    result = runner.invoke(args=["seed-demo", "--if-empty"])

    assert result.exit_code == 0, result.output
    assert "no demo loaded" in result.output
    # Demo accounts share a published password: they never join real accounts.
    assert list(db.session.scalars(select(User.email))) == ["other@example.org"]
    assert _count(Program) == 0 and _count(Cohort) == 0


def test_seed_demo_if_empty_leaves_a_database_with_a_program_untouched(runner):
    services.create_program(SYSTEM, name="Our own program")

    result = runner.invoke(args=["seed-demo", "--if-empty"])

    assert result.exit_code == 0, result.output
    assert _count(User) == 0
    assert list(db.session.scalars(select(Program.name))) == ["Our own program"]


def test_seed_demo_if_empty_loads_an_empty_database(runner):
    result = runner.invoke(args=["seed-demo", "--if-empty"])

    assert result.exit_code == 0, result.output
    assert set(db.session.scalars(select(User.email))) == DEMO_EMAILS


def test_seed_demo_asks_for_migrations_first(tmp_path):
    bare = make_test_app("sqlite:///" + str(tmp_path / "bare.db"))

    result = bare.test_cli_runner().invoke(args=["seed-demo", "--if-empty"])

    assert result.exit_code == 1
    assert "db upgrade" in result.stderr
    with bare.app_context():
        db.engine.dispose()


# --- purge-expired ---------------------------------------------------------------------------


def _raw_counts(group_session: GroupSession) -> tuple[int, int, int]:
    activities = select(SessionActivity.id).where(
        SessionActivity.group_session_id == group_session.id
    )
    return (
        _count(Answer, Answer.activity_id.in_(activities)),
        _count(Appreciation, Appreciation.activity_id.in_(activities)),
        _count(PauseSignal, PauseSignal.group_session_id == group_session.id),
    )


def test_purge_deletes_only_sessions_past_retention(demo_cohort):
    sessions = _sessions()
    before = {s.number: _raw_counts(s) for s in sessions}
    # Sessions 1-3 ended over 365 days before this moment; session 4 six days after the cutoff.
    moment = sessions[2].ended_at + timedelta(days=366)

    (result,) = purge_expired(SYSTEM, now=moment)

    after = {s.number: _raw_counts(s) for s in _sessions()}
    assert all(after[n] == (0, 0, 0) for n in (1, 2, 3))
    assert all(after[n] == before[n] for n in (4, 5, 6, 7, 8))
    expired = [before[n] for n in (1, 2, 3)]
    assert (result.answers, result.appreciations, result.pause_signals) == tuple(
        map(sum, zip(*expired, strict=True))
    )
    assert result.answers > 0 and result.pause_signals == 1
    assert purge_expired(SYSTEM, now=moment)[0].total == 0


def test_purge_expired_far_in_the_future_deletes_raw_data_once(runner, demo_cohort):
    sessions = _sessions()
    session_7 = sessions[6]
    # A session that never ended keeps its answers, however old it is.
    session_7.state = SessionState.LIVE
    session_7.started_at = session_7.scheduled_at
    activity = SessionActivity(
        group_session=session_7, position=1, kind=ActivityKind.CHECK_IN, title="Arriving"
    )
    db.session.add(activity)
    db.session.flush()
    db.session.add(Answer(activity_id=activity.id, slot_key="k" * 64, client_id="c" * 16))
    db.session.commit()
    agenda, attendance = _count(SessionActivity), _count(Attendance)
    answers, appreciations = _count(Answer), _count(Appreciation)

    result = runner.invoke(args=["purge-expired", "--now", "2100-01-01T00:00:00+00:00"])

    assert result.exit_code == 0, result.output
    assert (
        f"Reconnecting with Warmth: deleted {answers - 1} answers, {appreciations} appreciations, "
        "2 pause signals" in result.output
    )
    assert _count(Answer) == 1 and _count(Appreciation) == 0 and _count(PauseSignal) == 0
    assert _count(SessionActivity) == agenda and _count(Attendance) == attendance
    assert _count(Member) == 10

    again = runner.invoke(args=["purge-expired", "--now", "2100-01-01"])

    assert again.exit_code == 0, again.output
    assert "deleted 0 answers, 0 appreciations, 0 pause signals" in again.output
    assert _count(Answer) == 1


def test_purge_follows_each_programs_own_retention(demo_cohort):
    services.update_program(SYSTEM, demo_cohort.program_id, retention_days=3650)
    answers = _count(Answer)

    (result,) = purge_expired(SYSTEM, now=NOW + timedelta(days=400))

    assert result.total == 0 and result.retention_days == 3650
    assert _count(Answer) == answers


def test_purge_is_for_admins_only(app, facilitator):
    with pytest.raises(Forbidden):
        purge_expired(facilitator, now=NOW)


def test_purge_expired_rejects_a_malformed_moment(runner):
    result = runner.invoke(args=["purge-expired", "--now", "next tuesday"])

    assert result.exit_code == 2
    assert "ISO 8601" in result.output
