"""Own the Socket.IO connection life cycle and the protocol table of commands.

Each command is one row: who may send it, the schema of its payload, and the one service it
calls. The dispatcher parses, checks the sender's role and rate, calls, and acks
{"ok": true, "data": ...} or {"ok": false, "error": {"code", "message", "fields"}}.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import current_app, has_app_context, has_request_context, request
from flask_babel import gettext
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, join_room
from marshmallow import Schema, ValidationError

from facilitation import services, snapshots
from facilitation.services import Participant
from groups import i18n
from groups.errors import (
    Forbidden,
    HearthError,
    NotAuthenticated,
    RateLimited,
    ValidationFailed,
)
from groups.extensions import db
from realtime import rooms
from realtime import schemas as s
from realtime.extensions import socketio

log = logging.getLogger(__name__)

PHONE, SCREEN, CONSOLE = "phone", "screen", "console"


class ConnectionLimiter:
    """A moving window per connection: at most `count` commands in any `seconds`.

    One deque of accepted hits per socket, forgotten with the socket: a hit looks at its own
    socket alone (the `limits` package's memory storage rescanned every key on every hit).
    """

    def __init__(self) -> None:
        self._hits: dict[str, deque[float]] = {}

    def hit(self, rate: tuple[int, float], key: str) -> bool:
        count, seconds = rate
        now = time.monotonic()
        hits = self._hits.get(key)
        if hits is None:
            hits = self._hits[key] = deque()
        while hits and hits[0] <= now - seconds:
            hits.popleft()
        if len(hits) >= count:
            return False
        hits.append(now)
        return True

    def forget(self, key: str) -> None:
        self._hits.pop(key, None)


_limiter = ConnectionLimiter()
_RATES = {  # (commands, seconds), per connection
    PHONE: (30, 10.0),
    SCREEN: (30, 10.0),
    CONSOLE: (120, 10.0),
}


@dataclass
class Connection:
    """What this process knows of one socket; gone with the socket, rebuilt on reconnect."""

    role: str
    group_session_id: int
    participant: Participant | None = None
    user_id: int | None = None
    language: str | None = None  # the page's language: errors in acks come in it


_connections: dict[str, Connection] = {}


def connection() -> Connection:
    conn = _connections.get(request.sid)
    if conn is None:
        raise NotAuthenticated("This connection is not signed in.")
    return conn


@socketio.on("connect")
def on_connect(auth: Any = None):
    """A phone (device token), a screen (screen token or login) or a console (login) connects.

    Anything else is refused. The client then gets a full snapshot, so a reconnect resumes.
    """
    if request.sid in _connections:
        # A client can send an *event* named "connect": never let it re-run sign-in on a socket.
        return
    auth = auth if isinstance(auth, dict) else {}
    i18n.use_connection_language(auth.get("lang"))  # the page's language, for a refusal
    try:
        conn = _authenticate(auth)
    except HearthError as exc:
        db.session.rollback()
        raise ConnectionRefusedError(exc.message, exc.to_dict()) from None
    conn.language = auth.get("lang") if isinstance(auth.get("lang"), str) else None
    _connections[request.sid] = conn
    if conn.role == PHONE:
        join_room(rooms.phones(conn.group_session_id))
        join_room(rooms.member(conn.participant.member_id))
        state = snapshots.phone_state(conn.group_session_id, conn.participant)
        socketio.emit("session_state", state, to=request.sid)
    elif conn.role == SCREEN:
        join_room(rooms.screen(conn.group_session_id))
        if conn.user_id is not None:
            join_room(rooms.staff(conn.user_id))
        socketio.emit("screen_state", snapshots.screen_state(conn.group_session_id), to=request.sid)
    else:
        join_room(rooms.console(conn.group_session_id))
        join_room(rooms.staff(conn.user_id))
        state = snapshots.console_state(conn.group_session_id)
        socketio.emit("console_state", state, to=request.sid)


def _authenticate(auth: dict[str, Any]) -> Connection:
    role = auth.get("role")
    if role == PHONE:
        participant = services.authenticate_phone(
            auth.get("device_token"), auth.get("secret"), auth.get("keep_history", True)
        )
        if participant is None:
            raise NotAuthenticated("This phone has not joined a session.")
        return Connection(PHONE, participant.group_session_id, participant=participant)
    if role == SCREEN and auth.get("screen_token"):
        return Connection(SCREEN, services.authenticate_screen(auth.get("screen_token")))
    if role in (SCREEN, CONSOLE):
        # Screen and console of a signed-in staff member: joined to their staff room below.
        session_id = auth.get("session_id")
        if not isinstance(session_id, int) or not current_user.is_authenticated:
            raise NotAuthenticated("Sign in to run this session.")
        services.get_live_session(current_user, session_id)
        return Connection(role, session_id, user_id=current_user.id)
    raise NotAuthenticated("Unknown kind of connection.")


@socketio.on("disconnect")
def on_disconnect(*_reason: Any):
    """Forget the connection; a phone stays 'here' through the grace period."""
    if socketio.server.manager.is_connected(request.sid, "/"):
        return  # an *event* named "disconnect" from a live socket, not a real departure
    conn = _connections.pop(request.sid, None)
    _limiter.forget(request.sid)
    if conn is not None and conn.participant is not None:
        services.phone_left(conn.participant)


def _staff_actor(conn: Connection):
    # The login is re-read on every event: signing out elsewhere stops this console at once.
    if not current_user.is_authenticated or current_user.id != conn.user_id:
        raise NotAuthenticated("Your sign-in ended; sign in again.")
    return current_user


def _ok(data: Any = None) -> dict[str, Any]:
    return {"ok": True, "data": data}


def _error(exc: HearthError) -> dict[str, Any]:
    return {"ok": False, "error": exc.to_dict()}


def _in_request(sid: str, answer: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    # An error's words are translated in the request context of the socket (its page's language).
    if has_request_context():
        return answer()
    with current_app.request_context(socketio.server.get_environ(sid, namespace="/")):
        return answer()


def dispatch(
    roles: tuple[str, ...], schema: Schema, call: Callable, data: Any, sid: str | None = None
):
    """Parse, authorise, rate-limit, call one service, and ack."""
    sid = request.sid if sid is None else sid
    try:
        conn = _connections.get(sid)
        if conn is None:
            raise NotAuthenticated("This connection is not signed in.")
        i18n.use_connection_language(conn.language)
        if conn.role not in roles:
            raise Forbidden("This connection may not send that.")
        if not _limiter.hit(_RATES[conn.role], sid):
            raise RateLimited("Too many messages; wait a moment.")
        try:
            payload = schema.load(data if data is not None else {})
        except ValidationError as exc:
            messages = exc.messages if isinstance(exc.messages, dict) else {"_": exc.messages}
            raise ValidationFailed("That message is not well-formed.", fields=messages) from None
        return _ok(call(conn, payload))
    except HearthError as exc:
        db.session.rollback()
        refusal = exc
        return _in_request(sid, lambda: _error(refusal))
    except Exception:
        db.session.rollback()
        log.exception("socket command failed")
        return _in_request(
            sid,
            lambda: {
                "ok": False,
                "error": {
                    "code": "server_error",
                    "message": gettext("Something went wrong; nothing was saved."),
                },
            },
        )


def _phone(conn: Connection) -> Participant:
    return conn.participant


def _state(conn: Connection, _payload):
    if conn.role == PHONE:
        return snapshots.phone_state(conn.group_session_id, conn.participant)
    if conn.role == SCREEN:
        return snapshots.screen_state(conn.group_session_id)
    _staff_actor(conn)
    return snapshots.console_state(conn.group_session_id)


def _staff(fn: Callable[..., Any]) -> Callable[[Connection, dict], Any]:
    def call(conn: Connection, payload: dict) -> Any:
        fn(_staff_actor(conn), conn.group_session_id, **payload)
        return {"revision": None}

    return call


def _submit_answer(conn: Connection, payload: dict) -> dict[str, Any] | None:
    # Stored with the next group commit of this process (realtime/writer.py), acked after it.
    writer = current_app.extensions["hearth_answer_writer"]
    return snapshots.answer_view(writer.submit(conn.participant, payload["activity_id"], payload))


def _history(conn: Connection, _payload):
    return {
        "answers": [
            snapshots.answer_view(a) | {"answered_on": a.answered_on.isoformat()}
            for a in services.own_history(conn.participant)
        ]
    }


# The protocol table: event -> (who may send it, payload schema, what it does).
COMMANDS: dict[str, tuple[tuple[str, ...], type[Schema], Callable[[Connection, dict], Any]]] = {
    "get_state": ((PHONE, SCREEN, CONSOLE), s.Empty, _state),
    "heartbeat": ((PHONE,), s.Empty, lambda c, p: services.heartbeat(c.participant)),
    "submit_answer": ((PHONE,), s.SubmitAnswer, _submit_answer),
    "send_appreciation": (
        (PHONE,),
        s.SendAppreciation,
        lambda c, p: {
            "id": services.send_appreciation(c.participant, p["activity_id"], p).id,
            "moderation": "pending",
        },
    ),
    "request_pause": (
        (PHONE,),
        s.RequestPause,
        lambda c, p: {"id": services.request_pause(c.participant, p).id},
    ),
    "my_history": ((PHONE,), s.Empty, _history),
    "forget_me": (
        (PHONE,),
        s.Empty,
        lambda c, p: {"deleted": services.forget_own_history(c.participant)},
    ),
    "show_activity": (
        (CONSOLE,),
        s.ActivityRef,
        _staff(lambda a, sid, activity_id: services.show_activity(a, sid, activity_id)),
    ),
    "next_activity": (
        (CONSOLE,),
        s.Empty,
        _staff(lambda a, sid: services.step_activity(a, sid, 1)),
    ),
    "previous_activity": (
        (CONSOLE,),
        s.Empty,
        _staff(lambda a, sid: services.step_activity(a, sid, -1)),
    ),
    "open_activity": (
        (CONSOLE,),
        s.ActivityRef,
        _staff(lambda a, sid, activity_id: services.open_activity(a, sid, activity_id)),
    ),
    "close_activity": (
        (CONSOLE,),
        s.ActivityRef,
        _staff(lambda a, sid, activity_id: services.close_activity(a, sid, activity_id)),
    ),
    "reveal_results": (
        (CONSOLE,),
        s.ActivityRef,
        _staff(lambda a, sid, activity_id: services.reveal_results(a, sid, activity_id)),
    ),
    "control_timer": (
        (CONSOLE,),
        s.Timer,
        _staff(
            lambda a, sid, activity_id, action: services.control_timer(a, sid, activity_id, action)
        ),
    ),
    "start_grounding": ((CONSOLE,), s.Empty, _staff(services.start_grounding)),
    "end_grounding": ((CONSOLE,), s.Empty, _staff(services.end_grounding)),
    "moderate": (
        (CONSOLE,),
        s.Moderate,
        _staff(lambda a, sid, kind, id, decision: services.moderate(a, sid, kind, id, decision)),
    ),
    "acknowledge_pause": (
        (CONSOLE,),
        s.PauseRef,
        _staff(lambda a, sid, id: services.acknowledge_pause(a, sid, id)),
    ),
    "form_dyads": (
        (CONSOLE,),
        s.ActivityRef,
        _staff(lambda a, sid, activity_id: services.form_dyads(a, sid, activity_id)),
    ),
    "set_attendance": (
        (CONSOLE,),
        s.SetAttendance,
        _staff(
            lambda a, sid, member_id, status: services.set_attendance(a, sid, member_id, status)
        ),
    ),
    "end_session": ((CONSOLE,), s.Empty, _staff(services.end_session)),
}


def _register(event: str) -> None:
    roles, schema_class, call = COMMANDS[event]
    schema = schema_class()  # one instance per command: loading keeps no state on it

    def handler(data: Any = None):
        return dispatch(roles, schema, call, data)

    handler.__name__ = f"on_{event}"
    socketio.on_event(event, handler)


for _event in COMMANDS:
    _register(_event)


# The hot path: a room of phones answering. These commands need no Flask request per event
# (no login, no cookie, no URL): they run in an app context only, and an error's words are
# translated in a request context made for the error alone.
BARE_EVENTS = ("submit_answer",)


def bare_handler(event: str) -> Callable[..., Any]:
    """A python-socketio handler for one command, without Flask-SocketIO's request context."""
    roles, schema_class, call = COMMANDS[event]
    schema = schema_class()

    def handler(sid: str, data: Any = None, *_more: Any):
        environ = socketio.server.get_environ(sid, namespace="/")
        if not environ:
            return None
        app = environ["flask.app"]
        if has_app_context() and current_app._get_current_object() is app:
            return dispatch(roles, schema, call, data, sid=sid)  # a test client's own context
        with app.app_context():
            return dispatch(roles, schema, call, data, sid=sid)

    handler.__name__ = f"on_{event}"
    return handler
