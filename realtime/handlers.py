"""Own the Socket.IO event handlers: each parses, calls one service, and acks."""

from __future__ import annotations

from realtime.extensions import socketio


@socketio.on("connect")
def on_connect(auth=None):
    """Refuse every connection until the live session (issue 4) authenticates phones and screens."""
    return False
