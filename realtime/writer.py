"""Own the group commit of answers: answers that arrive together share one transaction.

A room of phones answers in the same few seconds. Committing each answer alone costs a durable
commit (an fsync on SQLite, which also stops every socket of the process while it runs; a round
trip on PostgreSQL) and a transaction's worth of queries per answer. Instead, each
`submit_answer` event hands its answer to one writer per process and waits: the writer takes
every answer waiting, stores them with one query to read and one commit
(`services.submit_answers`), and only then wakes each event, which acks. While one commit
runs, the next batch gathers, so a quiet room still gets its ack at once and a busy one pays
one commit for many answers. An ack still means the answer is in the database.

Under the threading mode (the tests' in-process clients) each answer is written in its own
event, as before.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from flask import Flask

from facilitation import services
from facilitation.services import Participant
from groups.extensions import db
from realtime.extensions import socketio

log = logging.getLogger(__name__)


@dataclass(eq=False)
class _Pending:
    participant: Participant
    activity_id: Any
    payload: Any
    done: Any  # the async mode's Event
    result: Any = field(default=None)


class AnswerWriter:
    """One per process: a queue of answers waiting for the next commit, and its greenlet."""

    def __init__(self, app: Flask, max_batch: int = 200):
        self.app = app
        self.max_batch = max_batch
        self.inline = app.config["SOCKETIO_ASYNC_MODE"] == "threading"
        self._waiting: list[_Pending] = []
        self._wake: Any = None  # made on first use, in the server's async mode
        self.batches = 0
        self.answers = 0

    def submit(self, participant: Participant, activity_id: Any, payload: Any) -> dict[str, Any]:
        """Store one answer with the next group commit; return its row or raise its error."""
        if self.inline:
            return services.submit_answer(participant, activity_id, payload)
        item = _Pending(participant, activity_id, payload, socketio.server.eio.create_event())
        self._waiting.append(item)
        if self._wake is None:
            self._wake = socketio.server.eio.create_event()
            socketio.start_background_task(self._run)
        self._wake.set()
        item.done.wait()
        if isinstance(item.result, BaseException):
            raise item.result
        return item.result

    def _run(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            socketio.sleep(0)  # let answers that came in with this one join its batch
            while self._waiting:
                batch = self._waiting[: self.max_batch]
                del self._waiting[: len(batch)]
                self._write(batch)

    def _write(self, batch: list[_Pending]) -> None:
        try:
            with self.app.app_context():
                try:
                    results: list[Any] = services.submit_answers(
                        [(i.participant, i.activity_id, i.payload) for i in batch]
                    )
                finally:
                    db.session.remove()
        except Exception as exc:  # noqa: BLE001 - each waiting event reports it in its ack
            log.exception("could not store a batch of %d answers", len(batch))
            results = [exc] * len(batch)
        self.batches += 1
        self.answers += len(batch)
        for item, result in zip(batch, results, strict=True):
            item.result = result
            item.done.set()
