"""Own the HTTP payloads of the live session: joining, pairing a screen, steering."""

from __future__ import annotations

from marshmallow import fields, validate

from groups.schemas import In, Out


class JoinLookupSchema(In):
    code = fields.String(required=True, validate=validate.Length(min=6, max=6))


class RosterNameSchema(Out):
    id = fields.Integer()
    name = fields.String(attribute="display_name")


class JoinOptionsSchema(Out):
    group_session_id = fields.Integer()
    cohort = fields.String()
    members = fields.List(fields.Nested(RosterNameSchema))
    allow_guests = fields.Boolean()
    consent_version = fields.Integer()
    consent_text = fields.String()
    language = fields.String()


class JoinSchema(In):
    code = fields.String(required=True, validate=validate.Length(min=6, max=6))
    device_token = fields.String(required=True, validate=validate.Length(min=22, max=128))
    member_id = fields.Integer(strict=True, allow_none=True, load_default=None)
    guest_name = fields.String(
        allow_none=True, load_default=None, validate=validate.Length(min=1, max=40)
    )
    consent_version = fields.Integer(strict=True, allow_none=True, load_default=None)


class JoinedSchema(Out):
    group_session_id = fields.Integer()
    member = fields.Nested(RosterNameSchema)


class ScreenPairSchema(In):
    code = fields.String(required=True, validate=validate.Length(min=6, max=6))


class ScreenPairedSchema(Out):
    group_session_id = fields.Integer()
    screen_token = fields.String()


class ScreenCodeSchema(Out):
    code = fields.String()
    expires_in = fields.Integer(metadata={"description": "Seconds the code stays valid."})
