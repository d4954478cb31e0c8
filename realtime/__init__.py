"""Transport only: Socket.IO connections, rooms, thin handlers and the publisher of events."""

from __future__ import annotations

from flask import Flask

from groups.events import set_publisher
from realtime.extensions import socketio


def init_realtime(app: Flask) -> None:
    """Attach Socket.IO with the configured async mode, never an auto-detected one."""
    # Handlers first: registered before the first init_app, they are kept on the SocketIO
    # object and attached to every server it makes (tests make one app per test).
    from realtime import handlers  # noqa: F401

    socketio.init_app(
        app,
        async_mode=app.config["SOCKETIO_ASYNC_MODE"],
        message_queue=app.config.get("SOCKETIO_MESSAGE_QUEUE"),
        channel=app.config.get("SOCKETIO_CHANNEL", "hearth"),
        # Same-origin only: no wildcard CORS for a room people trust.
        cors_allowed_origins=app.config.get("SOCKETIO_CORS_ORIGINS"),
        max_http_buffer_size=app.config.get("SOCKETIO_MAX_BUFFER", 16 * 1024),
        manage_session=False,
        ping_interval=app.config.get("SOCKETIO_PING_INTERVAL", 20),
        ping_timeout=app.config.get("SOCKETIO_PING_TIMEOUT", 20),
    )
    for event in handlers.BARE_EVENTS:  # the hot path, without a Flask request per event
        socketio.server.on(event, handlers.bare_handler(event), namespace="/")
    from realtime.publisher import Publisher

    publisher = Publisher(app, delay=app.config.get("SOCKETIO_COALESCE_SECONDS", 0.1))
    app.extensions["hearth_publisher"] = publisher
    set_publisher(publisher)
    from realtime.writer import AnswerWriter

    app.extensions["hearth_answer_writer"] = AnswerWriter(app)
