"""Own staff sign-in and sign-out, the login cookie, and how domain errors reach people."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext
from flask_babel import lazy_gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError, InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from groups import services
from groups.errors import HearthError, NotAuthenticated
from groups.extensions import db, limiter, login_manager

bp = Blueprint("auth", __name__)


class DatabaseInt(IntegerConverter):
    """`<int:...>` in a route: at most what a 32-bit signed database integer holds."""

    def __init__(self, map, *args, **kwargs):  # noqa: A002 - werkzeug's own name
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


class LoginForm(FlaskForm):
    email = EmailField(_("Email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_("Password"), validators=[DataRequired(), Length(max=256)])


def _login_email_key() -> str:
    return (request.form.get("email") or "").strip().lower() or request.remote_addr or "-"


def wants_json() -> bool:
    """Say whether this request should be answered in JSON (the API) rather than a page."""
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def _safe_next(target: str | None) -> str:
    """Follow ?next= only to a path on this site."""
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and not urlsplit(target).netloc
    ):
        return target
    return url_for("pages.home")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
@limiter.limit("5 per minute", methods=["POST"], key_func=_login_email_key)
def login():
    """Sign a staff member in."""
    if current_user.is_authenticated:
        return redirect(url_for("pages.home"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.email.data, form.password.data)
        except NotAuthenticated as exc:
            form.password.errors.append(exc.message)
        else:
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout():
    """Sign out here and end this account's other sessions and sockets."""
    user = current_user._get_current_object()
    logout_user()
    services.end_sessions_everywhere(user)
    flash(gettext("You are signed out."), "info")
    return redirect(url_for("auth.login"))


@login_manager.user_loader
def _load_user(session_token: str):
    return services.find_user_by_session_token(session_token)


@login_manager.unauthorized_handler
def _unauthorized():
    if wants_json():
        return jsonify(error=NotAuthenticated("Please sign in.").to_dict()), 401
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def init_app(app: Flask) -> None:
    """Register sign-in and the error handlers."""
    # Ids in paths are database integers: a larger number is no route (404), never an overflow
    # in the driver (500). Set before any blueprint adds its rules.
    app.url_map.converters["int"] = DatabaseInt
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "strong"
    app.register_blueprint(bp)
    # The audit log's page is for admins, read next to the sign-ins it answers for.
    from groups import audit

    app.register_blueprint(audit.bp)

    @app.errorhandler(HearthError)
    def _domain_error(exc: HearthError):
        db.session.rollback()
        if isinstance(exc, NotAuthenticated) and not wants_json():
            return _unauthorized()
        if wants_json():
            return jsonify(error=exc.to_dict()), exc.status
        return render_template("error.html", error=exc), exc.status

    @app.errorhandler(CSRFError)
    def _csrf_error(exc: CSRFError):
        body = {
            "code": "csrf",
            "message": "This form expired or came from elsewhere. Reload and try again.",
        }
        if wants_json():
            return jsonify(error=body), 400
        return render_template("error.html", error=HearthError(body["message"])), 400

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        return http_error_response(exc)

    @app.errorhandler(OverflowError)
    @app.errorhandler(DataError)
    def _out_of_range(exc: Exception):
        # A number in a query or a body too large for the database's integers.
        db.session.rollback()
        body = {"code": "invalid", "message": "A number is out of range."}
        if wants_json():
            return jsonify(error=body), 422
        return render_template("error.html", error=HearthError(body["message"])), 422

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def _database_unavailable(exc: Exception):
        # The database is down or unreachable: say so (503, retry later), not a bare 500.
        try:
            db.session.rollback()
        except (OperationalError, InterfaceError):
            pass  # nothing to roll back on a connection that is gone
        body = {
            "code": "database_unavailable",
            "message": "The database does not answer; nothing was saved. Try again in a moment.",
        }
        headers = {"Retry-After": "5"}
        if wants_json():
            return jsonify(error=body), 503, headers
        try:
            page = render_template("error.html", error=HearthError(body["message"]))
        except (OperationalError, InterfaceError):  # the page asks who is signed in
            page = body["message"]
        return page, 503, headers


def http_error_response(
    exc: HTTPException,
    *,
    code: str | None = None,
    message: str | None = None,
    fields: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
):
    """Answer an HTTP error as {"error": ...} JSON for the API and JSON clients, else as a page."""
    code = code or (exc.name or "error").lower().replace(" ", "_")
    message = message or exc.description or exc.name
    # Keep what the error says about itself (Allow on 405), never its HTML content type.
    headers = {
        **{k: v for k, v in exc.get_headers() if k.lower() != "content-type"},
        **(headers or {}),
    }
    if wants_json():
        body: dict[str, Any] = {"code": code, "message": message}
        if fields:
            body["fields"] = fields
        return jsonify(error=body), exc.code, headers
    return render_template("error.html", error=HearthError(message)), exc.code, headers
