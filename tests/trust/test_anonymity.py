"""Anonymity: answers carry the day only, and no log line puts an answer beside a person."""

from __future__ import annotations

import logging

from sqlalchemy import inspect, select

from facilitation.models import Answer, Device
from groups.extensions import db
from groups.models import Member
from tests.realtime.conftest import (  # noqa: F401 - fixtures used by name
    activity_of,
    console,
    join_phone,
    live_session,
    publisher,
    rich_program,
    settle,
)
from tests.realtime.test_privacy import run_whole_session


def test_anonymous_answers_carry_the_day_and_no_time_of_day(app):
    """A timestamp would line an answer up with an arrival; the day alone cannot."""
    columns = {c["name"]: c["type"] for c in inspect(db.engine).get_columns("answer")}
    timed = [name for name, kind in columns.items() if "TIME" in str(kind).upper()]
    assert timed == [], f"answer columns with a time of day: {timed}"
    assert str(columns["answered_on"]).upper() == "DATE"
    # The model agrees with the database (a migration could not bring a timestamp back alone).
    model_types = {c.name: c.type.python_type for c in Answer.__table__.columns}
    assert model_types["answered_on"].__name__ == "date"
    assert not [n for n, t in model_types.items() if t.__name__ in ("datetime", "time")]


def test_logs_hold_no_answer_and_no_phone_secret(app, request, caplog):
    caplog.set_level(logging.DEBUG)  # every logger, every level: what an operator could turn on
    wait = request.getfixturevalue("settle")
    phones = run_whole_session(
        *(request.getfixturevalue(name) for name in ("console", "join_phone", "activity_of")),
        wait,
    )
    # A few refused and malformed messages too, since error paths are where payloads get logged.
    phones[0].emit("submit_answer", {"activity_id": "x", "client_id": "y", "text": "secret"})
    phones[0].emit("send_appreciation", {"activity_id": 0, "text": "You helped me, Sam"})
    wait()
    logged = "\n".join(
        f"{record.getMessage()} {record.args!r} {record.exc_text or ''}"
        for record in caplog.records
    )
    answers = db.session.scalars(select(Answer)).all()
    secrets_and_keys = (
        {p.secret for p in phones}
        | {p.device_token for p in phones}
        | {a.slot_key for a in answers}
        | {a.pseudonym_hash for a in answers if a.pseudonym_hash}
        | {a.client_id for a in answers}
        | {d.token_hash for d in db.session.scalars(select(Device))}
    )
    for value in secrets_and_keys:
        assert value not in logged
    for text in {a.text for a in answers if a.text} | {"You helped me, Sam"}:
        assert text not in logged
    for name in db.session.scalars(select(Member.display_name)):
        assert name not in logged, f"a member's name is in the logs: {name}"
