"""Own the programs resource of the API: programs, their ladder of plans, and activities."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Page

from groups import services
from groups.api import api_blueprint, current_actor
from groups.instruments import InstrumentDocument
from groups.schemas import (
    ActivityCreateSchema,
    ActivitySchema,
    ActivityUpdateSchema,
    InstrumentSchema,
    PlanCreateSchema,
    PlanSchema,
    PlanUpdateSchema,
    PlanWithActivitiesSchema,
    ProgramCreateSchema,
    ProgramSchema,
    ProgramUpdateSchema,
)

blp = api_blueprint("api_programs", __name__, "Programs and their ladder of session plans.")


@blp.route("/programs")
class Programs(MethodView):
    @blp.response(200, ProgramSchema(many=True))
    @blp.paginate(Page)
    def get(self):
        """List the programs you may see, by name."""
        return services.list_programs(current_actor())

    @blp.arguments(ProgramCreateSchema)
    @blp.response(201, ProgramSchema)
    def post(self, data):
        """Create a program (admins)."""
        return services.create_program(current_actor(), **data)


@blp.route("/programs/<int:program_id>")
class ProgramById(MethodView):
    @blp.response(200, ProgramSchema)
    def get(self, program_id):
        """Show a program."""
        return services.get_program(current_actor(), program_id)

    @blp.arguments(ProgramUpdateSchema)
    @blp.response(200, ProgramSchema)
    def patch(self, data, program_id):
        """Change a program (admins); new consent text asks phones for consent again."""
        return services.update_program(current_actor(), program_id, **data)


@blp.route("/programs/<int:program_id>/plans")
class ProgramPlans(MethodView):
    @blp.response(200, PlanSchema(many=True))
    def get(self, program_id):
        """List a program's session plans, rung by rung."""
        return services.get_program(current_actor(), program_id).plans

    @blp.arguments(PlanCreateSchema)
    @blp.response(201, PlanSchema)
    def post(self, data, program_id):
        """Add a rung at the top of the ladder (admins)."""
        return services.add_session_plan(current_actor(), program_id, **data)


@blp.route("/programs/<int:program_id>/instruments")
class ProgramInstruments(MethodView):
    @blp.response(200, InstrumentSchema(many=True))
    def get(self, program_id):
        """List a program's instruments: items, format, scoring, norms, licence and citation."""
        return services.get_program(current_actor(), program_id).instruments

    @blp.arguments(InstrumentDocument)
    @blp.response(201, InstrumentSchema)
    def post(self, data, program_id):
        """Add a questionnaire of the program's own, with its licence note (admins)."""
        return services.add_instrument(current_actor(), program_id, data)


@blp.route("/plans/<int:plan_id>")
class PlanById(MethodView):
    @blp.response(200, PlanWithActivitiesSchema)
    def get(self, plan_id):
        """Show a session plan with its activities in order."""
        return services.get_session_plan(current_actor(), plan_id)

    @blp.arguments(PlanUpdateSchema)
    @blp.response(200, PlanWithActivitiesSchema)
    def patch(self, data, plan_id):
        """Rename a session plan or change its goal (admins)."""
        return services.update_session_plan(current_actor(), plan_id, **data)


@blp.route("/plans/<int:plan_id>/activities")
class PlanActivities(MethodView):
    @blp.arguments(ActivityCreateSchema)
    @blp.response(201, ActivitySchema)
    def post(self, data, plan_id):
        """Append an activity to a session plan (admins)."""
        return services.add_activity(current_actor(), plan_id, **data)


@blp.route("/activities/<int:activity_id>")
class ActivityById(MethodView):
    @blp.arguments(ActivityUpdateSchema)
    @blp.response(200, ActivitySchema)
    def patch(self, data, activity_id):
        """Change an activity (admins)."""
        return services.update_activity(current_actor(), activity_id, **data)

    @blp.response(204)
    def delete(self, activity_id):
        """Remove an activity and close the gap in its plan (admins)."""
        services.remove_activity(current_actor(), activity_id)
