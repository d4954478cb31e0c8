"""Own the shape of every Socket.IO payload: one schema per command, unknown fields refused."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

ClientId = fields.String(required=True, validate=validate.Length(min=8, max=64))


class Empty(Schema):
    """A command that carries nothing."""


class ActivityRef(Schema):
    activity_id = fields.Integer(required=True, strict=True)


class SubmitAnswer(Schema):
    activity_id = fields.Integer(required=True, strict=True)
    client_id = fields.String(required=True, validate=validate.Length(min=8, max=64))
    passed = fields.Boolean(load_default=False)
    pleasure = fields.Float(allow_none=True, validate=validate.Range(0, 1))
    arousal = fields.Float(allow_none=True, validate=validate.Range(0, 1))
    words = fields.List(
        fields.String(validate=validate.Length(max=40)), validate=validate.Length(max=5)
    )
    connectedness = fields.Integer(allow_none=True, strict=True, validate=validate.Range(1, 7))
    response = fields.String(validate=validate.OneOf(["done", "text", "reaction"]))
    text = fields.String(validate=validate.Length(max=280))
    reaction = fields.String(validate=validate.Length(max=16))
    items = fields.Dict(
        keys=fields.String(validate=validate.Length(max=40)),
        values=fields.Integer(strict=True),
        validate=validate.Length(max=40),
    )


class SendAppreciation(Schema):
    activity_id = fields.Integer(required=True, strict=True)
    client_id = fields.String(required=True, validate=validate.Length(min=8, max=64))
    text = fields.String(required=True, validate=validate.Length(min=1, max=280))
    recipient_id = fields.Integer(allow_none=True, strict=True, load_default=None)
    signed = fields.Boolean(load_default=False)


class RequestPause(Schema):
    client_id = fields.String(required=True, validate=validate.Length(min=8, max=64))
    check_in = fields.Boolean(load_default=False)


class Timer(Schema):
    activity_id = fields.Integer(required=True, strict=True)
    action = fields.String(required=True, validate=validate.OneOf(["start", "pause", "add_minute"]))


class Moderate(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(["answer", "appreciation"]))
    id = fields.Raw(required=True)
    decision = fields.String(required=True, validate=validate.OneOf(["approve", "reject"]))


class PauseRef(Schema):
    id = fields.Integer(required=True, strict=True)


class SetAttendance(Schema):
    member_id = fields.Integer(required=True, strict=True)
    status = fields.String(
        required=True, validate=validate.OneOf(["present", "late", "absent", "excused"])
    )
