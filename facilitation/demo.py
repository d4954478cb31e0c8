"""Own the demo data: a program, its ladder, its staff and a cohort six weeks into its cycle.

Everything is built in one transaction (all of it or nothing) and only into a database with no
staff account and no program, because the demo accounts share a published password.
Past answers are stored exactly as a live session stores them: no link to a member or a device,
a slot key and a keyed pseudonym derived from a phone secret that is thrown away.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import inspect, select

from facilitation.anonymity import new_secret, pseudonym_hash, slot_key
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
from groups.access import SYSTEM
from groups.errors import Conflict
from groups.extensions import db
from groups.instruments import BUILTIN_INSTRUMENTS, FEELING_WORDS, ensure_builtin_instruments
from groups.models import (
    ActivityKind,
    ActivityTemplate,
    Attendance,
    AttendanceSource,
    AttendanceStatus,
    Cohort,
    CohortStatus,
    GroupSession,
    Member,
    Program,
    Role,
    SessionPlan,
    SessionState,
    User,
)
from groups.services import audit, hash_password, name_key, schedule_times

DEMO_PASSWORD = "hearth-demo"  # noqa: S105 - published on purpose: the demo never meets real data
DEMO_STAFF = (
    (Role.ADMIN, "admin@example.org", "Ada Admin"),
    (Role.COORDINATOR, "coordinator@example.org", "Cora Coordinator"),
    (Role.FACILITATOR, "facilitator@example.org", "Fran Facilitator"),
)
PROGRAM_NAME = "Reconnecting with Warmth"
COHORT_NAME = "Tuesday evenings"
# Pseudonyms, as a facilitator would suggest: no real names are needed.
MEMBER_NAMES = (
    "Ash",
    "Birch",
    "Cedar",
    "Fern",
    "Heron",
    "Juniper",
    "Linden",
    "Moss",
    "Rowan",
    "Wren",
)
SESSIONS_HELD = 6
DEMO_TIMEZONE = "UTC"
DEMO_SEED = 8
LATE = AttendanceStatus.LATE
# Who did not simply turn up on time: a couple late, one excused, and Moss drifting away.
ATTENDANCE = {
    "Birch": {2: LATE},
    "Linden": {4: LATE},
    "Fern": {3: AttendanceStatus.EXCUSED},
    "Moss": {3: LATE, 5: AttendanceStatus.ABSENT, 6: AttendanceStatus.ABSENT},
}
DRIFTING = "Moss"
MOOD_KINDS = (ActivityKind.CHECK_IN, ActivityKind.CHECK_OUT)
REACTIONS = ("warm", "calm", "smile", "thanks")

CONSENT_TEXT = """\
What you share here stays small and safe.
- You take part under a first name or a nickname; no contact details are needed.
- Your mood and check-out answers are anonymous: they carry no link to your name or your phone.
  The group and the facilitator see totals only once at least 5 people have answered.
- Your phone may keep a private key so that you alone can see your own trend over the weeks.
- Every question and every exercise can be skipped with "pass"; nobody sees who passed.
- Answers are deleted 365 days after the session; only group totals are kept.
- The facilitator reads "I need a pause" signals during the session. This room is not watched
  for crises: if you are in danger, call your local emergency number or a crisis line.
"""


@dataclass(frozen=True)
class Step:
    """One activity template of the ladder, with sample texts the demo phones may write."""

    kind: ActivityKind
    title: str
    text: str = ""
    preview: str = ""
    intensity: int = 1
    timer_seconds: int | None = None
    config: dict[str, Any] = field(default_factory=dict)
    samples: tuple[str, ...] = ()


def _check_in() -> Step:
    return Step(
        ActivityKind.CHECK_IN,
        "How are you arriving?",
        "Move the two sliders to where you are right now. Pick a word if one fits; "
        '"numb" and "I can\'t name it" are answers too.',
        "Two sliders and a few optional words. Anonymous; you can pass.",
        1,
        120,
    )


def _check_out() -> Step:
    return Step(
        ActivityKind.CHECK_OUT,
        "How are you leaving?",
        "The sliders once more, then the pair of circles that shows how connected to the group "
        "you feel tonight.",
        "Two sliders and one picture of circles. Anonymous; you can pass.",
        1,
        150,
    )


def _questionnaires() -> list[Step]:
    return [
        Step(
            ActivityKind.QUESTIONNAIRE,
            "Wellbeing over the last two weeks (WHO-5)",
            "Five short statements about the last two weeks. Skip any of them.",
            "Five questions, about three minutes. Only group totals are ever shown.",
            1,
            300,
            {"instrument": "who5"},
        ),
        Step(
            ActivityKind.QUESTIONNAIRE,
            "Feeling connected (UCLA 3-item)",
            "Three questions about feeling left out or alone.",
            "Three questions, about a minute. Only group totals are ever shown.",
            1,
            120,
            {"instrument": "ucla3"},
        ),
    ]


def _appreciation_step(title: str, text: str, intensity: int, timer: int) -> Step:
    return Step(
        ActivityKind.APPRECIATION,
        title,
        text,
        "Write one short appreciation on your phone. The facilitator reads it before anyone "
        "sees it; sign it only if you want to.",
        intensity,
        timer,
    )


def _dyads_step(title: str, text: str, intensity: int, timer: int) -> Step:
    return Step(
        ActivityKind.DYADS,
        title,
        text,
        "You will be paired with someone you have not been paired with yet. Either of you can "
        "stop at any moment.",
        intensity,
        timer,
    )


TASTING = Step(
    ActivityKind.PROMPT,
    "Mindful tasting",
    "Take the small piece of fruit in front of you. Look at it, smell it, then taste it slowly. "
    "There is nothing to feel: only notice.",
    "Three minutes with one small piece of food. You can watch your breath instead.",
    1,
    180,
    samples=("sour first, then sweet", "I noticed the smell more than the taste", "hard to stay"),
)
TEXTURES = Step(
    ActivityKind.PROMPT,
    "Tracing textures",
    "Choose one object from the basket. Trace it with a fingertip, eyes open or closed. "
    "Rough, smooth, warm, cold: name one thing to yourself.",
    "Four minutes of touch with an object you choose. Keep your eyes open if you prefer.",
    1,
    240,
    samples=("the wool was warmer than I expected", "smooth stone, felt steady", "nothing much"),
)
SONG = Step(
    ActivityKind.PROMPT,
    "A song that once mattered",
    "Bring to mind a song that once meant something to you. Hum a line in your head, or just "
    "remember where you were when you heard it.",
    "Five quiet minutes with a memory of music. No one has to share it.",
    2,
    300,
    samples=("a song from my grandmother's kitchen", "the summer I was 16", "I couldn't pick one"),
)
WARM_MEMORY = Step(
    ActivityKind.PROMPT,
    "A warm memory",
    "Recall a small moment when you felt at ease with someone. Stay with one detail: a sound, "
    "a colour, a smell.",
    "Five minutes with a gentle memory. If a hard one comes, open your eyes and look around.",
    2,
    300,
    samples=(
        "my dog waiting at the door",
        "a bus ride with my brother",
        "the light in the kitchen",
    ),
)
EXCHANGE = Step(
    ActivityKind.PROMPT,
    "A brief structured exchange",
    "Tell your partner one small thing that went well this week. Your partner only listens "
    "and says thank you.",
    "Two minutes each, then swap. You choose how much to say.",
    3,
    240,
    samples=("it felt strange to be listened to", "easier than I feared", "nice"),
)
RECEIVING = Step(
    ActivityKind.PROMPT,
    "Receiving without deflecting",
    'When someone says something kind tonight, try answering only "thank you". Notice what '
    "happens in your body.",
    "A short practice for the appreciation round. Passing is fine.",
    3,
    180,
    samples=("my shoulders went up", "I wanted to say 'no, no'", "warm face"),
)
LOOKING_BACK = Step(
    ActivityKind.PROMPT,
    "What has changed since week one",
    "Look back over the eight weeks. What is one small thing you notice now that you did not "
    "notice then?",
    "Five minutes of looking back; share only if you want to.",
    3,
    300,
)

# Eight rungs: intensity climbs slowly from 1 to 4, warmth exercises from mid-cycle.
LADDER: list[tuple[str, str, list[Step]]] = [
    (
        "Arriving",
        "Feel safe enough to stay; learn that every exercise can be passed.",
        [_check_in(), *_questionnaires(), TASTING, _check_out()],
    ),
    (
        "Noticing touch",
        "Notice one sensation at a time, without needing it to be pleasant.",
        [_check_in(), TEXTURES, _check_out()],
    ),
    (
        "Sound and memory",
        "Let a familiar song bring a trace of feeling back.",
        [_check_in(), TEXTURES, SONG, _check_out()],
    ),
    (
        "Warm memories",
        "Hold a warm memory, and hear the group's first appreciations.",
        [
            _check_in(),
            *_questionnaires(),
            WARM_MEMORY,
            _appreciation_step(
                "Appreciation round: something you noticed",
                "Write one thing you appreciated in the group tonight, to someone or to everyone.",
                2,
                300,
            ),
            _check_out(),
        ],
    ),
    (
        "A first exchange",
        "Practise a short, structured exchange with one peer.",
        [
            _check_in(),
            EXCHANGE,
            _dyads_step(
                "Dyads: a small good thing",
                "Two minutes each: one small good thing from your week. The listener only listens.",
                3,
                480,
            ),
            _check_out(),
        ],
    ),
    (
        "Receiving warmth",
        "Receive an appreciation without deflecting it.",
        [
            _check_in(),
            RECEIVING,
            _appreciation_step(
                "Appreciation round: to someone in the room",
                "Write one appreciation to a person in the group.",
                3,
                360,
            ),
            _dyads_step(
                "Dyads: what it was like to hear it",
                "Tell your partner what it was like to receive an appreciation.",
                3,
                600,
            ),
            _check_out(),
        ],
    ),
    (
        "Sharing warmth",
        "Share a warm memory with a peer and stay present while they share theirs.",
        [
            _check_in(),
            SONG,
            _dyads_step(
                "Dyads: a warm memory, shared",
                "Three minutes each: share a warm memory. Your partner reflects one detail back.",
                4,
                600,
            ),
            _appreciation_step(
                "Appreciation round",
                "Write one appreciation to someone, or to the whole group.",
                3,
                300,
            ),
            _check_out(),
        ],
    ),
    (
        "Looking back, going on",
        "Notice what has changed, and take one practice into the weeks ahead.",
        [
            _check_in(),
            *_questionnaires(),
            LOOKING_BACK,
            _appreciation_step(
                "Closing appreciation round",
                "One last appreciation: to someone, or to the group as a whole.",
                4,
                480,
            ),
            _check_out(),
        ],
    ),
]

# Appreciations to one person; each round also has one to the whole group.
APPRECIATIONS = (
    "Thank you for going first tonight.",
    "Your laugh made the room lighter.",
    "I liked how honestly you passed when you needed to.",
    "You listened to me without trying to fix anything.",
    "Thank you for bringing the tea.",
    "It helps me that you keep coming.",
    "Your story about the bus ride stayed with me all week.",
)
GROUP_APPRECIATIONS = (
    "Thank you all for making this a place I can be quiet in.",
    "This hour is the calmest part of my week. Thank you, everyone.",
)
_NUMB_WORDS = ("numb", "I can't name it", "tired", "tense")
_WARM_WORDS = ("warm", "calm", "hopeful", "curious")


@dataclass
class _Phone:
    """A demo phone, in memory only: its secret and the person it stands for are never stored."""

    secret: str
    pleasure: float
    arousal: float
    connectedness: float
    gain: float
    wellbeing: float


def schema_exists() -> bool:
    """Say whether the migrations have run (the staff table exists)."""
    return inspect(db.engine).has_table(User.__tablename__)


def database_is_empty() -> bool:
    """Say whether the database holds no staff account and no program (the demo's only home)."""
    return (
        db.session.scalar(select(User.id).limit(1)) is None
        and db.session.scalar(select(Program.id).limit(1)) is None
    )


def build_demo(now: datetime, *, seed: int = DEMO_SEED) -> Cohort:
    """Load the demo into an empty database in one transaction, and return its cohort."""
    if now.tzinfo is None:
        raise ValueError("build_demo needs an aware datetime")
    if not database_is_empty():
        raise Conflict(
            "The database already holds staff accounts or programs; "
            "the demo loads only into an empty one.",
            code="not_empty",
        )
    rng = random.Random(seed)
    staff = _staff(now)
    program = _program(now, staff[Role.COORDINATOR])
    cohort = _cohort(now, program, staff[Role.FACILITATOR])
    members = _members(cohort, program)
    db.session.flush()
    phones = _phones(rng, members)
    server_key = current_app.config["SECRET_KEY"]
    for group_session in cohort.sessions[:SESSIONS_HELD]:
        _hold(rng, group_session, members, phones, server_key)
    audit(SYSTEM, "demo.seed", "cohort", cohort.id)
    db.session.commit()
    return cohort


def _staff(now: datetime) -> dict[Role, User]:
    users = {}
    for role, email, name in DEMO_STAFF:
        users[role] = User(
            email=email,
            display_name=name,
            password_hash=hash_password(DEMO_PASSWORD),
            role=role,
            created_at=now - timedelta(weeks=10),
        )
        db.session.add(users[role])
    return users


def _program(now: datetime, coordinator: User) -> Program:
    program = Program(
        name=PROGRAM_NAME,
        description="Eight weekly sessions of small, graded steps back towards sensation, small "
        "pleasures and warmth with others: tasting, touch, music and memory first, then "
        "appreciations and short exchanges in pairs.",
        cycle_length=len(LADDER),
        min_group_size=5,
        retention_days=365,
        allow_guests=True,
        language="en",
        consent_version=1,
        consent_text=CONSENT_TEXT,
        created_at=now - timedelta(weeks=9),
    )
    db.session.add(program)
    program.coordinators = [coordinator]
    program.instruments = ensure_builtin_instruments(db.session)
    for position, (title, goal, steps) in enumerate(LADDER, start=1):
        plan = SessionPlan(position=position, title=title, goal=goal)
        for index, step in enumerate(steps, start=1):
            plan.activities.append(
                ActivityTemplate(
                    position=index,
                    kind=step.kind,
                    title=step.title,
                    text=step.text,
                    preview=step.preview,
                    intensity=step.intensity,
                    timer_seconds=step.timer_seconds,
                    config=dict(step.config),
                )
            )
        program.plans.append(plan)
    return program


def _meeting_time(now: datetime, tz: ZoneInfo) -> tuple[date, time]:
    """Return today and a time a little later today (local), so session 7 can start right away."""
    local = now.astimezone(tz)
    later = (local + timedelta(minutes=30)).replace(second=0, microsecond=0)
    later += timedelta(minutes=-later.minute % 5)
    if later.date() != local.date():
        # Late at night: stay on today, at the last minute of it.
        later = local.replace(hour=23, minute=59, second=0, microsecond=0)
    return local.date(), later.time()


def _cohort(now: datetime, program: Program, facilitator: User) -> Cohort:
    tz = ZoneInfo(DEMO_TIMEZONE)
    today, at = _meeting_time(now, tz)
    start = today - timedelta(weeks=SESSIONS_HELD)
    cohort = Cohort(
        program=program,
        name=COHORT_NAME,
        start_date=start,
        meeting_time=at,
        timezone=DEMO_TIMEZONE,
        session_count=len(LADDER),
        duration_minutes=90,
        language="en",
        status=CohortStatus.ACTIVE,
        created_at=datetime.combine(start - timedelta(weeks=2), time(10), tzinfo=UTC),
    )
    db.session.add(cohort)
    cohort.facilitators = [facilitator]
    times = schedule_times(start, at, DEMO_TIMEZONE, len(LADDER))
    for number, (when, plan) in enumerate(zip(times, program.plans, strict=True), start=1):
        cohort.sessions.append(GroupSession(number=number, scheduled_at=when, plan=plan))
    return cohort


def _members(cohort: Cohort, program: Program) -> list[Member]:
    first = cohort.sessions[0].scheduled_at
    members = []
    for index, name in enumerate(MEMBER_NAMES):
        member = Member(
            display_name=name,
            name_key=name_key(name),
            created_at=first - timedelta(days=5, hours=index),
            consent_version=program.consent_version,
            consent_at=first - timedelta(minutes=8 - index % 5),
        )
        cohort.members.append(member)
        members.append(member)
    return members


def _phones(rng: random.Random, members: Sequence[Member]) -> dict[int, _Phone]:
    phones = {}
    for member in members:
        drifting = member.display_name == DRIFTING
        phones[member.id] = _Phone(
            secret=new_secret(),
            pleasure=rng.uniform(0.22, 0.42),
            arousal=rng.uniform(0.2, 0.45),
            connectedness=rng.uniform(1.6, 3.0),
            # The one drifting away grows a little less connected: a relapse cue to notice.
            gain=-0.25 if drifting else rng.uniform(0.6, 1.4),
            wellbeing=rng.uniform(0.2, 0.5),
        )
    return phones


def _clamp(value: float, lo: float = 0.0, hi: float = 1.0) -> float:
    return max(lo, min(hi, value))


def _hold(
    rng: random.Random,
    group_session: GroupSession,
    members: Sequence[Member],
    phones: dict[int, _Phone],
    server_key: str,
) -> None:
    """Record one past session as a live one would have left it, and as end_session closed it."""
    week = group_session.number - 1
    start = group_session.scheduled_at + timedelta(minutes=rng.randint(1, 4))
    duration = timedelta(minutes=group_session.cohort.duration_minutes)
    group_session.state = SessionState.ENDED
    group_session.started_at = start
    group_session.ended_at = start + duration - timedelta(minutes=rng.randint(3, 8))
    arrivals = _attendance(rng, group_session, members, start)
    activities = _activities(rng, group_session, start, duration)
    db.session.add(
        LiveSession(
            group_session=group_session,
            phase=Phase.CLOSED,
            revision=rng.randint(60, 120),
            updated_at=group_session.ended_at,
        )
    )
    db.session.flush()
    pseudonyms = {mid: pseudonym_hash(server_key, phone.secret) for mid, phone in phones.items()}
    for activity in activities:
        # Only phones already in the room by the time the activity closed could answer it.
        here = [m for m in members if m.id in arrivals and arrivals[m.id] < activity.closed_at]
        if activity.kind == ActivityKind.APPRECIATION:
            _appreciations(rng, activity, here)
            continue
        if activity.kind == ActivityKind.DYADS:
            _pair(rng, activity, here)
            continue
        answers = []
        samples = list(_samples(activity.title))  # each sample text written once per activity
        rng.shuffle(samples)
        for member in here:
            phone = phones[member.id]
            values = _answer_values(rng, activity, phone, week, samples)
            if values is None:
                continue
            answers.append(
                Answer(
                    activity_id=activity.id,
                    slot_key=slot_key(phone.secret, activity.id),
                    pseudonym_hash=pseudonyms[member.id],
                    client_id=_client_id(rng),
                    answered_on=activity.opened_at.astimezone(UTC).date(),
                    **values,
                )
            )
        # Stored in no particular order, so row order cannot be lined up with the roster.
        rng.shuffle(answers)
        db.session.add_all(answers)
    _pause_signals(rng, group_session, activities, members)


def _attendance(
    rng: random.Random, group_session: GroupSession, members: Sequence[Member], start: datetime
) -> dict[int, datetime]:
    """Mark everyone as phones and the facilitator would have; return who arrived, and when."""
    arrivals = {}
    for member in members:
        status = ATTENDANCE.get(member.display_name, {}).get(
            group_session.number, AttendanceStatus.PRESENT
        )
        arrived_at = None
        if status == AttendanceStatus.PRESENT:
            arrived_at = group_session.scheduled_at - timedelta(seconds=rng.randint(30, 600))
        elif status == LATE:
            arrived_at = start + timedelta(minutes=rng.randint(12, 22))
        if arrived_at is not None:
            arrivals[member.id] = arrived_at
        by_phone = arrived_at is not None
        group_session.attendance.append(
            Attendance(
                member=member,
                status=status,
                source=AttendanceSource.PHONE if by_phone else AttendanceSource.FACILITATOR,
                arrived_at=arrived_at,
                updated_at=arrived_at if by_phone else group_session.ended_at,
            )
        )
    return arrivals


def _activities(
    rng: random.Random, group_session: GroupSession, start: datetime, duration: timedelta
) -> list[SessionActivity]:
    """Copy the plan's agenda as start_session does, closed in turn across the session."""
    templates = group_session.plan.activities if group_session.plan else []
    slot = (duration - timedelta(minutes=12)) / max(len(templates), 1)
    activities = []
    for index, template in enumerate(templates):
        opened = start + timedelta(minutes=3) + slot * index
        running = timedelta(seconds=(template.timer_seconds or 120) + rng.randint(20, 90))
        config = dict(template.config or {})
        if template.kind == ActivityKind.DYADS:
            config["round"] = 1
        activity = SessionActivity(
            group_session=group_session,
            position=template.position,
            kind=template.kind,
            title=template.title,
            text=template.text,
            preview=template.preview,
            intensity=template.intensity,
            timer_seconds=template.timer_seconds,
            config=config,
            state=ActivityState.CLOSED,
            hold_results=template.kind in MOOD_KINDS,
            revealed=template.kind in MOOD_KINDS,
            opened_at=opened,
            closed_at=min(opened + running, opened + slot),
        )
        db.session.add(activity)
        activities.append(activity)
    return activities


def _client_id(rng: random.Random) -> str:
    """A fresh id per message, as a phone makes one: it identifies the message, not the phone."""
    return f"{rng.getrandbits(128):032x}"


def _mood(rng: random.Random, phone: _Phone, week: int, lift: float) -> dict[str, Any]:
    pleasure = _clamp(phone.pleasure + 0.035 * week * phone.gain + lift + rng.gauss(0, 0.07))
    arousal = _clamp(phone.arousal + 0.01 * week + lift / 2 + rng.gauss(0, 0.08))
    words: list[str] = []
    if rng.random() < 0.6:
        numb = max(0.5, 4.0 - week * phone.gain)
        weights = [
            numb if w in _NUMB_WORDS else 1 + week if w in _WARM_WORDS else 1.5
            for w in FEELING_WORDS
        ]
        words = sorted(set(rng.choices(FEELING_WORDS, weights=weights, k=rng.randint(1, 2))))
    return {"pleasure": round(pleasure, 2), "arousal": round(arousal, 2), "words": words}


def _questionnaire(rng: random.Random, key: str, phone: _Phone, week: int) -> dict[str, Any]:
    instrument = next(i for i in BUILTIN_INSTRUMENTS if i["key"] == key)
    lo, hi = instrument["response_format"]["min"], instrument["response_format"]["max"]
    scoring = instrument["scoring"]
    level = _clamp(phone.wellbeing + 0.03 * week * phone.gain)
    if not scoring.get("higher_is_better", True):
        level = 1 - level
    items = {
        item["key"]: int(_clamp(round(lo + (hi - lo) * level + rng.gauss(0, 0.7)), lo, hi))
        for item in instrument["items"]
    }
    return {"items": items, "score": float(sum(items.values()) * scoring.get("multiplier", 1))}


def _answer_values(
    rng: random.Random, activity: SessionActivity, phone: _Phone, week: int, samples: list[str]
) -> dict[str, Any] | None:
    """Return what one phone answered to one activity, a pass, or None if it did not answer."""
    passed = {"passed": True}
    if activity.kind in MOOD_KINDS:
        if rng.random() < 0.06:
            return passed
        lift = rng.uniform(0.02, 0.1) if activity.kind == ActivityKind.CHECK_OUT else 0.0
        values = _mood(rng, phone, week, lift)
        if activity.kind == ActivityKind.CHECK_OUT:
            closeness = phone.connectedness + 0.35 * week * phone.gain + rng.gauss(0, 0.5)
            values["connectedness"] = int(_clamp(round(closeness), 1, 7))
        return values
    if activity.kind == ActivityKind.QUESTIONNAIRE:
        if rng.random() < 0.05:
            return passed
        return _questionnaire(rng, activity.config["instrument"], phone, week)
    if activity.kind == ActivityKind.PROMPT:
        draw = rng.random()
        if draw < 0.1:
            return passed
        if draw < 0.3 and samples:
            # Approved or still waiting: a facilitator does not always get to every text.
            moderation = Moderation.APPROVED if rng.random() < 0.75 else Moderation.PENDING
            return {"response": "text", "text": samples.pop(), "moderation": moderation}
        if draw < 0.38:
            return {"response": "reaction", "reaction": rng.choice(REACTIONS)}
        if draw < 0.85:
            return {"response": "done"}
    return None


def _samples(title: str) -> tuple[str, ...]:
    for _, _, steps in LADDER:
        for step in steps:
            if step.title == title:
                return step.samples
    return ()


def _appreciations(rng: random.Random, activity: SessionActivity, here: Sequence[Member]) -> None:
    """Leave a few approved appreciations, most to a person, some to the whole group."""
    senders = rng.sample(list(here), k=min(len(here), rng.randint(4, 6)))
    texts = [*rng.sample(APPRECIATIONS, k=len(senders) - 1), rng.choice(GROUP_APPRECIATIONS)]
    for sender, text in zip(senders, texts, strict=True):
        others = [m for m in here if m.id != sender.id]
        to_group = text in GROUP_APPRECIATIONS or not others
        signed = rng.random() < 0.3  # the sender chose to sign: their name travels by choice
        db.session.add(
            Appreciation(
                activity_id=activity.id,
                client_id=_client_id(rng),
                recipient_id=None if to_group else rng.choice(others).id,
                signature=sender.display_name if signed else None,
                text=text,
                moderation=Moderation.APPROVED,
                created_at=activity.opened_at + timedelta(seconds=rng.randint(30, 200)),
            )
        )


def _pair(rng: random.Random, activity: SessionActivity, here: Sequence[Member]) -> None:
    """Pair the people in the room (an odd one out makes a triad), as form_dyads does."""
    order = [m.id for m in here]
    rng.shuffle(order)
    groups = [order[i : i + 2] for i in range(0, len(order) - len(order) % 2, 2)]
    if len(order) % 2 and groups:
        groups[-1].append(order[-1])
    for index, group in enumerate(groups):
        for member_id in group:
            db.session.add(
                DyadPairing(
                    activity_id=activity.id, round=1, group_index=index, member_id=member_id
                )
            )


def _pause_signals(
    rng: random.Random,
    group_session: GroupSession,
    activities: Sequence[SessionActivity],
    members: Sequence[Member],
) -> None:
    """A couple of pauses: one anonymous in week 2, one "check in with me" from Moss in week 4."""
    who = {2: None, 4: next(m for m in members if m.display_name == DRIFTING)}
    if group_session.number not in who:
        return
    prompt = next(a for a in activities if a.kind == ActivityKind.PROMPT)
    at = prompt.opened_at + timedelta(seconds=rng.randint(40, 150))
    member = who[group_session.number]
    db.session.add(
        PauseSignal(
            group_session_id=group_session.id,
            # Named only because this participant asked to be checked in with.
            member_id=member.id if member is not None else None,
            client_id=_client_id(rng),
            created_at=at,
            acknowledged_at=at + timedelta(seconds=rng.randint(20, 90)),
        )
    )
