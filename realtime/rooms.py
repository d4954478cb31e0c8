"""Own every Socket.IO room name: an emit that names no room reaches everyone, so none does."""

from __future__ import annotations


def screen(group_session_id: int) -> str:
    """The shared screen(s) of one session."""
    return f"screen:{group_session_id}"


def console(group_session_id: int) -> str:
    """The facilitator console(s) of one session."""
    return f"console:{group_session_id}"


def phones(group_session_id: int) -> str:
    """Every participant phone of one session."""
    return f"phones:{group_session_id}"


def member(member_id: int) -> str:
    """The phone(s) of one participant: for what only they may see."""
    return f"member:{member_id}"


def for_audience(kind: str, ident: int | str) -> list[str]:
    """Map an event's audience to the rooms that hear it."""
    ident = int(ident)
    if kind == "session":
        return [screen(ident), console(ident), phones(ident)]
    if kind == "member":
        return [member(ident)]
    if kind in ("screen", "console", "phones"):
        return [{"screen": screen, "console": console, "phones": phones}[kind](ident)]
    raise ValueError(f"unknown audience {kind!r}")


def staff(user_id: int) -> str:
    """Every socket of one staff member: closed when they sign out."""
    return f"staff:{user_id}"
