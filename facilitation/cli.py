"""Own the CLI commands that touch live-session data: seed-demo and purge-expired."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from flask import Blueprint, current_app

from facilitation import demo
from facilitation.retention import purge_expired
from groups.access import SYSTEM
from groups.errors import HearthError
from groups.extensions import db
from groups.types import utcnow

bp = Blueprint("facilitation_cli", __name__, cli_group=None)


def _refuse(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    raise click.exceptions.Exit(1)


@bp.cli.command("seed-demo")
@click.option(
    "--if-empty",
    is_flag=True,
    help="When the database already holds staff or programs, load nothing and succeed.",
)
def seed_demo_command(if_empty: bool) -> None:
    """Load a demo program, its staff and a cohort six weeks in, into an empty database."""
    if not demo.schema_exists():
        _refuse("The database has no tables yet: run `flask --app wsgi db upgrade` first.")
    if not demo.database_is_empty():
        if if_empty:
            click.echo("The database already holds staff accounts or programs: no demo loaded.")
            return
        _refuse(
            "The database already holds staff accounts or programs. The demo (with its shared "
            "password) loads only into an empty database; nothing was changed."
        )
    try:
        cohort = demo.build_demo(utcnow())
    except HearthError as error:  # filled in between the check and the load
        db.session.rollback()
        _refuse(error.message)
        return
    today = cohort.sessions[demo.SESSIONS_HELD]
    port = current_app.config.get("PORT", 5000)
    click.echo(
        f'Loaded the demo: program "{demo.PROGRAM_NAME}", cohort "{demo.COHORT_NAME}" with '
        f"{len(cohort.members)} members, {demo.SESSIONS_HELD} sessions held and session "
        f"{today.number} today at {today.scheduled_at:%H:%M} UTC."
    )
    click.echo(f"Sign in with the password {demo.DEMO_PASSWORD} as:")
    for role, email, _ in demo.DEMO_STAFF:
        click.echo(f"  {email:<26} {role}")
    click.echo(
        f"Start the server with `python wsgi.py` (or `make run`), open http://127.0.0.1:{port} "
        "and start session 7 as the facilitator."
    )
    click.echo(
        "These accounts share a published password: never load the demo where others can reach it."
    )


def _parse_now(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("Use ISO 8601, e.g. 2027-01-31T00:00:00+00:00.") from None
    # A moment without an offset is read as UTC, the only clock Hearth stores.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@bp.cli.command("purge-expired")
@click.option(
    "--now",
    metavar="ISO",
    callback=_parse_now,
    help="Purge as if it were this moment (ISO 8601; UTC when it has no offset).",
)
def purge_expired_command(now: datetime | None) -> None:
    """Delete raw answers, appreciations and pause signals past each program's retention."""
    results = purge_expired(SYSTEM, now=now or utcnow())
    if not results:
        click.echo("No programs: nothing to purge.")
    for r in results:
        click.echo(
            f"{r.program_name}: deleted {r.answers} answers, {r.appreciations} appreciations, "
            f"{r.pause_signals} pause signals (sessions ended before "
            f"{r.cutoff:%Y-%m-%d %H:%M} UTC, {r.retention_days} days' retention)."
        )
