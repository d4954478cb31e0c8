"""A program brings a questionnaire of its own: checked as data, kept with its licence note."""

from __future__ import annotations

import copy
import json

import pytest
from sqlalchemy import func, select

from facilitation import outcomes
from groups import services
from groups.access import SYSTEM
from groups.errors import Conflict, HearthError, ValidationFailed
from groups.extensions import db
from groups.instruments import INSTRUMENT_EXAMPLE
from groups.models import ActivityTemplate, AuditEvent, Instrument

API = "/api/v1"


def document(**changes):
    doc = copy.deepcopy(INSTRUMENT_EXAMPLE)
    doc.update(changes)
    return doc


def count_instruments():
    return db.session.scalar(select(func.count()).select_from(Instrument))


def test_a_program_adds_its_own_questionnaire_with_its_licence(program, admin):
    instrument = services.add_instrument(admin, program.id, document())

    assert instrument in program.instruments and not instrument.builtin
    assert instrument.licence == "Written by our program; free to use"
    assert [i["key"] for i in instrument.items] == ["welcome", "safe", "close"]
    assert instrument.scoring["multiplier"] == 1.0
    assert db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "instrument.add")
    ).detail == {"instrument": "room-warmth"}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"licence": ""}, "licence"),
        ({"key": "Not A Slug"}, "key"),
        ({"items": []}, "items"),
        ({"items": [{"key": "a", "label": "x"}, {"key": "a", "label": "y"}]}, "items"),
        ({"response_format": {"type": "likert", "min": 4, "max": 1}}, "response_format.max"),
        (
            {"response_format": {"type": "likert", "min": 1, "max": 4, "anchors": ["one"]}},
            "response_format.anchors",
        ),
        ({"response_format": {"type": "slider", "min": 0, "max": 1}}, "response_format.type"),
        ({"scoring": {"type": "sum"}}, "scoring.higher_is_better"),
        ({"norms": {"sd": 0, "reliability": 0.8, "source": "x"}}, "norms.sd"),
        ({"norms": {"sd": 2, "reliability": 1.2, "source": "x"}}, "norms.reliability"),
        ({"kind": "mood"}, "kind"),
        ({"surprise": True}, "surprise"),
    ],
)
def test_a_flawed_document_names_the_field_and_saves_nothing(program, admin, changes, field):
    before = count_instruments()
    with pytest.raises(ValidationFailed) as caught:
        services.add_instrument(admin, program.id, document(**changes))
    assert field in caught.value.fields, caught.value.fields
    db.session.rollback()
    assert count_instruments() == before


def test_a_key_already_taken_is_a_conflict(program, admin):
    with pytest.raises(Conflict):
        services.add_instrument(admin, program.id, document(key="who5"))


def test_only_those_who_manage_the_program_add_instruments(program, coordinator, facilitator):
    for who in (coordinator, facilitator):
        with pytest.raises(HearthError) as caught:
            services.add_instrument(who, program.id, document())
        assert caught.value.status in (403, 404)
    assert count_instruments() == 4


def test_the_api_adds_and_lists_instruments(program, admin, facilitator, login, client):
    login(admin)
    created = client.post(f"{API}/programs/{program.id}/instruments", json=document())
    assert created.status_code == 201, created.get_data(as_text=True)
    assert created.get_json()["licence"] == "Written by our program; free to use"

    flawed = client.post(f"{API}/programs/{program.id}/instruments", json=document(licence=""))
    assert flawed.status_code == 422
    assert flawed.get_json()["error"]["code"] == "invalid"

    listed = client.get(f"{API}/programs/{program.id}/instruments").get_json()
    assert "room-warmth" in [i["key"] for i in listed] and len(listed) == 5


def test_the_api_refuses_a_facilitator(program, facilitator, login, client):
    login(facilitator)
    response = client.post(f"{API}/programs/{program.id}/instruments", json=document())
    assert response.status_code in (403, 404)
    assert count_instruments() == 4


def test_the_page_adds_an_instrument_and_explains_a_flawed_one(program, admin, login, client):
    login(admin)
    url = f"/programs/{program.id}/instruments/new"
    page = client.get(url).get_data(as_text=True)
    assert "room-warmth" in page  # the example to start from

    not_json = client.post(url, data={"document": "{nope"})
    assert not_json.status_code == 400 and "not valid JSON" in not_json.get_data(as_text=True)
    flawed = client.post(url, data={"document": json.dumps(document(licence=""))})
    assert flawed.status_code == 400 and "licence" in flawed.get_data(as_text=True)
    assert count_instruments() == 4

    done = client.post(url, data={"document": json.dumps(document())})
    assert done.status_code == 302, done.get_data(as_text=True)
    assert count_instruments() == 5, done.location
    shown = client.get(f"/programs/{program.id}").get_data(as_text=True)
    assert "Warmth in the room" in shown and "Program's own" in shown


def test_a_questionnaire_activity_must_name_one_of_the_programs_questionnaires(program, admin):
    plan = services.add_session_plan(SYSTEM, program.id, title="Rung one")
    with pytest.raises(ValidationFailed) as caught:
        services.add_activity(admin, plan.id, kind="questionnaire", title="Q")
    assert "config.instrument" in caught.value.fields
    with pytest.raises(ValidationFailed):
        services.add_activity(
            admin, plan.id, kind="questionnaire", title="Q", config={"instrument": "ios-group"}
        )
    services.add_instrument(admin, program.id, document())
    activity = services.add_activity(
        admin, plan.id, kind="questionnaire", title="Q", config={"instrument": "room-warmth"}
    )
    assert activity.config == {"instrument": "room-warmth"}


def test_the_activity_form_offers_the_programs_questionnaires(program, admin, login, client):
    services.add_instrument(admin, program.id, document())
    plan = services.add_session_plan(SYSTEM, program.id, title="Rung one")
    login(admin)
    url = f"/plans/{plan.id}/activities/new"
    assert "Warmth in the room" in client.get(url).get_data(as_text=True)
    base = {"kind": "questionnaire", "title": "Our check", "intensity": "1"}

    refused = client.post(url, data={**base, "instrument": "nope"})
    assert refused.status_code == 400
    assert "program&#39;s questionnaires" in refused.get_data(as_text=True)

    assert client.post(url, data={**base, "instrument": "room-warmth"}).status_code == 302
    activity = db.session.scalar(
        select(ActivityTemplate).where(ActivityTemplate.title == "Our check")
    )
    assert activity.config == {"instrument": "room-warmth"}


def test_outcomes_score_an_own_questionnaire_with_its_norms(cohort, admin, facilitator):
    from tests.facilitation.test_outcomes import hold

    services.add_instrument(
        admin,
        cohort.program_id,
        document(norms={"sd": 2.0, "reliability": 0.75, "source": "our pilot"}),
    )
    people = ["p1", "p2", "p3", "p4", "p5", "p6"]
    hold(cohort, 1, questionnaires={"room-warmth": dict.fromkeys(people, 6)})
    hold(
        cohort,
        2,
        questionnaires={"room-warmth": dict(zip(people, (12, 6, 6, 6, 6, 3), strict=True))},
    )

    (own,) = outcomes.cohort_overview(facilitator, cohort.id)["questionnaires"]

    assert own["name"] == "Warmth in the room (our own, 3 items)"
    # Jacobson-Truax: SEdiff = 2 * sqrt(2) * sqrt(1 - .75) = 1.4142; 1.96 * 1.4142 = 2.7718 points
    assert own["change"]["reliable"] == {
        "n": 6,
        "threshold": pytest.approx(2.7718),
        "improved": 1,
        "unchanged": 4,
        "worse": 1,
    }
