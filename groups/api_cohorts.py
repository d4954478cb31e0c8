"""Own the cohorts resource of the API: cohorts and their rosters."""

from __future__ import annotations

from flask import jsonify
from flask.views import MethodView
from flask_smorest import Page

from groups import services
from groups.api import api_blueprint, current_actor
from groups.schemas import (
    CohortCreateSchema,
    CohortQuerySchema,
    CohortSchema,
    CohortUpdateSchema,
    CohortWithRosterSchema,
    MemberCreateSchema,
    MemberSchema,
    MemberUpdateSchema,
)

blp = api_blueprint(
    "api_cohorts", __name__, "Cohorts and rosters: coordinators see cohorts in aggregate only."
)

COHORT_BY_AUDIENCE = {
    "oneOf": [
        {"$ref": "#/components/schemas/Cohort"},
        {"$ref": "#/components/schemas/CohortWithRoster"},
    ]
}


@blp.route("/cohorts")
class Cohorts(MethodView):
    @blp.arguments(CohortQuerySchema, location="query")
    @blp.response(200, CohortSchema(many=True))
    @blp.paginate(Page)
    def get(self, query):
        """List the cohorts you may see, latest start first."""
        return services.list_cohorts(current_actor(), **query)

    @blp.arguments(CohortCreateSchema)
    @blp.response(201, CohortSchema)
    def post(self, data):
        """Create a cohort and its weekly sessions (admins, the program's coordinators)."""
        program_id = data.pop("program_id")
        return services.create_cohort(current_actor(), program_id, **data)


@blp.route("/cohorts/<int:cohort_id>")
class CohortById(MethodView):
    @blp.response(
        200,
        COHORT_BY_AUDIENCE,
        description="CohortWithRoster for its facilitators and admins, Cohort for coordinators.",
    )
    def get(self, cohort_id):
        """Show a cohort: with its roster to those who run it, in aggregate to coordinators."""
        cohort, roster = services.get_cohort_and_roster(current_actor(), cohort_id)
        # Privacy: the audience picks the schema; only roster holders get the one with names.
        schema = CohortSchema() if roster is None else CohortWithRosterSchema()
        return jsonify(schema.dump(cohort))

    @blp.arguments(CohortUpdateSchema)
    @blp.response(200, CohortSchema)
    def patch(self, data, cohort_id):
        """Rename a cohort, change its status, language or facilitators."""
        return services.update_cohort(current_actor(), cohort_id, **data)


@blp.route("/cohorts/<int:cohort_id>/members")
class CohortMembers(MethodView):
    @blp.response(200, MemberSchema(many=True))
    def get(self, cohort_id):
        """List a cohort's roster (its facilitators and admins; coordinators are refused)."""
        return services.list_members(current_actor(), cohort_id)

    @blp.arguments(MemberCreateSchema)
    @blp.response(201, MemberSchema)
    def post(self, data, cohort_id):
        """Add a participant under a pseudonymous display name."""
        return services.add_member(current_actor(), cohort_id, **data)


@blp.route("/members/<int:member_id>")
class MemberById(MethodView):
    @blp.response(200, MemberSchema)
    def get(self, member_id):
        """Show a member of a cohort you run."""
        return services.get_member(current_actor(), member_id)

    @blp.arguments(MemberUpdateSchema)
    @blp.response(200, MemberSchema)
    def patch(self, data, member_id):
        """Rename a member, or mark them as having left (or back)."""
        return services.update_member(current_actor(), member_id, **data)

    @blp.response(204)
    def delete(self, member_id):
        """Delete a member and their attendance, on their request."""
        services.remove_member(current_actor(), member_id)
