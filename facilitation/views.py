"""Own the live session's pages: console, shared screen, TV pairing, and the phone's join flow."""

from __future__ import annotations

import io

import segno
from flask import (
    Blueprint,
    Response,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required

from facilitation import services
from facilitation.consent import consent_text
from groups import i18n
from groups import services as group_services
from groups.access import CohortAccess
from groups.errors import HearthError
from groups.extensions import limiter

bp = Blueprint("live", __name__)


def _me():
    return current_user._get_current_object()


def join_url(code: str) -> str:
    """The address a phone opens for this room code (what the QR code holds)."""
    return url_for("live.join_code", code=code, _external=True)


@bp.post("/sessions/<int:session_id>/start")
@login_required
def start(session_id: int):
    """Start a planned session and open its console."""
    services.start_session(_me(), session_id)
    return redirect(url_for("live.console", session_id=session_id))


@bp.route("/sessions/<int:session_id>/end", methods=["GET", "POST"])
@login_required
def end(session_id: int):
    """Ask before ending a live session; end it on the confirming POST."""
    group_session = group_services.get_group_session(_me(), session_id, CohortAccess.RUN)
    if request.method == "POST":
        services.end_session(_me(), session_id)
        flash("The session has ended. Phones show a closing screen.", "success")
        return redirect(url_for("pages.group_session", session_id=session_id))
    return render_template("live/end_confirm.html", group_session=group_session)


@bp.get("/live/<int:session_id>/console")
@login_required
def console(session_id: int):
    """The facilitator's console for a live session."""
    group_session, _ = services.get_live_session(_me(), session_id)
    return render_template(
        "live/console.html", group_session=group_session, join_url=join_url(group_session.join_code)
    )


@bp.get("/live/<int:session_id>/screen")
@login_required
def screen(session_id: int):
    """The shared screen, opened on the facilitator's own signed-in laptop."""
    group_session, _ = services.get_live_session(_me(), session_id)
    i18n.use_room_language(group_session.cohort.language)
    return render_template("live/screen.html", group_session=group_session, paired=False)


@bp.get("/screen")
def pair_screen():
    """A TV in the room: enter the one-time screen code from the console."""
    return render_template("live/pair_screen.html")


@bp.get("/screen/show")
def paired_screen():
    """The shared screen on a paired TV (its token lives in the TV's browser only)."""
    return render_template("live/screen.html", group_session=None, paired=True)


@bp.get("/join")
def join():
    """A phone enters the room code (or scanned the QR code straight to /j/CODE)."""
    code = (request.args.get("code") or "").strip().upper()
    if code:
        return redirect(url_for("live.join_code", code=code))
    return render_template("live/join.html")


@bp.get("/j/<code>")
@limiter.limit("60 per minute")
def join_code(code: str):
    """Pick your name, read the consent text, and go to the phone view."""
    try:
        options = services.join_options(code)
    except HearthError as exc:
        error = exc.to_dict()["message"]  # in this phone's language
        return render_template("live/join.html", error=error, code=code), exc.status
    # The room speaks its cohort's language, unless this phone chose its own.
    language = options["cohort"].language
    i18n.use_room_language(language)
    page = render_template(
        "live/join_pick.html",
        code=options["group_session"].join_code,
        cohort=options["cohort"],
        members=options["members"],
        allow_guests=options["allow_guests"],
        consent_version=options["consent_version"],
        consent_text=consent_text(options["cohort"].program),
    )
    return i18n.remember_room_language(make_response(page), language)


@bp.get("/phone")
def phone():
    """The participant's view of the live session."""
    return render_template("live/phone.html")


@bp.get("/j/<code>/qr.svg")
@limiter.limit("60 per minute")
def qr(code: str):
    """The QR code of a live room's join address, drawn on the server."""
    group_session = services.find_live_by_code(code)
    buffer = io.BytesIO()
    segno.make(join_url(group_session.join_code), error="m").save(
        buffer,
        kind="svg",
        scale=10,
        border=2,
        dark="#000",
        light="#fff",
        xmldecl=False,
        title="QR code to join the session",
    )
    return Response(
        buffer.getvalue(), mimetype="image/svg+xml", headers={"Cache-Control": "no-store"}
    )
