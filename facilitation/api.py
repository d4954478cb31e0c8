"""Own the live session's JSON endpoints: phones joining, screens pairing, staff steering."""

from __future__ import annotations

from flask import request
from flask_smorest import Blueprint

from facilitation import schemas, services
from facilitation.consent import consent_text
from groups.api import PREFIX, api_blueprint, current_actor
from groups.extensions import csrf, limiter
from groups.schemas import GroupSessionSchema

# Participants have no account: these endpoints take no cookie, so need no CSRF token;
# they are rate-limited per address against guessing (a room shares one Wi-Fi address,
# so the limits leave room for forty phones).
public = Blueprint(
    "api_join",
    __name__,
    url_prefix=PREFIX,
    description="Phones joining a live session; TVs pairing as its screen.",
)
staff = api_blueprint("api_live", __name__, "Starting, ending and pairing a live session.")


# Per room as well as per address: many addresses probing one known room code (its roster, a
# name to take) are slowed too. A room of forty phones needs about eighty of these a minute.
JOIN_PER_ROOM = "300 per minute"


def _address() -> str:
    return request.remote_addr or "-"


def _room() -> str:
    data = request.get_json(silent=True)
    code = data.get("code") if isinstance(data, dict) else None
    return "room:" + (code.strip().upper()[:16] if isinstance(code, str) else "-")


@public.route("/join/lookup", methods=["POST"])
@csrf.exempt
@limiter.limit("60 per minute", key_func=_address)
@limiter.limit(JOIN_PER_ROOM, key_func=_room)
@public.doc(security=[])
@public.arguments(schemas.JoinLookupSchema)
@public.response(200, schemas.JoinOptionsSchema)
def join_lookup(data):
    """Say what a phone holding this room code may pick: roster names, guests, consent."""
    options = services.join_options(data["code"])
    cohort = options["cohort"]
    return {
        "group_session_id": options["group_session"].id,
        "cohort": cohort.name,
        "members": options["members"],
        "allow_guests": options["allow_guests"],
        "consent_version": options["consent_version"],
        "consent_text": consent_text(cohort.program),
        "language": cohort.language,
    }


@public.route("/join", methods=["POST"])
@csrf.exempt
@limiter.limit("120 per minute", key_func=_address)
@limiter.limit(JOIN_PER_ROOM, key_func=_room)
@public.doc(security=[])
@public.arguments(schemas.JoinSchema)
@public.response(200, schemas.JoinedSchema)
def join(data):
    """Take a place on the roster (or join as a guest) with this phone's device token."""
    group_session, member, _ = services.join_session(
        data["code"],
        data["device_token"],
        member_id=data["member_id"],
        guest_name=data["guest_name"],
        consent_version=data["consent_version"],
    )
    return {"group_session_id": group_session.id, "member": member}


@public.route("/screens", methods=["POST"])
@csrf.exempt
@limiter.limit("20 per minute", key_func=_address)
@public.doc(security=[])
@public.arguments(schemas.ScreenPairSchema)
@public.response(200, schemas.ScreenPairedSchema)
def pair_screen(data):
    """Trade a one-time screen code for the token a TV uses to show the session."""
    group_session_id, token = services.pair_screen(data["code"])
    return {"group_session_id": group_session_id, "screen_token": token}


@staff.route("/sessions/<int:session_id>/start", methods=["POST"])
@staff.response(200, GroupSessionSchema)
def start(session_id):
    """Start a planned session: open its room with a join code."""
    return services.start_session(current_actor(), session_id)


@staff.route("/sessions/<int:session_id>/end", methods=["POST"])
@staff.response(200, GroupSessionSchema)
def end(session_id):
    """End a live session: close the room and mark the unmarked absent."""
    return services.end_session(current_actor(), session_id)


@staff.route("/sessions/<int:session_id>/screen-code", methods=["POST"])
@staff.response(200, schemas.ScreenCodeSchema)
def screen_code(session_id):
    """Make a one-time code for pairing a TV as this session's screen."""
    code = services.issue_screen_code(current_actor(), session_id)
    return {"code": code, "expires_in": int(services.SCREEN_CODE_TTL.total_seconds())}


blueprints = (public, staff)
