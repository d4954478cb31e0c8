"""Own the turning of committed domain events into emits, coalesced per session.

A burst of forty answers marks a session dirty forty times but redraws it a few times: a
change to a session that was not redrawn within the last `delay` seconds is sent at once
(as soon as the handler that committed it yields); changes that follow within `delay` are
gathered into one redraw `delay` after the previous one. So a session is redrawn at most
1/delay times a second, and a lone answer reaches the screen without waiting.

Each redraw sends fresh snapshots built from the database, in one transaction, to the rooms
that can see what changed: phones are not sent a snapshot for changes they cannot see
(answers, presence, moderation, pause signals). After new answers alone, the screen's and
console's last snapshots are renewed (results, timer, clock) rather than rebuilt, unless the
session's revision in the database says that anything else changed, in any process.
"""

from __future__ import annotations

import logging
import threading
import time

from flask import Flask

from facilitation import snapshots
from groups.events import DomainEvent
from groups.extensions import db
from realtime import rooms
from realtime.extensions import socketio

log = logging.getLogger(__name__)

# Changes that the phones' public snapshot does not show: no redraw is sent to phones for them.
NOT_ON_PHONES = frozenset({"answers", "presence", "moderation", "pause"})
# Changes that the shared screen does not show (presence and pauses are the console's alone).
NOT_ON_SCREEN = frozenset({"presence", "pause"})
# Changes after which the last snapshots only need fresh results.
RESULTS_ONLY = frozenset({"answers"})


class Publisher:
    """Deliver events to rooms after commit; snapshots coalesced per session."""

    def __init__(self, app: Flask, delay: float):
        self.app = app
        self.delay = delay
        self._lock = threading.Lock()
        self._scheduled: set[int] = set()
        self._changes: dict[int, set[str]] = {}
        self._last: dict[int, float] = {}  # session id -> when its last redraw began
        self._sent: dict[int, tuple[dict, dict]] = {}  # session id -> last screen, console
        self._running: set[int] = set()  # sessions being redrawn now
        self._busy = 0
        self.flushes = 0

    def __call__(self, event: DomainEvent) -> None:
        if event.name == "session_changed":
            self._mark(int(event.audience.id), set(event.data.get("what", [])))
            return
        if event.name == "staff_signed_out":
            # Signing out closes that person's consoles and screens in this process; in others
            # their next command is refused, because the login is re-read on every event.
            room = rooms.staff(int(event.audience.id))
            socketio.emit("signed_out", {}, to=room)
            for sid, _eio_sid in list(socketio.server.manager.get_participants("/", room)):
                socketio.server.disconnect(sid, namespace="/")
            return
        for room in rooms.for_audience(event.audience.kind, event.audience.id):
            socketio.emit(event.name, event.data, to=room)

    def _mark(self, group_session_id: int, what: set[str]) -> None:
        with self._lock:
            self._changes.setdefault(group_session_id, set()).update(what)
            if group_session_id in self._scheduled:
                return
            self._scheduled.add(group_session_id)
            self._busy += 1
        socketio.start_background_task(self._flush_later, group_session_id)

    def _flush_later(self, group_session_id: int) -> None:
        sid = group_session_id
        try:
            while True:  # one redraw of a session at a time, at most one per `delay`
                with self._lock:
                    last = self._last.get(sid)
                    wait = 0.0 if last is None else last + self.delay - time.monotonic()
                    if wait <= 0 and sid not in self._running:
                        self._running.add(sid)
                        self._scheduled.discard(sid)
                        what = self._changes.pop(sid, set())
                        self._last[sid] = now = time.monotonic()
                        if len(self._last) > 1000:  # forget sessions not redrawn for a while
                            self._last = {k: t for k, t in self._last.items() if now - t < 60}
                            self._sent = {k: v for k, v in self._sent.items() if k in self._last}
                        break
                socketio.sleep(max(wait, 0.005))
            try:
                with self.app.app_context():
                    try:
                        self.flush(sid, what)
                    finally:
                        db.session.remove()
            finally:
                with self._lock:
                    self._running.discard(sid)
        except Exception:  # a failed redraw must not kill the server; clients resync on reconnect
            log.exception("could not publish session %s", sid)
        finally:
            with self._lock:
                self._busy -= 1

    def flush(self, group_session_id: int, what: set[str]) -> None:
        """Send each audience of one session its fresh snapshot."""
        self.flushes += 1
        sid = group_session_id
        screen = console = None
        last = self._sent.get(sid)
        if what and what <= RESULTS_ONLY and last is not None:
            screen = snapshots.with_fresh_results(sid, last[0])
            if screen is not None:
                console = last[1] | {k: screen[k] for k in ("activity", "results", "server_now")}
        if screen is None:
            screen = snapshots.screen_state(sid)
            console = snapshots.console_state(sid, screen=screen)
        self._sent[sid] = (screen, console)
        if not what or what - NOT_ON_SCREEN:
            socketio.emit("screen_state", screen, to=rooms.screen(sid))
        socketio.emit("console_state", console, to=rooms.console(sid))
        if not what or what - NOT_ON_PHONES:
            socketio.emit("session_state", snapshots.phone_state(sid), to=rooms.phones(sid))
        if "ended" in what:
            socketio.emit("session_ended", {"session_id": sid}, to=rooms.phones(sid))

    def idle(self) -> bool:
        """Say whether no flush is scheduled or running (tests wait on this)."""
        with self._lock:
            return self._busy == 0

    def settle(self, timeout: float = 5.0) -> None:
        """Wait until every scheduled flush has run."""
        waited = 0.0
        while not self.idle() and waited < timeout:
            socketio.sleep(0.01)
            waited += 0.01
