"""Own the group sessions resource of the API: the schedule and attendance sheets."""

from __future__ import annotations

from flask.views import MethodView

from groups import services
from groups.api import api_blueprint, current_actor
from groups.schemas import (
    AttendanceMarksSchema,
    AttendanceSchema,
    AttendanceSheetSchema,
    GroupSessionSchema,
    GroupSessionUpdateSchema,
)

blp = api_blueprint("api_sessions", __name__, "Group sessions and attendance.")


@blp.route("/cohorts/<int:cohort_id>/sessions")
class CohortSessions(MethodView):
    @blp.response(200, GroupSessionSchema(many=True))
    def get(self, cohort_id):
        """List a cohort's group sessions in order."""
        return services.list_group_sessions(current_actor(), cohort_id)


@blp.route("/sessions/<int:session_id>")
class SessionById(MethodView):
    @blp.response(200, GroupSessionSchema)
    def get(self, session_id):
        """Show a group session."""
        return services.get_group_session(current_actor(), session_id)

    @blp.arguments(GroupSessionUpdateSchema)
    @blp.response(200, GroupSessionSchema)
    def patch(self, data, session_id):
        """Move a planned session, or give it another rung of the ladder."""
        return services.update_group_session(current_actor(), session_id, **data)


@blp.route("/sessions/<int:session_id>/attendance")
class SessionAttendance(MethodView):
    @blp.response(200, AttendanceSheetSchema)
    def get(self, session_id):
        """Show the attendance sheet: every member and their mark (those who run the cohort)."""
        group_session, rows = services.attendance_sheet(current_actor(), session_id)
        return {"session": group_session, "rows": rows}  # a tuple would read as (body, status)

    @blp.arguments(AttendanceMarksSchema)
    @blp.response(200, AttendanceSchema(many=True))
    def put(self, data, session_id):
        """Mark several members at once: all marks are saved, or none."""
        return services.record_attendance(current_actor(), session_id, data["marks"])
