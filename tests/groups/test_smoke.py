from groups.models import GroupSession


def test_healthz_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_cohort_schedule_makes_sessions(cohort):
    assert [s.number for s in cohort.sessions] == list(range(1, 9))
    first: GroupSession = cohort.sessions[0]
    # 18:30 in London in September is 17:30 UTC (BST)
    assert first.scheduled_at.hour == 17
    assert first.plan.title == "Arriving"
    assert cohort.sessions[2].plan.title == "Textures"


def test_login_and_home(client, facilitator, login):
    login(facilitator)
    page = client.get("/")
    assert page.status_code == 200
    assert "Fran Facilitator" in page.get_data(as_text=True)
