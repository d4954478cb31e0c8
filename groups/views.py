"""Own the staff pages: programs and ladders, cohorts, rosters, sessions, attendance sheets."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import login_required

bp = Blueprint("pages", __name__)


@bp.get("/")
@login_required
def home():
    """Show the signed-in staff member where to go."""
    return render_template("home.html")
