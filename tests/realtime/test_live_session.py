"""A facilitator, a screen and several phones run each activity over Socket.IO."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from facilitation import services as live
from facilitation.models import Answer, Appreciation, PauseSignal, SessionActivity
from groups.extensions import db
from groups.models import ActivityKind, Attendance, AttendanceStatus, GroupSession, SessionState
from realtime.extensions import socketio
from tests.realtime.conftest import command, last

NAMES = ("Robin", "Sam", "Alex", "Jo", "Kim", "Lee")


def open_(console, activity_id):
    ack = command(console, "open_activity", {"activity_id": activity_id})
    assert ack["ok"], ack
    return ack


def test_async_mode_is_explicit(app):
    assert socketio.server.async_mode == app.config["SOCKETIO_ASYNC_MODE"] == "threading"


def test_default_async_mode_is_eventlet(app):
    from wsgi import load_config

    assert load_config(app, {"SECRET_KEY": "x"})["SOCKETIO_ASYNC_MODE"] == "eventlet"
    with pytest.raises(RuntimeError):
        load_config(app, {"SECRET_KEY": "x", "SOCKETIO_ASYNC_MODE": "asyncio"})


@pytest.mark.parametrize(
    "auth",
    [
        None,
        {},
        {"role": "phone", "device_token": "x" * 30, "secret": "y" * 30},
        {"role": "screen", "screen_token": "z" * 40},
        {"role": "console", "session_id": 1},
        {"role": "wizard"},
    ],
)
def test_connections_without_credentials_are_refused(app, live_session, auth):
    sock = socketio.test_client(app, auth=auth)
    assert not sock.is_connected()


def test_other_facilitator_console_is_refused(app, live_session, other_facilitator, login, client):
    login(other_facilitator)
    sock = socketio.test_client(
        app, auth={"role": "console", "session_id": live_session.id}, flask_test_client=client
    )
    assert not sock.is_connected()


def test_coordinator_console_is_refused(app, live_session, coordinator, login, client):
    login(coordinator)
    sock = socketio.test_client(
        app, auth={"role": "console", "session_id": live_session.id}, flask_test_client=client
    )
    assert not sock.is_connected()


def test_connect_sends_full_snapshots(console, screen, join_phone, live_session):
    state = last(console, "console_state")
    assert state["session"]["join_code"] == live_session.join_code
    assert [a["kind"] for a in state["agenda"]][:3] == ["check_in", "prompt", "check_out"]
    assert last(screen, "screen_state")["session"]["phase"] == "lobby"
    phone = join_phone("Robin")
    snapshot = phone.received("session_state")[-1]
    assert snapshot["me"]["name"] == "Robin"
    assert "join_code" not in snapshot["session"]


def test_joining_marks_attendance_and_reaches_console(console, join_phone, live_session, settle):
    console.get_received()
    join_phone("Sam")
    settle()
    state = last(console, "console_state")
    sam = next(r for r in state["attendance"] if r["name"] == "Sam")
    assert sam["status"] == "present" and sam["connected"] is True
    row = db.session.scalar(
        select(Attendance).where(Attendance.group_session_id == live_session.id)
    )
    assert row.status == AttendanceStatus.PRESENT


def test_check_in_results_hidden_until_closed_revealed_and_k(
    console, screen, join_phone, activity_of, settle
):
    check_in = activity_of(ActivityKind.CHECK_IN)
    phones = [join_phone(n) for n in NAMES]
    open_(console, check_in.id)
    for i, phone in enumerate(phones[:5]):
        ack = phone.answer(check_in.id, pleasure=0.1 + i * 0.1, arousal=0.2, words=["numb"])
        assert ack["ok"], ack
    phones[5].answer(check_in.id, passed=True)
    settle()
    results = last(screen, "screen_state")["results"]
    assert results == {"responded": 6, "k": 5, "released": False, "reason": "open"}
    assert command(console, "close_activity", {"activity_id": check_in.id})["ok"]
    settle()
    assert last(screen, "screen_state")["results"]["reason"] == "held"
    assert command(console, "reveal_results", {"activity_id": check_in.id})["ok"]
    settle()
    results = last(screen, "screen_state")["results"]
    assert results["released"] is True
    assert results["grid"]["n"] == 5
    assert sum(map(sum, results["grid"]["cells"])) == 5
    assert results["words"]["counts"] == [{"word": "numb", "count": 5}]
    # Pass counts never reach a screen: passes and answers are counted together only.
    assert "pass" not in json.dumps(last(console, "console_state")["results"])


def test_fewer_than_k_answers_are_withheld(console, screen, join_phone, activity_of, settle):
    check_in = activity_of(ActivityKind.CHECK_IN)
    phones = [join_phone(n) for n in NAMES]
    open_(console, check_in.id)
    for phone in phones[:4]:
        assert phone.answer(check_in.id, pleasure=0.5, arousal=0.5)["ok"]
    for phone in phones[4:]:
        assert phone.answer(check_in.id, passed=True)["ok"]
    command(console, "close_activity", {"activity_id": check_in.id})
    command(console, "reveal_results", {"activity_id": check_in.id})
    settle()
    results = last(screen, "screen_state")["results"]
    assert results["grid"] == {"withheld": True, "n_below": 5}
    assert results["words"] == {"withheld": True, "n_below": 5}


def test_changing_and_resending_an_answer_counts_once(console, join_phone, activity_of):
    check_in = activity_of(ActivityKind.CHECK_IN)
    phone = join_phone("Robin")
    open_(console, check_in.id)
    first = {"activity_id": check_in.id, "client_id": "robin-000001", "pleasure": 0.2}
    assert phone.emit("submit_answer", first)["ok"]
    assert phone.emit("submit_answer", first)["ok"]  # re-sent after a lost ack
    changed = phone.answer(check_in.id, pleasure=0.9, arousal=0.1)
    assert changed["data"]["pleasure"] == 0.9
    rows = db.session.scalars(select(Answer).where(Answer.activity_id == check_in.id)).all()
    assert len(rows) == 1 and rows[0].pleasure == 0.9
    # The phone sees its own answer again after a reconnect.
    phone.sock.disconnect()
    phone.connect()
    state = phone.received("session_state")[-1]
    assert state["me"]["answer"]["pleasure"] == 0.9


def test_check_out_connectedness_and_validation(console, join_phone, activity_of, settle, screen):
    check_out = activity_of(ActivityKind.CHECK_OUT)
    phones = [join_phone(n) for n in NAMES]
    open_(console, check_out.id)
    bad = phones[0].answer(check_out.id, connectedness=9)
    assert bad["ok"] is False and bad["error"]["code"] == "invalid"
    assert "connectedness" in bad["error"]["fields"]
    for i, phone in enumerate(phones):
        assert phone.answer(check_out.id, pleasure=0.6, arousal=0.4, connectedness=1 + i)["ok"]
    command(console, "close_activity", {"activity_id": check_out.id})
    command(console, "reveal_results", {"activity_id": check_out.id})
    settle()
    results = last(screen, "screen_state")["results"]
    assert results["connectedness"]["counts"] == [1, 1, 1, 1, 1, 1, 0]


def test_answers_only_while_open(console, join_phone, activity_of):
    check_in = activity_of(ActivityKind.CHECK_IN)
    phone = join_phone("Robin")
    ack = phone.answer(check_in.id, pleasure=0.5)
    assert ack == {
        "ok": False,
        "error": {"code": "not_open", "message": "This activity is not taking answers now."},
    }


@pytest.mark.parametrize(
    "payload,field",
    [
        ({"client_id": "abcdefgh"}, "activity_id"),
        ({"activity_id": "1", "client_id": "abcdefgh"}, "activity_id"),
        ({"activity_id": 1}, "client_id"),
        ({"activity_id": 1, "client_id": "abcdefgh", "pleasure": 3}, "pleasure"),
        ({"activity_id": 1, "client_id": "abcdefgh", "text": "x" * 281}, "text"),
        ({"activity_id": 1, "client_id": "abcdefgh", "member_id": 3}, "member_id"),
    ],
)
def test_malformed_answers_get_an_error_ack(join_phone, payload, field):
    phone = join_phone("Robin")
    ack = phone.emit("submit_answer", payload)
    assert ack["ok"] is False and ack["error"]["code"] == "invalid"
    assert field in ack["error"]["fields"]
    assert db.session.scalar(select(Answer.id)) is None


def test_phone_cannot_steer_and_screen_cannot_answer(join_phone, screen, activity_of):
    phone = join_phone("Robin")
    ack = phone.emit("open_activity", {"activity_id": activity_of(ActivityKind.PROMPT).id})
    assert ack["error"]["code"] == "forbidden"
    ack = screen.emit("submit_answer", {"activity_id": 1, "client_id": "abcdefgh"}, callback=True)
    assert ack["error"]["code"] == "forbidden"


def test_prompt_text_is_moderated_and_shown_without_a_name(
    console, screen, join_phone, activity_of, settle
):
    prompt = activity_of(ActivityKind.PROMPT)
    robin, sam = join_phone("Robin"), join_phone("Sam")
    assert command(console, "show_activity", {"activity_id": prompt.id})["ok"]
    settle()
    assert last(screen, "screen_state")["activity"]["state"] == "preview"
    open_(console, prompt.id)
    ack = robin.answer(prompt.id, response="text", text="  It tasted of summer.  ")
    assert ack["ok"] and ack["data"]["moderation"] == "pending"
    assert sam.answer(prompt.id, response="done")["ok"]
    settle()
    queue = last(console, "console_state")["moderation"]
    assert [q["text"] for q in queue] == ["It tasted of summer."]
    assert last(screen, "screen_state")["texts"] == []
    ack = command(
        console, "moderate", {"kind": "answer", "id": queue[0]["id"], "decision": "approve"}
    )
    assert ack["ok"], ack
    settle()
    screen_state = last(screen, "screen_state")
    assert screen_state["texts"] == [{"activity_id": prompt.id, "text": "It tasted of summer."}]
    assert "Robin" not in json.dumps(screen_state)


def test_appreciation_reaches_recipient_privately(console, screen, join_phone, activity_of, settle):
    round_ = activity_of(ActivityKind.APPRECIATION)
    robin, sam, alex = join_phone("Robin"), join_phone("Sam"), join_phone("Alex")
    open_(console, round_.id)
    ack = robin.emit(
        "send_appreciation",
        {
            "activity_id": round_.id,
            "client_id": "robin-app-1",
            "text": "Your calm helps me.",
            "recipient_id": sam.member_id,
            "signed": True,
        },
    )
    assert ack["ok"], ack
    to_self = alex.emit(
        "send_appreciation",
        {
            "activity_id": round_.id,
            "client_id": "alex-app-1",
            "text": "Me!",
            "recipient_id": alex.member_id,
        },
    )
    assert to_self["error"]["fields"]["recipient_id"]
    unsigned = alex.emit(
        "send_appreciation",
        {"activity_id": round_.id, "client_id": "alex-app-2", "text": "Thank you all."},
    )
    assert unsigned["ok"]
    assert db.session.get(Appreciation, unsigned["data"]["id"]).signature is None
    settle()
    queue = last(console, "console_state")["moderation"]
    assert {q["text"] for q in queue} == {"Your calm helps me.", "Thank you all."}
    assert last(screen, "screen_state")["appreciations"] == []
    for phone in (robin, sam, alex):
        phone.sock.get_received()
    command(
        console,
        "moderate",
        {"kind": "appreciation", "id": ack["data"]["id"], "decision": "approve"},
    )
    settle()
    assert sam.received("appreciation_received") == [
        {"text": "Your calm helps me.", "signature": "Robin"}
    ]
    assert robin.received("appreciation_received") == []
    assert alex.received("appreciation_received") == []
    shown = last(screen, "screen_state")["appreciations"]
    assert shown == [
        {"id": ack["data"]["id"], "text": "Your calm helps me.", "to": "Sam", "signature": "Robin"}
    ]


def test_dyads_pair_everyone_present_with_a_triad_for_odd_numbers(
    console, join_phone, activity_of, settle
):
    dyads = activity_of(ActivityKind.DYADS)
    phones = [join_phone(n) for n in NAMES[:5]]
    ack = command(console, "form_dyads", {"activity_id": dyads.id})
    assert ack["ok"], ack
    settle()
    pairs = last(console, "console_state")["pairs"]
    assert sorted(len(g) for g in pairs) == [2, 3]
    assert sorted(n for g in pairs for n in g) == sorted(NAMES[:5])
    partners = {p.name: p.emit("get_state")["data"]["me"]["partners"] for p in phones}
    for group in pairs:
        for name in group:
            assert sorted(partners[name]) == sorted(n for n in group if n != name)


def test_dyad_rotation_avoids_earlier_pairs():
    history = {frozenset((1, 2)), frozenset((3, 4))}
    import random

    groups = live.pair_up([1, 2, 3, 4], history, random.Random(3))
    assert all(frozenset(g) not in history for g in groups)
    assert live.pair_up([7], set(), random.Random(1)) == [[7]]


def test_second_round_avoids_the_first(console, join_phone, activity_of):
    dyads = activity_of(ActivityKind.DYADS)
    for name in NAMES[:4]:
        join_phone(name)
    command(console, "form_dyads", {"activity_id": dyads.id})
    command(console, "form_dyads", {"activity_id": dyads.id})
    from facilitation.models import DyadPairing

    rows = db.session.scalars(select(DyadPairing).where(DyadPairing.activity_id == dyads.id)).all()
    rounds: dict[int, dict[int, set[int]]] = {}
    for r in rows:
        rounds.setdefault(r.round, {}).setdefault(r.group_index, set()).add(r.member_id)
    first = {frozenset(g) for g in rounds[1].values()}
    second = {frozenset(g) for g in rounds[2].values()}
    assert not first & second


def test_pause_is_private_and_named_only_on_request(console, screen, join_phone, settle):
    robin, sam = join_phone("Robin"), join_phone("Sam")
    assert robin.emit("request_pause", {"client_id": "robin-pause-1"})["ok"]
    assert sam.emit("request_pause", {"client_id": "sam-pause-1", "check_in": True})["ok"]
    assert sam.emit("request_pause", {"client_id": "sam-pause-1", "check_in": True})["ok"]
    settle()
    pauses = last(console, "console_state")["pauses"]
    assert [p["check_in_with"] for p in pauses] == ["Sam", None]
    assert db.session.scalar(select(PauseSignal).where(PauseSignal.member_id.is_(None)))
    screen_state = last(screen, "screen_state")
    assert "pauses" not in screen_state and "Sam" not in json.dumps(screen_state)
    robin.sock.get_received()
    assert robin.received("console_state") == []
    ack = command(console, "acknowledge_pause", {"id": pauses[0]["id"]})
    assert ack["ok"]


def test_grounding_interrupts_and_returns(console, screen, join_phone, activity_of, settle):
    prompt = activity_of(ActivityKind.PROMPT)
    phone = join_phone("Robin")
    open_(console, prompt.id)
    assert command(console, "start_grounding")["ok"]
    settle()
    assert last(screen, "screen_state")["session"]["phase"] == "grounding"
    assert phone.received("session_state")[-1]["session"]["phase"] == "grounding"
    assert phone.answer(prompt.id, response="done")["error"]["code"] == "grounding"
    remaining = db.session.get(SessionActivity, prompt.id).timer_remaining
    assert remaining is not None and 170 < remaining <= 180
    assert command(console, "end_grounding")["ok"]
    settle()
    state = last(screen, "screen_state")
    assert state["session"]["phase"] == "activity"
    assert state["activity"]["id"] == prompt.id and state["activity"]["timer"]["running"]


def test_server_owns_the_timer(console, activity_of, screen, settle):
    prompt = activity_of(ActivityKind.PROMPT)
    open_(console, prompt.id)
    settle()
    timer = last(screen, "screen_state")["activity"]["timer"]
    assert timer["running"] and timer["seconds"] == 180 and timer["deadline"]
    command(console, "control_timer", {"activity_id": prompt.id, "action": "pause"})
    command(console, "control_timer", {"activity_id": prompt.id, "action": "add_minute"})
    settle()
    timer = last(screen, "screen_state")["activity"]["timer"]
    assert not timer["running"] and 230 < timer["remaining"] <= 240
    bad = command(console, "control_timer", {"activity_id": prompt.id, "action": "rewind"})
    assert bad["error"]["code"] == "invalid"


def test_agenda_steps_forward_and_back(console, settle, screen):
    assert command(console, "previous_activity")["error"]["code"] == "agenda_edge"
    assert command(console, "next_activity")["ok"]
    assert command(console, "next_activity")["ok"]
    settle()
    assert last(screen, "screen_state")["activity"]["kind"] == "prompt"
    assert command(console, "previous_activity")["ok"]
    settle()
    assert last(screen, "screen_state")["activity"]["kind"] == "check_in"


def test_questionnaire_scores_when_complete(console, join_phone, activity_of):
    who5 = activity_of(ActivityKind.QUESTIONNAIRE)
    phone = join_phone("Robin")
    open_(console, who5.id)
    state = phone.emit("get_state")["data"]
    assert [i["key"] for i in state["activity"]["instrument"]["items"]][0] == "cheerful"
    items = {"cheerful": 3, "calm": 2, "active": 4, "rested": 1, "interest": 5}
    ack = phone.answer(who5.id, items=items)
    assert ack["ok"], ack
    assert db.session.scalar(select(Answer.score).where(Answer.activity_id == who5.id)) == 60.0
    bad = phone.answer(who5.id, items={"cheerful": 9})
    assert "items.cheerful" in bad["error"]["fields"]


def test_end_session_closes_room_for_everyone(console, join_phone, live_session, settle, cohort):
    phone = join_phone("Robin")
    code = live_session.join_code
    assert command(console, "end_session")["ok"]
    settle()
    assert phone.received("session_ended") == [{"session_id": live_session.id}]
    group_session = db.session.get(GroupSession, live_session.id)
    assert group_session.state == SessionState.ENDED and group_session.join_code is None
    statuses = {a.member.display_name: a.status for a in group_session.attendance}
    assert statuses["Robin"] == AttendanceStatus.PRESENT
    assert statuses["Sam"] == AttendanceStatus.ABSENT
    # The code dies with the session, and the phone cannot reconnect into it.
    response = phone.http.post("/api/v1/join/lookup", json={"code": code})
    assert response.status_code == 404
    phone.sock.disconnect()
    again = socketio.test_client(
        phone.app,
        auth={"role": "phone", "device_token": phone.device_token, "secret": phone.secret},
    )
    assert not again.is_connected()


def test_rate_limit_per_connection(join_phone):
    phone = join_phone("Robin")
    acks = [phone.emit("heartbeat") for _ in range(35)]
    assert acks[0]["ok"]
    assert acks[-1]["error"]["code"] == "rate_limited"


def test_own_history_and_forget(console, join_phone, activity_of):
    check_in = activity_of(ActivityKind.CHECK_IN)
    phone = join_phone("Robin")
    open_(console, check_in.id)
    phone.answer(check_in.id, pleasure=0.3, arousal=0.3)
    history = phone.emit("my_history")["data"]["answers"]
    assert len(history) == 1 and history[0]["pleasure"] == 0.3
    assert phone.emit("forget_me")["data"] == {"deleted": 1}
    assert db.session.scalar(select(Answer.id)) is None


def test_no_history_link_when_the_phone_keeps_none(console, join_phone, activity_of):
    check_in = activity_of(ActivityKind.CHECK_IN)
    phone = join_phone("Robin")
    phone.sock.disconnect()
    phone.connect(keep_history=False)
    open_(console, check_in.id)
    assert phone.answer(check_in.id, pleasure=0.3)["ok"]
    assert db.session.scalar(select(Answer.pseudonym_hash)) is None


@pytest.mark.parametrize("kind", [ActivityKind.APPRECIATION, ActivityKind.DYADS])
def test_pass_only_rounds_count_nothing_on_any_screen(
    kind, console, screen, join_phone, activity_of, settle
):
    activity = activity_of(kind)
    robin, _sam = join_phone("Robin"), join_phone("Sam")
    open_(console, activity.id)
    ack = robin.emit(
        "submit_answer", {"activity_id": activity.id, "client_id": "robin-pass-1", "passed": True}
    )
    assert ack["ok"], ack
    settle()
    for sock, event in ((screen, "screen_state"), (console, "console_state")):
        results = last(sock, event)["results"]
        assert "responded" not in results, results
        assert results == {"k": results["k"]}
