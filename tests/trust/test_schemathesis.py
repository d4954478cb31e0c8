"""Schemathesis against /api/openapi.json, in-process, signed in as an admin: no 5xx, no answer
that breaks the documented schema."""

from __future__ import annotations

import os

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from groups import services
from groups.access import SYSTEM
from tests.conftest import PASSWORD
from tests.trust.conftest import RoleClient

# Flask-Login's "strong" protection ties the cookie to the User-Agent that signed in.
AGENT = "HearthSchemathesis/1.0"
STATUSES: list[int] = []
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Signing out or in would change who the next example runs as; everything else is fair game.
SKIP = {("DELETE", "/api/v1/session"), ("POST", "/api/v1/session")}


def test_the_api_answers_any_request_within_its_schema(app, world):
    admin = world.users["admin"]
    headers = {"User-Agent": AGENT}
    clients: list[RoleClient] = []  # the signed-in client (its cookie jar holds the sign-in)

    def sign_in():
        """Sign the admin in (again: an example may have deactivated them or set a password)."""
        services.update_user(SYSTEM, admin.id, active=True, password=PASSWORD, role="admin")
        client = RoleClient(app, app.response_class, use_cookies=True)
        signed_in = client.post(
            "/login",
            data={"email": admin.email, "password": PASSWORD},
            headers={"User-Agent": AGENT},
        )
        assert signed_in.status_code == 302, signed_in.get_data(as_text=True)[:3000]
        clients[:] = [client]

    sign_in()
    assert clients[0].get("/api/v1/me", headers=headers).status_code == 200
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    operations = [op for op in operations if (op.method.upper(), op.full_path) not in SKIP]
    assert len(operations) > 30
    failures = []
    for operation, mode in [
        (op, mode)
        for op in operations
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    ]:

        @settings(
            max_examples=int(os.environ.get("HEARTH_SCHEMATHESIS_EXAMPLES", "4")),
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def call(case):
            if clients[0].get("/api/v1/me", headers=headers).status_code == 401:
                sign_in()
            response = case.call(session=clients[0], headers=headers)
            STATUSES.append(response.status_code)
            case.validate_response(response, checks=CHECKS)

        try:
            call()
        except Exception as exc:  # collect every operation's failure, then report them all
            failures.append(f"{operation.method.upper()} {operation.full_path}: {exc}"[:1500])
    assert failures == [], "\n\n".join(failures)
    # Not only refusals: valid requests got through too (a 404 for everything would pass above).
    assert {200, 201, 404, 422} <= set(STATUSES), sorted(set(STATUSES))
