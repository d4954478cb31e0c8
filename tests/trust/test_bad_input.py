"""Bad input: any JSON at any schema, service or socket command is refused, never a crash."""

from __future__ import annotations

import inspect as pyinspect

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marshmallow import Schema, ValidationError

from facilitation import schemas as live_schemas
from facilitation import services as live
from groups import schemas as group_schemas
from groups.errors import HearthError
from groups.extensions import db
from realtime import handlers
from realtime import schemas as socket_schemas
from realtime.extensions import socketio
from tests.realtime.conftest import (  # noqa: F401 - fixtures used by name
    activity_of,
    join_phone,
    live_session,
    publisher,
    rich_program,
    settle,
)

# Any JSON value: what a client can put in a body or a socket message.
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=50)
)
JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
FIELD_NAMES = st.sampled_from(
    [
        "activity_id",
        "client_id",
        "text",
        "pleasure",
        "arousal",
        "words",
        "connectedness",
        "response",
        "reaction",
        "items",
        "passed",
        "kind",
        "id",
        "decision",
        "status",
        "member_id",
        "recipient_id",
        "signed",
        "check_in",
        "action",
        "name",
        "email",
        "code",
        "marks",
    ]
)
# Objects with the field names the schemas know, holding any JSON: hits the validators.
OBJECTS = st.dictionaries(FIELD_NAMES, JSON, max_size=6)
FUZZ = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


INPUT_SCHEMAS = [
    cls
    for module in (socket_schemas, group_schemas, live_schemas)
    for cls in vars(module).values()
    if pyinspect.isclass(cls) and issubclass(cls, Schema) and cls.__module__ == module.__name__
]


@settings(max_examples=80, deadline=None)
@given(data=JSON | OBJECTS)
def test_every_schema_loads_or_says_why(data):
    assert len(INPUT_SCHEMAS) > 30
    for schema in INPUT_SCHEMAS:
        try:
            schema().load(data)
        except ValidationError as exc:
            assert exc.messages, schema


def test_any_payload_to_any_command_gets_an_ack_never_a_crash(
    app, request, monkeypatch, facilitator, client, login
):
    """Phones and the console send garbage to every command; each gets {"ok": ...}, none a 500."""
    monkeypatch.setattr(handlers._limiter, "hit", lambda *_args: True)  # fuzz the services too
    session = request.getfixturevalue("live_session")
    phone = request.getfixturevalue("join_phone")("Robin")
    login(facilitator)
    console = socketio.test_client(
        app, auth={"role": "console", "session_id": session.id}, flask_test_client=client
    )
    # end_session would close the room for the examples after it; the access table covers it.
    events = sorted(set(handlers.COMMANDS) - {"end_session"})

    @settings(
        max_examples=150,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(event=st.sampled_from(events), payload=JSON | OBJECTS, as_phone=st.booleans())
    def send(event, payload, as_phone):
        sock = phone.sock if as_phone else console
        ack = sock.emit(event, payload, callback=True)
        assert isinstance(ack, dict) and isinstance(ack["ok"], bool), ack
        if not ack["ok"]:
            assert ack["error"]["code"] != "server_error", (event, payload, ack)
            assert ack["error"]["message"]

    send()
    # The room is not stuck: both ends still talk.
    assert console.emit("get_state", {}, callback=True)["ok"]
    assert phone.emit("get_state")["ok"]
    console.disconnect()


def test_unknown_events_and_bare_values_leave_the_connection_working(request):
    phone = request.getfixturevalue("join_phone")("Robin")
    for event, payload in [("no_such_event", {}), ("connect", {}), ("disconnect", None)]:
        phone.sock.emit(event, payload)
    for payload in [None, 3, "text", [1, 2], {"a": {"b": []}}]:
        ack = phone.sock.emit("get_state", payload, callback=True)
        assert ack["ok"] is (payload is None) or ack["error"]["code"] == "invalid", ack
    assert phone.sock.is_connected()
    assert phone.emit("get_state")["ok"]
    # An event named "connect" cannot re-run sign-in: the phone stays a phone.
    phone.sock.emit("connect", {"role": "console", "session_id": 1})
    assert phone.emit("open_activity", {"activity_id": 1})["error"]["code"] == "forbidden"


@FUZZ
@given(code=JSON, token=JSON, member=JSON, guest=JSON, consent=JSON)
def test_joining_with_anything_is_refused_with_a_domain_error(
    request, code, token, member, guest, consent
):
    session = request.getfixturevalue("live_session")
    for attempt in (code, session.join_code):
        try:
            live.join_session(
                attempt, token, member_id=member, guest_name=guest, consent_version=consent
            )
        except HearthError as exc:
            assert exc.status in (400, 403, 404, 409, 422)
            db.session.rollback()


def test_answering_with_anything_is_refused_with_a_domain_error(request, facilitator):
    from groups.models import ActivityKind

    session = request.getfixturevalue("live_session")
    phone = request.getfixturevalue("join_phone")("Sam")
    participant = live.authenticate_phone(phone.device_token, phone.secret)
    check_in = request.getfixturevalue("activity_of")(ActivityKind.CHECK_IN)
    live.open_activity(facilitator, session.id, check_in.id)

    @FUZZ
    @given(activity=JSON, payload=OBJECTS)
    def answer(activity, payload):
        for target in (activity, check_in.id):
            try:
                live.submit_answer(participant, target, payload)
            except HearthError as exc:
                assert exc.status in (400, 403, 404, 409, 422)
                db.session.rollback()

    answer()
