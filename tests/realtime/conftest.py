"""Socket fixtures by role: a facilitator's console, a screen, and phones that join by code."""

from __future__ import annotations

import pytest

from facilitation import services as live
from facilitation.anonymity import new_secret
from groups.models import ActivityKind
from realtime.extensions import socketio


@pytest.fixture
def publisher(app):
    return app.extensions["hearth_publisher"]


@pytest.fixture
def settle(publisher):
    """Wait until every coalesced snapshot has been sent."""
    return publisher.settle


@pytest.fixture
def rich_program(program):
    """Give rung 1 an agenda with every kind of activity."""
    from groups import services
    from groups.access import SYSTEM

    plan = program.plans[0]
    services.add_activity(SYSTEM, plan.id, kind="appreciation", title="Appreciation round")
    services.add_activity(
        SYSTEM, plan.id, kind="dyads", title="Pairs: a small pleasure", timer_seconds=120
    )
    services.add_activity(
        SYSTEM, plan.id, kind="questionnaire", title="WHO-5", config={"instrument": "who5"}
    )
    return program


@pytest.fixture
def live_session(cohort, facilitator, rich_program):
    return live.start_session(facilitator, cohort.sessions[0].id)


@pytest.fixture
def activity_of(live_session):
    """Find the live session's activity of a kind."""
    from sqlalchemy import select

    from facilitation.models import SessionActivity
    from groups.extensions import db

    def find(kind: ActivityKind) -> SessionActivity:
        return db.session.scalar(
            select(SessionActivity).where(
                SessionActivity.group_session_id == live_session.id, SessionActivity.kind == kind
            )
        )

    return find


@pytest.fixture
def console(app, facilitator, live_session, login, client):
    """The facilitator's console, signed in through the real login form."""
    login(facilitator)
    sock = socketio.test_client(
        app, auth={"role": "console", "session_id": live_session.id}, flask_test_client=client
    )
    assert sock.is_connected()
    yield sock
    if sock.is_connected():
        sock.disconnect()


@pytest.fixture
def screen(app, facilitator, live_session):
    """A TV paired with a one-time screen code."""
    code = live.issue_screen_code(facilitator, live_session.id)
    _, token = live.pair_screen(code)
    sock = socketio.test_client(app, auth={"role": "screen", "screen_token": token})
    assert sock.is_connected()
    yield sock
    if sock.is_connected():
        sock.disconnect()


class Phone:
    """A participant's phone: a device token and a secret only it holds."""

    def __init__(self, app, name: str, member_id: int):
        self.app = app
        self.name = name
        self.member_id = member_id
        self.device_token = new_secret()
        self.secret = new_secret()
        self.http = app.test_client()
        self.sock = None
        self.counter = 0

    def join(self, code: str, consent_version: int = 1):
        response = self.http.post(
            "/api/v1/join",
            json={
                "code": code,
                "device_token": self.device_token,
                "member_id": self.member_id,
                "consent_version": consent_version,
            },
        )
        assert response.status_code == 200, response.get_json()
        return self.connect()

    def connect(self, keep_history: bool = True):
        self.sock = socketio.test_client(
            self.app,
            auth={
                "role": "phone",
                "device_token": self.device_token,
                "secret": self.secret,
                "keep_history": keep_history,
            },
        )
        assert self.sock.is_connected(), self.sock
        return self

    def emit(self, event: str, data=None):
        return self.sock.emit(event, data if data is not None else {}, callback=True)

    def new_client_id(self) -> str:
        self.counter += 1
        return f"{self.name}-{self.counter:04d}-{new_secret()[:8]}"

    def answer(self, activity_id: int, **values):
        payload = {"activity_id": activity_id, "client_id": self.new_client_id(), **values}
        return self.emit("submit_answer", payload)

    def received(self, name: str) -> list:
        return [m["args"][0] for m in self.sock.get_received() if m["name"] == name]


@pytest.fixture
def join_phone(app, cohort, live_session):
    """Make phones that join the live session by its code, one roster name each."""
    members = {m.display_name: m.id for m in cohort.members}
    phones = []

    def make(name: str) -> Phone:
        phone = Phone(app, name, members[name]).join(live_session.join_code)
        phones.append(phone)
        return phone

    yield make
    for phone in phones:
        if phone.sock is not None and phone.sock.is_connected():
            phone.sock.disconnect()


def last(sock, event: str):
    """The latest payload of an event a test client received (draining its queue)."""
    payloads = [m["args"][0] for m in sock.get_received() if m["name"] == event]
    return payloads[-1] if payloads else None


def command(sock, event: str, data=None):
    return sock.emit(event, data if data is not None else {}, callback=True)
