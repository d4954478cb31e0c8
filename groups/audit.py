"""Own the audit log's reading side: the page where admins see what staff did, and when."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request
from flask_login import current_user, login_required
from sqlalchemy import select

from groups.access import access_staff
from groups.extensions import db
from groups.models import AuditEvent, User

bp = Blueprint("audit", __name__)
PAGE_SIZE = 200


def list_audit_events(actor: Any, *, action: str | None = None, before: int | None = None):
    """Return the latest staff actions, newest first, with who did them (admins only)."""
    access_staff(actor)
    query = (
        select(AuditEvent, User.display_name)
        .outerjoin(User, User.id == AuditEvent.actor_id)
        .order_by(AuditEvent.id.desc())
        .limit(PAGE_SIZE)
    )
    if action:
        query = query.where(AuditEvent.action == action)
    if before:
        query = query.where(AuditEvent.id < before)
    return db.session.execute(query).all()


@bp.get("/admin/audit")
@login_required
def audit_log():
    """Show the audit log: exports, roster and attendance views, deletions, staff changes."""
    action = (request.args.get("action") or "").strip()[:64] or None
    before = request.args.get("before", type=int)
    rows = list_audit_events(current_user._get_current_object(), action=action, before=before)
    older = rows[-1][0].id if len(rows) == PAGE_SIZE else None
    return render_template("staff/audit.html", rows=rows, action=action, older=older)
