"""Data rights: what a phone may see and delete of its own, and the audit log admins read."""

from __future__ import annotations

from sqlalchemy import func, select

from facilitation.models import Answer
from groups.extensions import db
from groups.models import Attendance, AuditEvent, Member
from realtime.extensions import socketio
from tests.trust.conftest import role_client


def test_the_audit_log_shows_exports_roster_views_and_deletions_to_admins(app, world):
    facilitator = role_client(app, world.users["facilitator"])
    assert facilitator.get(f"/cohorts/{world.cohort}").status_code == 200  # roster view
    assert facilitator.get(f"/cohorts/{world.cohort}/attendance.csv").status_code == 200
    assert facilitator.post(f"/members/{world.member}/delete").status_code == 302
    admin = role_client(app, world.users["admin"])
    html = admin.get("/admin/audit").get_data(as_text=True)
    for action in ("roster.view", "outcomes.export", "member.delete", "session.start"):
        assert f">{action}<" in html, action
    assert "Fran Facilitator" in html  # who did it
    # The log names staff, never participants: a deleted member's name is gone for good.
    assert "Sam" not in html
    only = admin.get("/admin/audit?action=member.delete").get_data(as_text=True)
    assert ">member.delete<" in only and ">roster.view<" not in only


def test_the_audit_log_is_for_admins_only(app, world):
    for role in ("coordinator", "facilitator", "other_facilitator"):
        assert role_client(app, world.users[role]).get("/admin/audit").status_code == 403
    response = role_client(app).get("/admin/audit")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_a_facilitator_removes_a_member_with_their_attendance_on_request(app, world):
    facilitator = role_client(app, world.users["facilitator"])
    facilitator.post(
        f"/sessions/{world.session}/attendance", data={f"member_{world.member}": "present"}
    )
    assert db.session.scalar(
        select(func.count()).select_from(Attendance).where(Attendance.member_id == world.member)
    )
    assert facilitator.post(f"/members/{world.member}/delete").status_code == 302
    db.session.expire_all()
    assert db.session.get(Member, world.member) is None
    assert not db.session.scalar(
        select(func.count()).select_from(Attendance).where(Attendance.member_id == world.member)
    )
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "member.delete"))


def test_a_phone_sees_and_deletes_only_its_own_answers(app, world, facilitator):
    from facilitation import services as live
    from facilitation.models import SessionActivity
    from groups.models import ActivityKind

    check_in = db.session.scalar(
        select(SessionActivity.id).where(
            SessionActivity.group_session_id == world.session,
            SessionActivity.kind == ActivityKind.CHECK_IN,
        )
    )
    live.open_activity(facilitator, world.session, check_in)
    members = {m.display_name: m.id for m in db.session.scalars(select(Member))}
    from tests.trust.conftest import join_phone

    socks = []
    for name, phone in (
        ("Robin", world.phones["participant"]),
        ("Alex", join_phone(app, world.join_code, members["Alex"])),
    ):
        sock = socketio.test_client(
            app, auth={"role": "phone", "device_token": phone.device_token, "secret": phone.secret}
        )
        ack = sock.emit(
            "submit_answer",
            {"activity_id": check_in, "client_id": f"{name}-answer-1", "pleasure": 0.3},
            callback=True,
        )
        assert ack["ok"], ack
        socks.append(sock)
    robin, alex = socks
    history = robin.emit("my_history", {}, callback=True)["data"]["answers"]
    assert len(history) == 1 and history[0]["pleasure"] == 0.3
    assert robin.emit("forget_me", {}, callback=True)["data"] == {"deleted": 1}
    assert robin.emit("my_history", {}, callback=True)["data"]["answers"] == []
    # Alex's answer is untouched: a phone reaches its own pseudonym's answers and no others.
    assert len(alex.emit("my_history", {}, callback=True)["data"]["answers"]) == 1
    assert db.session.scalar(select(func.count()).select_from(Answer)) == 1
    for sock in socks:
        sock.disconnect()
