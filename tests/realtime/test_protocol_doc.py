"""realtime/PROTOCOL.md describes every command the server handles, and every fact it emits."""

from __future__ import annotations

import re
from pathlib import Path

from realtime.handlers import COMMANDS

DOC = (Path(__file__).parents[2] / "realtime" / "PROTOCOL.md").read_text()
SOURCES = ("realtime/handlers.py", "realtime/publisher.py")


def test_every_command_is_documented():
    documented = set(re.findall(r"`([a-z_]+)`", DOC))
    assert set(COMMANDS) <= documented, set(COMMANDS) - documented


def test_every_emitted_event_is_documented():
    root = Path(__file__).parents[2]
    emitted = set()
    for source in SOURCES:
        emitted |= set(re.findall(r'socketio\.emit\(\s*"([a-z_]+)"', (root / source).read_text()))
    assert emitted, "no emits found: has the publisher moved?"
    documented = set(re.findall(r"`([a-z_]+)`", DOC))
    assert emitted <= documented, emitted - documented


def test_every_emit_names_a_room():
    root = Path(__file__).parents[2]
    for package in ("groups", "facilitation", "realtime"):
        for path in (root / package).rglob("*.py"):
            for call in re.findall(r"socketio\.emit\((.*?)\)\n", path.read_text(), re.S):
                assert "to=" in call, f"{path}: emit without a room: {call[:80]}"
