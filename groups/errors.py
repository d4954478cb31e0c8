"""Own the domain errors that every edge turns into a 4xx answer or an error ack."""

from __future__ import annotations

from typing import Any


class HearthError(Exception):
    """A refusal the person can understand: a stable code, a message, a status, field errors."""

    code = "error"
    status = 400

    def __init__(
        self, message: str, *, fields: dict[str, Any] | None = None, code: str | None = None
    ):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        if code:
            self.code = code

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.fields:
            body["fields"] = self.fields
        return body


class ValidationFailed(HearthError):
    code = "invalid"
    status = 422


class NotAuthenticated(HearthError):
    code = "not_authenticated"
    status = 401


class Forbidden(HearthError):
    code = "forbidden"
    status = 403


class NotFound(HearthError):
    code = "not_found"
    status = 404


class Conflict(HearthError):
    code = "conflict"
    status = 409


class RateLimited(HearthError):
    code = "rate_limited"
    status = 429
