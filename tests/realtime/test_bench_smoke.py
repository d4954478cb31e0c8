"""The load generator (bench/) at a tiny scale against a real server: correctness, never speed.

Three rooms of six phones join over HTTP, connect, answer three times each; every phone must
connect, every answer be acknowledged, and the database must hold each phone's last answer.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.live


def test_the_bench_smoke_loses_no_answer(tmp_path):
    pytest.importorskip("aiohttp", reason="the load generator needs aiohttp (extra `test`)")
    from bench.run import SCENARIOS, run_target

    scenario = SCENARIOS["smoke"]
    result = run_target("hearth", scenario, workers=1, work=tmp_path)
    expected = scenario.rooms * scenario.phones
    assert result["phones_connected"] == expected, result["refused"]
    assert result["screens_connected"] == scenario.rooms, result["refused"]
    assert result["errors"] == {}
    assert result["answers"] == expected * scenario.votes
    assert result["lost"] == 0
