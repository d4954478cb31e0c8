"""Shared fixtures: the app on SQLite or PostgreSQL, staff of every role, a program and a cohort."""

from __future__ import annotations

import os
from datetime import date, time

import pytest
from flask import g
from sqlalchemy import text

from groups import services
from groups.access import SYSTEM
from groups.extensions import db
from groups.models import Role
from wsgi import create_app

IN_CI = os.environ.get("CI") == "true"
PG_URL = os.environ.get("HEARTH_TEST_PG_URL", "postgresql://127.0.0.1:5432/test")
REDIS_URL = os.environ.get("HEARTH_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
PASSWORD = "correct horse battery"


def pytest_addoption(parser):
    parser.addoption(
        "--db",
        choices=["sqlite", "postgresql"],
        default=os.environ.get("HEARTH_TEST_DB", "sqlite"),
        help="database the whole suite runs on",
    )


def _reachable_pg(url: str) -> str | None:
    """Return why PostgreSQL cannot be used, or None when it answers."""
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed (pip install -e '.[test]')"
    try:
        with psycopg.connect(
            url.replace("postgresql+psycopg://", "postgresql://"), connect_timeout=3
        ):
            return None
    except Exception as exc:
        return f"PostgreSQL at {url} does not answer: {exc}"


def need_service(reason: str | None) -> None:
    """Skip with the reason, or fail in CI where every service must be there."""
    if reason is None:
        return
    if IN_CI:
        pytest.fail(f"CI=true but {reason}")
    pytest.skip(reason)


def _worker_database(url: str) -> str:
    """Under pytest-xdist each worker gets its own database beside the named one."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    import psycopg
    from psycopg import sql
    from sqlalchemy.engine import make_url

    base = make_url(url.replace("postgresql+psycopg://", "postgresql://"))
    name = f"{base.database}_{worker}"
    server = base.render_as_string(hide_password=False)
    with psycopg.connect(server, autocommit=True, connect_timeout=5) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return base.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_url() -> str:
    """The PostgreSQL URL, or a skip (a failure under CI) when the server is absent."""
    need_service(_reachable_pg(PG_URL))
    return _worker_database(PG_URL)


@pytest.fixture(scope="session")
def database_url(request, tmp_path_factory) -> str:
    if request.config.getoption("--db") == "postgresql":
        return request.getfixturevalue("pg_url")
    return "sqlite:///" + str(tmp_path_factory.mktemp("db") / "hearth.db")


def make_test_app(database_url: str, instance_path=None, **extra):
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "DATABASE_URL": database_url,
        "SQLALCHEMY_DATABASE_URI": database_url.replace(
            "postgresql://", "postgresql+psycopg://", 1
        ),
        "SOCKETIO_ASYNC_MODE": "threading",
        "ARGON2_PROFILE": "cheapest",
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "SERVER_NAME": None,
    }
    config.update(extra)
    app = create_app(config)

    @app.before_request
    def _forget_cached_user():
        # Tests hold one app context open, so flask_login's per-context user cache would
        # carry one client's sign-in into another client's request.
        g.pop("_login_user", None)

    return app


@pytest.fixture(scope="session")
def _schema(database_url):
    app = make_test_app(database_url)
    with app.app_context():
        db.drop_all()
        db.create_all()
        db.engine.dispose()
    return database_url


def _empty_tables() -> None:
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(t.name for t in db.metadata.sorted_tables)
        db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(table.delete())
    db.session.commit()


@pytest.fixture
def app_config() -> dict:
    """Extra configuration a test module can override."""
    return {}


@pytest.fixture
def app(_schema, app_config):
    app = make_test_app(_schema, **app_config)
    with app.app_context():
        yield app
        # Let coalesced snapshot flushes (background threads) finish before the pool goes.
        app.extensions["hearth_publisher"].settle()
        db.session.rollback()
        _empty_tables()
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def make_user(role: Role, email: str, name: str):
    return services.create_user(
        SYSTEM, email=email, display_name=name, password=PASSWORD, role=role.value
    )


@pytest.fixture
def admin(app):
    return make_user(Role.ADMIN, "admin@example.org", "Ada Admin")


@pytest.fixture
def coordinator(app):
    return make_user(Role.COORDINATOR, "coordinator@example.org", "Cora Coordinator")


@pytest.fixture
def facilitator(app):
    return make_user(Role.FACILITATOR, "facilitator@example.org", "Fran Facilitator")


@pytest.fixture
def other_facilitator(app):
    return make_user(Role.FACILITATOR, "other@example.org", "Otto Other")


@pytest.fixture
def other_coordinator(app):
    return make_user(Role.COORDINATOR, "coord2@example.org", "Cid Coordinator")


@pytest.fixture
def program(app, coordinator):
    program = services.create_program(
        SYSTEM,
        name="Reconnecting with Warmth",
        description="Eight weeks of small steps back towards feeling.",
        cycle_length=8,
        min_group_size=5,
        retention_days=180,
        coordinator_ids=[coordinator.id],
    )
    plan = services.add_session_plan(SYSTEM, program.id, title="Arriving", goal="Feel safe enough")
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
    services.add_session_plan(SYSTEM, program.id, title="Textures", goal="Notice touch")
    return program


@pytest.fixture
def cohort(app, program, facilitator):
    cohort = services.create_cohort(
        SYSTEM,
        program.id,
        name="Tuesday evenings",
        start_date=date(2026, 9, 1),
        meeting_time=time(18, 30),
        timezone="Europe/London",
        facilitator_ids=[facilitator.id],
    )
    for name in ("Robin", "Sam", "Alex", "Jo", "Kim", "Lee"):
        services.add_member(SYSTEM, cohort.id, display_name=name)
    return cohort


@pytest.fixture
def login(client):
    """Sign a staff member in on the test client (through the real login form)."""

    def _login(user, password: str = PASSWORD):
        response = client.post("/login", data={"email": user.email, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return _login
