"""Faults against a real server: the database going away and coming back, and raw garbage on
the WebSocket. (kill -9, then a restart: test_live_server.py::test_a_restart_loses_nothing.)
"""

from __future__ import annotations

import contextlib
import secrets
import socket
import threading
import time
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests
import websocket

from tests.realtime.live_server import (
    WAIT,
    LiveServer,
    Staff,
    create_schema,
    local_app,
    open_room,
    seed,
    wait_until,
)

pytestmark = pytest.mark.live


class TcpProxy:
    """A TCP forwarder on a fixed local port: stop() is the database becoming unreachable."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.port = _free_port()
        self._listener: socket.socket | None = None
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(32)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        """Refuse new connections and cut every open one, as a database host going down does."""
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept() on Linux
            listener.close()
        with self._lock:
            sockets, self._open = self._open, []
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # stopped
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._open += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                sink.shutdown(socket.SHUT_WR)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def proxied_pg(pg_url):
    """The test PostgreSQL database, reached through a proxy the test can cut."""
    parts = urlsplit(pg_url)
    proxy = TcpProxy((parts.hostname or "127.0.0.1", parts.port or 5432))
    proxy.start()
    netloc = f"{parts.username + '@' if parts.username else ''}127.0.0.1:{proxy.port}"
    yield proxy, urlunsplit(parts._replace(netloc=netloc))
    proxy.stop()


def _staff_account(database_url: str) -> tuple[str, int]:
    """A facilitator of our own on the shared test database (removed at the end)."""
    from groups import services
    from groups.access import SYSTEM
    from groups.extensions import db
    from groups.models import Role
    from tests.realtime.live_server import PASSWORD

    create_schema(database_url)
    app = local_app(database_url)
    email = f"fault-{secrets.token_hex(4)}@example.org"
    with app.app_context():
        user = services.create_user(
            SYSTEM,
            email=email,
            display_name="Faye Fault",
            password=PASSWORD,
            role=Role.FACILITATOR.value,
        )
        user_id = user.id
        db.session.remove()
        db.engine.dispose()
    return email, user_id


def _remove_account(database_url: str, user_id: int) -> None:
    from sqlalchemy import delete

    from groups.extensions import db
    from groups.models import AuditEvent, User

    app = local_app(database_url)
    with app.app_context():
        db.session.execute(delete(AuditEvent).where(AuditEvent.actor_id == user_id))
        db.session.execute(delete(User).where(User.id == user_id))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


@pytest.mark.postgres
def test_the_database_going_away_gets_clear_errors_and_then_full_recovery(
    proxied_pg, pg_url, tmp_path
):
    proxy, url = proxied_pg
    email, user_id = _staff_account(pg_url)
    server = LiveServer(url, "eventlet", tmp_path)
    try:
        server.start()
        staff = Staff(server.url)
        staff.sign_in(email)
        assert staff.http.get(server.url + "/api/v1/me", timeout=WAIT).status_code == 200

        proxy.stop()
        assert server.healthz() == 503
        me = staff.http.get(server.url + "/api/v1/me", timeout=WAIT)
        assert me.status_code == 503, me.text
        assert me.json()["error"]["code"] == "database_unavailable"
        assert me.headers["Retry-After"]
        page = staff.http.get(server.url + "/cohorts", timeout=WAIT)
        assert page.status_code == 503 and "database does not answer" in page.text
        assert server.proc.poll() is None, "the server must outlive its database"

        proxy.start()
        wait_until(lambda: server.healthz() == 200, timeout=10, what="/healthz back to 200")
        # Full recovery: the same sign-in works again, reads and writes.
        assert staff.http.get(server.url + "/api/v1/me", timeout=WAIT).status_code == 200
        created = staff.post("/api/v1/session", {"email": email, "password": "wrong"})
        assert created.status_code == 401  # the database answers again, with a real answer
    except BaseException:
        print(server.logs())  # noqa: T201 - shown only when the test failed
        raise
    finally:
        server.kill()
        _remove_account(pg_url, user_id)


@pytest.fixture
def sqlite_room(tmp_path):
    url = "sqlite:///" + str(tmp_path / "hearth.db")
    create_schema(url)
    seeded = seed(url)
    server = LiveServer(url, "eventlet", tmp_path)
    server.start()
    room = open_room(server, seeded, reconnection=False)
    yield room
    room.close()
    server.kill()


GARBAGE = [
    "garbage",  # not an Engine.IO packet
    "4",  # a message with nothing in it
    "42",  # an event without a body
    "42[",  # broken JSON
    '42["submit_answer"',  # unterminated
    "42{}",  # an object where an array belongs
    "42[1, 2, 3]",  # an event whose name is a number
    "42[null]",
    '42["submit_answer", {"activity_id": {"$gt": 0}}]',
    '423["submit_answer", "not an object"]',  # with an ack id, a string payload
    '42999999999999999999999["get_state"]',  # a huge ack id
    '42/admin,["get_state"]',  # a namespace nobody connected to
    "40/nowhere,",  # connect to a namespace that does not exist
    "6",  # a NOOP from the client
    "\x00\xff\xfe",  # bytes that are not text
]


def test_raw_websocket_garbage_closes_only_that_socket_and_the_room_goes_on(sqlite_room):
    room = sqlite_room
    url = room.server.url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    for frame in GARBAGE:
        ws = websocket.create_connection(url, timeout=WAIT)
        try:
            ws.recv()  # the server's open packet
            ws.send("40" + '{"role": "nobody"}')  # refused: not signed in
            ws.send(frame) if isinstance(frame, str) else ws.send_binary(frame)
            ws.send_binary(b"\x00\x01\x02\xff")
        except (OSError, websocket.WebSocketException):
            pass  # the server may close it: that is a fine answer
        finally:
            ws.close(timeout=0.2)
    # The server is alive, and the room still works for everybody in it.
    assert room.server.healthz() == 200
    check_in = room.activities["check_in"]
    room.command("open_activity", {"activity_id": check_in})
    for phone in room.phones:
        assert phone.answer(check_in, pleasure=0.5, arousal=0.5)["ok"]
    room.screen.wait_for("screen_state", lambda s: (s.get("results") or {}).get("responded") == 6)
    # A phone's own socket sending garbage in the middle of a session is cut, and only it.
    robin = room.phones[0]
    robin.peer.sio.eio.ws.send('42["submit_answer"')
    time.sleep(0.3)
    assert room.phones[1].peer.call("get_state")["ok"]
    assert requests.get(room.server.url + "/healthz", timeout=WAIT).status_code == 200
