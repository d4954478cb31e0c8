"""The staff pages: who may open each one, what each form changes, and what it refuses."""

from __future__ import annotations

import re
from datetime import date, time, timedelta
from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select

from groups import services
from groups.access import SYSTEM
from groups.extensions import db
from groups.models import (
    ActivityTemplate,
    Attendance,
    AttendanceStatus,
    Cohort,
    CohortStatus,
    GroupSession,
    Member,
    MemberStatus,
    Program,
    Role,
    SessionPlan,
    User,
)
from tests.conftest import PASSWORD
from tests.groups.conftest import ROLES, csrf_token

ALL = (*ROLES, "anonymous")


def text(response) -> str:
    return response.get_data(as_text=True)


def fresh(model, id_):
    """Re-read a row after a request, instead of trusting an object loaded before it."""
    db.session.expire_all()
    return db.session.get(model, id_)


def expect(admin, coordinator, facilitator, other_facilitator, other_coordinator):
    return {
        "admin": admin,
        "coordinator": coordinator,
        "facilitator": facilitator,
        "other_facilitator": other_facilitator,
        "other_coordinator": other_coordinator,
        "anonymous": 302,
    }


EVERYONE = expect(200, 200, 200, 200, 200)
ADMIN_ONLY = expect(200, 403, 403, 403, 403)
SEES_PROGRAM = expect(200, 200, 200, 404, 404)
MANAGES_PROGRAM = expect(200, 403, 403, 404, 404)
STARTS_COHORT = expect(200, 200, 403, 404, 404)
SEES_COHORT = expect(200, 200, 200, 404, 404)
MANAGES_COHORT = expect(200, 200, 403, 404, 404)
RUNS_COHORT = expect(200, 403, 200, 404, 404)

PAGES = {
    "home": ("/", EVERYONE),
    "programs": ("/programs", EVERYONE),
    "program_new": ("/programs/new", ADMIN_ONLY),
    "program": ("/programs/{w.program_id}", SEES_PROGRAM),
    "program_edit": ("/programs/{w.program_id}/edit", MANAGES_PROGRAM),
    "plan_new": ("/programs/{w.program_id}/plans/new", MANAGES_PROGRAM),
    "plan_edit": ("/plans/{w.plan_id}/edit", MANAGES_PROGRAM),
    "activity_new": ("/plans/{w.plan_id}/activities/new", MANAGES_PROGRAM),
    "activity_edit": ("/activities/{w.activity_id}/edit", MANAGES_PROGRAM),
    "activity_remove": ("/activities/{w.activity_id}/remove", MANAGES_PROGRAM),
    "cohorts": ("/cohorts", EVERYONE),
    "cohort_new": ("/programs/{w.program_id}/cohorts/new", STARTS_COHORT),
    "cohort": ("/cohorts/{w.cohort_id}", SEES_COHORT),
    "cohort_edit": ("/cohorts/{w.cohort_id}/edit", MANAGES_COHORT),
    "member_new": ("/cohorts/{w.cohort_id}/members/new", RUNS_COHORT),
    "member_edit": ("/members/{w.member_id}/edit", RUNS_COHORT),
    "member_delete": ("/members/{w.member_id}/delete", RUNS_COHORT),
    "group_session": ("/sessions/{w.session_id}", SEES_COHORT),
    "attendance": ("/sessions/{w.session_id}/attendance", RUNS_COHORT),
    "staff": ("/staff", ADMIN_ONLY),
    "staff_new": ("/staff/new", ADMIN_ONLY),
    "staff_edit": ("/staff/{w.facilitator.id}/edit", ADMIN_ONLY),
}

# A valid post for each form: allowed roles change the database, refused ones change nothing.
POSTS = {
    "program_new": (
        "/programs/new",
        ADMIN_ONLY,
        {
            "name": "Second program",
            "cycle_length": "10",
            "min_group_size": "5",
            "retention_days": "90",
            "language": "en",
        },
    ),
    "program_edit": (
        "/programs/{w.program_id}/edit",
        MANAGES_PROGRAM,
        {
            "name": "Renamed",
            "cycle_length": "8",
            "min_group_size": "6",
            "retention_days": "30",
            "language": "en",
        },
    ),
    "plan_new": ("/programs/{w.program_id}/plans/new", MANAGES_PROGRAM, {"title": "Songs"}),
    "plan_edit": ("/plans/{w.plan_id}/edit", MANAGES_PROGRAM, {"title": "Landing"}),
    "activity_new": (
        "/plans/{w.plan_id}/activities/new",
        MANAGES_PROGRAM,
        {"kind": "appreciation", "title": "Round", "intensity": "2"},
    ),
    "activity_edit": (
        "/activities/{w.activity_id}/edit",
        MANAGES_PROGRAM,
        {"kind": "prompt", "title": "Tasting", "intensity": "2"},
    ),
    "activity_remove": ("/activities/{w.activity_id}/remove", MANAGES_PROGRAM, {}),
    "cohort_new": (
        "/programs/{w.program_id}/cohorts/new",
        STARTS_COHORT,
        {
            "name": "Thursday mornings",
            "start_date": "2027-01-07",
            "meeting_time": "10:00",
            "timezone": "Europe/Madrid",
            "session_count": "8",
            "duration_minutes": "90",
            "language": "es",
        },
    ),
    "cohort_edit": (
        "/cohorts/{w.cohort_id}/edit",
        MANAGES_COHORT,
        {"name": "Renamed", "status": "active", "language": "en"},
    ),
    "member_new": ("/cohorts/{w.cohort_id}/members/new", RUNS_COHORT, {"display_name": "Noor"}),
    "member_edit": (
        "/members/{w.member_id}/edit",
        RUNS_COHORT,
        {"display_name": "Sammy", "status": "active"},
    ),
    "member_status": ("/members/{w.member_id}/status", RUNS_COHORT, {"status": "left"}),
    "member_delete": ("/members/{w.member_id}/delete", RUNS_COHORT, {}),
    "group_session_plan": (
        "/sessions/{w.session_id}/plan",
        RUNS_COHORT,
        {"plan_id": "{w.second_plan_id}"},
    ),
    "attendance": (
        "/sessions/{w.session_id}/attendance",
        RUNS_COHORT,
        {"member_{w.member_id}": "present"},
    ),
    "staff_new": (
        "/staff/new",
        ADMIN_ONLY,
        {
            "email": "new@example.org",
            "display_name": "Nia New",
            "role": "facilitator",
            "password": "a long enough password",
        },
    ),
    "staff_edit": (
        "/staff/{w.facilitator.id}/edit",
        ADMIN_ONLY,
        {"display_name": "Fran F.", "role": "facilitator", "active": "y"},
    ),
}

NAME_RE = r"\b{}\b"


def no_member_names(html: str, names) -> bool:
    return not any(re.search(NAME_RE.format(re.escape(n)), html) for n in names)


# --- who may open what -------------------------------------------------------------------------


@pytest.mark.parametrize("page", sorted(PAGES))
def test_page_access(page, world, client_for):
    """Each role gets the page, a 403 (visible but not theirs), a 404 (invisible) or /login."""
    url, expected = PAGES[page]
    for role, status in expected.items():
        response = client_for(role).get(url.format(w=world))
        assert response.status_code == status, (page, role)
        if status == 302:
            assert response.headers["Location"].startswith("/login?next=")


def _post(form, world):
    url, expected, data = POSTS[form]
    data = {k.format(w=world): v.format(w=world) for k, v in data.items()}
    return url.format(w=world), expected, data


@pytest.mark.parametrize("form", sorted(POSTS))
def test_refused_posts_change_nothing(form, world, client_for, db_state):
    """A role that may not use a form gets its 403, 404 or /login, and nothing is saved."""
    url, expected, data = _post(form, world)
    before = db_state()
    for role, status in expected.items():
        if status == 200:
            continue
        response = client_for(role).post(url, data=data)
        assert response.status_code == status, (form, role)
        if role == "anonymous":
            assert response.headers["Location"].startswith("/login?next=")
        assert db_state() == before, (form, role)


@pytest.mark.parametrize(
    ("form", "role"),
    [(form, role) for form in sorted(POSTS) for role, s in POSTS[form][1].items() if s == 200],
)
def test_allowed_posts_save(form, role, world, client_for, db_state):
    """Each role that may use a form saves it and is redirected (details in the tests below)."""
    url, _expected, data = _post(form, world)
    client = client_for(role)
    before = db_state()
    response = client.post(url, data=data)
    assert response.status_code == 302, text(response)
    assert not response.headers["Location"].startswith("/login")
    assert db_state() != before


def test_pages_have_no_inline_script_or_style(world, sign_in):
    """The Content-Security-Policy forbids inline scripts and style attributes: use none."""
    client = sign_in("admin")
    for page, (url, _expected) in PAGES.items():
        response = client.get(url.format(w=world))
        html = text(response)
        assert response.status_code == 200, page
        assert "style-src 'self'" in response.headers["Content-Security-Policy"]
        assert "<script" not in html, page
        assert not re.search(r"\sstyle=", html), page
        assert not re.search(r"\son[a-z]+=", html), page
        # Nothing is fetched from another origin (a citation may still name a web address).
        assert not re.search(r"""(src|href|action|content)=["']?(https?:)?//""", html), page
        assert not re.search(r"url\(\s*['\"]?(https?:)?//", html), page
        assert "None" not in re.findall(r'aria-[a-z]+="([^"]*)"', html), page


class _Headings(HTMLParser):
    def __init__(self):
        super().__init__()
        self.levels: list[int] = []

    def handle_starttag(self, tag, attrs):
        if re.fullmatch(r"h[1-6]", tag):
            self.levels.append(int(tag[1]))


def heading_levels(html: str) -> list[int]:
    parser = _Headings()
    parser.feed(html)
    return parser.levels


@pytest.mark.parametrize("role", ["admin", "facilitator", "coordinator"])
def test_headings_are_in_order(role, world, client_for):
    """One h1 per page, and no heading skips a level (screen-reader users navigate by them)."""
    client = client_for(role)
    for page, (url, expected) in PAGES.items():
        if expected[role] != 200:
            continue
        levels = heading_levels(text(client.get(url.format(w=world))))
        assert levels[0] == 1 and levels.count(1) == 1, (page, levels)
        assert all(b <= a + 1 for a, b in zip(levels, levels[1:], strict=False)), (page, levels)


def test_headings_stay_in_order_on_a_refused_form(world, sign_in):
    client = sign_in("facilitator")
    response = client.post(f"/sessions/{world.session_id}/plan", data={"plan_id": "x"})
    assert response.status_code == 400
    levels = heading_levels(text(response))
    assert all(b <= a + 1 for a, b in zip(levels, levels[1:], strict=False)), levels


def test_tables_have_header_scopes(world, sign_in):
    client = sign_in("facilitator")
    html = text(client.get(f"/cohorts/{world.cohort_id}"))
    assert html.count("<table") == 2
    assert '<th scope="col">Name</th>' in html
    assert '<th scope="row" data-label="Name">Sam</th>' in html


# --- navigation and home -----------------------------------------------------------------------


def test_nav_shows_staff_only_to_admins(world, sign_in):
    html = text(sign_in("admin").get("/"))
    assert 'href="/staff"' in html and 'href="/programs/new"' in html
    assert 'href="/programs" aria-current="page"' not in html
    assert '<a href="/" aria-current="page">Home</a>' in html


@pytest.mark.parametrize("role", ["coordinator", "facilitator"])
def test_nav_hides_staff_from_others(role, world, sign_in):
    html = text(sign_in(role).get("/cohorts"))
    assert 'href="/staff"' not in html
    assert 'href="/programs/new"' not in html
    assert '<a href="/cohorts" aria-current="page">Cohorts</a>' in html


def test_home_shows_my_cohorts_with_their_next_session(world, sign_in, program, facilitator):
    soon = date.today() + timedelta(days=9)
    later = services.create_cohort(
        SYSTEM,
        program.id,
        name="Saturday mornings",
        start_date=soon,
        meeting_time=time(10, 0),
        timezone="America/New_York",
        facilitator_ids=[facilitator.id],
    )
    first = later.sessions[0]
    html = text(sign_in("facilitator").get("/"))
    assert "Tuesday evenings" in html and "Saturday mornings" in html
    assert f'href="/sessions/{first.id}">session 1</a>' in html
    assert f"{soon.day} {soon:%b %Y}, 10:00 E" in html  # local wall clock, EST/EDT
    assert "No sessions ahead." in html  # the fixture cohort's cycle is over
    assert "Reconnecting with Warmth" in html


def test_home_for_someone_without_cohorts(world, sign_in):
    html = text(sign_in("other_facilitator").get("/"))
    assert "You have no cohorts yet." in html
    assert "You have no programs yet." in html
    assert "Tuesday evenings" not in html


def test_next_session_prefers_a_live_one(world, cohort):
    third = cohort.sessions[2]
    third.state = "live"
    db.session.commit()
    assert services.find_next_group_session(SYSTEM, cohort.id).id == third.id


# --- programs and the ladder -------------------------------------------------------------------


def test_programs_list_shows_only_visible_programs(world, sign_in):
    services.create_program(SYSTEM, name="Hidden program")
    assert "Hidden program" in text(sign_in("admin").get("/programs"))


@pytest.mark.parametrize("role", ["coordinator", "facilitator", "other_facilitator"])
def test_programs_list_hides_others_programs(role, world, sign_in):
    services.create_program(SYSTEM, name="Hidden program")
    html = text(sign_in(role).get("/programs"))
    assert "Hidden program" not in html
    assert ("Reconnecting with Warmth" in html) == (role != "other_facilitator")


def test_program_detail_shows_ladder_instruments_and_settings(world, sign_in):
    html = text(sign_in("facilitator").get(f"/programs/{world.program_id}"))
    assert "Rung 1: Arriving" in html and "Rung 2: Textures" in html
    assert html.index("Rung 1: Arriving") < html.index("Rung 2: Textures")
    assert html.index("How are you arriving?") < html.index("Mindful tasting")
    assert "Shared-activity prompt" in html and "3 min 00 s" in html and "1 of 5" in html
    assert "Affective Slider" in html and "CC BY-SA 4.0" in html
    assert "<dt>Smallest group for anonymous figures (k)</dt><dd>5</dd>" in html
    assert "<dd>180 days</dd>" in html
    # Facilitators see the ladder but are offered no change to it.
    assert "/edit" not in html.split('id="ladder"')[1].split('id="instruments"')[0]
    assert "Start a cohort" not in html


def test_program_detail_offers_changes_to_admins(world, sign_in):
    html = text(sign_in("admin").get(f"/programs/{world.program_id}"))
    assert f'href="/programs/{world.program_id}/edit"' in html
    assert f'href="/plans/{world.plan_id}/activities/new"' in html
    assert f'href="/activities/{world.activity_id}/edit"' in html
    assert f'href="/programs/{world.program_id}/cohorts/new"' in html


def test_create_program(world, sign_in):
    client = sign_in("admin")
    page = text(client.get("/programs/new"))
    assert "Cora Coordinator" in page and "Cid Coordinator" in page
    assert "Fran Facilitator" not in page  # only coordinator accounts are offered
    response = client.post(
        "/programs/new",
        data={
            "name": "Warm Steps",
            "description": "Ten weeks.",
            "cycle_length": "10",
            "min_group_size": "11",
            "retention_days": "90",
            "allow_guests": "y",
            "language": "es",
            "consent_text": "Every item can be skipped.",
            "coordinator_ids": [str(world.other_coordinator.id)],
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    program = db.session.scalar(select(Program).where(Program.name == "Warm Steps"))
    assert response.headers["Location"] == f"/programs/{program.id}"
    assert (program.cycle_length, program.min_group_size, program.retention_days) == (10, 11, 90)
    assert program.allow_guests and program.language == "es"
    assert [c.id for c in program.coordinators] == [world.other_coordinator.id]
    assert program.instruments
    assert "Warm Steps" in text(client.get(response.headers["Location"]))


def test_create_program_refuses_k_below_3(world, sign_in, db_state):
    """Privacy: k below 3 lets two people read each other's answers from any aggregate."""
    client = sign_in("admin")
    before = db_state()
    response = client.post(
        "/programs/new",
        data={
            "name": "Tiny",
            "cycle_length": "8",
            "min_group_size": "2",
            "retention_days": "30",
            "language": "en",
        },
    )
    html = text(response)
    assert response.status_code == 400
    assert '<p class="error" id="min_group_size-error">Must be between 3 and 50.</p>' in html
    assert 'aria-describedby="min_group_size-hint min_group_size-error"' in html
    assert 'aria-invalid="true"' in html
    assert 'value="Tiny"' in html  # what was typed stays
    assert db_state() == before


def test_create_program_refuses_text_in_a_number(world, sign_in, db_state):
    client = sign_in("admin")
    before = db_state()
    response = client.post(
        "/programs/new",
        data={
            "name": "X",
            "cycle_length": "eight",
            "min_group_size": "5",
            "retention_days": "30",
            "language": "en",
        },
    )
    assert response.status_code == 400
    assert "Not a valid integer value." in text(response)
    assert db_state() == before


def test_create_program_refuses_a_non_coordinator(world, sign_in, db_state):
    client = sign_in("admin")
    before = db_state()
    response = client.post(
        "/programs/new",
        data={
            "name": "X",
            "cycle_length": "8",
            "min_group_size": "5",
            "retention_days": "30",
            "language": "en",
            "coordinator_ids": [str(world.facilitator.id)],
        },
    )
    assert response.status_code == 400
    assert "is not a valid choice" in text(response)
    assert db_state() == before


def test_edit_program(world, sign_in):
    client = sign_in("admin")
    page = text(client.get(f"/programs/{world.program_id}/edit"))
    assert 'value="Reconnecting with Warmth"' in page
    assert re.search(
        rf'checked id="coordinator_ids-\d" name="coordinator_ids" type="checkbox" '
        rf'value="{world.coordinator.id}"',
        page,
    )
    response = client.post(
        f"/programs/{world.program_id}/edit",
        data={
            "name": "Reconnecting",
            "cycle_length": "12",
            "min_group_size": "7",
            "retention_days": "60",
            "language": "en",
            "consent_text": "New words.",
            "coordinator_ids": [str(world.other_coordinator.id)],
        },
    )
    assert response.status_code == 302
    program = fresh(Program, world.program_id)
    assert (program.name, program.cycle_length, program.min_group_size) == ("Reconnecting", 12, 7)
    assert program.allow_guests is False
    assert program.consent_version == 2  # new words, new consent
    assert [c.id for c in program.coordinators] == [world.other_coordinator.id]


def test_edit_program_refuses_an_empty_name(world, sign_in, db_state):
    client = sign_in("admin")
    before = db_state()
    response = client.post(
        f"/programs/{world.program_id}/edit",
        data={
            "name": " ",
            "cycle_length": "8",
            "min_group_size": "5",
            "retention_days": "30",
            "language": "en",
        },
    )
    assert response.status_code == 400
    assert '<p class="error" id="name-error">Required.</p>' in text(response)
    assert db_state() == before


def test_add_and_edit_session_plan(world, sign_in):
    client = sign_in("admin")
    response = client.post(
        f"/programs/{world.program_id}/plans/new", data={"title": "A song", "goal": "Remember"}
    )
    assert response.status_code == 302
    db.session.expire_all()
    plan = db.session.scalar(select(SessionPlan).where(SessionPlan.title == "A song"))
    assert plan.position == 3 and plan.goal == "Remember"
    assert response.headers["Location"] == f"/programs/{world.program_id}#plan-{plan.id}"
    response = client.post(f"/plans/{plan.id}/edit", data={"title": "A song that mattered"})
    assert response.status_code == 302
    assert fresh(SessionPlan, plan.id).title == "A song that mattered"


@pytest.mark.parametrize("url", ["/programs/{w.program_id}/plans/new", "/plans/{w.plan_id}/edit"])
def test_session_plan_needs_a_title(url, world, sign_in, db_state):
    client = sign_in("admin")
    before = db_state()
    response = client.post(url.format(w=world), data={"title": "", "goal": "x"})
    assert response.status_code == 400
    assert '<p class="error" id="title-error">Required.</p>' in text(response)
    assert db_state() == before  # the plan's half-changed title was rolled back


def test_add_activity(world, sign_in):
    client = sign_in("admin")
    response = client.post(
        f"/plans/{world.plan_id}/activities/new",
        data={
            "kind": "dyads",
            "title": "Pairs",
            "text": "Talk",
            "preview": "In twos",
            "intensity": "3",
            "timer_seconds": "300",
        },
    )
    assert response.status_code == 302
    plan = fresh(SessionPlan, world.plan_id)
    added = plan.activities[-1]
    assert (added.position, added.kind, added.title) == (4, "dyads", "Pairs")
    assert (added.intensity, added.timer_seconds, added.preview) == (3, 300, "In twos")


def test_add_activity_refuses_a_short_timer(world, sign_in, db_state):
    client = sign_in("admin")
    before = db_state()
    response = client.post(
        f"/plans/{world.plan_id}/activities/new",
        data={"kind": "prompt", "title": "Quick", "intensity": "1", "timer_seconds": "5"},
    )
    assert response.status_code == 400
    assert "Must be between 10 and 3600." in text(response)
    assert 'aria-describedby="timer_seconds-hint timer_seconds-error"' in text(response)
    assert db_state() == before


def test_edit_activity(world, sign_in):
    client = sign_in("admin")
    page = text(client.get(f"/activities/{world.activity_id}/edit"))
    assert 'value="Mindful tasting"' in page and 'value="180"' in page
    response = client.post(
        f"/activities/{world.activity_id}/edit",
        data={"kind": "prompt", "title": "Tasting", "intensity": "2", "timer_seconds": ""},
    )
    assert response.status_code == 302
    activity = fresh(ActivityTemplate, world.activity_id)
    assert (activity.title, activity.intensity, activity.timer_seconds) == ("Tasting", 2, None)
    assert activity.text == "Taste slowly."  # a field the post leaves out is kept


def test_edit_activity_refuses_a_long_title(world, sign_in, db_state):
    client = sign_in("admin")
    before = db_state()
    response = client.post(
        f"/activities/{world.activity_id}/edit",
        data={"kind": "prompt", "title": "x" * 121, "intensity": "2"},
    )
    assert response.status_code == 400
    assert "At most 120 characters." in text(response)
    assert db_state() == before


def test_remove_activity_asks_then_closes_the_gap(world, sign_in):
    client = sign_in("admin")
    page = text(client.get(f"/activities/{world.activity_id}/remove"))
    assert "Remove “Mindful tasting” from rung 1?" in page
    response = client.post(f"/activities/{world.activity_id}/remove")
    assert response.status_code == 302
    assert fresh(ActivityTemplate, world.activity_id) is None
    plan = db.session.get(SessionPlan, world.plan_id)
    assert [(a.position, a.title) for a in plan.activities] == [
        (1, "How are you arriving?"),
        (2, "How are you leaving?"),
    ]


# --- cohorts -----------------------------------------------------------------------------------


def test_cohorts_list(world, sign_in):
    html = text(sign_in("coordinator").get("/cohorts"))
    assert "Tuesday evenings" in html
    assert "Tuesdays at 18:30 (Europe/London)" in html
    assert f'href="/programs/{world.program_id}/cohorts/new"' in html


def test_cohorts_list_for_a_facilitator_offers_no_new_cohort(world, sign_in):
    html = text(sign_in("facilitator").get("/cohorts"))
    assert "Tuesday evenings" in html and "/cohorts/new" not in html


def test_new_cohort_form_defaults_to_the_programs_cycle(world, sign_in, program):
    services.update_program(SYSTEM, program.id, cycle_length=10)
    html = text(sign_in("coordinator").get(f"/programs/{world.program_id}/cohorts/new"))
    assert 'name="session_count" required type="number" value="10"' in html
    assert '<option value="Europe/London">Europe/London</option>' in html
    assert "Fran Facilitator" in html and "Otto Other" in html
    assert "Cora Coordinator" not in html.split('id="facilitator_ids"')[1]


def test_coordinator_creates_a_cohort(world, sign_in):
    client = sign_in("coordinator")
    response = client.post(
        f"/programs/{world.program_id}/cohorts/new",
        data={
            "name": "Thursday mornings",
            "start_date": "2027-03-25",
            "meeting_time": "10:00",
            "timezone": "Europe/Madrid",
            "session_count": "3",
            "duration_minutes": "60",
            "language": "es",
            "facilitator_ids": [str(world.other_facilitator.id)],
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    cohort = db.session.scalar(select(Cohort).where(Cohort.name == "Thursday mornings"))
    assert response.headers["Location"] == f"/cohorts/{cohort.id}"
    assert [s.number for s in cohort.sessions] == [1, 2, 3]
    # 10:00 in Madrid: 09:00 UTC on 25 March (CET), 08:00 UTC a week later (CEST).
    assert [s.scheduled_at.hour for s in cohort.sessions] == [9, 8, 8]
    assert [f.id for f in cohort.facilitators] == [world.other_facilitator.id]
    assert (cohort.language, cohort.duration_minutes) == ("es", 60)
    html = text(client.get(f"/cohorts/{cohort.id}"))
    assert "Thu 25 Mar 2027, 10:00 CET" in html and "Thu 1 Apr 2027, 10:00 CEST" in html


def test_new_cohort_refuses_a_taken_name_and_a_missing_date(world, sign_in, db_state):
    client = sign_in("admin")
    before = db_state()
    response = client.post(
        f"/programs/{world.program_id}/cohorts/new",
        data={
            "name": "tuesday EVENINGS",
            "start_date": "",
            "meeting_time": "18:30",
            "timezone": "UTC",
            "session_count": "8",
            "duration_minutes": "90",
            "language": "en",
        },
    )
    html = text(response)
    assert response.status_code == 400
    assert '<p class="error" id="start_date-error">This field is required.</p>' in html
    assert db_state() == before
    response = client.post(
        f"/programs/{world.program_id}/cohorts/new",
        data={
            "name": "tuesday EVENINGS",
            "start_date": "2027-01-05",
            "meeting_time": "18:30",
            "timezone": "UTC",
            "session_count": "8",
            "duration_minutes": "90",
            "language": "en",
        },
    )
    html = text(response)
    assert response.status_code == 400
    assert (
        '<p class="error" id="name-error">This program has a cohort with this name already.</p>'
        in html
    )
    assert db_state() == before


def test_new_cohort_refuses_an_unknown_time_zone(world, sign_in, db_state):
    client = sign_in("admin")
    before = db_state()
    response = client.post(
        f"/programs/{world.program_id}/cohorts/new",
        data={
            "name": "Elsewhere",
            "start_date": "2027-01-05",
            "meeting_time": "18:30",
            "timezone": "Mars/Olympus",
            "session_count": "8",
            "duration_minutes": "90",
            "language": "en",
        },
    )
    assert response.status_code == 400
    assert '<p class="error" id="timezone-error">Not a valid choice.</p>' in text(response)
    assert db_state() == before


def test_cohort_detail_for_a_facilitator(world, sign_in):
    html = text(sign_in("facilitator").get(f"/cohorts/{world.cohort_id}"))
    for name in world.member_names:
        assert re.search(NAME_RE.format(name), html)
    assert "Tuesdays at 18:30, 90 minutes" in html
    assert "Tue 1 Sep 2026, 18:30 BST" in html  # the cohort's wall clock, not UTC
    assert "Tue 27 Oct 2026" not in html  # the cycle has eight sessions, the last on 20 Oct
    assert "Tue 20 Oct 2026, 18:30 BST" in html
    assert "1: Arriving" in html and "3: Textures" not in html and "2: Textures" in html
    assert f'href="/sessions/{world.session_id}/attendance"' in html
    assert f'href="/members/{world.member_id}/delete"' in html
    assert f'href="/cohorts/{world.cohort_id}/edit"' not in html


def test_cohort_detail_audits_the_roster_view(world, sign_in):
    sign_in("facilitator").get(f"/cohorts/{world.cohort_id}")
    from groups.models import AuditEvent

    actions = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.actor_id == world.facilitator.id)
    ).all()
    assert "roster.view" in actions


def test_coordinator_cohort_page_has_no_member_names(world, sign_in):
    """Privacy: coordinators review cohorts in aggregate and never see a member's name."""
    client = sign_in("coordinator")
    html = text(client.get(f"/cohorts/{world.cohort_id}"))
    assert no_member_names(html, world.member_names)
    assert "6 active members." in html
    assert "Session 8" in html and "Tue 1 Sep 2026, 18:30 BST" in html
    assert "/attendance" not in html and "/members/" not in html
    assert f'href="/cohorts/{world.cohort_id}/edit"' in html
    for url in ("/", "/cohorts", f"/sessions/{world.session_id}", f"/programs/{world.program_id}"):
        assert no_member_names(text(client.get(url)), world.member_names), url


def test_coordinator_member_count_leaves_out_those_who_left(world, sign_in):
    services.update_member(SYSTEM, world.member_id, status="left")
    assert "5 active members." in text(sign_in("coordinator").get(f"/cohorts/{world.cohort_id}"))


def test_edit_cohort(world, sign_in):
    client = sign_in("coordinator")
    response = client.post(
        f"/cohorts/{world.cohort_id}/edit",
        data={
            "name": "Tuesdays",
            "status": "active",
            "language": "es",
            "facilitator_ids": [str(world.facilitator.id), str(world.other_facilitator.id)],
        },
    )
    assert response.status_code == 302
    cohort = fresh(Cohort, world.cohort_id)
    assert (cohort.name, cohort.status, cohort.language) == ("Tuesdays", CohortStatus.ACTIVE, "es")
    assert {f.id for f in cohort.facilitators} == {world.facilitator.id, world.other_facilitator.id}


def test_edit_cohort_refuses_an_empty_name(world, sign_in, db_state):
    client = sign_in("admin")
    before = db_state()
    response = client.post(
        f"/cohorts/{world.cohort_id}/edit",
        data={"name": "", "status": "active", "language": "en"},
    )
    assert response.status_code == 400
    assert '<p class="error" id="name-error">Required.</p>' in text(response)
    assert db_state() == before


# --- roster ------------------------------------------------------------------------------------


def test_add_member(world, sign_in):
    client = sign_in("facilitator")
    response = client.post(
        f"/cohorts/{world.cohort_id}/members/new", data={"display_name": "  Noor  "}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/cohorts/{world.cohort_id}#roster"
    db.session.expire_all()
    member = db.session.scalar(select(Member).where(Member.display_name == "Noor"))
    assert member.cohort_id == world.cohort_id and member.status == MemberStatus.ACTIVE
    assert "Noor added to the roster." in text(client.get(response.headers["Location"]))


def test_add_member_refuses_a_name_on_the_roster(world, sign_in, db_state):
    client = sign_in("facilitator")
    before = db_state()
    response = client.post(
        f"/cohorts/{world.cohort_id}/members/new", data={"display_name": " sam "}
    )
    html = text(response)
    assert response.status_code == 400
    assert (
        '<p class="error" id="display_name-error">Someone on this roster has this name already.</p>'
        in html
    )
    assert 'aria-describedby="display_name-hint display_name-error"' in html
    assert db_state() == before


def test_rename_member_and_mark_left(world, sign_in):
    client = sign_in("facilitator")
    response = client.post(
        f"/members/{world.member_id}/edit", data={"display_name": "Sammy", "status": "left"}
    )
    assert response.status_code == 302
    member = fresh(Member, world.member_id)
    assert (member.display_name, member.status) == ("Sammy", MemberStatus.LEFT)
    assert member.left_at is not None


def test_rename_member_refuses_a_taken_name(world, sign_in, db_state):
    client = sign_in("facilitator")
    before = db_state()
    response = client.post(
        f"/members/{world.member_id}/edit", data={"display_name": "ROBIN", "status": "left"}
    )
    assert response.status_code == 400
    assert "Someone on this roster has this name already." in text(response)
    assert db_state() == before


def test_mark_left_and_back_from_the_roster(world, sign_in):
    client = sign_in("facilitator")
    html = text(client.get(f"/cohorts/{world.cohort_id}"))
    assert "Mark as left" in html
    assert (
        client.post(f"/members/{world.member_id}/status", data={"status": "left"}).status_code
        == 302
    )
    assert fresh(Member, world.member_id).status == MemberStatus.LEFT
    assert "Mark as active" in text(client.get(f"/cohorts/{world.cohort_id}"))
    assert (
        client.post(f"/members/{world.member_id}/status", data={"status": "active"}).status_code
        == 302
    )
    member = fresh(Member, world.member_id)
    assert member.status == MemberStatus.ACTIVE and member.left_at is None


def test_mark_status_refuses_an_unknown_status(world, sign_in, db_state):
    client = sign_in("facilitator")
    before = db_state()
    response = client.post(f"/members/{world.member_id}/status", data={"status": "gone"})
    assert response.status_code == 400
    assert "One of: active, left." in text(response)
    assert db_state() == before


def test_delete_member_asks_first_then_deletes_their_attendance(world, sign_in):
    services.record_attendance(SYSTEM, world.session_id, {world.member_id: "present"})
    client = sign_in("facilitator")
    page = client.get(f"/members/{world.member_id}/delete")
    assert page.status_code == 200
    assert "Are you sure?" in text(page) and '<form method="post">' in text(page)
    assert fresh(Member, world.member_id) is not None  # asking deleted nothing
    response = client.post(f"/members/{world.member_id}/delete")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/cohorts/{world.cohort_id}#roster"
    assert fresh(Member, world.member_id) is None
    left = db.session.scalar(
        select(func.count(Attendance.id)).where(Attendance.member_id == world.member_id)
    )
    assert left == 0


# --- group sessions and attendance -------------------------------------------------------------


def test_session_detail(world, sign_in):
    html = text(sign_in("facilitator").get(f"/sessions/{world.session_id}"))
    assert "Session 1 of Tuesday evenings" in html
    assert "Tue 1 Sep 2026, 18:30 BST" in html and "Planned" in html
    assert "1: Arriving" in html and "Mindful tasting" in html
    assert 'name="plan_id"' in html


def test_session_detail_for_a_coordinator_offers_no_change(world, sign_in):
    html = text(sign_in("coordinator").get(f"/sessions/{world.session_id}"))
    assert "1: Arriving" in html
    assert 'name="plan_id"' not in html and "/attendance" not in html


def test_change_session_plan(world, sign_in):
    client = sign_in("facilitator")
    response = client.post(
        f"/sessions/{world.session_id}/plan", data={"plan_id": str(world.second_plan_id)}
    )
    assert response.status_code == 302
    assert fresh(GroupSession, world.session_id).plan_id == world.second_plan_id
    response = client.post(f"/sessions/{world.session_id}/plan", data={"plan_id": "None"})
    assert response.status_code == 302
    assert fresh(GroupSession, world.session_id).plan_id is None


def test_change_session_plan_refuses_another_programs_plan(world, sign_in, db_state):
    other = services.create_program(SYSTEM, name="Other")
    foreign = services.add_session_plan(SYSTEM, other.id, title="Elsewhere")
    client = sign_in("facilitator")
    before = db_state()
    response = client.post(f"/sessions/{world.session_id}/plan", data={"plan_id": str(foreign.id)})
    assert response.status_code == 400
    assert '<p class="error" id="plan_id-error">Not a valid choice.</p>' in text(response)
    assert db_state() == before


def test_attendance_sheet_shows_unmarked_rows(world, sign_in):
    services.record_attendance(SYSTEM, world.session_id, {world.member_id: "late"})
    html = text(sign_in("facilitator").get(f"/sessions/{world.session_id}/attendance"))
    assert html.count("Now: not marked") == 5
    assert "Now: late" in html
    assert html.count("<fieldset") == 6 and "<legend>Sam</legend>" in html
    assert re.search(
        rf'checked id="member_{world.member_id}-1" name="member_{world.member_id}" type="radio" '
        r'value="late"',
        html,
    )
    for label in ("Present", "Late", "Absent", "Excused"):
        assert f">{label}</label>" in html


def test_save_attendance(world, sign_in, cohort):
    client = sign_in("facilitator")
    members = {m.display_name: m.id for m in cohort.members}
    response = client.post(
        f"/sessions/{world.session_id}/attendance",
        data={f"member_{members['Robin']}": "present", f"member_{members['Sam']}": "excused"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    rows = db.session.scalars(
        select(Attendance).where(Attendance.group_session_id == world.session_id)
    ).all()
    assert {(r.member_id, r.status) for r in rows} == {
        (members["Robin"], AttendanceStatus.PRESENT),
        (members["Sam"], AttendanceStatus.EXCUSED),
    }
    html = text(client.get(response.headers["Location"]))
    assert "Attendance saved." in html and html.count("Now: not marked") == 4


def test_save_attendance_is_all_or_nothing(world, sign_in, cohort, db_state):
    client = sign_in("facilitator")
    robin, sam = (m.id for m in cohort.members if m.display_name in ("Robin", "Sam"))
    before = db_state()
    response = client.post(
        f"/sessions/{world.session_id}/attendance",
        data={f"member_{robin}": "present", f"member_{sam}": "maybe"},
    )
    assert response.status_code == 400
    assert f'id="member_{sam}-error">Not a valid choice.</p>' in text(response)
    assert db_state() == before


def test_attendance_opens_on_the_day(world, sign_in, program, facilitator, db_state):
    later = services.create_cohort(
        SYSTEM,
        program.id,
        name="Next year",
        start_date=date.today() + timedelta(days=30),
        meeting_time=time(18, 0),
        timezone="UTC",
        facilitator_ids=[facilitator.id],
    )
    member = services.add_member(SYSTEM, later.id, display_name="Ari")
    client = sign_in("facilitator")
    before = db_state()
    response = client.post(
        f"/sessions/{later.sessions[0].id}/attendance", data={f"member_{member.id}": "present"}
    )
    assert response.status_code == 400
    assert "Attendance opens on the day of the session." in text(response)
    assert db_state() == before


# --- staff -------------------------------------------------------------------------------------


def test_staff_list(world, sign_in):
    html = text(sign_in("admin").get("/staff"))
    for user in (world.admin, world.coordinator, world.facilitator):
        assert user.email in html and user.display_name in html


def test_create_staff_account(world, sign_in, client):
    client = sign_in("admin")
    response = client.post(
        "/staff/new",
        data={
            "email": "Nia@Example.org",
            "display_name": "Nia New",
            "role": "coordinator",
            "password": "a long enough password",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    user = db.session.scalar(select(User).where(User.email == "nia@example.org"))
    assert (user.display_name, user.role, user.active) == ("Nia New", Role.COORDINATOR, True)
    assert services.authenticate("nia@example.org", "a long enough password").id == user.id


def test_create_staff_refuses_short_password_and_taken_email(world, sign_in, db_state):
    client = sign_in("admin")
    before = db_state()
    response = client.post(
        "/staff/new",
        data={
            "email": world.facilitator.email,
            "display_name": "Dup",
            "role": "facilitator",
            "password": "short",
        },
    )
    html = text(response)
    assert response.status_code == 400
    assert '<p class="error" id="password-error">At least 10 characters.</p>' in html
    assert "An account with this email exists already." in html
    assert "short" not in re.findall(r'value="([^"]*)"', html)  # a password is never echoed
    assert db_state() == before


def test_edit_staff_account(world, sign_in):
    client = sign_in("admin")
    page = text(client.get(f"/staff/{world.facilitator.id}/edit"))
    assert 'value="Fran Facilitator"' in page and "checked" in page
    old_token = world.facilitator.session_token
    response = client.post(
        f"/staff/{world.facilitator.id}/edit",
        data={"display_name": "Fran F.", "role": "coordinator", "password": "another good one"},
    )
    assert response.status_code == 302
    user = fresh(User, world.facilitator.id)
    assert (user.display_name, user.role, user.active) == ("Fran F.", Role.COORDINATOR, False)
    assert user.session_token != old_token  # deactivated: signed out everywhere


def test_edit_staff_new_password_works(world, sign_in):
    client = sign_in("admin")
    response = client.post(
        f"/staff/{world.facilitator.id}/edit",
        data={
            "display_name": "Fran",
            "role": "facilitator",
            "active": "y",
            "password": "another good one",
        },
    )
    assert response.status_code == 302
    assert services.authenticate(world.facilitator.email, "another good one")
    with pytest.raises(Exception, match="do not match"):
        services.authenticate(world.facilitator.email, PASSWORD)


def test_edit_staff_empty_password_keeps_it(world, sign_in):
    client = sign_in("admin")
    response = client.post(
        f"/staff/{world.facilitator.id}/edit",
        data={"display_name": "Fran", "role": "facilitator", "active": "y", "password": ""},
    )
    assert response.status_code == 302
    assert services.authenticate(world.facilitator.email, PASSWORD)


def test_admin_cannot_deactivate_themselves(world, sign_in, db_state):
    client = sign_in("admin")
    before = db_state()
    response = client.post(
        f"/staff/{world.admin.id}/edit",
        data={"display_name": "Renamed Too", "role": "admin"},
    )
    html = text(response)
    assert response.status_code == 400
    assert '<p class="error" id="active-error">You cannot deactivate your own account.</p>' in html
    assert db_state() == before  # not even the new name, which the service had already set
    assert "Ada Admin" in html  # the header shows the name as saved


# --- CSRF --------------------------------------------------------------------------------------


class TestCsrf:
    """With CSRF protection on (as in production), a post without its token changes nothing."""

    @pytest.fixture
    def app_config(self):
        return {"WTF_CSRF_ENABLED": True}

    @pytest.fixture
    def signed_in(self, client, world):
        token = csrf_token(client, "/login")
        response = client.post(
            "/login",
            data={"email": world.facilitator.email, "password": PASSWORD, "csrf_token": token},
        )
        assert response.status_code == 302
        return client

    def test_post_without_token_is_refused(self, signed_in, world, db_state):
        before = db_state()
        response = signed_in.post(
            f"/cohorts/{world.cohort_id}/members/new", data={"display_name": "Noor"}
        )
        assert response.status_code == 400
        assert "This form expired or came from elsewhere." in text(response)
        assert db_state() == before

    def test_post_with_a_wrong_token_is_refused(self, signed_in, world, db_state):
        before = db_state()
        response = signed_in.post(
            f"/members/{world.member_id}/delete", data={"csrf_token": "forged"}
        )
        assert response.status_code == 400
        assert db_state() == before

    def test_post_with_token_is_accepted(self, signed_in, world):
        token = csrf_token(signed_in, f"/cohorts/{world.cohort_id}/members/new")
        response = signed_in.post(
            f"/cohorts/{world.cohort_id}/members/new",
            data={"display_name": "Noor", "csrf_token": token},
        )
        assert response.status_code == 302
        db.session.expire_all()
        assert db.session.scalar(select(Member).where(Member.display_name == "Noor"))

    def test_roster_row_forms_carry_the_token(self, signed_in, world):
        html = text(signed_in.get(f"/cohorts/{world.cohort_id}"))
        assert html.count('name="csrf_token"') == 6 + 1 + 1  # six rows, add member, sign out
