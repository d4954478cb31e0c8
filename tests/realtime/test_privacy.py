"""Anonymity by design: after a whole scripted session nothing joins an answer to a person."""

from __future__ import annotations

from sqlalchemy import String, inspect, select

from facilitation.anonymity import token_hash
from facilitation.models import Answer, Device
from groups.extensions import db
from groups.models import ActivityKind, Member
from tests.realtime.conftest import command, last

NAMES = ("Robin", "Sam", "Alex", "Jo", "Kim", "Lee")


def run_whole_session(console, join_phone, activity_of, settle):
    phones = [join_phone(n) for n in NAMES]
    check_in = activity_of(ActivityKind.CHECK_IN)
    prompt = activity_of(ActivityKind.PROMPT)
    check_out = activity_of(ActivityKind.CHECK_OUT)
    who5 = activity_of(ActivityKind.QUESTIONNAIRE)
    command(console, "open_activity", {"activity_id": check_in.id})
    for i, phone in enumerate(phones):
        assert phone.answer(check_in.id, pleasure=i / 10, arousal=0.2, words=["numb"])["ok"]
    command(console, "close_activity", {"activity_id": check_in.id})
    command(console, "open_activity", {"activity_id": prompt.id})
    for phone in phones:
        assert phone.answer(prompt.id, response="text", text=f"A small thing, {phone.name}")["ok"]
    command(console, "open_activity", {"activity_id": who5.id})
    for phone in phones[:3]:
        assert phone.answer(who5.id, items={"cheerful": 2, "calm": 3})["ok"]
    command(console, "open_activity", {"activity_id": check_out.id})
    for i, phone in enumerate(phones):
        assert phone.answer(check_out.id, pleasure=0.5, connectedness=1 + i)["ok"]
    assert command(console, "end_session")["ok"]
    settle()
    return phones


def test_nothing_in_the_schema_joins_an_answer_to_a_member_or_device(app):
    answer = inspect(db.engine).get_foreign_keys("answer")
    assert [fk["referred_table"] for fk in answer] == ["session_activity"]
    columns = {c["name"] for c in inspect(db.engine).get_columns("answer")}
    assert not columns & {"member_id", "device_id", "sid", "created_at", "ip", "user_agent"}


def test_nothing_in_the_data_joins_an_answer_to_a_member_or_device(
    console, join_phone, activity_of, settle, live_session
):
    phones = run_whole_session(console, join_phone, activity_of, settle)
    answers = db.session.scalars(select(Answer)).all()
    assert len(answers) == 6 + 6 + 3 + 6
    # Every key an answer carries, looked for in every text column of every other table.
    keys = (
        {a.slot_key for a in answers}
        | {a.pseudonym_hash for a in answers}
        | {a.client_id for a in answers}
        | {a.id for a in answers}
    )
    keys.discard(None)
    for table in db.metadata.sorted_tables:
        if table.name == "answer":
            continue
        text_columns = [c for c in table.columns if isinstance(c.type, String)]
        for column in text_columns:
            values = set(db.session.scalars(select(column)).all())
            assert not values & keys, f"{table.name}.{column.name} holds an answer's key"
    # Neither the phone's secret nor its device token is stored; only the token's hash.
    stored = {d.token_hash for d in db.session.scalars(select(Device))}
    for phone in phones:
        assert phone.secret not in stored and phone.device_token not in stored
        assert token_hash(phone.device_token) in stored
        assert phone.secret not in keys
    # Answers carry the day only, and a random id: no order to line up with arrivals.
    assert all(len(a.id) == 32 for a in answers)
    assert {a.answered_on for a in answers} == {live_session.started_at.date()}
    # Texts are anonymous too: the approved ones reach the screen without a name.
    names = {m.display_name for m in db.session.scalars(select(Member))}
    assert not any(a.text in names for a in answers if a.text)


def test_own_slot_key_differs_per_activity(console, join_phone, activity_of):
    phone = join_phone("Robin")
    check_in, check_out = activity_of(ActivityKind.CHECK_IN), activity_of(ActivityKind.CHECK_OUT)
    command(console, "open_activity", {"activity_id": check_in.id})
    phone.answer(check_in.id, pleasure=0.2)
    command(console, "open_activity", {"activity_id": check_out.id})
    phone.answer(check_out.id, pleasure=0.4)
    slots = db.session.scalars(select(Answer.slot_key)).all()
    assert len(set(slots)) == 2


def test_signing_out_closes_the_console(console, client, settle):
    assert console.is_connected()
    response = client.post("/logout")
    assert response.status_code == 302
    assert not console.is_connected()


def test_console_sees_no_pass_counts(console, join_phone, activity_of, settle):
    check_in = activity_of(ActivityKind.CHECK_IN)
    phones = [join_phone(n) for n in NAMES]
    command(console, "open_activity", {"activity_id": check_in.id})
    for phone in phones:
        phone.answer(check_in.id, passed=True)
    settle()
    results = last(console, "console_state")["results"]
    assert results == {"responded": 6, "k": 5, "released": False, "reason": "open"}
