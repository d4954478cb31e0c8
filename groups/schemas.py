"""Own the JSON API's shapes: one schema per direction and audience, unknown fields refused."""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, RAISE, Schema, fields, pre_dump, validate

from groups.models import (
    ActivityKind,
    AttendanceSource,
    AttendanceStatus,
    CohortStatus,
    MemberStatus,
    Role,
    SessionState,
)
from groups.services import LANGUAGES


# The services check the same limits again; checking them here too puts them in OpenAPI.
def _text(max_len: int, *, required: bool = False, min_len: int = 0) -> fields.String:
    return fields.String(required=required, validate=validate.Length(min=min_len, max=max_len))


def _int(lo: int, hi: int) -> fields.Integer:
    return fields.Integer(strict=True, validate=validate.Range(lo, hi))


def _ids() -> fields.List:
    return fields.List(fields.Integer(strict=True), validate=validate.Length(max=100))


def _enum(enum_cls: type, **kwargs: Any) -> fields.Enum:
    return fields.Enum(enum_cls, by_value=True, **kwargs)


def _language() -> fields.String:
    return fields.String(validate=validate.OneOf(LANGUAGES))


class In(Schema):
    """A request body: a field we do not know is an error, never silently dropped."""

    class Meta:
        unknown = RAISE


class Query(Schema):
    """Query-string arguments: other decorators (pagination) read the same query string."""

    class Meta:
        unknown = EXCLUDE


class Out(Schema):
    """A response body: only the fields named here ever leave the server."""


# --- errors ------------------------------------------------------------------------------------


class ErrorBodySchema(Out):
    code = fields.String(required=True, metadata={"description": "Stable machine-readable code."})
    message = fields.String(required=True, metadata={"description": "For a person to read."})
    field_errors = fields.Dict(
        keys=fields.String(),
        data_key="fields",
        metadata={"description": "Messages per field, when fields failed."},
    )


class ErrorSchema(Out):
    """Every error under /api: {"error": {"code", "message", "fields"}}."""

    error = fields.Nested(ErrorBodySchema, required=True)


# --- staff and sign-in -------------------------------------------------------------------------


class LoginSchema(In):
    email = _text(254, required=True, min_len=1)
    password = fields.String(
        required=True, load_only=True, validate=validate.Length(min=1, max=256)
    )


class UserSchema(Out):
    id = fields.Integer(dump_only=True)
    email = fields.String(dump_only=True)
    display_name = fields.String(dump_only=True)
    role = _enum(Role, dump_only=True)
    active = fields.Boolean(dump_only=True)
    created_at = fields.DateTime(dump_only=True)


class SignedInSchema(Out):
    user = fields.Nested(UserSchema, dump_only=True)
    csrf_token = fields.String(
        dump_only=True,
        metadata={"description": "Send as X-CSRFToken with every POST, PUT, PATCH and DELETE."},
    )


class UserCreateSchema(In):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    display_name = _text(80, required=True, min_len=1)
    password = fields.String(
        required=True, load_only=True, validate=validate.Length(min=10, max=256)
    )
    role = _enum(Role, required=True)
    active = fields.Boolean()


class UserUpdateSchema(In):
    display_name = _text(80, min_len=1)
    password = fields.String(load_only=True, validate=validate.Length(min=10, max=256))
    role = _enum(Role)
    active = fields.Boolean()


class _Ref(Out):
    id = fields.Integer(dump_only=True)


# --- programs and their ladder -----------------------------------------------------------------


class ProgramSchema(Out):
    id = fields.Integer(dump_only=True)
    name = fields.String(dump_only=True)
    description = fields.String(dump_only=True)
    cycle_length = fields.Integer(dump_only=True)
    min_group_size = fields.Integer(dump_only=True)
    retention_days = fields.Integer(dump_only=True)
    allow_guests = fields.Boolean(dump_only=True)
    language = fields.String(dump_only=True)
    consent_version = fields.Integer(dump_only=True)
    consent_text = fields.String(dump_only=True)
    coordinator_ids = fields.Pluck(_Ref, "id", many=True, attribute="coordinators", dump_only=True)
    created_at = fields.DateTime(dump_only=True)


class InstrumentSchema(Out):
    id = fields.Integer(dump_only=True)
    key = fields.String(dump_only=True)
    name = fields.String(dump_only=True)
    kind = fields.String(dump_only=True)
    items = fields.List(fields.Dict(), dump_only=True)
    response_format = fields.Dict(dump_only=True)
    scoring = fields.Dict(dump_only=True)
    norms = fields.Dict(dump_only=True, allow_none=True)
    licence = fields.String(dump_only=True)
    citation = fields.String(dump_only=True)
    builtin = fields.Boolean(dump_only=True)


class ProgramUpdateSchema(In):
    name = _text(120, min_len=1)
    description = _text(4000)
    cycle_length = _int(1, 52)
    # Never below 3: with two people, each learns the other's answer from any aggregate.
    min_group_size = _int(3, 50)
    retention_days = _int(1, 3650)
    allow_guests = fields.Boolean()
    language = _language()
    consent_text = _text(8000)
    coordinator_ids = _ids()


class ProgramCreateSchema(ProgramUpdateSchema):
    name = _text(120, required=True, min_len=1)


class ActivitySchema(Out):
    id = fields.Integer(dump_only=True)
    plan_id = fields.Integer(dump_only=True)
    position = fields.Integer(dump_only=True)
    kind = _enum(ActivityKind, dump_only=True)
    title = fields.String(dump_only=True)
    text = fields.String(dump_only=True)
    preview = fields.String(dump_only=True)
    intensity = fields.Integer(dump_only=True)
    timer_seconds = fields.Integer(dump_only=True, allow_none=True)
    config = fields.Dict(keys=fields.String(), dump_only=True)


class ActivityUpdateSchema(In):
    kind = _enum(ActivityKind)
    title = _text(120, min_len=1)
    text = _text(4000)
    preview = _text(2000)
    intensity = _int(1, 5)
    timer_seconds = fields.Integer(strict=True, allow_none=True, validate=validate.Range(10, 3600))
    config = fields.Dict(keys=fields.String(validate=validate.Length(max=64)))


class ActivityCreateSchema(ActivityUpdateSchema):
    kind = _enum(ActivityKind, required=True)
    title = _text(120, required=True, min_len=1)


class PlanSchema(Out):
    id = fields.Integer(dump_only=True)
    program_id = fields.Integer(dump_only=True)
    position = fields.Integer(dump_only=True, metadata={"description": "Rung of the ladder."})
    title = fields.String(dump_only=True)
    goal = fields.String(dump_only=True)


class PlanWithActivitiesSchema(PlanSchema):
    activities = fields.Nested(ActivitySchema, many=True, dump_only=True)


class PlanUpdateSchema(In):
    title = _text(120, min_len=1)
    goal = _text(4000)


class PlanCreateSchema(PlanUpdateSchema):
    title = _text(120, required=True, min_len=1)


# --- cohorts -----------------------------------------------------------------------------------


class CohortSchema(Out):
    """A cohort as anyone who may see it sees it: schedule and counts, never a person.

    This is all a coordinator ever gets; names live only in CohortWithRosterSchema.
    """

    id = fields.Integer(dump_only=True)
    program_id = fields.Integer(dump_only=True)
    name = fields.String(dump_only=True)
    start_date = fields.Date(dump_only=True)
    meeting_time = fields.Time(dump_only=True)
    timezone = fields.String(dump_only=True)
    session_count = fields.Integer(dump_only=True)
    duration_minutes = fields.Integer(dump_only=True)
    language = fields.String(dump_only=True)
    status = _enum(CohortStatus, dump_only=True)
    facilitator_ids = fields.Pluck(_Ref, "id", many=True, attribute="facilitators", dump_only=True)
    member_count = fields.Method(
        "_member_count",
        dump_only=True,
        metadata={"type": "integer", "description": "Members still active in the cohort."},
    )
    created_at = fields.DateTime(dump_only=True)

    def _member_count(self, cohort: Any) -> int:
        return sum(1 for m in cohort.members if m.status == MemberStatus.ACTIVE)


class RosterEntrySchema(Out):
    id = fields.Integer(dump_only=True)
    display_name = fields.String(dump_only=True)
    status = _enum(MemberStatus, dump_only=True)
    is_guest = fields.Boolean(dump_only=True)


class CohortWithRosterSchema(CohortSchema):
    """A cohort as its facilitators and admins see it: with the roster's pseudonyms."""

    # Required, so the two audiences' shapes never both fit: exactly one of a oneOf matches.
    members = fields.Nested(RosterEntrySchema, many=True, dump_only=True, required=True)


class CohortQuerySchema(Query):
    program_id = fields.Integer(validate=validate.Range(min=1))


class CohortUpdateSchema(In):
    name = _text(120, min_len=1)
    status = _enum(CohortStatus)
    language = _language()
    facilitator_ids = _ids()


class CohortCreateSchema(In):
    program_id = fields.Integer(strict=True, required=True, validate=validate.Range(min=1))
    name = _text(120, required=True, min_len=1)
    start_date = fields.Date(required=True)
    meeting_time = fields.Time(required=True, metadata={"description": "Local wall clock."})
    timezone = _text(64, min_len=1)
    session_count = _int(1, 52)
    duration_minutes = _int(15, 480)
    language = _language()
    facilitator_ids = _ids()


# --- members -----------------------------------------------------------------------------------


class MemberSchema(Out):
    id = fields.Integer(dump_only=True)
    cohort_id = fields.Integer(dump_only=True)
    display_name = fields.String(dump_only=True)
    status = _enum(MemberStatus, dump_only=True)
    is_guest = fields.Boolean(dump_only=True)
    consent_version = fields.Integer(dump_only=True, allow_none=True)
    consent_at = fields.DateTime(dump_only=True, allow_none=True)
    created_at = fields.DateTime(dump_only=True)
    left_at = fields.DateTime(dump_only=True, allow_none=True)


class MemberCreateSchema(In):
    display_name = _text(40, required=True, min_len=1)


class MemberUpdateSchema(In):
    display_name = _text(40, min_len=1)
    status = _enum(MemberStatus)


# --- group sessions and attendance -------------------------------------------------------------


class GroupSessionSchema(Out):
    id = fields.Integer(dump_only=True)
    cohort_id = fields.Integer(dump_only=True)
    number = fields.Integer(dump_only=True)
    scheduled_at = fields.DateTime(dump_only=True)
    state = _enum(SessionState, dump_only=True)
    plan_id = fields.Integer(dump_only=True, allow_none=True)
    started_at = fields.DateTime(dump_only=True, allow_none=True)
    ended_at = fields.DateTime(dump_only=True, allow_none=True)


class GroupSessionUpdateSchema(In):
    plan_id = fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=1))
    scheduled_at = fields.AwareDateTime(
        metadata={"description": "ISO 8601 with a UTC offset; only a planned session moves."}
    )


class AttendanceRowSchema(Out):
    """One line of the sheet: a member and their mark (status null: not marked yet)."""

    member_id = fields.Integer(dump_only=True)
    display_name = fields.String(dump_only=True)
    member_status = _enum(MemberStatus, dump_only=True)
    status = _enum(AttendanceStatus, dump_only=True, allow_none=True)
    source = _enum(AttendanceSource, dump_only=True, allow_none=True)
    arrived_at = fields.DateTime(dump_only=True, allow_none=True)

    @pre_dump
    def _unpack(self, row: tuple[Any, Any], **kwargs: Any) -> dict[str, Any]:
        member, mark = row
        return {
            "member_id": member.id,
            "display_name": member.display_name,
            "member_status": member.status,
            "status": mark.status if mark else None,
            "source": mark.source if mark else None,
            "arrived_at": mark.arrived_at if mark else None,
        }


class AttendanceSheetSchema(Out):
    session = fields.Nested(GroupSessionSchema, dump_only=True)
    rows = fields.Nested(AttendanceRowSchema, many=True, dump_only=True)


class AttendanceMarksSchema(In):
    marks = fields.Dict(
        keys=fields.Integer(validate=validate.Range(min=1)),
        values=_enum(AttendanceStatus),
        required=True,
        validate=validate.Length(min=1, max=200),
        metadata={"description": "Member id -> status; all are saved, or none."},
    )


class AttendanceSchema(Out):
    member_id = fields.Integer(dump_only=True)
    status = _enum(AttendanceStatus, dump_only=True)
    source = _enum(AttendanceSource, dump_only=True)
    arrived_at = fields.DateTime(dump_only=True, allow_none=True)
    updated_at = fields.DateTime(dump_only=True)
