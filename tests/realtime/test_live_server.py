"""A real server in a subprocess, real python-socketio clients over WebSockets: the wire itself.

The in-process test client has no network, no size limits and no crashes; these tests have all
three. Each runs `python wsgi.py` under eventlet and gevent on SQLite, and under eventlet (the
default mode, with psycopg2) on a scratch PostgreSQL database.
"""

from __future__ import annotations

import json
import secrets
from urllib.parse import urlsplit, urlunsplit

import pytest
import socketio
from sqlalchemy import func, select

from facilitation.models import Answer
from tests.realtime.live_server import (
    LiveServer,
    Peer,
    Room,
    create_schema,
    open_room,
    query,
    seed,
    wait_until,
)

pytestmark = pytest.mark.live

VARIANTS = [
    pytest.param(("eventlet", "sqlite"), id="eventlet-sqlite"),
    pytest.param(("gevent", "sqlite"), id="gevent-sqlite"),
    pytest.param(("eventlet", "postgresql"), id="eventlet-postgresql", marks=pytest.mark.postgres),
]


@pytest.fixture(params=VARIANTS)
def variant(request) -> tuple[str, str]:
    return request.param


@pytest.fixture
def database_url(variant, tmp_path, request):
    """A fresh database with the schema: a SQLite file, or a scratch PostgreSQL database."""
    _, kind = variant
    if kind == "sqlite":
        url = "sqlite:///" + str(tmp_path / "hearth.db")
        create_schema(url)
        yield url
        return
    import psycopg

    pg_url = request.getfixturevalue("pg_url")
    name = f"hearth_live_{secrets.token_hex(6)}"
    parts = urlsplit(pg_url)
    # Only ever CREATE and DROP our own scratch database; the `test` database belongs to others.
    with psycopg.connect(pg_url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = urlunsplit(parts._replace(path="/" + name))
    try:
        create_schema(url)
        yield url
    finally:
        with psycopg.connect(pg_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def seeded(database_url):
    return seed(database_url)


@pytest.fixture
def server(variant, database_url, seeded, tmp_path):
    """`python wsgi.py` on a free port; killed at teardown, its stderr shown if the test failed."""
    mode, _ = variant
    live = LiveServer(database_url, mode, tmp_path)
    try:
        live.start()
        # Flask-SocketIO picks eventlet whenever importable: the mode must be the one we asked.
        assert f"({mode})" in live.stdout(), live.stdout()
        yield live
    finally:
        live.kill()
        print(live.logs())  # pytest shows this only for a failed test


@pytest.fixture
def room(server, seeded):
    room = open_room(server, seeded)
    yield room
    room.close()


def answers_of(database_url: str, activity_id: int) -> list[tuple]:
    """(client_id, passed, pleasure, response) of each stored answer, straight from the database."""
    return query(
        database_url,
        lambda session: [
            (a.client_id, a.passed, a.pleasure, a.response)
            for a in session.scalars(select(Answer).where(Answer.activity_id == activity_id))
        ],
    )


def count_answers(database_url: str, activity_id: int) -> int:
    return query(
        database_url,
        lambda session: session.scalar(
            select(func.count(Answer.id)).where(Answer.activity_id == activity_id)
        ),
    )


def responded(state: dict) -> int | None:
    return (state.get("results") or {}).get("responded")


def activity(state: dict) -> dict:
    """The snapshot's current activity, or {} in the lobby."""
    return state.get("activity") or {}


# --- 1. a whole check-in ------------------------------------------------------------------------


MOODS = [
    {"pleasure": 0.1, "arousal": 0.1, "words": ["numb"]},
    {"pleasure": 0.3, "arousal": 0.7, "words": ["tense", "tired"]},
    {"pleasure": 0.5, "arousal": 0.5, "words": ["calm"]},
    {"pleasure": 0.7, "arousal": 0.3, "words": ["calm", "warm"]},
    {"pleasure": 0.9, "arousal": 0.6, "words": ["hopeful"]},
    {"pleasure": 0.6, "arousal": 0.2, "words": ["I can't name it"]},
]


def test_a_whole_check_in_over_the_wire(room: Room, database_url):
    check_in = room.activities["check_in"]
    since = room.screen.mark()
    room.command("open_activity", {"activity_id": check_in})
    for phone, mood in zip(room.phones, MOODS, strict=True):
        client_id = phone.new_client_id()
        ack = phone.answer(check_in, client_id=client_id, **mood)
        assert ack["ok"], ack
        assert ack["data"]["client_id"] == client_id
        assert ack["data"]["pleasure"] == mood["pleasure"]

    state = room.screen.wait_for(
        "screen_state", lambda s: responded(s) == 6 and activity(s).get("id") == check_in, since
    )
    # Open and held: the count shows, the picture does not.
    assert state["results"]["released"] is False and "grid" not in state["results"]
    assert state["session"]["join_code"] == room.join_code

    room.command("close_activity", {"activity_id": check_in})
    room.command("reveal_results", {"activity_id": check_in})
    state = room.screen.wait_for(
        "screen_state", lambda s: (s.get("results") or {}).get("released") is True, since
    )
    results = state["results"]
    assert results["responded"] == 6
    assert results["grid"]["withheld"] is False and results["grid"]["n"] == 6
    assert sum(map(sum, results["grid"]["cells"])) == 6
    assert {"word": "calm", "count": 2} in results["words"]["counts"]
    # The shared screen never names anyone who answered.
    assert not any(phone.name in json.dumps(state) for phone in room.phones)
    # Phones hear the activity close, without any results.
    closed = room.phones[0].peer.wait_for(
        "session_state", lambda s: activity(s).get("state") == "closed", since=0
    )
    assert "results" not in closed
    assert count_answers(database_url, check_in) == 6


# --- 2. reconnecting without double counting ---------------------------------------------------


@pytest.mark.parametrize("cut", ["before_ack", "after_ack"])
def test_a_reconnecting_phone_is_counted_once(room: Room, database_url, cut):
    check_in = room.activities["check_in"]
    room.command("open_activity", {"activity_id": check_in})
    robin, others = room.phones[0], room.phones[1:]
    for phone, mood in zip(others, MOODS[1:], strict=True):
        assert phone.answer(check_in, **mood)["ok"]

    client_id = robin.new_client_id()
    payload = {"activity_id": check_in, "client_id": client_id, **MOODS[0]}
    if cut == "after_ack":
        assert robin.peer.call("submit_answer", payload)["ok"]
    else:
        # The phone never reads this ack: as far as it knows, the line dropped first.
        robin.peer.sio.emit("submit_answer", payload, callback=lambda *_: None)
        wait_until(lambda: count_answers(database_url, check_in) == 6, what="the answer stored")
    since = robin.peer.mark()
    robin.peer.cut()
    robin.peer.wait_disconnects(1)
    robin.peer.wait_connects(2)  # the client reconnects by itself, with the same auth
    snapshot = robin.peer.wait_for("session_state", lambda s: "me" in s, since)
    assert snapshot["me"]["answer"]["client_id"] == client_id
    assert snapshot["me"]["answer"]["pleasure"] == MOODS[0]["pleasure"]

    # The phone re-sends what it never saw acknowledged, with the same client id.
    again = robin.peer.call("submit_answer", payload)
    assert again["ok"] and again["data"]["client_id"] == client_id
    stored = answers_of(database_url, check_in)
    assert len(stored) == 6
    assert [a for a in stored if a[0] == client_id] == [(client_id, False, 0.1, None)]
    assert room.screen.call("get_state")["data"]["results"]["responded"] == 6
    assert max(responded(s) or 0 for s in room.screen.received("screen_state")) == 6


# --- 3. a crash and a restart ------------------------------------------------------------------


def test_a_restart_loses_nothing(room: Room, database_url):
    prompt = room.activities["prompt"]
    since = room.screen.mark()
    room.command("open_activity", {"activity_id": prompt})
    before = room.screen.wait_for(
        "screen_state",
        lambda s: (
            activity(s).get("id") == prompt and (activity(s).get("timer") or {}).get("running")
        ),
        since,
    )
    deadline = before["activity"]["timer"]["deadline"]
    acked = {}
    for phone in room.phones[:4]:
        client_id = phone.new_client_id()
        ack = phone.answer(prompt, client_id=client_id, response="done")
        assert ack["ok"], ack
        acked[phone.name] = client_id
    room.screen.wait_for("screen_state", lambda s: responded(s) == 4, since)

    marks = {id(peer): peer.mark() for peer in room.peers()}
    room.server.kill()
    for peer in room.peers():
        peer.wait_disconnects(1)
    assert room.server.proc.returncode == -9  # a crash, not a clean stop
    room.server.start()  # same port, same database

    for peer in room.peers():
        peer.wait_connects(2, timeout=15)
    screen = room.screen.wait_for("screen_state", lambda s: True, marks[id(room.screen)])
    console = room.console.wait_for("console_state", lambda s: True, marks[id(room.console)])
    for state in (screen, console):
        assert state["activity"]["id"] == prompt and state["activity"]["state"] == "open"
        assert state["activity"]["timer"]["deadline"] == deadline
        assert state["activity"]["timer"]["running"] is True
        assert responded(state) == 4
    for phone in room.phones:
        mine = phone.peer.wait_for("session_state", lambda s: "me" in s, marks[id(phone.peer)])
        assert mine["activity"]["id"] == prompt
        assert mine["activity"]["timer"]["deadline"] == deadline
        answer = mine["me"]["answer"]
        assert (answer and answer["client_id"]) == acked.get(phone.name), phone.name

    # Every acknowledged answer survived the kill.
    assert {a[0] for a in answers_of(database_url, prompt)} == set(acked.values())

    # And the session goes on: the other two answer, the console still steers.
    since = room.screen.mark()
    for phone in room.phones[4:]:
        assert phone.answer(prompt, response="reaction", reaction="warm")["ok"]
    room.screen.wait_for("screen_state", lambda s: responded(s) == 6, since)
    room.command("control_timer", {"activity_id": prompt, "action": "pause"})
    assert count_answers(database_url, prompt) == 6


# --- 4. refusals -------------------------------------------------------------------------------

REFUSED = [
    None,
    {},
    {"role": "phone", "device_token": "x" * 30, "secret": "y" * 30},
    {"role": "phone", "device_token": "short", "secret": "short"},
    {"role": "screen", "screen_token": "z" * 40},
    {"role": "console", "session_id": 1},  # no login cookie
    {"role": "wizard"},
]


def test_connections_without_valid_credentials_are_refused(room: Room):
    for auth in REFUSED:
        peer = Peer(room.server.url, auth)
        with pytest.raises(socketio.exceptions.ConnectionError):
            peer.connect()
        try:
            assert len(peer.connect_errors) == 1, auth
            assert "not_authenticated" in json.dumps(peer.connect_errors[0]), auth
            assert peer.events == [], "a refused connection hears nothing"
        finally:
            peer.close()
    # A real phone, meanwhile, is still connected and served.
    assert room.phones[0].peer.call("get_state")["ok"]


def test_a_refusal_says_why_in_connect_error_data(server):
    peer = Peer(server.url, {"role": "phone", "device_token": "x" * 30, "secret": "y" * 30})
    try:
        with pytest.raises(socketio.exceptions.ConnectionError):
            peer.connect()
        # What a JS client reads as err.data (and the python client gets under "data").
        error = peer.connect_errors[0]
        assert isinstance(error.get("data"), dict), error
        assert error["data"]["code"] == "not_authenticated"
        assert error["message"] == error["data"]["message"]
    finally:
        peer.close()


def test_an_oversized_message_closes_only_that_connection(room: Room, database_url):
    check_in = room.activities["check_in"]
    room.command("open_activity", {"activity_id": check_in})
    sam = room.phones[1]
    acks = []
    sam.peer.sio.emit(
        "submit_answer",
        {"activity_id": check_in, "client_id": sam.new_client_id(), "text": "x" * 20_000},
        callback=lambda *args: acks.append(args),
    )
    sam.peer.wait_disconnects(1)
    assert acks == []
    assert room.server.healthz() == 200
    robin = room.phones[0]
    assert robin.answer(check_in, pleasure=0.4, arousal=0.4)["ok"]
    room.screen.wait_for("screen_state", lambda s: responded(s) == 1)
    # The cut-off phone comes back by itself and is served again.
    sam.peer.wait_connects(2)
    assert sam.answer(check_in, passed=True)["ok"]
    assert count_answers(database_url, check_in) == 2


MALFORMED = [
    ({"client_id": "abcdefgh"}, "activity_id"),
    ({"activity_id": "1", "client_id": "abcdefgh"}, "activity_id"),
    ({"activity_id": 0}, "client_id"),
    ({"activity_id": 0, "client_id": "short"}, "client_id"),
    ({"activity_id": 0, "client_id": "abcdefgh", "pleasure": 3}, "pleasure"),
    ({"activity_id": 0, "client_id": "abcdefgh", "member_id": 3}, "member_id"),
    ("not an object", "_schema"),
    ([1, 2, 3], "_schema"),
]


def test_malformed_payloads_get_an_invalid_ack(room: Room, database_url):
    check_in = room.activities["check_in"]
    room.command("open_activity", {"activity_id": check_in})
    phone = room.phones[0]
    for payload, field in MALFORMED:
        if isinstance(payload, dict) and payload.get("activity_id") == 0:
            payload = payload | {"activity_id": check_in}
        ack = phone.peer.call("submit_answer", payload)
        assert ack["ok"] is False, payload
        assert ack["error"]["code"] == "invalid", ack
        assert field in ack["error"]["fields"], ack
    ack = room.console.call("open_activity", {"activity_id": str(check_in)})
    assert ack["ok"] is False and ack["error"]["code"] == "invalid"
    assert "activity_id" in ack["error"]["fields"]
    # Nothing was stored, and the connection is still good.
    assert count_answers(database_url, check_in) == 0
    assert phone.answer(check_in, passed=True)["ok"]
    assert phone.peer.disconnects == 0
