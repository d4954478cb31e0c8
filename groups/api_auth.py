"""Own signing in and out through the API, and saying who is signed in."""

from __future__ import annotations

from flask import request
from flask_login import login_user, logout_user
from flask_smorest import Blueprint
from flask_wtf.csrf import generate_csrf

from groups import services
from groups.access import require_actor
from groups.api import PREFIX, current_actor
from groups.extensions import csrf, limiter
from groups.schemas import LoginSchema, SignedInSchema, UserSchema

blp = Blueprint("api_auth", __name__, url_prefix=PREFIX, description="Signing in and out.")


def _login_email_key() -> str:
    body = request.get_json(silent=True)
    email = body.get("email") if isinstance(body, dict) else None
    if isinstance(email, str) and email.strip():
        return email.strip().lower()
    return request.remote_addr or "-"


@blp.route("/session", methods=["POST"])
# Exempt because it is the request that gets the token; it reads JSON bodies only, which a
# cross-site form cannot send, so nobody can sign a victim into another account.
@csrf.exempt
@limiter.limit("10 per minute")
@limiter.limit("5 per minute", key_func=_login_email_key)
@blp.doc(security=[])
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.alt_response(429, response="TOO_MANY_REQUESTS")
@blp.arguments(LoginSchema)
@blp.response(200, SignedInSchema)
def login(credentials):
    """Sign in; the answer carries the CSRF token to send as X-CSRFToken on every change."""
    user = services.authenticate(credentials["email"], credentials["password"])
    login_user(user)
    return {"user": user, "csrf_token": generate_csrf()}


@blp.route("/session", methods=["DELETE"])
@blp.response(204)
def logout():
    """Sign out here and end this account's other sessions, as the sign-out button does."""
    user = require_actor(current_actor())
    logout_user()
    services.end_sessions_everywhere(user)


@blp.route("/me")
@blp.response(200, UserSchema)
def me():
    """Show the signed-in staff member."""
    return require_actor(current_actor())
