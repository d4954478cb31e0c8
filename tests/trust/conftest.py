"""Fixtures for the trust tests: every role around one live session, and a database undo."""

from __future__ import annotations

from datetime import date, time
from types import SimpleNamespace

import pytest
from flask import g
from flask.testing import FlaskClient
from sqlalchemy import delete, event, insert, select

from facilitation import services as live
from facilitation.anonymity import new_secret
from groups import services
from groups.access import SYSTEM
from groups.extensions import db
from tests.conftest import PASSWORD

# Who may try what: the staff roles sign in; the phones hold a device token and a secret.
STAFF_ROLES = ("admin", "coordinator", "facilitator", "other_facilitator")
ROLES = (
    "outsider",
    "phone_other",
    "participant",
    "other_facilitator",
    "coordinator",
    "admin",
    "facilitator",
)


class RoleClient(FlaskClient):
    """A test client that never borrows another client's signed-in user from `g`."""

    def open(self, *args, **kwargs):
        g.pop("_login_user", None)
        return super().open(*args, **kwargs)


def role_client(app, user=None) -> RoleClient:
    client = RoleClient(app, app.response_class, use_cookies=True)
    if user is not None:
        response = client.post("/login", data={"email": user.email, "password": PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)
    return client


def join_phone(app, code: str, member_id: int) -> SimpleNamespace:
    """Join a live session over HTTP as a phone; return its client, token and secret."""
    phone = SimpleNamespace(
        http=role_client(app), device_token=new_secret(), secret=new_secret(), member_id=member_id
    )
    response = phone.http.post(
        "/api/v1/join",
        json={
            "code": code,
            "device_token": phone.device_token,
            "member_id": member_id,
            "consent_version": 1,
        },
    )
    assert response.status_code == 200, response.get_json()
    return phone


@pytest.fixture
def no_fsync(app):
    """Let SQLite skip fsync on commit: these tests commit hundreds of times, durability aside."""
    if db.engine.dialect.name != "sqlite":
        yield
        return

    @event.listens_for(db.engine, "connect")
    def _no_fsync(dbapi_connection, _record):
        dbapi_connection.execute("PRAGMA synchronous=OFF")

    db.session.remove()
    db.engine.dispose()
    yield
    event.remove(db.engine, "connect", _no_fsync)


@pytest.fixture
def world(no_fsync, app, admin, coordinator, facilitator, other_facilitator, program, cohort):
    """Our cohort with a live, an ended and a planned session; another cohort, live, elsewhere.

    The other facilitator runs a cohort of the same program: they see the program, not ours.
    """
    other_cohort = services.create_cohort(
        SYSTEM,
        program.id,
        name="Thursday mornings",
        start_date=date(2026, 9, 3),
        meeting_time=time(10, 0),
        facilitator_ids=[other_facilitator.id],
    )
    quinn = services.add_member(SYSTEM, other_cohort.id, display_name="Quinn")
    plan = program.plans[0]
    services.add_activity(SYSTEM, plan.id, kind="appreciation", title="Appreciation round")
    services.add_activity(SYSTEM, plan.id, kind="dyads", title="Pairs", timer_seconds=120)
    ended = cohort.sessions[1].id
    live.start_session(facilitator, ended)
    live.end_session(facilitator, ended)
    session = live.start_session(facilitator, cohort.sessions[0].id)
    other_session = live.start_session(other_facilitator, other_cohort.sessions[0].id)
    members = {m.display_name: m.id for m in cohort.members}
    participant = join_phone(app, session.join_code, members["Robin"])
    phone_other = join_phone(app, other_session.join_code, quinn.id)
    users = {
        "admin": admin,
        "coordinator": coordinator,
        "facilitator": facilitator,
        "other_facilitator": other_facilitator,
    }
    return SimpleNamespace(
        users=users,
        phones={"participant": participant, "phone_other": phone_other},
        program=program.id,
        plan=program.plans[0].id,
        plan2=program.plans[1].id,
        activity=program.plans[0].activities[1].id,
        cohort=cohort.id,
        other_cohort=other_cohort.id,
        member=members["Sam"],
        session=session.id,
        join_code=session.join_code,
        other_session=other_session.id,
        ended=ended,
        planned=cohort.sessions[2].id,
        user=facilitator.id,
        screen_code=live.issue_screen_code(facilitator, session.id),
    )


def snapshot_rows() -> dict:
    """Every row of every table, as dicts, to put back after a request that changed things."""
    db.session.expire_all()
    return {
        table: [dict(row._mapping) for row in db.session.execute(select(table))]
        for table in db.metadata.sorted_tables
    }


def restore_rows(rows: dict) -> None:
    """Put the database back as snapshot_rows() found it."""
    db.session.rollback()
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(delete(table))
    for table in db.metadata.sorted_tables:
        if rows[table]:
            db.session.execute(insert(table), rows[table])
    db.session.commit()
    db.session.expire_all()
