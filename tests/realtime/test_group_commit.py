"""Answers that arrive together share one commit, and each keeps its own outcome."""

from __future__ import annotations

import threading

from sqlalchemy import select

from facilitation import services as live
from facilitation.models import Answer
from groups.errors import Conflict, ValidationFailed
from groups.extensions import db
from groups.models import ActivityKind
from realtime.writer import AnswerWriter

NAMES = ["Robin", "Sam", "Alex", "Jo", "Kim", "Lee"]


def test_a_batch_stores_each_answer_and_refuses_only_the_bad_ones(
    facilitator, live_session, join_phone, activity_of, publisher
):
    check_in = activity_of(ActivityKind.CHECK_IN)
    prompt = activity_of(ActivityKind.PROMPT)
    live.open_activity(facilitator, live_session.id, check_in.id)
    robin, sam, alex, jo = (
        live.authenticate_phone(p.device_token, p.secret)
        for p in (join_phone(n) for n in NAMES[:4])
    )
    first = {"activity_id": check_in.id, "client_id": "robin-0001", "pleasure": 0.2}
    live.submit_answer(robin, check_in.id, first)
    results = live.submit_answers(
        [
            (robin, check_in.id, first),  # re-sent after a lost ack
            (sam, check_in.id, {"client_id": "sam-00001", "pleasure": 0.4}),
            (alex, check_in.id, {"client_id": "alex-0001", "pleasure": 3}),
            (jo, prompt.id, {"client_id": "jo-000001", "response": "done"}),
            (sam, check_in.id, {"client_id": "sam-00002", "pleasure": 0.9, "words": ["calm"]}),
            (robin, check_in.id, {"client_id": "robin-0002", "passed": True}),
        ]
    )
    assert results[0]["client_id"] == "robin-0001" and results[0]["pleasure"] == 0.2
    assert results[1]["pleasure"] == 0.4
    assert isinstance(results[2], ValidationFailed) and "pleasure" in results[2].fields
    assert isinstance(results[3], Conflict) and results[3].code == "not_open"
    assert results[4]["pleasure"] == 0.9 and results[4]["words"] == ["calm"]
    assert results[5]["passed"] is True
    rows = db.session.scalars(select(Answer).where(Answer.activity_id == check_in.id)).all()
    assert sorted((r.client_id, r.passed, r.pleasure) for r in rows) == [
        ("robin-0002", True, None),
        ("sam-00002", False, 0.9),
    ]
    publisher.settle()


def test_the_writer_acks_each_answer_after_the_commit_that_holds_it(
    app, facilitator, live_session, join_phone, activity_of, publisher
):
    check_in = activity_of(ActivityKind.CHECK_IN)
    live.open_activity(facilitator, live_session.id, check_in.id)
    phones = [live.authenticate_phone(p.device_token, p.secret) for p in map(join_phone, NAMES)]
    activity_id = check_in.id
    writer = AnswerWriter(app)
    writer.inline = False  # the threading mode writes inline; drive the group commit itself
    acks: dict[int, object] = {}
    go = threading.Event()

    def answer(i: int) -> None:
        go.wait()
        payload = {"client_id": f"phone-{i:04d}", "pleasure": i / 10}
        try:
            acks[i] = writer.submit(phones[i], activity_id, payload)
        except Exception as exc:  # noqa: BLE001 - the test reports it below
            acks[i] = exc
        # An ack means the answer is committed: a fresh connection sees it.
        with app.app_context():
            stored = db.session.scalar(
                select(Answer.client_id).where(Answer.client_id == payload["client_id"])
            )
            acks[i] = (acks[i], stored)
            db.session.remove()

    threads = [threading.Thread(target=answer, args=(i,)) for i in range(len(phones))]
    for t in threads:
        t.start()
    go.set()
    for t in threads:
        t.join(timeout=30)
    assert sorted(acks) == list(range(len(phones)))
    for i, (ack, stored) in acks.items():
        assert isinstance(ack, dict) and ack["client_id"] == f"phone-{i:04d}", ack
        assert stored == ack["client_id"]
    assert writer.answers == len(phones) and 1 <= writer.batches <= len(phones)
    publisher.settle()
