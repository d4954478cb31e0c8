"""Queue domain events during a transaction and hand them to the publisher only after commit."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

_PENDING = "hearth_pending_events"


@dataclass(frozen=True)
class Audience:
    """Who hears an event: a kind of room (screen, console, phones, phone) and its id."""

    kind: str
    id: int | str


@dataclass(frozen=True)
class DomainEvent:
    name: str
    audience: Audience
    data: dict[str, Any] = field(default_factory=dict)


Publisher = Callable[[DomainEvent], None]
_publishers: list[Publisher] = []


def set_publisher(publisher: Publisher | None) -> None:
    """Install the one publisher that turns committed events into deliveries (None removes it)."""
    _publishers.clear()
    if publisher is not None:
        _publishers.append(publisher)


def queue_event(session: Session, name: str, audience: Audience, data: dict[str, Any]) -> None:
    """Queue an event to be published if, and only if, the session's transaction commits."""
    session.info.setdefault(_PENDING, []).append(DomainEvent(name, audience, data))


@event.listens_for(Session, "after_commit")
def _publish_after_commit(session: Session) -> None:
    pending = session.info.pop(_PENDING, [])
    for domain_event in pending:
        for publisher in _publishers:
            publisher(domain_event)


@event.listens_for(Session, "after_soft_rollback")
def _drop_after_rollback(session: Session, previous_transaction: Any) -> None:
    session.info.pop(_PENDING, None)
