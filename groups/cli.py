"""Own the staff CLI commands (flask --app wsgi ...)."""

from __future__ import annotations

import sys

import click
from flask import Blueprint

from groups import services
from groups.access import SYSTEM
from groups.errors import HearthError
from groups.extensions import db
from groups.models import Role

bp = Blueprint("groups_cli", __name__, cli_group=None)

ROLES = "|".join(r.value for r in Role)
# The service names fields after the model; the person typed the option.
_OPTION_NAMES = {"display_name": "name"}


def fail(error: HearthError) -> None:
    """Print a refusal and each field's message, then exit with status 1."""
    click.echo(f"Error: {error.message}", err=True)
    for field, messages in error.fields.items():
        for message in messages if isinstance(messages, list) else [messages]:
            click.echo(f"  {_OPTION_NAMES.get(field, field)}: {message}", err=True)
    raise click.exceptions.Exit(1)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        # Only the line ending goes: spaces may be part of a password.
        return sys.stdin.read().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@bp.cli.command("create-user")
@click.option("--email", required=True, help="Sign-in address of the account.")
@click.option("--name", "display_name", required=True, help="Name shown to other staff.")
@click.option("--role", required=True, metavar=ROLES, help=f"One of {ROLES}.")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from standard input instead of a hidden prompt.",
)
def create_user_command(email: str, display_name: str, role: str, password_stdin: bool) -> None:
    """Create a staff account (admin, coordinator or facilitator)."""
    password = _read_password(password_stdin)
    try:
        user = services.create_user(
            SYSTEM, email=email, display_name=display_name, password=password, role=role
        )
    except HearthError as error:
        db.session.rollback()
        fail(error)
        return
    click.echo(f"Created {user.role} account {user.email} (id {user.id}).")
