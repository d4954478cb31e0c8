"""Set up R live rooms of P members straight through Hearth's services (not the HTTP pages).

Each room is a cohort whose session is live with its check-in (a mood poll) open and a TV
paired as its screen. The plan the load generator needs (join codes, member ids, activity ids,
screen tokens) is returned as plain data.
"""

from __future__ import annotations

from datetime import date, time
from typing import Any

SECRET_KEY = "hearth-bench-secret-key"
PASSWORD = "bench password 1"


def bench_app(database_url: str):
    """Hearth in this process on the benchmark's database (threading mode: no patching)."""
    from wsgi import create_app

    return create_app(
        {
            "SECRET_KEY": SECRET_KEY,
            "DATABASE_URL": database_url,
            "SOCKETIO_ASYNC_MODE": "threading",
            "ARGON2_PROFILE": "cheapest",
            "RATELIMIT_ENABLED": False,
        }
    )


def reset_schema(database_url: str) -> None:
    """Drop and create every table (the benchmark owns its database)."""
    from groups.extensions import db

    app = bench_app(database_url)
    with app.app_context():
        db.drop_all()
        db.create_all()
        db.session.remove()
        db.engine.dispose()


def seed_rooms(database_url: str, rooms: int, phones: int) -> list[dict[str, Any]]:
    """Create `rooms` live sessions of `phones` members each, with the check-in open."""
    from facilitation import services as live
    from groups import services
    from groups.access import SYSTEM
    from groups.extensions import db
    from groups.models import Member, Role

    app = bench_app(database_url)
    plan: list[dict[str, Any]] = []
    with app.app_context():
        facilitator = services.create_user(
            SYSTEM,
            email="bench@example.org",
            display_name="Bench Facilitator",
            password=PASSWORD,
            role=Role.FACILITATOR.value,
        )
        program = services.create_program(
            SYSTEM,
            name="Benchmark program",
            description="Rooms for the load benchmark.",
            cycle_length=1,
            min_group_size=5,
            retention_days=30,
        )
        session_plan = services.add_session_plan(SYSTEM, program.id, title="Arriving", goal="-")
        services.add_activity(SYSTEM, session_plan.id, kind="check_in", title="How are you?")
        for r in range(rooms):
            cohort = services.create_cohort(
                SYSTEM,
                program.id,
                name=f"Room {r + 1}",
                start_date=date(2026, 9, 1),
                meeting_time=time(18, 30),
                timezone="UTC",
                session_count=1,
                facilitator_ids=[facilitator.id],
            )
            # The roster in one transaction: add_member commits once per name, too slow for 1,000.
            members = [
                Member(cohort=cohort, display_name=f"P{i}", name_key=services.name_key(f"P{i}"))
                for i in range(phones)
            ]
            db.session.add_all(members)
            db.session.commit()
            session_id = cohort.sessions[0].id
            group_session = live.start_session(facilitator, session_id)
            activity_id = live.step_activity(facilitator, session_id, 1).id
            live.open_activity(facilitator, session_id, activity_id)
            _, screen_token = live.pair_screen(live.issue_screen_code(facilitator, session_id))
            plan.append(
                {
                    "room": r,
                    "group_session_id": session_id,
                    "join_code": group_session.join_code,
                    "activity_id": activity_id,
                    "member_ids": [m.id for m in members],
                    "screen_token": screen_token,
                }
            )
        db.session.remove()
        db.engine.dispose()
    return plan


def stored_answers(database_url: str, activity_ids: list[int]) -> dict[tuple[int, str], str]:
    """Map (activity id, slot key) to the stored client id of every answer in those activities."""
    from sqlalchemy import select

    from facilitation.models import Answer
    from groups.extensions import db

    app = bench_app(database_url)
    with app.app_context():
        rows = db.session.execute(
            select(Answer.activity_id, Answer.slot_key, Answer.client_id).where(
                Answer.activity_id.in_(activity_ids)
            )
        ).all()
        db.session.remove()
        db.engine.dispose()
    return {(a, k): c for a, k, c in rows}
