"""Own the turning of committed domain events into emits, coalesced per session.

A burst of forty answers marks a session dirty forty times but redraws it a few times: the
first change schedules one flush a moment later, and that flush sends fresh snapshots built
from the database to the screen, console and phone rooms.
"""

from __future__ import annotations

import logging
import threading

from flask import Flask

from facilitation import snapshots
from groups.events import DomainEvent
from groups.extensions import db
from realtime import rooms
from realtime.extensions import socketio

log = logging.getLogger(__name__)


class Publisher:
    """Deliver events to rooms after commit; snapshots coalesced per session."""

    def __init__(self, app: Flask, delay: float):
        self.app = app
        self.delay = delay
        self._lock = threading.Lock()
        self._scheduled: set[int] = set()
        self._changes: dict[int, set[str]] = {}
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
        try:
            if self.delay:
                socketio.sleep(self.delay)
            with self._lock:
                self._scheduled.discard(group_session_id)
                what = self._changes.pop(group_session_id, set())
            with self.app.app_context():
                try:
                    self.flush(group_session_id, what)
                finally:
                    db.session.remove()
        except Exception:  # a failed redraw must not kill the server; clients resync on reconnect
            log.exception("could not publish session %s", group_session_id)
        finally:
            with self._lock:
                self._busy -= 1

    def flush(self, group_session_id: int, what: set[str]) -> None:
        """Send each audience of one session its fresh snapshot."""
        self.flushes += 1
        sid = group_session_id
        socketio.emit("screen_state", snapshots.screen_state(sid), to=rooms.screen(sid))
        socketio.emit("console_state", snapshots.console_state(sid), to=rooms.console(sid))
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
