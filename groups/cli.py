"""Own the staff CLI commands (flask --app wsgi ...)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("groups_cli", __name__, cli_group=None)
