"""Test the JSON API: every endpoint for every role, errors, pagination, CSRF and OpenAPI."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from types import SimpleNamespace

import pytest
from flask import g
from openapi_spec_validator import validate as validate_openapi
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from groups import services
from groups.access import SYSTEM
from groups.extensions import db
from groups.models import Attendance, AuditEvent, Program, User
from groups.types import utcnow
from tests.conftest import PASSWORD

API = "/api/v1"
ROLES = (
    "anonymous",
    "admin",
    "coordinator",
    "other_coordinator",
    "facilitator",
    "other_facilitator",
)
MEMBER_NAMES = ("Robin", "Sam", "Alex", "Jo", "Kim", "Lee")


@pytest.fixture
def world(
    app, admin, coordinator, other_coordinator, facilitator, other_facilitator, program, cohort
):
    """Our program and cohort, another program (other_coordinator's) and another cohort."""
    other_program = services.create_program(
        SYSTEM, name="Another program", coordinator_ids=[other_coordinator.id]
    )
    # The other facilitator runs a cohort of the same program: they see the program, not ours.
    other_cohort = services.create_cohort(
        SYSTEM,
        program.id,
        name="Thursday mornings",
        start_date=date(2026, 9, 3),
        meeting_time=time(10, 0),
        facilitator_ids=[other_facilitator.id],
    )
    services.add_member(SYSTEM, other_cohort.id, display_name="Quinn")
    first = cohort.sessions[0]
    # Attendance opens on the day of the session: make the first one today, whatever the clock.
    services.update_group_session(SYSTEM, first.id, scheduled_at=utcnow() - timedelta(hours=1))
    return SimpleNamespace(
        program=program.id,
        other_program=other_program.id,
        plan=program.plans[0].id,
        plan2=program.plans[1].id,
        activity=program.plans[0].activities[0].id,
        cohort=cohort.id,
        other_cohort=other_cohort.id,
        member=cohort.members[0].id,
        members=[m.id for m in cohort.members],
        session=first.id,
        user=facilitator.id,
        admin=admin.id,
    )


@pytest.fixture
def as_role(world, client, login, request):
    """Return the test client signed in as a role (or not signed in at all)."""

    def _as(role: str):
        if role != "anonymous":
            login(request.getfixturevalue(role))
        return client

    return _as


def snapshot() -> dict[str, list[tuple]]:
    """Every row of every table, straight from the database."""
    return {
        table.name: [
            tuple(row)
            for row in db.session.execute(select(table).order_by(*table.primary_key.columns)).all()
        ]
        for table in db.metadata.sorted_tables
    }


def call(client, method: str, path: str, body=None, **kwargs):
    """Send one API request, authenticated by the client's cookie alone."""
    # The app fixture keeps one app context for the whole test, so `g` outlives a request:
    # drop flask_login's cached user, or a request would run as whoever the previous one did.
    g.pop("_login_user", None)
    return client.open(API + path, method=method, json=body, **kwargs)


def error_of(response) -> dict:
    assert response.is_json, response.get_data(as_text=True)
    return response.get_json()["error"]


# --- who may call what -------------------------------------------------------------------------


def _roles(anonymous, admin, coordinator, other_coordinator, facilitator, other_facilitator):
    return dict(
        zip(
            ROLES,
            (anonymous, admin, coordinator, other_coordinator, facilitator, other_facilitator),
            strict=True,
        )
    )


def signed_in(ok):
    return _roles(401, ok, ok, ok, ok, ok)


def admins(ok):
    return _roles(401, ok, 403, 403, 403, 403)


def see_program(ok):
    # A program you may not see answers 404: its existence does not leak.
    return _roles(401, ok, ok, 404, ok, ok)


def change_program(ok):
    return _roles(401, ok, 403, 404, 403, 403)


def view_cohort(ok):
    return _roles(401, ok, ok, 404, ok, 404)


def manage_cohort(ok):
    return _roles(401, ok, ok, 404, 403, 404)


def roster(ok):
    # Coordinators see cohorts in aggregate only: names and marks are refused, not hidden.
    return _roles(401, ok, 403, 404, ok, 404)


NEW_COHORT = {
    "program_id": "{program}",
    "name": "Thursday evenings",
    "start_date": "2027-01-07",
    "meeting_time": "18:00",
    "timezone": "Europe/Madrid",
}

INSTRUMENT = {
    "key": "our-scale",
    "name": "Our scale",
    "items": [{"key": "one", "label": "One"}],
    "response_format": {"type": "likert", "min": 1, "max": 3},
    "scoring": {"type": "sum", "higher_is_better": True},
    "licence": "Ours",
}

ENDPOINTS = [
    (
        "POST",
        "/session",
        {"email": "facilitator@example.org", "password": PASSWORD},
        _roles(200, 200, 200, 200, 200, 200),
    ),
    ("DELETE", "/session", None, signed_in(204)),
    ("GET", "/me", None, signed_in(200)),
    ("GET", "/users", None, admins(200)),
    (
        "POST",
        "/users",
        {
            "email": "new@example.org",
            "display_name": "Nia New",
            "password": PASSWORD,
            "role": "facilitator",
        },
        admins(201),
    ),
    ("GET", "/users/{user}", None, admins(200)),
    ("PATCH", "/users/{user}", {"display_name": "Fran F."}, admins(200)),
    ("GET", "/programs", None, signed_in(200)),
    ("POST", "/programs", {"name": "Small Steps", "min_group_size": 5}, admins(201)),
    ("GET", "/programs/{program}", None, see_program(200)),
    ("PATCH", "/programs/{program}", {"description": "Eight weeks."}, change_program(200)),
    ("GET", "/programs/{program}/plans", None, see_program(200)),
    ("GET", "/programs/{program}/instruments", None, see_program(200)),
    ("POST", "/programs/{program}/instruments", INSTRUMENT, change_program(201)),
    ("POST", "/programs/{program}/plans", {"title": "A song that mattered"}, change_program(201)),
    ("GET", "/plans/{plan}", None, see_program(200)),
    ("PATCH", "/plans/{plan}", {"goal": "Feel safe enough to stay"}, change_program(200)),
    (
        "POST",
        "/plans/{plan}/activities",
        {"kind": "prompt", "title": "Textures"},
        change_program(201),
    ),
    ("PATCH", "/activities/{activity}", {"intensity": 2}, change_program(200)),
    ("DELETE", "/activities/{activity}", None, change_program(204)),
    ("GET", "/cohorts", None, signed_in(200)),
    ("POST", "/cohorts", NEW_COHORT, _roles(401, 201, 201, 404, 403, 403)),
    ("GET", "/cohorts/{cohort}", None, view_cohort(200)),
    ("PATCH", "/cohorts/{cohort}", {"name": "Tuesday evenings (autumn)"}, manage_cohort(200)),
    ("GET", "/cohorts/{cohort}/members", None, roster(200)),
    ("POST", "/cohorts/{cohort}/members", {"display_name": "Morgan"}, roster(201)),
    ("GET", "/members/{member}", None, roster(200)),
    ("PATCH", "/members/{member}", {"status": "left"}, roster(200)),
    ("DELETE", "/members/{member}", None, roster(204)),
    ("GET", "/cohorts/{cohort}/sessions", None, view_cohort(200)),
    ("GET", "/sessions/{session}", None, view_cohort(200)),
    ("PATCH", "/sessions/{session}", {"plan_id": "{plan2}"}, roster(200)),
    ("GET", "/sessions/{session}/attendance", None, roster(200)),
    ("PUT", "/sessions/{session}/attendance", {"marks": {"{member}": "present"}}, roster(200)),
]


def fill(template, world):
    """Put the world's ids into a path or a body ("{cohort}" -> 3; "{member}" keys stay text)."""
    ids = vars(world)
    if isinstance(template, str):
        text = template.format(**ids)
        return int(text) if template.startswith("{") and text.isdigit() else text
    if isinstance(template, dict):
        return {str(fill(k, world)): fill(v, world) for k, v in template.items()}
    if isinstance(template, list):
        return [fill(item, world) for item in template]
    return template


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("method", "path", "body", "expected"),
    ENDPOINTS,
    ids=[f"{method} {path}" for method, path, _, _ in ENDPOINTS],
)
def test_who_may_call_what(world, as_role, role, method, path, body, expected):
    client = as_role(role)
    before = snapshot()
    response = call(client, method, fill(path, world), fill(body, world))
    assert response.status_code == expected[role], response.get_data(as_text=True)
    if response.status_code >= 400:
        assert {"code", "message"} <= set(error_of(response))
        assert snapshot() == before  # a refused request changes nothing


def test_table_covers_every_api_route(app):
    routes = {
        (method, _shape(rule.rule.removeprefix(API)))
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(API + "/")
        # The live session's endpoints are tested with a live session in tests/facilitation.
        and rule.endpoint.split(".")[0] not in ("api_join", "api_live", "api_outcomes")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routes == {(method, _shape(path)) for method, path, _, _ in ENDPOINTS}


def _shape(path: str) -> str:
    """/cohorts/<int:cohort_id>/members and /cohorts/{cohort}/members are the same route."""
    return "/".join("*" if part[:1] in "<{" and part else part for part in path.split("/"))


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [(m, p, b) for m, p, b, _ in ENDPOINTS if "{" in p],
    ids=[f"{m} {p}" for m, p, _, _ in ENDPOINTS if "{" in p],
)
def test_missing_resources_answer_404(world, as_role, method, path, body):
    client = as_role("admin")
    missing = SimpleNamespace(**{k: 999_999 for k in vars(world)})
    response = call(client, method, fill(path, missing), fill(body, world))
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_creating_a_cohort_in_a_missing_program_answers_404(world, as_role):
    body = fill(NEW_COHORT, world) | {"program_id": 999_999}
    response = call(as_role("admin"), "POST", "/cohorts", body)
    assert response.status_code == 404


# --- signing in --------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES[1:])
def test_sign_in_sign_out(world, client, request, role):
    user = request.getfixturevalue(role)
    response = call(client, "POST", "/session", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 200
    assert response.get_json()["user"]["role"] == user.role.value
    assert response.get_json()["csrf_token"]
    assert "password" not in response.get_json()["user"]
    assert call(client, "GET", "/me").get_json()["id"] == user.id
    assert call(client, "DELETE", "/session").status_code == 204
    assert call(client, "GET", "/me").status_code == 401


def test_sign_in_refuses_a_wrong_password_without_saying_which(world, client):
    response = call(client, "POST", "/session", {"email": "admin@example.org", "password": "no"})
    assert response.status_code == 401
    unknown = call(client, "POST", "/session", {"email": "nobody@example.org", "password": "no"})
    assert error_of(unknown) == error_of(response)


def test_sign_in_refuses_a_deactivated_account(world, client):
    services.update_user(SYSTEM, world.user, active=False)
    body = {"email": "facilitator@example.org", "password": PASSWORD}
    assert call(client, "POST", "/session", body).status_code == 401


def test_deactivating_an_account_ends_its_api_session(world, client, app):
    staff = app.test_client()
    call(staff, "POST", "/session", {"email": "facilitator@example.org", "password": PASSWORD})
    assert call(staff, "GET", "/me").status_code == 200
    call(client, "POST", "/session", {"email": "admin@example.org", "password": PASSWORD})
    assert call(client, "PATCH", f"/users/{world.user}", {"active": False}).status_code == 200
    assert call(staff, "GET", "/me").status_code == 401


# --- what the answers hold ---------------------------------------------------------------------


def _bodies_a_coordinator_gets(world, client) -> list[str]:
    gets = [p for m, p, _, expected in ENDPOINTS if m == "GET" and expected["coordinator"] == 200]
    bodies = [call(client, "GET", fill(p, world)).get_data(as_text=True) for p in gets]
    patched = call(client, "PATCH", f"/cohorts/{world.cohort}", {"status": "active"})
    return [*bodies, patched.get_data(as_text=True)]


def test_coordinator_responses_never_contain_a_member_display_name(world, as_role):
    bodies = _bodies_a_coordinator_gets(world, as_role("coordinator"))
    assert len(bodies) >= 8
    for body in bodies:
        for name in MEMBER_NAMES:
            assert f'"{name}"' not in body


def test_coordinator_sees_a_cohort_in_aggregate(world, as_role):
    body = call(as_role("coordinator"), "GET", f"/cohorts/{world.cohort}").get_json()
    assert body["member_count"] == 6
    assert "members" not in body
    assert not db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "roster.view")
    )  # nothing to audit: no names were shown


def test_facilitator_sees_the_roster_on_their_cohort_and_it_is_audited(world, as_role):
    body = call(as_role("facilitator"), "GET", f"/cohorts/{world.cohort}").get_json()
    assert sorted(m["display_name"] for m in body["members"]) == sorted(MEMBER_NAMES)
    assert body["member_count"] == 6
    audit = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "roster.view"))
    assert audit is not None and audit.target_id == world.cohort


def test_datetimes_carry_a_utc_offset(world, as_role):
    body = call(as_role("facilitator"), "GET", f"/sessions/{world.session}").get_json()
    assert body["scheduled_at"].endswith("+00:00")
    assert datetime.fromisoformat(body["scheduled_at"]).utcoffset() == timedelta(0)


def test_plan_comes_with_its_activities_in_order(world, as_role):
    body = call(as_role("facilitator"), "GET", f"/plans/{world.plan}").get_json()
    assert [a["position"] for a in body["activities"]] == [1, 2, 3]
    assert body["activities"][1] | {"id": 0} == {
        "id": 0,
        "plan_id": world.plan,
        "position": 2,
        "kind": "prompt",
        "title": "Mindful tasting",
        "text": "Taste slowly.",
        "preview": "",
        "intensity": 1,
        "timer_seconds": 180,
        "config": {},
    }


def test_attendance_is_saved_and_shown_on_the_sheet(world, as_role):
    client = as_role("facilitator")
    marks = {str(world.members[0]): "present", str(world.members[1]): "late"}
    response = call(client, "PUT", f"/sessions/{world.session}/attendance", {"marks": marks})
    assert response.status_code == 200
    assert {r["member_id"]: r["status"] for r in response.get_json()} == {
        world.members[0]: "present",
        world.members[1]: "late",
    }
    sheet = call(client, "GET", f"/sessions/{world.session}/attendance").get_json()
    assert sheet["session"]["id"] == world.session
    by_member = {row["member_id"]: row["status"] for row in sheet["rows"]}
    assert by_member[world.members[0]] == "present"
    assert by_member[world.members[2]] is None
    assert len(sheet["rows"]) == 6


def test_moving_a_session_keeps_the_instant(world, as_role):
    response = call(
        as_role("facilitator"),
        "PATCH",
        f"/sessions/{world.session + 1}",
        {"scheduled_at": "2026-09-09T19:30:00+01:00"},
    )
    assert response.status_code == 200
    assert response.get_json()["scheduled_at"] == "2026-09-09T18:30:00+00:00"


# --- validation: the field is named and nothing changes ----------------------------------------

INVALID = [
    ("POST", "/programs", {"name": "x" * 121}, "name"),
    ("POST", "/programs", {"name": "Tiny", "min_group_size": 2}, "min_group_size"),
    ("POST", "/programs", {"name": "Tiny", "cycle_length": 0}, "cycle_length"),
    ("POST", "/programs", {"name": "Tiny", "cycle_length": "8"}, "cycle_length"),
    ("POST", "/programs", {"name": "Tiny", "colour": "red"}, "colour"),
    ("POST", "/programs", {"description": "no name"}, "name"),
    ("POST", "/programs", {"name": "Tiny", "coordinator_ids": [999]}, "coordinator_ids"),
    ("PATCH", "/programs/{program}", {"name": "another PROGRAM"}, "name"),
    ("PATCH", "/programs/{program}", {"retention_days": 0}, "retention_days"),
    ("PATCH", "/programs/{program}", {"language": "fr"}, "language"),
    (
        "POST",
        "/users",
        {"email": "not-an-email", "display_name": "X", "password": PASSWORD, "role": "admin"},
        "email",
    ),
    (
        "POST",
        "/users",
        {"email": "x@example.org", "display_name": "X", "password": "short", "role": "admin"},
        "password",
    ),
    (
        "POST",
        "/users",
        {"email": "x@example.org", "display_name": "X", "password": PASSWORD, "role": "owner"},
        "role",
    ),
    (
        "POST",
        "/users",
        {"email": "ADMIN@example.org", "display_name": "X", "password": PASSWORD, "role": "admin"},
        "email",
    ),
    ("PATCH", "/users/{admin}", {"display_name": "Renamed", "active": False}, "active"),
    ("PATCH", "/users/{user}", {"display_name": None}, "display_name"),
    ("POST", "/programs/{program}/plans", {"title": ""}, "title"),
    ("POST", "/programs/{program}/plans", {"title": "   "}, "title"),
    ("PATCH", "/plans/{plan}", {"title": "Fine", "goal": "x" * 4001}, "goal"),
    ("POST", "/plans/{plan}/activities", {"kind": "karaoke", "title": "Sing"}, "kind"),
    (
        "POST",
        "/plans/{plan}/activities",
        {"kind": "prompt", "title": "Sing", "intensity": 6},
        "intensity",
    ),
    ("PATCH", "/activities/{activity}", {"timer_seconds": 5}, "timer_seconds"),
    ("PATCH", "/activities/{activity}", {"config": []}, "config"),
    ("POST", "/cohorts", {**NEW_COHORT, "timezone": "Mars/Olympus"}, "timezone"),
    ("POST", "/cohorts", {**NEW_COHORT, "start_date": "2027-02-30"}, "start_date"),
    ("POST", "/cohorts", {**NEW_COHORT, "name": "tuesday EVENINGS"}, "name"),
    ("POST", "/cohorts", {**NEW_COHORT, "facilitator_ids": ["{admin}"]}, "facilitator_ids"),
    ("PATCH", "/cohorts/{cohort}", {"status": "paused"}, "status"),
    ("PATCH", "/cohorts/{cohort}", {"name": "Thursday Mornings"}, "name"),
    ("POST", "/cohorts/{cohort}/members", {"display_name": " robin "}, "display_name"),
    ("POST", "/cohorts/{cohort}/members", {"display_name": "x" * 41}, "display_name"),
    ("PATCH", "/members/{member}", {"display_name": "SAM"}, "display_name"),
    ("PATCH", "/sessions/{session}", {"scheduled_at": "2026-09-09T19:30:00"}, "scheduled_at"),
    ("PATCH", "/sessions/{session}", {"plan_id": 999_999}, "plan_id"),
    ("PUT", "/sessions/{session}/attendance", {"marks": {}}, "marks"),
    ("PUT", "/sessions/{session}/attendance", {"marks": {"{member}": "asleep"}}, "marks"),
    (
        "PUT",
        "/sessions/{session}/attendance",
        {"marks": {"{member}": "present", "999999": "present"}},
        "marks.999999",
    ),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    INVALID,
    ids=[f"{m} {p} {f}" for m, p, _, f in INVALID],
)
def test_invalid_input_names_the_field_and_changes_nothing(
    world, as_role, method, path, body, field
):
    client = as_role("admin")
    before = snapshot()
    response = call(client, method, fill(path, world), fill(body, world))
    assert response.status_code == 422, response.get_data(as_text=True)
    error = error_of(response)
    assert error["code"] == "invalid"
    assert field in error["fields"], error
    assert snapshot() == before


def test_a_refused_change_is_rolled_back_even_after_the_service_touched_the_object(world, as_role):
    # update_user renames before it finds the self-deactivation: the rename must not stay.
    response = call(
        as_role("admin"), "PATCH", f"/users/{world.admin}", {"display_name": "X", "active": False}
    )
    assert response.status_code == 422
    db.session.expire_all()
    assert db.session.get(User, world.admin).display_name == "Ada Admin"


def test_attendance_is_all_or_nothing(world, as_role):
    marks = {str(world.members[0]): "present", "999999": "present"}
    response = call(
        as_role("facilitator"), "PUT", f"/sessions/{world.session}/attendance", {"marks": marks}
    )
    assert response.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(Attendance)) == 0


def test_bad_json_is_400(world, as_role):
    response = as_role("admin").post(
        f"{API}/programs", data="{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert error_of(response)["code"] == "bad_request"


def test_a_body_that_is_not_an_object_is_422(world, as_role):
    response = call(as_role("admin"), "POST", "/programs", ["Small Steps"])
    assert response.status_code == 422
    assert "_schema" in error_of(response)["fields"]


# --- HTTP errors: JSON under /api, pages elsewhere ---------------------------------------------


def test_unknown_api_route_is_json_404(client):
    response = client.get(f"{API}/nowhere")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_wrong_method_is_json_405_with_allow(world, as_role):
    response = as_role("admin").delete(f"{API}/programs")
    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"
    assert "POST" in response.headers["Allow"]


def test_pages_keep_their_html_errors(client, facilitator, login):
    assert client.get("/nowhere").mimetype == "text/html"
    login(facilitator)
    response = client.post("/")
    assert response.status_code == 405
    assert response.mimetype == "text/html"


def test_a_race_on_a_unique_name_is_409(world, as_role, monkeypatch):
    def clash(*args, **kwargs):
        raise IntegrityError("UPDATE program", {}, Exception("unique"))

    monkeypatch.setattr(services, "update_program", clash)
    response = call(as_role("admin"), "PATCH", f"/programs/{world.program}", {"name": "Dup"})
    assert response.status_code == 409
    assert error_of(response)["code"] == "conflict"


class TestRateLimit:
    @pytest.fixture
    def app_config(self):
        return {"RATELIMIT_ENABLED": True}

    def test_sign_in_is_rate_limited_per_email(self, world, client):
        body = {"email": "admin@example.org", "password": "wrong password"}
        statuses = [call(client, "POST", "/session", body).status_code for _ in range(6)]
        assert statuses == [401] * 5 + [429]
        error = error_of(call(client, "POST", "/session", body))
        assert error["code"] == "too_many_requests"


# --- pagination --------------------------------------------------------------------------------


def test_programs_page_in_a_stable_order(world, as_role):
    for n in range(11):
        services.create_program(SYSTEM, name=f"Program {n:02}")
    client = as_role("admin")
    expected = sorted(
        [f"Program {n:02}" for n in range(11)] + ["Another program", "Reconnecting with Warmth"]
    )
    seen = []
    for page in (1, 2, 3):
        response = call(client, "GET", f"/programs?page={page}&page_size=5")
        assert response.status_code == 200
        meta = json.loads(response.headers["X-Pagination"])
        assert meta["total"] == 13 and meta["total_pages"] == 3 and meta["page"] == page
        seen += [p["name"] for p in response.get_json()]
    assert seen == expected


def test_users_and_cohorts_paginate(world, as_role):
    client = as_role("admin")
    response = call(client, "GET", "/users?page=2&page_size=2")
    assert len(response.get_json()) == 2
    assert json.loads(response.headers["X-Pagination"])["total"] == 5
    response = call(client, "GET", "/cohorts?page_size=1")
    assert json.loads(response.headers["X-Pagination"])["total"] == 2
    assert response.get_json()[0]["id"] == world.other_cohort  # latest start first


def test_cohorts_filter_by_program(world, as_role):
    client = as_role("admin")
    assert call(client, "GET", f"/cohorts?program_id={world.program}").get_json()
    assert call(client, "GET", f"/cohorts?program_id={world.other_program}").get_json() == []


def test_a_coordinator_lists_only_their_programs_cohorts(world, as_role):
    names = [c["name"] for c in call(as_role("other_coordinator"), "GET", "/cohorts").get_json()]
    assert names == []
    programs = call(as_role("other_coordinator"), "GET", "/programs").get_json()
    assert [p["name"] for p in programs] == ["Another program"]


@pytest.mark.parametrize("query", ["page=0", "page_size=101", "page=x", "program_id=0"])
def test_bad_paging_is_422(world, as_role, query):
    response = call(as_role("admin"), "GET", f"/cohorts?{query}")
    assert response.status_code == 422
    assert error_of(response)["fields"]


# --- CSRF --------------------------------------------------------------------------------------


class TestCsrf:
    @pytest.fixture
    def app_config(self):
        return {"WTF_CSRF_ENABLED": True}

    @pytest.fixture
    def token(self, world, client):
        body = {"email": "admin@example.org", "password": PASSWORD}
        response = call(client, "POST", "/session", body)  # exempt: this is where tokens come from
        assert response.status_code == 200
        return response.get_json()["csrf_token"]

    def test_patch_without_the_header_is_refused(self, world, client, token):
        before = snapshot()
        response = call(client, "PATCH", f"/programs/{world.program}", {"description": "New"})
        assert response.status_code == 400
        assert error_of(response)["code"] == "csrf"
        assert snapshot() == before

    def test_patch_with_the_header_succeeds(self, world, client, token):
        response = call(
            client,
            "PATCH",
            f"/programs/{world.program}",
            {"description": "New"},
            headers={"X-CSRFToken": token},
        )
        assert response.status_code == 200
        db.session.expire_all()
        assert db.session.get(Program, world.program).description == "New"

    def test_signing_out_needs_the_header_too(self, world, client, token):
        assert call(client, "DELETE", "/session").status_code == 400
        assert call(client, "GET", "/me").status_code == 200

    def test_reading_needs_no_header(self, world, client, token):
        assert call(client, "GET", f"/plans/{world.plan}").status_code == 200


# --- the OpenAPI document ----------------------------------------------------------------------


@pytest.fixture
def openapi(client) -> dict:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def test_openapi_document_is_valid(openapi):
    validate_openapi(openapi)
    assert openapi["openapi"].startswith("3.")


def test_openapi_documents_every_api_route(app, openapi):
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(API + "/"):
            continue
        path = rule.rule.replace("<int:", "{").replace(">", "}")
        assert path in openapi["paths"], path
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert method.lower() in openapi["paths"][path], f"{method} {path}"


def test_openapi_errors_have_our_shape(openapi):
    error = openapi["components"]["schemas"]["Error"]
    assert set(error["properties"]) == {"error"}
    body = openapi["components"]["schemas"]["ErrorBody"]["properties"]
    assert {"code", "message", "fields"} <= set(body)


def test_openapi_coordinator_schema_has_no_names(openapi):
    schemas = openapi["components"]["schemas"]
    assert "members" not in schemas["Cohort"]["properties"]
    assert "member_count" in schemas["Cohort"]["properties"]
    assert "members" in schemas["CohortWithRoster"]["properties"]
