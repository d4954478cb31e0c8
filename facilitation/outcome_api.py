"""Own the outcome figures in the JSON API: one schema per audience, suppressed like the pages.

Facilitators (and admins) read a session summary and a cohort overview; coordinators read the
program comparison, whose schema has no field that could hold a member's name or row.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from facilitation import outcomes
from groups.api import api_blueprint, current_actor

blp = api_blueprint("api_outcomes", __name__, "Program-cycle outcomes, small-number suppressed.")


class Out(Schema):
    """A response body: only the fields named here ever leave the server."""


class MeanSchema(Out):
    n = fields.Integer()
    mean = fields.Float()
    sd = fields.Float()
    lo = fields.Float(metadata={"description": "Lower end of the t-based 95% interval."})
    hi = fields.Float()


class ProportionSchema(Out):
    n = fields.Integer()
    count = fields.Integer()
    p = fields.Float()
    lo = fields.Float(metadata={"description": "Lower end of the 95% Wilson interval."})
    hi = fields.Float()


class ReliableChangeSchema(Out):
    n = fields.Integer()
    improved = fields.Integer()
    unchanged = fields.Integer()
    worse = fields.Integer()
    threshold = fields.Float()


class FigureSchema(Out):
    """One anonymous figure: values only when published, else a reason and no n."""

    key = fields.String(allow_none=True)
    number = fields.Integer()
    label = fields.String()
    published = fields.Boolean(required=True)
    reason = fields.String(
        allow_none=True, metadata={"description": "fewer_than_k, differencing or missing."}
    )
    note = fields.String()
    n = fields.Integer(allow_none=True)
    aligned = fields.Boolean()
    paired = fields.Boolean()
    pleasure = fields.Nested(MeanSchema, allow_none=True)
    arousal = fields.Nested(MeanSchema, allow_none=True)
    numb = fields.Nested(ProportionSchema, allow_none=True)
    pleasure_bins = fields.List(fields.Integer())
    arousal_bins = fields.List(fields.Integer())
    mean = fields.Nested(MeanSchema, allow_none=True)
    counts = fields.List(fields.Integer())
    change = fields.Nested(MeanSchema, allow_none=True)
    reliable = fields.Nested(ReliableChangeSchema, allow_none=True)


# --- facilitator -------------------------------------------------------------------------------


class SessionAttendanceSchema(Out):
    present = fields.Integer()
    late = fields.Integer()
    absent = fields.Integer()
    excused = fields.Integer()
    first_timers = fields.List(fields.String())
    returning = fields.List(fields.String())


class MoodSetSchema(Out):
    check_in = fields.Nested(FigureSchema)
    check_out = fields.Nested(FigureSchema)
    shift = fields.Nested(FigureSchema)


class ActivityRunSchema(Out):
    title = fields.String()
    kind = fields.String()
    intensity = fields.Integer()
    state = fields.String()


class SessionSummaryForFacilitatorSchema(Out):
    group_session_id = fields.Integer()
    number = fields.Integer()
    k = fields.Integer()
    purged = fields.Boolean()
    attendance = fields.Nested(SessionAttendanceSchema)
    mood = fields.Nested(MoodSetSchema)
    connectedness = fields.Nested(FigureSchema)
    pauses = fields.Integer()
    activities = fields.List(fields.Nested(ActivityRunSchema))
    texts = fields.List(fields.String())
    discuss = fields.List(fields.String())


class StreakSchema(Out):
    kind = fields.String(allow_none=True)
    length = fields.Integer()


class MemberAttendanceRowSchema(Out):
    member_id = fields.Integer()
    name = fields.String()
    left = fields.Boolean()
    cells = fields.List(fields.String(allow_none=True))
    attended = fields.Integer()
    possible = fields.Integer()
    rate = fields.Float(allow_none=True)
    streak = fields.Nested(StreakSchema)


class SessionCountSchema(Out):
    number = fields.Integer()
    attended = fields.Integer()
    of = fields.Integer()


class FollowUpSchema(Out):
    member_id = fields.Integer()
    name = fields.String()
    why = fields.String()


class AttendanceMatrixSchema(Out):
    numbers = fields.List(fields.Integer())
    rows = fields.List(fields.Nested(MemberAttendanceRowSchema))
    per_session = fields.List(fields.Nested(SessionCountSchema))
    follow_up = fields.List(fields.Nested(FollowUpSchema))


class RetentionPointSchema(Out):
    number = fields.Integer()
    still = fields.Integer()
    of = fields.Integer()
    share = fields.Nested(ProportionSchema, allow_none=True)


class TrendsSchema(Out):
    check_in = fields.List(fields.Nested(FigureSchema))
    check_out = fields.List(fields.Nested(FigureSchema))
    shift = fields.List(fields.Nested(FigureSchema))
    connectedness = fields.List(fields.Nested(FigureSchema))


class QuestionnaireSchema(Out):
    key = fields.String()
    name = fields.String()
    occasions = fields.List(fields.Nested(FigureSchema))
    change = fields.Nested(FigureSchema)


class CohortOverviewForFacilitatorSchema(Out):
    cohort_id = fields.Integer()
    k = fields.Integer()
    attendance = fields.Nested(AttendanceMatrixSchema)
    retention = fields.List(fields.Nested(RetentionPointSchema))
    trends = fields.Nested(TrendsSchema)
    questionnaires = fields.List(fields.Nested(QuestionnaireSchema))


# --- coordinator -------------------------------------------------------------------------------


class CountForCoordinatorSchema(Out):
    published = fields.Boolean()
    note = fields.String()
    n = fields.Integer(allow_none=True)


class RateForCoordinatorSchema(CountForCoordinatorSchema):
    rate = fields.Nested(ProportionSchema, allow_none=True)


class ConnectednessForCoordinatorSchema(Out):
    number = fields.Integer()
    published = fields.Boolean()
    note = fields.String()
    n = fields.Integer(allow_none=True)
    mean = fields.Nested(MeanSchema, allow_none=True)


class MoodShiftForCoordinatorSchema(Out):
    published = fields.Boolean()
    note = fields.String()
    n = fields.Integer(allow_none=True)
    sessions = fields.Integer()
    mean = fields.Float()
    pleasure = fields.Nested(MeanSchema, allow_none=True)


class CohortForCoordinatorSchema(Out):
    """One cohort in aggregate: deliberately no field for a member or a per-member row."""

    cohort_id = fields.Integer()
    name = fields.String()
    status = fields.String()
    sessions_held = fields.Integer()
    members = fields.Nested(CountForCoordinatorSchema)
    attendance = fields.Nested(RateForCoordinatorSchema)
    retention = fields.Nested(RateForCoordinatorSchema)
    connectedness = fields.List(fields.Nested(ConnectednessForCoordinatorSchema))
    connectedness_change = fields.Float(allow_none=True)
    mood_shift = fields.Nested(MoodShiftForCoordinatorSchema)


class ProgramComparisonForCoordinatorSchema(Out):
    program_id = fields.Integer()
    k = fields.Integer()
    cohorts = fields.List(fields.Nested(CohortForCoordinatorSchema))


# --- endpoints ---------------------------------------------------------------------------------


@blp.route("/sessions/<int:session_id>/summary")
@blp.response(200, SessionSummaryForFacilitatorSchema)
def session_summary(session_id: int) -> dict[str, Any]:
    """A session's summary for its facilitator (logged as an export)."""
    me = current_actor()
    summary = outcomes.session_summary(me, session_id)
    outcomes.log_export(me, "api:session_summary", "group_session", session_id)
    return {
        **summary,
        "group_session_id": summary["session"].id,
        "number": summary["session"].number,
    }


@blp.route("/cohorts/<int:cohort_id>/outcomes")
@blp.response(200, CohortOverviewForFacilitatorSchema)
def cohort_outcomes(cohort_id: int) -> dict[str, Any]:
    """A cohort's cycle for its facilitator: attendance, trends, questionnaires (logged)."""
    me = current_actor()
    overview = outcomes.cohort_overview(me, cohort_id)
    outcomes.log_export(me, "api:cohort_outcomes", "cohort", cohort_id)
    return {**overview, "cohort_id": overview["cohort"].id}


@blp.route("/programs/<int:program_id>/outcomes")
@blp.response(200, ProgramComparisonForCoordinatorSchema)
def program_outcomes(program_id: int) -> dict[str, Any]:
    """A program's cohorts side by side, suppressed aggregates only (coordinators; logged)."""
    me = current_actor()
    comparison = outcomes.program_comparison(me, program_id)
    outcomes.log_export(me, "api:program_outcomes", "program", program_id)
    return {**comparison, "program_id": comparison["program"].id}
