"""Every HTTP route and every socket command against every role: allowed only where intended.

The tables below are checked against the app itself (`app.url_map` and realtime's COMMANDS), so a
new route or command without a row fails here before it ships unreviewed.

Roles: an outsider (no cookie, no token), a phone of another cohort's live session, a participant
of this session, the facilitator of another cohort of the same program, the program's coordinator,
an admin, and the facilitator of this cohort. A refusal is a redirect to /login (pages), 401, 403
or 404 (a 404 where the thing's existence would itself leak); over a socket, the connection is
refused or the ack is {"ok": false, "error": {...}}.
"""

from __future__ import annotations

import json
import re

import pytest

from facilitation.anonymity import new_secret
from groups.extensions import db
from realtime.extensions import socketio
from realtime.handlers import COMMANDS
from tests.conftest import PASSWORD
from tests.trust.conftest import (
    ROLES,
    restore_rows,
    role_client,
    snapshot_rows,
)

LOGIN = "login"  # a page's refusal for someone not signed in: 302 to /login?next=...
ANON = ("outsider", "phone_other", "participant")  # no staff cookie: phones are anonymous


def pages(admin, coordinator, facilitator, other_facilitator):
    """Staff pages: people without a staff sign-in are sent to the login page."""
    return dict.fromkeys(ANON, LOGIN) | {
        "admin": admin,
        "coordinator": coordinator,
        "facilitator": facilitator,
        "other_facilitator": other_facilitator,
    }


def api(admin, coordinator, facilitator, other_facilitator):
    """Staff API: people without a staff sign-in get 401."""
    return dict.fromkeys(ANON, 401) | {
        "admin": admin,
        "coordinator": coordinator,
        "facilitator": facilitator,
        "other_facilitator": other_facilitator,
    }


def public(status):
    return dict.fromkeys(ROLES, status)


# Who may do what, by the access rules of groups/access.py. The other facilitator's cohort is in
# the same program, so they see the program (not its settings' forms) but never our cohort.
def everyone(ok, kind=pages):
    return kind(ok, ok, ok, ok)


def admins(ok, kind=pages):
    return kind(ok, 403, 403, 403)


def manages_program(ok, kind=pages):
    return kind(ok, 403, 403, 403)


def starts_cohort(ok, kind=pages):
    return kind(ok, ok, 403, 403)


def sees_cohort(ok, kind=pages):
    return kind(ok, ok, ok, 404)


def manages_cohort(ok, kind=pages):
    return kind(ok, ok, 403, 404)


def runs_cohort(ok, kind=pages):
    # Names, attendance and the live room: the cohort's facilitators (and admins), never its
    # coordinator, who sees cohorts in aggregate only.
    return kind(ok, 403, ok, 404)


def compares_cohorts(ok, kind=pages):
    return kind(ok, ok, 403, 403)


PROGRAM_FORM = {
    "name": "Second program",
    "cycle_length": "10",
    "min_group_size": "5",
    "retention_days": "90",
    "language": "en",
}
COHORT_FORM = {
    "name": "Friday mornings",
    "start_date": "2027-01-07",
    "meeting_time": "10:00",
    "timezone": "Europe/Madrid",
    "session_count": "8",
    "duration_minutes": "90",
    "language": "es",
}
STAFF_FORM = {
    "email": "new@example.org",
    "display_name": "Nia New",
    "role": "facilitator",
    "password": "a long enough password",
}
INSTRUMENT = {
    "key": "room-warmth",
    "name": "Warmth in the room",
    "items": [{"key": "welcome", "label": "I felt welcome"}, {"key": "safe", "label": "Safe"}],
    "response_format": {
        "type": "likert",
        "min": 1,
        "max": 4,
        "anchors": ["No", "Some", "More", "Yes"],
    },
    "scoring": {"type": "sum", "multiplier": 1, "higher_is_better": True, "min": 2, "max": 8},
    "norms": None,
    "licence": "Written by our program; free to use",
    "citation": "",
}
NEW_COHORT = {
    "program_id": "{program}",
    "name": "Friday evenings",
    "start_date": "2027-01-07",
    "meeting_time": "18:00",
    "timezone": "Europe/Madrid",
}

# (method, rule in app.url_map, path, body, expected outcome per role)
ROUTES = [
    # --- pages open to anyone: the phone's and the TV's, sign-in, health, static files --------
    ("GET", "/healthz", "/healthz", None, public(200)),
    ("GET", "/static/<path:filename>", "/static/css/hearth.css", None, public(200)),
    ("GET", "/join", "/join", None, public(200)),
    ("GET", "/j/<code>", "/j/{join_code}", None, public(200)),
    ("GET", "/j/<code>/qr.svg", "/j/{join_code}/qr.svg", None, public(200)),
    ("GET", "/phone", "/phone", None, public(200)),
    ("GET", "/screen", "/screen", None, public(200)),
    ("GET", "/screen/show", "/screen/show", None, public(200)),
    ("GET", "/api/openapi.json", "/api/openapi.json", None, public(200)),
    # A signed-in person is sent home from the login page.
    ("GET", "/login", "/login", None, everyone(302) | dict.fromkeys(ANON, 200)),
    (
        "POST",
        "/login",
        "/login",
        {"email": "admin@example.org", "password": "not the password"},
        everyone(302) | dict.fromkeys(ANON, 400),
    ),
    # --- staff pages --------------------------------------------------------------------------
    ("GET", "/", "/", None, everyone(200)),
    ("GET", "/programs", "/programs", None, everyone(200)),
    ("GET", "/programs/new", "/programs/new", None, admins(200)),
    ("POST", "/programs/new", "/programs/new", PROGRAM_FORM, admins(302)),
    ("GET", "/programs/<int:program_id>", "/programs/{program}", None, everyone(200)),
    (
        "GET",
        "/programs/<int:program_id>/edit",
        "/programs/{program}/edit",
        None,
        manages_program(200),
    ),
    (
        "POST",
        "/programs/<int:program_id>/edit",
        "/programs/{program}/edit",
        PROGRAM_FORM | {"name": "Renamed"},
        manages_program(302),
    ),
    (
        "GET",
        "/programs/<int:program_id>/plans/new",
        "/programs/{program}/plans/new",
        None,
        manages_program(200),
    ),
    (
        "POST",
        "/programs/<int:program_id>/plans/new",
        "/programs/{program}/plans/new",
        {"title": "Songs"},
        manages_program(302),
    ),
    (
        "GET",
        "/programs/<int:program_id>/instruments/new",
        "/programs/{program}/instruments/new",
        None,
        manages_program(200),
    ),
    (
        "POST",
        "/programs/<int:program_id>/instruments/new",
        "/programs/{program}/instruments/new",
        {"document": json.dumps(INSTRUMENT)},
        manages_program(302),
    ),
    ("GET", "/plans/<int:plan_id>/edit", "/plans/{plan}/edit", None, manages_program(200)),
    (
        "POST",
        "/plans/<int:plan_id>/edit",
        "/plans/{plan}/edit",
        {"title": "Landing"},
        manages_program(302),
    ),
    (
        "GET",
        "/plans/<int:plan_id>/activities/new",
        "/plans/{plan}/activities/new",
        None,
        manages_program(200),
    ),
    (
        "POST",
        "/plans/<int:plan_id>/activities/new",
        "/plans/{plan}/activities/new",
        {"kind": "appreciation", "title": "Round", "intensity": "2"},
        manages_program(302),
    ),
    (
        "GET",
        "/activities/<int:activity_id>/edit",
        "/activities/{activity}/edit",
        None,
        manages_program(200),
    ),
    (
        "POST",
        "/activities/<int:activity_id>/edit",
        "/activities/{activity}/edit",
        {"kind": "prompt", "title": "Tasting", "intensity": "2"},
        manages_program(302),
    ),
    (
        "GET",
        "/activities/<int:activity_id>/remove",
        "/activities/{activity}/remove",
        None,
        manages_program(200),
    ),
    (
        "POST",
        "/activities/<int:activity_id>/remove",
        "/activities/{activity}/remove",
        {},
        manages_program(302),
    ),
    (
        "GET",
        "/programs/<int:program_id>/outcomes",
        "/programs/{program}/outcomes",
        None,
        compares_cohorts(200),
    ),
    (
        "GET",
        "/programs/<int:program_id>/outcomes.csv",
        "/programs/{program}/outcomes.csv",
        None,
        compares_cohorts(200),
    ),
    ("GET", "/cohorts", "/cohorts", None, everyone(200)),
    (
        "GET",
        "/programs/<int:program_id>/cohorts/new",
        "/programs/{program}/cohorts/new",
        None,
        starts_cohort(200),
    ),
    (
        "POST",
        "/programs/<int:program_id>/cohorts/new",
        "/programs/{program}/cohorts/new",
        COHORT_FORM,
        starts_cohort(302),
    ),
    ("GET", "/cohorts/<int:cohort_id>", "/cohorts/{cohort}", None, sees_cohort(200)),
    ("GET", "/cohorts/<int:cohort_id>/edit", "/cohorts/{cohort}/edit", None, manages_cohort(200)),
    (
        "POST",
        "/cohorts/<int:cohort_id>/edit",
        "/cohorts/{cohort}/edit",
        {"name": "Renamed", "status": "active", "language": "en"},
        manages_cohort(302),
    ),
    (
        "GET",
        "/cohorts/<int:cohort_id>/members/new",
        "/cohorts/{cohort}/members/new",
        None,
        runs_cohort(200),
    ),
    (
        "POST",
        "/cohorts/<int:cohort_id>/members/new",
        "/cohorts/{cohort}/members/new",
        {"display_name": "Noor"},
        runs_cohort(302),
    ),
    (
        "GET",
        "/cohorts/<int:cohort_id>/outcomes",
        "/cohorts/{cohort}/outcomes",
        None,
        runs_cohort(200),
    ),
    (
        "GET",
        "/cohorts/<int:cohort_id>/outcomes.csv",
        "/cohorts/{cohort}/outcomes.csv",
        None,
        runs_cohort(200),
    ),
    (
        "GET",
        "/cohorts/<int:cohort_id>/attendance.csv",
        "/cohorts/{cohort}/attendance.csv",
        None,
        runs_cohort(200),
    ),
    ("GET", "/members/<int:member_id>/edit", "/members/{member}/edit", None, runs_cohort(200)),
    (
        "POST",
        "/members/<int:member_id>/edit",
        "/members/{member}/edit",
        {"display_name": "Sammy", "status": "active"},
        runs_cohort(302),
    ),
    (
        "POST",
        "/members/<int:member_id>/status",
        "/members/{member}/status",
        {"status": "left"},
        runs_cohort(302),
    ),
    ("GET", "/members/<int:member_id>/delete", "/members/{member}/delete", None, runs_cohort(200)),
    ("POST", "/members/<int:member_id>/delete", "/members/{member}/delete", {}, runs_cohort(302)),
    ("GET", "/sessions/<int:session_id>", "/sessions/{session}", None, sees_cohort(200)),
    (
        "POST",
        "/sessions/<int:session_id>/plan",
        "/sessions/{planned}/plan",
        {"plan_id": "{plan2}"},
        runs_cohort(302),
    ),
    (
        "GET",
        "/sessions/<int:session_id>/attendance",
        "/sessions/{session}/attendance",
        None,
        runs_cohort(200),
    ),
    (
        "POST",
        "/sessions/<int:session_id>/attendance",
        "/sessions/{session}/attendance",
        {"member_{member}": "present"},
        runs_cohort(302),
    ),
    # Allowed, and then refused by the rule "one live session per cohort": 409, past the gate.
    ("POST", "/sessions/<int:session_id>/start", "/sessions/{planned}/start", {}, runs_cohort(409)),
    ("GET", "/live/<int:session_id>/console", "/live/{session}/console", None, runs_cohort(200)),
    ("GET", "/live/<int:session_id>/screen", "/live/{session}/screen", None, runs_cohort(200)),
    ("GET", "/sessions/<int:session_id>/end", "/sessions/{session}/end", None, runs_cohort(200)),
    ("POST", "/sessions/<int:session_id>/end", "/sessions/{session}/end", {}, runs_cohort(302)),
    (
        "GET",
        "/sessions/<int:session_id>/summary",
        "/sessions/{ended}/summary",
        None,
        runs_cohort(200),
    ),
    (
        "GET",
        "/sessions/<int:session_id>/summary.csv",
        "/sessions/{ended}/summary.csv",
        None,
        runs_cohort(200),
    ),
    ("GET", "/staff", "/staff", None, admins(200)),
    ("GET", "/staff/new", "/staff/new", None, admins(200)),
    ("POST", "/staff/new", "/staff/new", STAFF_FORM, admins(302)),
    ("GET", "/staff/<int:user_id>/edit", "/staff/{user}/edit", None, admins(200)),
    (
        "POST",
        "/staff/<int:user_id>/edit",
        "/staff/{user}/edit",
        {"display_name": "Fran F.", "role": "facilitator", "active": "y"},
        admins(302),
    ),
    ("GET", "/admin/audit", "/admin/audit", None, admins(200)),
    # --- the phones' and TVs' API: anyone may try, rate-limited per address and per room ----------
    ("POST", "/api/v1/join/lookup", "/api/v1/join/lookup", {"code": "{join_code}"}, public(200)),
    (
        "POST",
        "/api/v1/join",
        "/api/v1/join",
        {
            "code": "{join_code}",
            "device_token": "{new_token}",
            "member_id": "{member}",
            "consent_version": 1,
        },
        public(200),
    ),
    ("POST", "/api/v1/screens", "/api/v1/screens", {"code": "{screen_code}"}, public(200)),
    # Wrong credentials answer 401 to everyone; a right one would change who the client is.
    (
        "POST",
        "/api/v1/session",
        "/api/v1/session",
        {"email": "admin@example.org", "password": "not the password"},
        public(401),
    ),
    # --- the staff API ------------------------------------------------------------------------
    ("GET", "/api/v1/me", "/api/v1/me", None, everyone(200, api)),
    ("GET", "/api/v1/users", "/api/v1/users", None, admins(200, api)),
    (
        "POST",
        "/api/v1/users",
        "/api/v1/users",
        {**STAFF_FORM, "password": PASSWORD},
        admins(201, api),
    ),
    ("GET", "/api/v1/users/<int:user_id>", "/api/v1/users/{user}", None, admins(200, api)),
    (
        "PATCH",
        "/api/v1/users/<int:user_id>",
        "/api/v1/users/{user}",
        {"display_name": "Fran F."},
        admins(200, api),
    ),
    ("GET", "/api/v1/programs", "/api/v1/programs", None, everyone(200, api)),
    (
        "POST",
        "/api/v1/programs",
        "/api/v1/programs",
        {"name": "Small Steps", "min_group_size": 5},
        admins(201, api),
    ),
    (
        "GET",
        "/api/v1/programs/<int:program_id>",
        "/api/v1/programs/{program}",
        None,
        everyone(200, api),
    ),
    (
        "PATCH",
        "/api/v1/programs/<int:program_id>",
        "/api/v1/programs/{program}",
        {"description": "Eight weeks."},
        manages_program(200, api),
    ),
    (
        "GET",
        "/api/v1/programs/<int:program_id>/plans",
        "/api/v1/programs/{program}/plans",
        None,
        everyone(200, api),
    ),
    (
        "POST",
        "/api/v1/programs/<int:program_id>/plans",
        "/api/v1/programs/{program}/plans",
        {"title": "A song that mattered"},
        manages_program(201, api),
    ),
    (
        "GET",
        "/api/v1/programs/<int:program_id>/outcomes",
        "/api/v1/programs/{program}/outcomes",
        None,
        compares_cohorts(200, api),
    ),
    (
        "GET",
        "/api/v1/programs/<int:program_id>/instruments",
        "/api/v1/programs/{program}/instruments",
        None,
        everyone(200, api),
    ),
    (
        "POST",
        "/api/v1/programs/<int:program_id>/instruments",
        "/api/v1/programs/{program}/instruments",
        INSTRUMENT,
        manages_program(201, api),
    ),
    ("GET", "/api/v1/plans/<int:plan_id>", "/api/v1/plans/{plan}", None, everyone(200, api)),
    (
        "PATCH",
        "/api/v1/plans/<int:plan_id>",
        "/api/v1/plans/{plan}",
        {"goal": "Feel safe enough to stay"},
        manages_program(200, api),
    ),
    (
        "POST",
        "/api/v1/plans/<int:plan_id>/activities",
        "/api/v1/plans/{plan}/activities",
        {"kind": "prompt", "title": "Textures"},
        manages_program(201, api),
    ),
    (
        "PATCH",
        "/api/v1/activities/<int:activity_id>",
        "/api/v1/activities/{activity}",
        {"intensity": 2},
        manages_program(200, api),
    ),
    (
        "DELETE",
        "/api/v1/activities/<int:activity_id>",
        "/api/v1/activities/{activity}",
        None,
        manages_program(204, api),
    ),
    ("GET", "/api/v1/cohorts", "/api/v1/cohorts", None, everyone(200, api)),
    ("POST", "/api/v1/cohorts", "/api/v1/cohorts", NEW_COHORT, starts_cohort(201, api)),
    (
        "GET",
        "/api/v1/cohorts/<int:cohort_id>",
        "/api/v1/cohorts/{cohort}",
        None,
        sees_cohort(200, api),
    ),
    (
        "PATCH",
        "/api/v1/cohorts/<int:cohort_id>",
        "/api/v1/cohorts/{cohort}",
        {"name": "Tuesday evenings (autumn)"},
        manages_cohort(200, api),
    ),
    (
        "GET",
        "/api/v1/cohorts/<int:cohort_id>/members",
        "/api/v1/cohorts/{cohort}/members",
        None,
        runs_cohort(200, api),
    ),
    (
        "POST",
        "/api/v1/cohorts/<int:cohort_id>/members",
        "/api/v1/cohorts/{cohort}/members",
        {"display_name": "Morgan"},
        runs_cohort(201, api),
    ),
    (
        "GET",
        "/api/v1/cohorts/<int:cohort_id>/sessions",
        "/api/v1/cohorts/{cohort}/sessions",
        None,
        sees_cohort(200, api),
    ),
    (
        "GET",
        "/api/v1/cohorts/<int:cohort_id>/outcomes",
        "/api/v1/cohorts/{cohort}/outcomes",
        None,
        runs_cohort(200, api),
    ),
    (
        "GET",
        "/api/v1/members/<int:member_id>",
        "/api/v1/members/{member}",
        None,
        runs_cohort(200, api),
    ),
    (
        "PATCH",
        "/api/v1/members/<int:member_id>",
        "/api/v1/members/{member}",
        {"status": "left"},
        runs_cohort(200, api),
    ),
    (
        "DELETE",
        "/api/v1/members/<int:member_id>",
        "/api/v1/members/{member}",
        None,
        runs_cohort(204, api),
    ),
    (
        "GET",
        "/api/v1/sessions/<int:session_id>",
        "/api/v1/sessions/{session}",
        None,
        sees_cohort(200, api),
    ),
    (
        "PATCH",
        "/api/v1/sessions/<int:session_id>",
        "/api/v1/sessions/{planned}",
        {"plan_id": "{plan2}"},
        runs_cohort(200, api),
    ),
    (
        "GET",
        "/api/v1/sessions/<int:session_id>/attendance",
        "/api/v1/sessions/{session}/attendance",
        None,
        runs_cohort(200, api),
    ),
    (
        "PUT",
        "/api/v1/sessions/<int:session_id>/attendance",
        "/api/v1/sessions/{session}/attendance",
        {"marks": {"{member}": "present"}},
        runs_cohort(200, api),
    ),
    (
        "POST",
        "/api/v1/sessions/<int:session_id>/start",
        "/api/v1/sessions/{planned}/start",
        None,
        runs_cohort(409, api),
    ),
    (
        "POST",
        "/api/v1/sessions/<int:session_id>/screen-code",
        "/api/v1/sessions/{session}/screen-code",
        None,
        runs_cohort(200, api),
    ),
    (
        "POST",
        "/api/v1/sessions/<int:session_id>/end",
        "/api/v1/sessions/{session}/end",
        None,
        runs_cohort(200, api),
    ),
    (
        "GET",
        "/api/v1/sessions/<int:session_id>/summary",
        "/api/v1/sessions/{ended}/summary",
        None,
        runs_cohort(200, api),
    ),
    # Signing out last: it ends the client's sign-in for whatever would come after.
    ("DELETE", "/api/v1/session", "/api/v1/session", None, everyone(204, api)),
    ("POST", "/logout", "/logout", {}, everyone(302)),
]


def fill(template, values: dict):
    """Put the world's ids into a path or a body ("{member}" as a value becomes an int)."""
    if isinstance(template, str):
        text = re.sub(r"\{(\w+)\}", lambda m: str(values[m.group(1)]), template)
        return int(text) if template.startswith("{") and text.isdigit() else text
    if isinstance(template, dict):
        return {str(fill(k, values)): fill(v, values) for k, v in template.items()}
    return template


def outcome(response):
    """A status, or LOGIN for a redirect to the sign-in page."""
    location = response.headers.get("Location", "")
    if response.status_code == 302 and location.startswith("/login?next="):
        return LOGIN
    return response.status_code


def test_the_table_covers_every_route(app):
    """A route added without a row here fails: someone must say who may use it."""
    routes = {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    table = [(method, rule) for method, rule, *_ in ROUTES]
    assert len(table) == len(set(table)), "a route is in the table twice"
    assert routes - set(table) == set(), "routes without a row in the access table"
    assert set(table) - routes == set(), "rows for routes the app does not have"


def _client(app, world, role):
    if role == "outsider":
        return role_client(app)
    if role in world.phones:
        # A phone's only HTTP identity is its join: no cookie says who it is.
        return world.phones[role].http
    return role_client(app, world.users[role])


def test_every_route_for_every_role(app, world):
    """Each role gets what the table says; one app and one world serve all of them."""
    values = vars(world) | {"new_token": new_secret()}
    rows = snapshot_rows()
    wrong = []
    for role in ROLES:
        client = _client(app, world, role)
        for method, rule, path, body, expected in ROUTES:
            url = fill(path, values)
            if body is None:
                response = client.open(url, method=method)
            elif url.startswith("/api/"):
                response = client.open(url, method=method, json=fill(body, values))
            else:
                response = client.open(url, method=method, data=fill(body, values))
            got = outcome(response)
            if got != expected[role]:
                wrong.append(f"{role}: {method} {url}: {got}, expected {expected[role]}")
            elif got in (401, 403, 404) and url.startswith("/api/"):
                error = response.get_json()["error"]
                if not {"code", "message"} <= set(error):
                    wrong.append(f"{role}: {method} {url}: refusal without code and message")
            response.close()
            if method != "GET":
                restore_rows(rows)  # each row starts from the same world
            if (method, rule) == ("DELETE", "/api/v1/session"):
                client = _client(app, world, role)  # signed out: sign in again for the rest
    assert wrong == [], "\n".join(wrong)


# --- socket commands ------------------------------------------------------------------------------
#
# Each role connects the way it can: phones with their device token, staff with their login (a
# console), the TV with its screen token. Someone who cannot connect to this session at all is
# NO_CONNECTION. A role connected to its *own* session aims every command that names a thing at
# *our* session's things (activity, pause signal, text, member): those must be refused too.

NO_CONNECTION = "no connection"
OK = "ok"  # acknowledged, or refused by a rule of the room (past the gate): "not_open", ...
REFUSED = "refused"  # any error ack: the command named something that is not theirs
GATE = ("forbidden", "not_authenticated", "not_found")
PHONE_CMD, CONSOLE_CMD = "phone", "console"

# command -> (payload, kind). `names_ours` says the payload names one of our session's things.
SOCKET_COMMANDS = {
    "get_state": ({}, "any", False),
    "heartbeat": ({}, PHONE_CMD, False),
    "submit_answer": (
        {"activity_id": "{check_in}", "client_id": "matrix-answer-1", "pleasure": 0.5},
        PHONE_CMD,
        True,
    ),
    "send_appreciation": (
        {"activity_id": "{appreciation}", "client_id": "matrix-thanks-1", "text": "Thank you"},
        PHONE_CMD,
        True,
    ),
    "request_pause": ({"client_id": "matrix-pause-1"}, PHONE_CMD, False),
    "my_history": ({}, PHONE_CMD, False),
    "forget_me": ({}, PHONE_CMD, False),
    "show_activity": ({"activity_id": "{check_in}"}, CONSOLE_CMD, True),
    "next_activity": ({}, CONSOLE_CMD, False),
    "previous_activity": ({}, CONSOLE_CMD, False),
    "open_activity": ({"activity_id": "{check_in}"}, CONSOLE_CMD, True),
    "control_timer": ({"activity_id": "{prompt}", "action": "start"}, CONSOLE_CMD, True),
    "close_activity": ({"activity_id": "{check_in}"}, CONSOLE_CMD, True),
    "reveal_results": ({"activity_id": "{check_in}"}, CONSOLE_CMD, True),
    "start_grounding": ({}, CONSOLE_CMD, False),
    "end_grounding": ({}, CONSOLE_CMD, False),
    "moderate": (
        {"kind": "appreciation", "id": "{pending}", "decision": "approve"},
        CONSOLE_CMD,
        True,
    ),
    "acknowledge_pause": ({"id": "{pause}"}, CONSOLE_CMD, True),
    "form_dyads": ({"activity_id": "{dyads}"}, CONSOLE_CMD, True),
    "set_attendance": ({"member_id": "{member}", "status": "late"}, CONSOLE_CMD, True),
    "end_session": ({}, CONSOLE_CMD, False),  # last: it closes the room
}
SOCKET_ROLES = (*ROLES, "screen")


def socket_expected(role: str, command: str):
    """What the protocol table and the access rules promise this role for this command."""
    _payload, kind, names_ours = SOCKET_COMMANDS[command]
    if role in ("outsider", "coordinator"):
        return NO_CONNECTION  # no token, and a coordinator never runs a room
    sender = {
        "participant": PHONE_CMD,
        "phone_other": PHONE_CMD,
        "screen": "screen",
    }.get(role, CONSOLE_CMD)
    if kind != "any" and kind != sender:
        return "forbidden"
    if role in ("phone_other", "other_facilitator") and names_ours:
        return REFUSED  # their own room's rules apply; ours does not exist for them
    return OK


def test_the_socket_table_covers_every_command():
    """A command added to the protocol table without a row here fails."""
    assert set(SOCKET_COMMANDS) == set(COMMANDS)


def _connect(app, world, role):
    """Connect the way this role can; None when this session refuses every way it tries."""
    if role == "outsider":
        attempts = [
            socketio.test_client(app, auth={"role": "console", "session_id": world.session}),
            socketio.test_client(app, auth={"role": "screen", "session_id": world.session}),
            socketio.test_client(app, auth={"role": "screen", "screen_token": new_secret()}),
            socketio.test_client(
                app,
                auth={"role": "phone", "device_token": new_secret(), "secret": new_secret()},
            ),
            socketio.test_client(app),
        ]
        assert not any(sock.is_connected() for sock in attempts)
        return None
    if role in world.phones:
        phone = world.phones[role]
        auth = {"role": "phone", "device_token": phone.device_token, "secret": phone.secret}
        sock = socketio.test_client(app, auth=auth)
        assert sock.is_connected(), role
        return sock
    if role == "screen":
        sock = socketio.test_client(app, auth={"role": "screen", "screen_token": world.screen})
        assert sock.is_connected()
        return sock
    client = role_client(app, world.users[role])
    ours = socketio.test_client(
        app, auth={"role": "console", "session_id": world.session}, flask_test_client=client
    )
    tv = socketio.test_client(
        app, auth={"role": "screen", "session_id": world.session}, flask_test_client=client
    )
    if role in ("coordinator", "other_facilitator"):
        assert not ours.is_connected() and not tv.is_connected(), role
        if role == "coordinator":
            return None
        own = socketio.test_client(
            app,
            auth={"role": "console", "session_id": world.other_session},
            flask_test_client=client,
        )
        assert own.is_connected()
        return own
    assert ours.is_connected() and tv.is_connected(), role
    tv.disconnect()
    return ours


@pytest.fixture
def live_world(app, world, facilitator):
    """The world, with our check-in open, a pending appreciation and a pause signal in it."""
    from sqlalchemy import select

    from facilitation import services as live
    from facilitation.models import SessionActivity

    activities = {
        a.kind.value: a.id
        for a in db.session.scalars(
            select(SessionActivity).where(SessionActivity.group_session_id == world.session)
        )
    }
    phone = world.phones["participant"]
    participant = live.authenticate_phone(phone.device_token, phone.secret)
    live.open_activity(facilitator, world.session, activities["appreciation"])
    pending = live.send_appreciation(
        participant,
        activities["appreciation"],
        {"client_id": "seed-thanks-1", "text": "For listening"},
    )
    pause = live.request_pause(participant, {"client_id": "seed-pause-1"})
    live.open_activity(facilitator, world.session, activities["check_in"])
    _, token = live.pair_screen(world.screen_code)
    world.screen = token
    return vars(world) | activities | {"pending": pending.id, "pause": pause.id}


def test_every_socket_command_for_every_role(app, world, live_world):
    rows = snapshot_rows()
    wrong = []
    for role in SOCKET_ROLES:
        sock = _connect(app, world, role)
        for command, (payload, _kind, _ours) in SOCKET_COMMANDS.items():
            expected = socket_expected(role, command)
            if sock is None:
                got = NO_CONNECTION
            else:
                ack = sock.emit(command, fill(payload, live_world), callback=True)
                assert isinstance(ack, dict) and isinstance(ack.get("ok"), bool), (role, ack)
                code = None if ack["ok"] else ack["error"]["code"]
                assert code is None or ack["error"]["message"], (role, command, ack)
                if expected == REFUSED and code is not None:
                    got = REFUSED
                else:
                    got = code if code in GATE else OK
            if got != expected:
                wrong.append(f"{role}: {command}: {got}, expected {expected}")
        if sock is not None and sock.is_connected():
            sock.disconnect()
        app.extensions["hearth_publisher"].settle()
        restore_rows(rows)  # the next role meets the same room
    assert wrong == [], "\n".join(wrong)
