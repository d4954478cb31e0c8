"""Starting and ending sessions, phones joining by code, TVs pairing: over HTTP."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from facilitation import services as live
from facilitation.anonymity import new_secret
from facilitation.models import Device, SessionActivity
from groups import services
from groups.access import SYSTEM
from groups.errors import Conflict
from groups.extensions import db
from groups.models import Attendance, GroupSession, Member, SessionState

ALPHABET = set("ACDEFGHJKMNPQRTUVWXY3479")


@pytest.fixture
def started(cohort, facilitator):
    return live.start_session(facilitator, cohort.sessions[0].id)


def join(client, code, member_id=None, token=None, **extra):
    body = {
        "code": code,
        "device_token": token or new_secret(),
        "member_id": member_id,
        "consent_version": 1,
        **extra,
    }
    return client.post("/api/v1/join", json=body)


def test_start_draws_a_readable_code_and_copies_the_agenda(started, cohort):
    assert started.state == SessionState.LIVE
    assert len(started.join_code) == 6 and set(started.join_code) <= ALPHABET
    kinds = db.session.scalars(
        select(SessionActivity.kind)
        .where(SessionActivity.group_session_id == started.id)
        .order_by(SessionActivity.position)
    ).all()
    assert [k.value for k in kinds] == ["check_in", "prompt", "check_out"]


def test_one_live_session_per_cohort_and_none_restarted(started, cohort, facilitator):
    with pytest.raises(Conflict):
        live.start_session(facilitator, cohort.sessions[1].id)
    live.end_session(facilitator, started.id)
    with pytest.raises(Conflict):
        live.start_session(facilitator, started.id)


def test_codes_are_unique_among_live_sessions(started):
    draws = iter([started.join_code, started.join_code, "QWERTY"])
    assert services.ensure_unique_code(make=lambda: next(draws)) == "QWERTY"


@pytest.mark.parametrize(
    "who,status",
    [
        ("facilitator", 200),
        ("admin", 200),
        ("coordinator", 403),
        ("other_facilitator", 404),
        (None, 401),
    ],
)
def test_start_by_role(request, client, login, cohort, who, status):
    if who:
        login(request.getfixturevalue(who))
    response = client.post(f"/api/v1/sessions/{cohort.sessions[0].id}/start")
    assert response.status_code == status, response.get_json()
    state = db.session.get(GroupSession, cohort.sessions[0].id).state
    assert state == (SessionState.LIVE if status == 200 else SessionState.PLANNED)


def test_lookup_lists_the_roster_without_other_data(client, started):
    body = client.post("/api/v1/join/lookup", json={"code": started.join_code.lower()}).get_json()
    assert sorted(m["name"] for m in body["members"]) == [
        "Alex",
        "Jo",
        "Kim",
        "Lee",
        "Robin",
        "Sam",
    ]
    assert set(body) == {
        "group_session_id",
        "cohort",
        "members",
        "allow_guests",
        "consent_version",
        "consent_text",
        "language",
    }
    assert "not monitored for crises" in body["consent_text"]


@pytest.mark.parametrize("code", ["ABCDEF", "12", "", "ÀÀÀÀÀÀ"])
def test_lookup_of_a_wrong_code(client, started, code):
    response = client.post("/api/v1/join/lookup", json={"code": code})
    assert response.status_code in (404, 422)
    assert response.get_json()["error"]["code"] in ("not_found", "invalid")


def test_join_records_consent_and_attendance(client, started, cohort):
    robin = next(m for m in cohort.members if m.display_name == "Robin")
    response = join(client, started.join_code, robin.id)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["member"] == {"id": robin.id, "name": "Robin"}
    member = db.session.get(Member, robin.id)
    assert member.consent_version == 1 and member.consent_at is not None
    row = db.session.scalar(select(Attendance).where(Attendance.member_id == robin.id))
    assert row.status.value == "present" and row.source.value == "phone"


def test_join_needs_consent_first(client, started, cohort):
    robin = cohort.members[0]
    response = join(client, started.join_code, robin.id, consent_version=None)
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "consent_required"
    assert db.session.scalar(select(Device.id)) is None
    assert db.session.scalar(select(Attendance.id)) is None


def test_a_name_in_use_on_another_phone_is_refused(client, started, cohort):
    robin = cohort.members[0]
    token = new_secret()
    assert join(client, started.join_code, robin.id, token=token).status_code == 200
    assert join(client, started.join_code, robin.id, token=token).status_code == 200
    response = join(client, started.join_code, robin.id)
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "name_in_use"


def test_guests_only_where_the_program_allows(client, started, cohort, program):
    response = join(client, started.join_code, guest_name="Visitor")
    assert response.status_code == 403
    services.update_program(SYSTEM, program.id, allow_guests=True)
    response = join(client, started.join_code, guest_name="Visitor")
    assert response.status_code == 200
    assert db.session.scalar(select(Member).where(Member.display_name == "Visitor")).is_guest


@pytest.mark.parametrize(
    "body,field",
    [
        ({"device_token": "short"}, "device_token"),
        ({"member_id": "1"}, "member_id"),
        ({"extra": 1}, "extra"),
        ({"code": "ABC"}, "code"),
    ],
)
def test_join_validation(client, started, cohort, body, field):
    payload = {
        "code": started.join_code,
        "device_token": new_secret(),
        "member_id": cohort.members[0].id,
        "consent_version": 1,
        **body,
    }
    response = client.post("/api/v1/join", json=payload)
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]
    assert db.session.scalar(select(Device.id)) is None


def test_screen_code_works_once(client, login, facilitator, started):
    login(facilitator)
    code = client.post(f"/api/v1/sessions/{started.id}/screen-code").get_json()["code"]
    anonymous = client.application.test_client()
    first = anonymous.post("/api/v1/screens", json={"code": code})
    assert first.status_code == 200 and first.get_json()["group_session_id"] == started.id
    again = anonymous.post("/api/v1/screens", json={"code": code})
    assert again.status_code == 404


def test_end_by_api(client, login, facilitator, started):
    login(facilitator)
    response = client.post(f"/api/v1/sessions/{started.id}/end")
    assert response.status_code == 200 and response.get_json()["state"] == "ended"
    assert client.post(f"/api/v1/sessions/{started.id}/end").status_code == 409


def test_session_page_starts_the_session_and_links_the_console(client, login, facilitator, cohort):
    login(facilitator)
    session_id = cohort.sessions[0].id
    page = client.get(f"/sessions/{session_id}").get_data(as_text=True)
    assert f'action="/sessions/{session_id}/start"' in page
    response = client.post(f"/sessions/{session_id}/start")
    assert response.status_code == 302 and response.location.endswith(f"/live/{session_id}/console")
    page = client.get(f"/sessions/{session_id}").get_data(as_text=True)
    assert f"/live/{session_id}/console" in page


def test_a_guest_refused_for_consent_can_retry(client, started, program):
    services.update_program(SYSTEM, program.id, allow_guests=True)
    refused = join(client, started.join_code, guest_name="Wren", consent_version=None)
    assert refused.status_code == 422
    assert db.session.scalar(select(Member).where(Member.display_name == "Wren")) is None
    assert join(client, started.join_code, guest_name="Wren").status_code == 200


def test_a_phone_returning_next_week_is_marked_present(client, cohort, facilitator):
    first = live.start_session(facilitator, cohort.sessions[0].id)
    robin = cohort.members[0]
    token = new_secret()
    assert join(client, first.join_code, robin.id, token=token).status_code == 200
    live.end_session(facilitator, first.id)
    second = live.start_session(facilitator, cohort.sessions[1].id)
    live.authenticate_phone(token, new_secret())
    row = db.session.scalar(
        select(Attendance).where(
            Attendance.group_session_id == second.id, Attendance.member_id == robin.id
        )
    )
    assert row is not None and row.status.value == "present"
