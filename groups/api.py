"""Own the JSON API under /api/v1 and its OpenAPI document."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, request
from flask_login import current_user
from flask_smorest import Api, Blueprint
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException

from groups.access import require_actor
from groups.auth import http_error_response
from groups.errors import Conflict, ValidationFailed
from groups.extensions import db
from groups.schemas import CohortSchema, CohortWithRosterSchema, ErrorSchema

PREFIX = "/api/v1"
SESSION_COOKIE = {"session_cookie": []}


class HearthApi(Api):
    """flask-smorest's Api, answering errors in Hearth's one shape and leaving pages their HTML."""

    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error: HTTPException):
        """Answer every HTTP error: {"error": ...} JSON under /api, the HTML page elsewhere.

        Api registers this for the whole app, so it replaces groups.auth's handler: both end
        in the same function, which makes the HTML/JSON decision.
        """
        if request.path.startswith("/api/"):
            db.session.rollback()  # a refused request changes nothing
        return http_error_response(error, **_webargs_details(error))


def _webargs_details(error: HTTPException) -> dict[str, Any]:
    """Turn what webargs attached to an error (messages per location) into our fields."""
    data = getattr(error, "data", None) or {}
    details: dict[str, Any] = {}
    if data.get("headers"):
        details["headers"] = data["headers"]
    messages = data.get("messages")
    if not messages:
        return details
    fields: dict[str, Any] = {}
    notes: list[str] = []
    for located in messages.values():  # {"json": {...}} or {"query": {...}}: one body
        if isinstance(located, dict):
            fields.update(located)
        else:
            notes.extend(str(m) for m in located)
    if error.code == 422:
        # The same code and message as the services' ValidationFailed: one kind of 422.
        details["code"] = ValidationFailed.code
        details["message"] = "Some fields need another look."
    if notes:
        details["message"] = " ".join(notes)
    if fields:
        details["fields"] = fields
    return details


def current_actor() -> Any:
    """The signed-in staff member (or the anonymous user, whom the services refuse)."""
    return current_user._get_current_object()


def _require_sign_in() -> None:
    require_actor(current_actor())


def _conflict(exc: IntegrityError):
    db.session.rollback()
    error = Conflict("Someone changed this at the same moment. Reload and try again.")
    return jsonify(error=error.to_dict()), error.status


def api_blueprint(name: str, import_name: str, description: str) -> Blueprint:
    """Make a blueprint under /api/v1 whose every endpoint needs a signed-in staff member."""
    blp = Blueprint(name, import_name, url_prefix=PREFIX, description=description)
    # 401 before anything else, so an anonymous caller learns nothing from a 422 or a 404.
    blp.before_request(_require_sign_in)
    # Two requests racing for one unique name: the loser gets a 409, not a 500.
    blp.register_error_handler(IntegrityError, _conflict)
    return blp


def register_api(app: Flask, extra: tuple[Blueprint, ...] = ()) -> None:
    """Attach the API, its blueprints and other packages' (one Api per app: tests make many)."""
    from groups import api_auth, api_cohorts, api_programs, api_sessions, api_users

    api = HearthApi(
        app,
        spec_kwargs={
            "info": {
                "description": (
                    "Sign in with POST /api/v1/session; the cookie it sets authenticates the "
                    "rest. Send the csrf_token it returns as the X-CSRFToken header on every "
                    "POST, PUT, PATCH and DELETE. Errors are always "
                    '{"error": {"code", "message", "fields"}}.'
                )
            },
            "security": [SESSION_COOKIE],
        },
    )
    api.spec.components.security_scheme(
        "session_cookie",
        {"type": "apiKey", "in": "cookie", "name": app.config["SESSION_COOKIE_NAME"]},
    )
    # Named here because GET /cohorts/{id} documents them as oneOf (one per audience).
    api.spec.components.schema("Cohort", schema=CohortSchema)
    api.spec.components.schema("CohortWithRoster", schema=CohortWithRosterSchema)
    for module in (api_auth, api_users, api_programs, api_cohorts, api_sessions):
        api.register_blueprint(module.blp)
    for blueprint in extra:
        api.register_blueprint(blueprint)
