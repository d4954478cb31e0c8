"""Own the domain errors that every edge turns into a 4xx answer or an error ack."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext


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
        """The error as an answer, its words in the request's language when the catalogue has them.

        Services raise in English (the msgid); the edge that answers translates.
        """
        body: dict[str, Any] = {"code": self.code, "message": _translate(self.message)}
        if self.fields:
            body["fields"] = {
                name: [_translate(m) for m in messages] if isinstance(messages, list) else messages
                for name, messages in self.fields.items()
            }
        return body


def _translate(message: Any) -> Any:
    return gettext(message) if isinstance(message, str) and message else message


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
