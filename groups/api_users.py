"""Own the staff accounts resource of the API (admins only, as the services decide)."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Page

from groups import services
from groups.api import api_blueprint, current_actor
from groups.schemas import UserCreateSchema, UserSchema, UserUpdateSchema

blp = api_blueprint("api_users", __name__, "Staff accounts: admins only.")


@blp.route("/users")
class Users(MethodView):
    @blp.response(200, UserSchema(many=True))
    @blp.paginate(Page)
    def get(self):
        """List staff accounts by name."""
        return services.list_users(current_actor())

    @blp.arguments(UserCreateSchema)
    @blp.response(201, UserSchema)
    def post(self, data):
        """Create a staff account."""
        return services.create_user(current_actor(), **data)


@blp.route("/users/<int:user_id>")
class UserById(MethodView):
    @blp.response(200, UserSchema)
    def get(self, user_id):
        """Show a staff account."""
        return services.get_user(current_actor(), user_id)

    @blp.arguments(UserUpdateSchema)
    @blp.response(200, UserSchema)
    def patch(self, data, user_id):
        """Change a staff account; deactivating or a new password signs it out everywhere."""
        return services.update_user(current_actor(), user_id, **data)
