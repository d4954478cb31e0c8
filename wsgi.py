"""Compose Hearth: the only module that imports all three packages, and the only one that patches.

Serve with `python wsgi.py` (eventlet's or gevent's own server, per SOCKETIO_ASYNC_MODE) or,
for gevent, `gunicorn -k gevent -w 1 'wsgi:create_app()'` (gunicorn patches for itself).
"""

import os
import warnings

# eventlet warns on import that it is in maintenance mode; the README says why it is still the
# default and how to switch to gevent. Say it once there, not on every command.
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated", category=Warning)

ASYNC_MODES = ("eventlet", "gevent", "threading")
MAX_CONNECTIONS = 10_000  # per process; the file descriptor limit must be above it

if __name__ == "__main__":
    # Patch first, before anything that makes a socket, a lock or a thread is imported.
    _mode = os.environ.get("SOCKETIO_ASYNC_MODE", "eventlet")
    if _mode == "eventlet":
        import eventlet

        eventlet.monkey_patch()
    elif _mode == "gevent":
        from gevent import monkey

        monkey.patch_all()

import logging
import secrets
from pathlib import Path
from typing import Any

from flask import Flask, jsonify, request
from sqlalchemy import text

from groups.extensions import csrf, db, limiter, login_manager, migrate

log = logging.getLogger("hearth")


def _secret_key(instance_path: str) -> str:
    """Read the secret key kept in the instance folder, making one on first start."""
    path = Path(instance_path) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_hex(32)
    path.touch(mode=0o600)
    path.write_text(key)
    return key


def _database_url(url: str, async_mode: str) -> str:
    """Pick the PostgreSQL driver that cooperates with the async mode (psycopg2 under eventlet)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            driver = "psycopg2" if async_mode == "eventlet" else "psycopg"
            return f"postgresql+{driver}://" + url[len(prefix) :]
    return url


def load_config(app: Flask, env: dict[str, str]) -> dict[str, Any]:
    """Read the configuration from environment variables, with safe defaults."""
    async_mode = env.get("SOCKETIO_ASYNC_MODE", "eventlet")
    if async_mode not in ASYNC_MODES:
        raise RuntimeError(f"SOCKETIO_ASYNC_MODE must be one of {ASYNC_MODES}, not {async_mode!r}")
    default_db = "sqlite:///" + str(Path(app.instance_path) / "hearth.db")
    url = _database_url(env.get("DATABASE_URL") or default_db, async_mode)
    return {
        "SECRET_KEY": env.get("SECRET_KEY") or _secret_key(app.instance_path),
        "SQLALCHEMY_DATABASE_URI": url,
        "SQLALCHEMY_ENGINE_OPTIONS": _engine_options(url, env),
        "SOCKETIO_ASYNC_MODE": async_mode,
        "SOCKETIO_MESSAGE_QUEUE": env.get("SOCKETIO_MESSAGE_QUEUE") or None,
        "SOCKETIO_CHANNEL": env.get("SOCKETIO_CHANNEL", "hearth"),
        "FORWARDED_PROXIES": int(env.get("FORWARDED_PROXIES", "0")),
        "HOST": env.get("HOST", "127.0.0.1"),
        "PORT": int(env.get("PORT", "5000")),
        "RATELIMIT_STORAGE_URI": env.get("RATELIMIT_STORAGE_URI", "memory://"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": env.get("SESSION_COOKIE_SECURE", "0") == "1",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": env.get("SESSION_COOKIE_SECURE", "0") == "1",
        "WTF_CSRF_TIME_LIMIT": None,
        "MAX_CONTENT_LENGTH": 1024 * 1024,
        "API_TITLE": "Hearth",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api",
        "OPENAPI_JSON_PATH": "openapi.json",
        "ARGON2_PROFILE": env.get("ARGON2_PROFILE", "default"),
    }


def _engine_options(url: str, env: dict[str, str]) -> dict[str, Any]:
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 15}}
    return {
        "pool_size": int(env.get("DB_POOL_SIZE", "10")),
        "max_overflow": int(env.get("DB_MAX_OVERFLOW", "10")),
        "pool_pre_ping": True,
        "pool_recycle": 1800,
    }


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Create and configure the Hearth app."""
    app = Flask(__name__, instance_relative_config=True)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    for key in ("SECRET_KEY", "DATABASE_URL"):
        if test_config and key in test_config:
            env[key] = test_config[key]
    app.config.update(load_config(app, env))
    if test_config:
        app.config.update(test_config)

    if app.config["ARGON2_PROFILE"] == "cheapest":
        from argon2 import PasswordHasher, profiles

        from groups.services import configure_password_hasher

        configure_password_hasher(PasswordHasher.from_parameters(profiles.CHEAPEST))

    if app.config["FORWARDED_PROXIES"]:
        # Behind nginx: take the phone's address (join rate limits) and scheme from the
        # X-Forwarded-* headers that this many trusted proxies set, and no more.
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["FORWARDED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).parent / "migrations"))
    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)

    from groups import i18n

    i18n.init_app(app)

    from facilitation import api as live_api
    from facilitation import outcome_api, outcome_views
    from facilitation import views as live_views
    from facilitation.cli import bp as facilitation_cli
    from groups import auth, views
    from groups.api import register_api
    from groups.cli import bp as groups_cli
    from realtime import init_realtime

    auth.init_app(app)
    app.register_blueprint(views.bp)
    register_api(app, extra=(*live_api.blueprints, outcome_api.blp))
    app.register_blueprint(live_views.bp)
    app.register_blueprint(outcome_views.bp)
    app.register_blueprint(groups_cli)
    app.register_blueprint(facilitation_cli)
    init_realtime(app)

    @app.get("/healthz")
    def healthz():
        """Answer 200 while the database answers, 503 when it does not."""
        try:
            db.session.execute(text("SELECT 1"))
        except Exception as exc:  # any driver error means "not healthy"
            db.session.rollback()
            log.warning("health check failed: %s", type(exc).__name__)
            return jsonify(
                status="unavailable",
                error={"code": "database_unavailable", "message": "The database does not answer."},
            ), 503
        return jsonify(status="ok")

    @app.after_request
    def _security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "connect-src 'self'; font-src 'self'; frame-ancestors 'none'; base-uri 'self'; "
            "form-action 'self'",
        )
        if request.path.startswith("/api/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    return app


def main() -> None:
    """Serve Hearth with the async mode's own server."""
    from realtime.extensions import socketio

    app = create_app()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    host, port = app.config["HOST"], app.config["PORT"]
    print(  # noqa: T201 - the one line a person starting the server reads
        f"Hearth is serving on http://{host}:{port} ({app.config['SOCKETIO_ASYNC_MODE']})",
        flush=True,
    )
    # eventlet's server takes at most 1,024 connections unless told otherwise.
    eventlet = app.config["SOCKETIO_ASYNC_MODE"] == "eventlet"
    options = {"max_size": MAX_CONNECTIONS} if eventlet else {}
    socketio.run(
        app, host=host, port=port, allow_unsafe_werkzeug=True, log_output=False, **options
    )


if __name__ == "__main__":
    main()
