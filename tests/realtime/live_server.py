"""Run Hearth for real: `python wsgi.py` in a subprocess, seeded data, HTTP and socket clients."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from datetime import time as clock
from pathlib import Path
from typing import Any

import requests
import socketio
import websocket

ROOT = Path(__file__).resolve().parents[2]
SECRET_KEY = "live-test-secret-key"
PASSWORD = "correct horse battery"
NAMES = ("Robin", "Sam", "Alex", "Jo", "Kim", "Lee")
START_TIMEOUT = 20.0
WAIT = 5.0  # seconds any single expected event may take
# Flask-Login's "strong" session protection ties the login cookie to the address and the
# User-Agent: the console's socket must send the same User-Agent as the browser that signed in.
USER_AGENT = "HearthLiveTest/1.0"


def free_port() -> int:
    """Ask the kernel for a free port on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate: Callable[[], Any], timeout: float = WAIT, what: str = "condition") -> Any:
    """Poll until the predicate is truthy; fail after the timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


class LiveServer:
    """One `python wsgi.py` process on 127.0.0.1, restartable on the same port and database."""

    def __init__(
        self,
        database_url: str,
        async_mode: str,
        log_dir: Path,
        env: dict[str, str] | None = None,
        name: str = "server",
    ):
        self.database_url = database_url
        self.async_mode = async_mode
        self.log_dir = log_dir
        self.extra_env = dict(env or {})  # e.g. SOCKETIO_MESSAGE_QUEUE for several processes
        self.name = name
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.runs = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _env(self) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            # Our settings only; and no tracemalloc, which slows the server tenfold.
            if not k.startswith(("SOCKETIO_", "DATABASE_", "RATELIMIT_", "PYTHONTRACEMALLOC"))
        }
        env.update(
            DATABASE_URL=self.database_url,
            SECRET_KEY=SECRET_KEY,
            SOCKETIO_ASYNC_MODE=self.async_mode,
            HOST="127.0.0.1",
            PORT=str(self.port),
            ARGON2_PROFILE="cheapest",
            PYTHONUNBUFFERED="1",
        )
        env.update(self.extra_env)
        return env

    def start(self, timeout: float = START_TIMEOUT) -> None:
        """Start the server and wait until /healthz answers 200 (or fail with its stderr)."""
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.runs += 1
        out = open(self.log_dir / f"{self.name}-{self.runs}.out", "wb")  # noqa: SIM115
        err = open(self.log_dir / f"{self.name}-{self.runs}.err", "wb")  # noqa: SIM115
        with out, err:
            self.proc = subprocess.Popen(
                [sys.executable, "wsgi.py"],
                cwd=ROOT,
                env=self._env(),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"server exited with {self.proc.returncode} before answering:\n{self.logs()}"
                )
            try:
                if self.healthz(timeout=1) == 200:
                    return
            except OSError:  # not listening yet
                pass
            time.sleep(0.1)
        self.kill()
        raise AssertionError(f"server did not answer /healthz within {timeout} s:\n{self.logs()}")

    def kill(self) -> None:
        """SIGKILL the process (a crash: nothing is flushed, no goodbye to clients)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stdout(self) -> str:
        return (self.log_dir / f"{self.name}-{self.runs}.out").read_text(errors="replace")

    def logs(self) -> str:
        """Everything every run of the server wrote to stderr."""
        parts = []
        for run in range(1, self.runs + 1):
            path = self.log_dir / f"{self.name}-{run}.err"
            text = path.read_text(errors="replace") if path.exists() else ""
            parts.append(f"--- {self.name} run {run} stderr ---\n{text}")
        return "\n".join(parts)

    def healthz(self, timeout: float = WAIT) -> int:
        """GET /healthz and return the status code."""
        try:
            with urllib.request.urlopen(self.url + "/healthz", timeout=timeout) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            exc.close()
            return exc.code


# --- data -------------------------------------------------------------------------------------


@dataclass
class Seed:
    facilitator_email: str
    group_session_id: int
    members: dict[str, int]


def local_app(database_url: str):
    """The app in this process, on the server's database (for seeding and checking only)."""
    from tests.conftest import make_test_app

    return make_test_app(database_url, SECRET_KEY=SECRET_KEY)


def create_schema(database_url: str) -> None:
    from groups.extensions import db

    app = local_app(database_url)
    with app.app_context():
        db.create_all()
        db.engine.dispose()


def seed(database_url: str) -> Seed:
    """A facilitator, a program whose first plan is check-in, prompt, check-out; six members."""
    from groups import services
    from groups.access import SYSTEM
    from groups.extensions import db
    from groups.models import Role

    app = local_app(database_url)
    with app.app_context():
        facilitator = services.create_user(
            SYSTEM,
            email="fran@example.org",
            display_name="Fran Facilitator",
            password=PASSWORD,
            role=Role.FACILITATOR.value,
        )
        coordinator = services.create_user(
            SYSTEM,
            email="cora@example.org",
            display_name="Cora Coordinator",
            password=PASSWORD,
            role=Role.COORDINATOR.value,
        )
        program = services.create_program(
            SYSTEM,
            name="Reconnecting with Warmth",
            description="Eight weeks of small steps back towards feeling.",
            cycle_length=8,
            min_group_size=5,
            retention_days=180,
            coordinator_ids=[coordinator.id],
        )
        plan = services.add_session_plan(SYSTEM, program.id, title="Arriving", goal="Feel safe")
        services.add_activity(SYSTEM, plan.id, kind="check_in", title="How are you arriving?")
        services.add_activity(
            SYSTEM,
            plan.id,
            kind="prompt",
            title="Mindful tasting",
            text="Taste slowly.",
            intensity=1,
            timer_seconds=180,
        )
        services.add_activity(SYSTEM, plan.id, kind="check_out", title="How are you leaving?")
        cohort = services.create_cohort(
            SYSTEM,
            program.id,
            name="Tuesday evenings",
            start_date=date(2026, 9, 1),
            meeting_time=clock(18, 30),
            timezone="Europe/London",
            facilitator_ids=[facilitator.id],
        )
        members = {
            name: services.add_member(SYSTEM, cohort.id, display_name=name).id for name in NAMES
        }
        result = Seed(facilitator.email, cohort.sessions[0].id, members)
        db.session.remove()
        db.engine.dispose()
    return result


def query(database_url: str, fn: Callable[[Any], Any]) -> Any:
    """Run fn(db.session) in a fresh app context and return its result."""
    from groups.extensions import db

    app = local_app(database_url)
    with app.app_context():
        try:
            return fn(db.session)
        finally:
            db.session.remove()
            db.engine.dispose()


# --- clients ----------------------------------------------------------------------------------


class Staff:
    """A facilitator's browser: the login cookie and the CSRF token, over the HTTP API."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.http = requests.Session()
        self.http.headers["User-Agent"] = USER_AGENT
        self.csrf = ""

    def sign_in(self, email: str, password: str = PASSWORD) -> None:
        response = self.http.post(
            self.base_url + "/api/v1/session",
            json={"email": email, "password": password},
            timeout=WAIT,
        )
        assert response.status_code == 200, response.text
        self.csrf = response.json()["csrf_token"]

    def post(self, path: str, json: Any = None) -> requests.Response:
        return self.http.post(
            self.base_url + path,
            json=json if json is not None else {},
            headers={"X-CSRFToken": self.csrf},
            timeout=WAIT,
        )

    def socket_headers(self) -> dict[str, str]:
        """What the browser's socket sends: the login cookie, from the same User-Agent."""
        cookie = "; ".join(f"{c.name}={c.value}" for c in self.http.cookies)
        return {"Cookie": cookie, "User-Agent": USER_AGENT}


class _QuickCloseWebSocket(websocket.WebSocket):
    """websocket-client's WebSocket, waiting at most 0.2 s for the server's close frame.

    Under gevent's pywsgi the TCP connection stays open after the WebSocket ends, so a close
    handshake that crosses the server's own close frame waits out the default 3 s on every
    disconnect; the tests do not need that wait.
    """

    def close(self, status: int = websocket.STATUS_NORMAL, reason: bytes = b"", timeout: float = 3):
        super().close(status, reason, timeout=min(timeout, 0.2))


@dataclass
class Peer:
    """One real python-socketio client over a WebSocket, recording everything it hears."""

    base_url: str
    auth: Any
    headers: dict[str, str] = field(default_factory=dict)
    reconnection: bool = False
    events: list[tuple[str, Any]] = field(default_factory=list)
    connect_errors: list[Any] = field(default_factory=list)
    connects: int = 0
    disconnects: int = 0

    def __post_init__(self):
        self._cond = threading.Condition()
        self.sio = socketio.Client(
            reconnection=self.reconnection,
            reconnection_delay=0.2,
            reconnection_delay_max=0.5,
            randomization_factor=0,
            request_timeout=WAIT,
            websocket_extra_options={"class_": _QuickCloseWebSocket},
        )
        # python-engineio drops (never closes) a WebSocket the server cut: close each at the end.
        self._sockets: list[websocket.WebSocket] = []
        self.sio.on("*", self._on_event)
        self.sio.on("connect", self._on_connect)
        self.sio.on("connect_error", self._on_connect_error)
        self.sio.on("disconnect", self._on_disconnect)

    def _record(self, fn: Callable[[], None]) -> None:
        with self._cond:
            fn()
            self._cond.notify_all()

    def _on_event(self, event: str, *args: Any) -> None:
        self._record(lambda: self.events.append((event, args[0] if args else None)))

    def _on_connect(self) -> None:
        def bump():
            self.connects += 1
            if self.sio.eio.ws is not None:
                self._sockets.append(self.sio.eio.ws)

        self._record(bump)

    def _on_connect_error(self, data: Any = None) -> None:
        self._record(lambda: self.connect_errors.append(data))

    def _on_disconnect(self, *_reason: Any) -> None:
        def bump():
            self.disconnects += 1

        self._record(bump)

    def connect(self, timeout: float = WAIT) -> Peer:
        self.sio.connect(
            self.base_url,
            auth=self.auth,
            headers=self.headers,
            transports=["websocket"],
            wait_timeout=timeout,
        )
        return self

    def close(self) -> None:
        """Stop the client, reconnection included (never blocks for long)."""
        try:
            self.sio.shutdown()
        except Exception:  # noqa: BLE001, S110 - teardown of an already broken client
            pass
        with self._cond:
            sockets, self._sockets = self._sockets, []
        for ws in sockets:
            ws.shutdown()

    def cut(self) -> None:
        """Drop the TCP connection under the WebSocket, as a phone walking out of Wi-Fi does."""
        ws = self.sio.eio.ws
        assert ws is not None and ws.sock is not None, "not connected over a WebSocket"
        ws.sock.shutdown(socket.SHUT_RDWR)

    def call(self, event: str, data: Any = None, timeout: float = WAIT) -> Any:
        return self.sio.call(event, data if data is not None else {}, timeout=timeout)

    def mark(self) -> int:
        """A cursor: wait_for(..., since=mark) looks only at what arrives after it."""
        with self._cond:
            return len(self.events)

    def received(self, event: str, since: int = 0) -> list[Any]:
        with self._cond:
            return [data for name, data in self.events[since:] if name == event]

    def wait_for(
        self,
        event: str,
        predicate: Callable[[Any], bool] = lambda _data: True,
        since: int = 0,
        timeout: float = WAIT,
    ) -> Any:
        """Return the first payload of the event after `since` that satisfies the predicate."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for name, data in self.events[since:]:
                    if name == event and predicate(data):
                        return data
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = [data for name, data in self.events[since:] if name == event]
                    raise AssertionError(
                        f"no matching {event!r} within {timeout} s; last seen: "
                        f"{seen[-1] if seen else None!r}"
                    )
                self._cond.wait(remaining)

    def wait_connects(self, count: int, timeout: float = WAIT) -> None:
        """Wait until the client has connected `count` times in all (reconnects included)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self.connects < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"connected {self.connects} times, not {count}, within {timeout} s"
                    )
                self._cond.wait(remaining)

    def wait_disconnects(self, count: int, timeout: float = WAIT) -> None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while self.disconnects < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"not disconnected {count} times within {timeout} s")
                self._cond.wait(remaining)


class Phone:
    """A participant's phone: its own device token and secret, joined over HTTP first."""

    def __init__(self, base_url: str, name: str, member_id: int, reconnection: bool = False):
        self.base_url = base_url
        self.name = name
        self.member_id = member_id
        self.device_token = secrets.token_urlsafe(24)
        self.secret = secrets.token_urlsafe(24)
        self.reconnection = reconnection
        self.peer: Peer | None = None

    def join(self, code: str) -> Phone:
        lookup = requests.post(
            self.base_url + "/api/v1/join/lookup", json={"code": code}, timeout=WAIT
        )
        assert lookup.status_code == 200, lookup.text
        response = requests.post(
            self.base_url + "/api/v1/join",
            json={
                "code": code,
                "device_token": self.device_token,
                "member_id": self.member_id,
                "consent_version": lookup.json()["consent_version"],
            },
            timeout=WAIT,
        )
        assert response.status_code == 200, response.text
        return self

    @property
    def auth(self) -> dict[str, Any]:
        return {"role": "phone", "device_token": self.device_token, "secret": self.secret}

    def connect(self) -> Phone:
        self.peer = Peer(self.base_url, self.auth, reconnection=self.reconnection).connect()
        return self

    @staticmethod
    def new_client_id() -> str:
        return secrets.token_urlsafe(12)

    def answer(self, activity_id: int, client_id: str | None = None, **values: Any) -> Any:
        payload = {"activity_id": activity_id, "client_id": client_id or self.new_client_id()}
        return self.peer.call("submit_answer", payload | values)


@dataclass
class Room:
    """A live session over the wire: the console, a paired TV screen and six phones."""

    server: LiveServer
    seed: Seed
    staff: Staff
    console: Peer
    screen: Peer
    phones: list[Phone]
    join_code: str
    activities: dict[str, int]
    extra: list[Peer] = field(default_factory=list)

    @property
    def session_id(self) -> int:
        return self.seed.group_session_id

    def peers(self) -> list[Peer]:
        return [self.console, self.screen, *(p.peer for p in self.phones if p.peer), *self.extra]

    def command(self, event: str, data: Any = None) -> Any:
        """Send a console command; fail unless it is acknowledged ok."""
        ack = self.console.call(event, data)
        assert ack["ok"], ack
        return ack

    def close(self) -> None:
        for peer in self.peers():
            peer.close()


def pair_screen(base_url: str, staff: Staff, session_id: int) -> str:
    """Pair a TV with a one-time screen code; return the screen token."""
    issued = staff.post(f"/api/v1/sessions/{session_id}/screen-code")
    assert issued.status_code == 200, issued.text
    paired = requests.post(
        base_url + "/api/v1/screens", json={"code": issued.json()["code"]}, timeout=WAIT
    )
    assert paired.status_code == 200, paired.text
    again = requests.post(
        base_url + "/api/v1/screens", json={"code": issued.json()["code"]}, timeout=WAIT
    )
    assert again.status_code == 404, "a screen code works once"
    return paired.json()["screen_token"]


def open_room(server: LiveServer, seeded: Seed, reconnection: bool = True) -> Room:
    """Sign in, start the session over HTTP, connect its console and screen, join six phones."""
    staff = Staff(server.url)
    staff.sign_in(seeded.facilitator_email)
    started = staff.post(f"/api/v1/sessions/{seeded.group_session_id}/start")
    assert started.status_code == 200, started.text
    assert started.json()["state"] == "live"
    peers: list[Peer] = []
    try:
        console = Peer(
            server.url,
            {"role": "console", "session_id": seeded.group_session_id},
            headers=staff.socket_headers(),
            reconnection=reconnection,
        )
        peers.append(console)
        console.connect()
        state = console.wait_for("console_state")
        token = pair_screen(server.url, staff, seeded.group_session_id)
        screen = Peer(
            server.url, {"role": "screen", "screen_token": token}, reconnection=reconnection
        )
        peers.append(screen)
        screen.connect()
        screen.wait_for("screen_state")
        phones = []
        for name, member_id in seeded.members.items():
            phone = Phone(server.url, name, member_id, reconnection=reconnection)
            phone.join(state["session"]["join_code"]).connect()
            peers.append(phone.peer)
            phone.peer.wait_for("session_state", lambda s: "me" in s)
            phones.append(phone)
    except BaseException:
        for peer in peers:
            peer.close()
        raise
    return Room(
        server=server,
        seed=seeded,
        staff=staff,
        console=console,
        screen=screen,
        phones=phones,
        join_code=state["session"]["join_code"],
        activities={a["kind"]: a["id"] for a in state["agenda"]},
    )
