"""Own the CLI commands that touch live-session data: seed-demo and purge-expired."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("facilitation_cli", __name__, cli_group=None)
