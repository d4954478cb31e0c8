"""The outcome dashboards in chromium, on the demo's six held sessions.

The facilitator reaches the session summary and the cohort's cycle the way a person would (from
the cohort's list of sessions); the coordinator sees cohorts side by side and never a person.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from facilitation import demo as demo_data
from groups.models import Attendance, AttendanceStatus, Member
from tests.e2e.conftest import DESKTOP, check_a11y, screenshot, sign_in
from tests.realtime.live_server import query

pytestmark = pytest.mark.browser


def statuses(database_url: str, group_session_id: int) -> dict[str, str]:
    """Each member's attendance at one session, straight from the database."""

    def read(session):
        rows = session.execute(
            select(Member.display_name, Attendance.status)
            .join(Attendance, Attendance.member_id == Member.id)
            .where(Attendance.group_session_id == group_session_id)
        )
        return {name: AttendanceStatus(status).value for name, status in rows}

    return query(database_url, read)


def test_facilitator_reads_the_session_summary_and_the_cycle(demo_server, new_context):
    page = new_context(**DESKTOP).new_page()
    page.goto(demo_server.url + "/login")
    check_a11y(page, "the sign-in page")
    sign_in(page, demo_server.url, "facilitator@example.org")
    check_a11y(page, "the facilitator's home page")
    page.get_by_role("link", name=demo_data.COHORT_NAME).click()
    check_a11y(page, "the cohort's page")
    page.get_by_role("link", name="Session 6", exact=True).click()
    check_a11y(page, "a held session's page")
    page.get_by_role("link", name="Summary").click()

    # --- after session 6 --------------------------------------------------------------------------
    expect(
        page.get_by_role("heading", name="After session 6: what to bring next week")
    ).to_be_visible()
    marked = statuses(demo_server.database_url, demo_server.last_held_id)
    stats = page.get_by_role("region", name="Attendance")
    for status in ("present", "late", "absent", "excused"):
        count = sum(1 for value in marked.values() if value == status)
        expect(
            stats.get_by_role("definition").nth(
                ("present", "late", "absent", "excused").index(status)
            )
        ).to_have_text(str(count))
    assert marked[demo_data.DRIFTING] == "absent"
    mood = page.get_by_role("region", name="Mood: arriving and leaving")
    expect(mood.get_by_text(re.compile(r"^Pleasure \d?\.\d+"))).to_have_count(2)  # published
    expect(mood.get_by_role("img")).to_have_count(2)  # one chart per moment, with a data table
    expect(page.get_by_role("region", name="What ran")).to_contain_text("Dyads: what it was like")
    screenshot(page, "session-summary", full_page=True)
    check_a11y(page, "the session summary")

    # --- the whole cycle --------------------------------------------------------------------------
    page.get_by_role("link", name="Outcomes of the cycle").click()
    expect(page.get_by_role("heading", name="Tuesday evenings: the cycle so far")).to_be_visible()
    expect(page.get_by_text(f"{demo_data.SESSIONS_HELD} of 8 sessions held")).to_be_visible()
    follow_up = page.get_by_role("region", name="Follow up this week")
    expect(follow_up.get_by_role("listitem")).to_have_count(1)
    expect(follow_up.get_by_role("listitem")).to_contain_text(demo_data.DRIFTING)
    matrix = page.get_by_role("table", name=re.compile("^Attendance of each member"))
    expect(matrix.get_by_role("rowheader")).to_have_count(len(demo_data.MEMBER_NAMES))
    moss = matrix.get_by_role("row", name=re.compile(f"^{demo_data.DRIFTING}"))
    expect(moss.get_by_role("cell").filter(has_text="absent")).to_have_count(2)
    expect(moss).to_contain_text("67% (4/6)")
    trends = page.get_by_role("region", name="Mood and connectedness, session by session")
    expect(trends.get_by_role("figure")).to_have_count(4)
    screenshot(page, "dashboard-facilitator", full_page=True)
    check_a11y(page, "the cohort's cycle")


def test_coordinator_compares_cohorts_and_never_sees_a_person(demo_server, new_context):
    cohort_page = f"/cohorts/{demo_server.cohort_id}/outcomes"
    page = new_context(refusals={cohort_page: {403}}, **DESKTOP).new_page()
    sign_in(page, demo_server.url, "coordinator@example.org")
    page.goto(f"{demo_server.url}/programs/{demo_server.program_id}")
    check_a11y(page, "the program's page")
    page.goto(f"{demo_server.url}/programs/{demo_server.program_id}/outcomes")
    expect(
        page.get_by_role("heading", name=f"{demo_data.PROGRAM_NAME}: cohorts side by side")
    ).to_be_visible()
    table = page.get_by_role("table", name=f"Cohorts of {demo_data.PROGRAM_NAME}")
    row = table.get_by_role("row", name=re.compile(f"^{demo_data.COHORT_NAME}"))
    expect(row).to_be_visible()
    expect(row.get_by_role("cell").nth(1)).to_have_text(str(len(demo_data.MEMBER_NAMES)))
    # Two forest plots across cohorts, then one connectedness trend per cohort.
    expect(page.get_by_role("figure")).to_have_count(3)
    trend = page.get_by_role("figure", name=f"Connectedness in {demo_data.COHORT_NAME} (1–7)")
    expect(trend.get_by_role("img")).to_be_visible()
    main = page.get_by_role("main")
    for name in demo_data.MEMBER_NAMES:
        expect(main).not_to_contain_text(name)  # aggregates only, on every part of the page
    screenshot(page, "dashboard-coordinator", full_page=True)
    check_a11y(page, "the coordinator's comparison of cohorts")

    # The facilitator's view of the cycle names people: a coordinator is refused it.
    response = page.goto(demo_server.url + cohort_page)
    assert response is not None and response.status == 403
