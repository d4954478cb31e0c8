"""Own the one SocketIO object, created unbound and attached in init_realtime."""

from flask_socketio import SocketIO

socketio = SocketIO()
