"""Fixtures for the staff pages: every role signed in, the ids pages need, a database snapshot."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from flask import g
from flask.testing import FlaskClient
from sqlalchemy import select

from groups.extensions import db
from tests.conftest import PASSWORD

ROLES = ("admin", "coordinator", "facilitator", "other_facilitator", "other_coordinator")
CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


@pytest.fixture
def world(admin, coordinator, facilitator, other_facilitator, other_coordinator, program, cohort):
    """Every role, the fixture program and cohort, and the ids of one of each thing on them."""
    plan = program.plans[0]
    return SimpleNamespace(
        admin=admin,
        coordinator=coordinator,
        facilitator=facilitator,
        other_facilitator=other_facilitator,
        other_coordinator=other_coordinator,
        program_id=program.id,
        plan_id=plan.id,
        second_plan_id=program.plans[1].id,
        activity_id=plan.activities[1].id,
        cohort_id=cohort.id,
        member_id=next(m.id for m in cohort.members if m.display_name == "Sam"),
        session_id=cohort.sessions[0].id,
        member_names=[m.display_name for m in cohort.members],
    )


@pytest.fixture
def sign_in(world, login, client):
    """Sign in as one role by name ("anonymous" stays signed out) and return the client."""

    def _sign_in(role: str):
        if role == "anonymous":
            return client
        return login(getattr(world, role))

    return _sign_in


class RoleClient(FlaskClient):
    """A test client that never borrows another client's signed-in user.

    Tests hold one app context, which requests reuse, so Flask-Login's user cached in `g` would
    otherwise carry over from one client's request to the next.
    """

    def open(self, *args, **kwargs):
        g.pop("_login_user", None)
        return super().open(*args, **kwargs)


@pytest.fixture
def client_for(app, world):
    """Return a fresh test client signed in as one role by name ("anonymous" stays signed out)."""

    def _client_for(role: str):
        client = RoleClient(app, app.response_class, use_cookies=True)
        if role != "anonymous":
            user = getattr(world, role)
            response = client.post("/login", data={"email": user.email, "password": PASSWORD})
            assert response.status_code == 302
        return client

    return _client_for


def snapshot() -> dict[str, list[str]]:
    """Read every row of every table but the audit log, straight from the database."""
    db.session.expire_all()
    state = {}
    for table in db.metadata.sorted_tables:
        if table.name == "audit_event":
            continue
        state[table.name] = sorted(repr(tuple(row)) for row in db.session.execute(select(table)))
    return state


@pytest.fixture
def db_state():
    """Return a function that snapshots the database, to show a refused post changed nothing."""
    return snapshot


def csrf_token(client, url: str) -> str:
    """Fetch a page and read the CSRF token from its form."""
    match = CSRF_RE.search(client.get(url).get_data(as_text=True))
    assert match, f"no CSRF token on {url}"
    return match.group(1)
