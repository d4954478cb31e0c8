"""The bare stack: a minimal Flask-SocketIO app doing what a Hearth room does, and nothing else.

A phone takes a token over HTTP (`POST /join`), connects with it, joins its room and answers
with an ack; every answer bumps the room's tally, which is pushed to the room's screen. No
database, no snapshots, no coalescing: the ceiling the stack itself allows.

    python bench/bare_app.py   # SOCKETIO_ASYNC_MODE=eventlet|gevent, HOST, PORT
"""

import os

MODE = os.environ.get("SOCKETIO_ASYNC_MODE", "eventlet")
if __name__ == "__main__":
    if MODE == "eventlet":
        import eventlet

        eventlet.monkey_patch()
    elif MODE == "gevent":
        from gevent import monkey

        monkey.patch_all()

import secrets
import warnings
from datetime import UTC, datetime

from flask import Flask, jsonify, request
from flask_socketio import ConnectionRefusedError, SocketIO, join_room

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated", category=Warning)

app = Flask(__name__)
socketio = SocketIO(app, async_mode=MODE, max_http_buffer_size=16 * 1024)
tokens: dict[str, str] = {}
tallies: dict[str, int] = {}
sockets: dict[str, str] = {}


@app.get("/healthz")
def healthz():
    """Answer 200."""
    return jsonify(status="ok")


@app.post("/join")
def join():
    """A phone takes a token for a room."""
    token = secrets.token_urlsafe(16)
    tokens[token] = str(request.get_json()["room"])
    return jsonify(device_token=token)


@socketio.on("connect")
def on_connect(auth=None):
    """A phone (token) or a screen (room) connects and joins its room."""
    auth = auth or {}
    if auth.get("role") == "screen":
        join_room(f"screen:{auth['room']}")
        return
    room = tokens.get(auth.get("device_token"))
    if room is None:
        raise ConnectionRefusedError("unknown token")
    sockets[request.sid] = room
    join_room(f"phones:{room}")


@socketio.on("disconnect")
def on_disconnect(*_reason):
    """Forget the socket."""
    sockets.pop(request.sid, None)


@socketio.on("submit_answer")
def on_answer(data):
    """A phone answers; the room's screen hears the new tally."""
    room = sockets[request.sid]
    tallies[room] = tallies.get(room, 0) + 1
    now = datetime.now(UTC).isoformat()
    socketio.emit(
        "screen_state", {"responded": tallies[room], "server_now": now}, to=f"screen:{room}"
    )
    return {"ok": True, "data": {"client_id": data.get("client_id")}}


if __name__ == "__main__":
    options = {"max_size": 20_000} if MODE == "eventlet" else {}
    print(f"bare stack serving ({MODE})", flush=True)
    socketio.run(
        app,
        host=os.environ.get("HOST", "127.0.0.1"),
        port=int(os.environ.get("PORT", "5001")),
        allow_unsafe_werkzeug=True,
        log_output=False,
        **options,
    )
