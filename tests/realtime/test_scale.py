"""Several server processes: one database, one Redis message queue, rooms that span processes.

Two `python wsgi.py` processes share a SQLite file and Redis (on a channel of this test's
own). A phone on process A reaches the screen on process B; a live session survives the
restart of either process, because every piece of session state lives in the database.
"""

from __future__ import annotations

import secrets

import pytest
from sqlalchemy import func, select

from facilitation.models import Answer
from tests.conftest import REDIS_URL, need_service
from tests.realtime.live_server import (
    LiveServer,
    Peer,
    Phone,
    Staff,
    create_schema,
    pair_screen,
    query,
    seed,
)

pytestmark = [pytest.mark.live, pytest.mark.redis]


def _redis_missing(url: str) -> str | None:
    """Say why Redis cannot be used, or None when it answers."""
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2).ping()
    except Exception as exc:  # any client error means "not there"
        return f"Redis at {url} does not answer: {exc}"
    return None


@pytest.fixture(scope="module")
def redis_url() -> str:
    need_service(_redis_missing(REDIS_URL))
    return REDIS_URL


@pytest.fixture
def database_url(tmp_path):
    url = "sqlite:///" + str(tmp_path / "hearth.db")
    create_schema(url)
    return url


@pytest.fixture
def pair(redis_url, database_url, tmp_path):
    """Processes A and B on one database and one queue channel (this test's own)."""
    env = {
        "SOCKETIO_MESSAGE_QUEUE": redis_url,
        "SOCKETIO_CHANNEL": f"hearth-test-{secrets.token_hex(4)}",
    }
    a = LiveServer(database_url, "eventlet", tmp_path, env=env, name="a")
    b = LiveServer(database_url, "eventlet", tmp_path, env=env, name="b")
    try:
        a.start()
        b.start()
        yield a, b
    finally:
        a.kill()
        b.kill()
        print(a.logs(), b.logs())  # pytest shows this only for a failed test


def responded(state: dict) -> int | None:
    return (state.get("results") or {}).get("responded")


def test_a_phone_on_one_process_reaches_the_screen_on_the_other(pair, database_url):
    a, b = pair
    seeded = seed(database_url)
    staff = Staff(a.url)
    staff.sign_in(seeded.facilitator_email)
    session_id = seeded.group_session_id
    assert staff.post(f"/api/v1/sessions/{session_id}/start").status_code == 200
    peers: list[Peer] = []
    try:
        console = Peer(
            a.url,
            {"role": "console", "session_id": session_id},
            headers=staff.socket_headers(),
            reconnection=True,
        )
        peers.append(console.connect())
        state = console.wait_for("console_state")
        check_in = next(x["id"] for x in state["agenda"] if x["kind"] == "check_in")
        # The TV pairs through B and stays on B.
        token = pair_screen(b.url, staff, session_id)
        screen = Peer(b.url, {"role": "screen", "screen_token": token}, reconnection=True)
        peers.append(screen.connect())
        screen.wait_for("screen_state")
        assert console.call("open_activity", {"activity_id": check_in})["ok"]
        screen.wait_for("screen_state", lambda s: (s.get("activity") or {}).get("id") == check_in)

        members = list(seeded.members.items())
        robin = Phone(a.url, *members[0], reconnection=True).join(state["session"]["join_code"])
        peers.append(robin.connect().peer)
        robin.peer.wait_for("session_state", lambda s: "me" in s)
        since = screen.mark()
        assert robin.answer(check_in, pleasure=0.5, arousal=0.5)["ok"]
        screen.wait_for("screen_state", lambda s: responded(s) == 1, since)

        # B restarts (a crash): the TV reconnects to it and gets the whole picture back.
        b.kill()
        screen.wait_disconnects(1)
        since = screen.mark()  # before the restart: the TV may be back before start() returns
        b.start()
        screen.wait_connects(2, timeout=15)
        screen.wait_for("screen_state", lambda s: responded(s) == 1, since)

        # A restarts: its phone and console come back; an answer still reaches B's screen.
        a.kill()
        robin.peer.wait_disconnects(1)
        a.start()
        robin.peer.wait_connects(2, timeout=15)
        console.wait_connects(2, timeout=15)
        sam = Phone(a.url, *members[1], reconnection=True).join(state["session"]["join_code"])
        peers.append(sam.connect().peer)
        since = screen.mark()
        client_id = Phone.new_client_id()
        assert sam.answer(check_in, client_id, pleasure=0.2, arousal=0.8)["ok"]
        # A re-sent answer (its ack lost in a restart) is counted once.
        assert sam.answer(check_in, client_id, pleasure=0.2, arousal=0.8)["ok"]
        screen.wait_for("screen_state", lambda s: responded(s) == 2, since)
        console.wait_for("console_state", lambda s: responded(s) == 2)
        count = select(func.count(Answer.id)).where(Answer.activity_id == check_in)
        assert query(database_url, lambda session: session.scalar(count)) == 2
    finally:
        for peer in peers:
            peer.close()
