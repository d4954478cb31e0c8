"""A whole live session in chromium: the console, a paired TV screen and three phones.

The demo's session 7 ("Sharing warmth": check-in, a prompt, dyads, an appreciation round,
check-out) is run through the pages people use, from the sign-in form to the closing screen.
The demo program's minimum group size is 5, so with three phones the screen must withhold every
mood figure: the small-number rule is checked where it matters, on the projector.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from facilitation import demo as demo_data
from tests.e2e.conftest import (
    DESKTOP,
    PHONE,
    PROJECTOR,
    check_a11y,
    check_phone,
    screenshot,
    sign_in,
)

pytestmark = pytest.mark.browser

# The program revised its consent text, so every phone reads and accepts it on this join.
DEMO_CONSENT_TEXT = demo_data.CONSENT_TEXT + "- Revised this week: pairs may now be of three.\n"
PHONES = ("Ash", "Birch", "Cedar")
CHECK_IN = "How are you arriving?"
PROMPT = "A song that once mattered"
DYADS = "Dyads: a warm memory, shared"
CHECK_OUT = "How are you leaving?"
SHARED_TEXT = "a song from my grandmother's kitchen"


def audit(page: Page, where: str, phone: bool = False) -> None:
    """axe on the page as it is now; on a phone, the 360 px layout and its touch targets too."""
    check_a11y(page, where)
    if phone:
        check_phone(page, where)


def join(
    page: Page, base_url: str, code: str, name: str, shot: str | None = None, checks: bool = False
) -> None:
    """Type the room code, tap a roster name, accept the consent text, land in the lobby."""
    page.goto(base_url + "/join")
    if checks:
        audit(page, "the phone's join page", phone=True)
    page.get_by_label("Room code").fill(code.lower())  # typed as it comes; the page tidies it
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Who are you?")).to_be_visible()
    if shot:
        screenshot(page, shot)
    if checks:
        audit(page, "the phone's list of names", phone=True)
    page.get_by_role("button", name=name, exact=True).click()
    expect(page.get_by_role("heading", name="Before you join")).to_be_visible()
    expect(page.get_by_role("region", name="Consent text")).to_contain_text("pairs may now be")
    if checks:
        audit(page, "the phone's consent text", phone=True)
    page.get_by_role("button", name="I agree — join").click()
    expect(
        page.get_by_role("heading", name="You’re in — waiting for the facilitator")
    ).to_be_visible()
    expect(page.get_by_text(f"You joined as {name}")).to_be_visible()
    expect(page.get_by_role("status").first).to_have_text("Connected")
    if checks:
        audit(page, "the phone's lobby", phone=True)


def answer_mood(page: Page, pleasure: str, arousal: str, word: str, circles: str | None = None):
    """Move both sliders, pick one feeling word (and the circles at check-out), and send."""
    page.get_by_role("slider", name="How pleasant do you feel?").fill(pleasure)
    page.get_by_role("slider", name="How awake or activated do you feel?").fill(arousal)
    chip = page.get_by_role("button", name=word, exact=True)
    chip.click()
    expect(chip).to_have_attribute("aria-pressed", "true")
    if circles:
        page.get_by_role("radio", name=circles).check()


def circles_by_keyboard(page: Page) -> None:
    """The sliders and the circles picture answer to the arrow keys alone."""
    slider = page.get_by_role("slider", name="How pleasant do you feel?")
    slider.focus()
    before = float(slider.input_value())
    page.keyboard.press("ArrowRight")
    assert float(slider.input_value()) > before, "ArrowRight did not move the slider"
    first = page.get_by_role("radio").first
    first.focus()
    page.keyboard.press("Space")
    expect(first).to_be_checked()
    page.keyboard.press("ArrowRight")
    expect(first).not_to_be_checked()
    expect(page.get_by_role("radio").nth(1)).to_be_checked()
    expect(page.get_by_role("radio").nth(1)).to_be_focused()


def send_answer(page: Page) -> None:
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.get_by_text("Saved ✓ You can change it until this closes.")).to_be_visible()


def test_a_whole_session_from_check_in_to_check_out(demo_server, new_context):
    base = demo_server.url

    # --- the facilitator signs in and starts today's session ------------------------------------
    console = new_context(**DESKTOP).new_page()
    sign_in(console, base, "facilitator@example.org")
    console.get_by_role("link", name="session 7").click()
    console.get_by_role("button", name="Start session").click()
    expect(console.get_by_role("heading", name="Live console")).to_be_visible()
    expect(console.get_by_role("status").first).to_have_text("Connected")
    audit(console, "the console, before the first activity")
    code = console.get_by_role("region", name="Room").locator("#room-code").inner_text()
    assert re.fullmatch(r"[A-Z2-9]{6}", code), code
    now = console.get_by_role("region", name="Now")
    agenda = console.get_by_role("region", name="Agenda")
    results = console.get_by_role("region", name="Results")
    expect(agenda.get_by_role("listitem")).to_have_count(5)

    # --- the TV in the room pairs with a one-time screen code -----------------------------------
    console.get_by_role("button", name="Show on a TV").click()
    tv_code = console.locator("#tv-code .tv-code-value")
    expect(tv_code).to_have_text(re.compile(r"^[A-Z2-9]{6}$"))
    screen = new_context(**PROJECTOR).new_page()
    screen.goto(base + "/screen")
    screen.get_by_label("Screen code").fill(tv_code.inner_text())
    screen.get_by_role("button", name="Show the session").click()
    lobby = screen.get_by_role("region", name="Join on your phone")
    expect(lobby).to_be_visible()
    expect(lobby.get_by_text(code, exact=True)).to_be_visible()
    expect(lobby.get_by_role("img", name=re.compile("QR code"))).to_be_visible()
    expect(lobby).to_contain_text("Waiting for the first person")
    audit(screen, "the screen's lobby")

    # --- three phones join by code, pick their names and accept the new consent text ------------
    phones: dict[str, Page] = {}
    for name in PHONES:
        phones[name] = new_context(**PHONE).new_page()
        ash = name == "Ash"
        join(phones[name], base, code, name, shot="phone-join" if ash else None, checks=ash)
    expect(lobby).to_contain_text("3 people are here")
    expect(console.get_by_role("region", name="Attendance")).to_contain_text("3 here")
    screenshot(screen, "screen-lobby")

    # --- check-in: sliders and feeling words, anonymous, withheld below k -----------------------
    agenda.get_by_role("button", name=f"Start “{CHECK_IN}”").click()
    for index, (name, word) in enumerate(zip(PHONES, ("numb", "calm", "tired"), strict=True)):
        page = phones[name]
        expect(page.get_by_role("heading", name=CHECK_IN)).to_be_visible()
        answer_mood(page, f"0.{2 + index}", f"0.{5 + index}", word)
        if name == "Ash":
            screenshot(page, "phone-checkin")
            audit(page, "the phone's check-in", phone=True)
        send_answer(page)
        if name == "Ash":
            audit(page, "the phone's check-in, saved", phone=True)
    activity = screen.get_by_role("region", name=CHECK_IN)
    expect(activity.get_by_text("3 people responded")).to_be_visible()
    audit(screen, "the screen during the check-in")
    audit(console, "the console during the check-in")
    expect(results.get_by_text("3 people responded")).to_be_visible()
    now.get_by_role("button", name=f"Close “{CHECK_IN}”").click()
    now.get_by_role("button", name="Reveal results").click()
    expect(now.get_by_text("Results revealed")).to_be_visible()
    # Three answers against the demo's k of 5: the projector shows no figure and no word.
    expect(
        activity.get_by_text("Results appear when at least 5 people have answered.")
    ).to_have_count(2)
    expect(activity).not_to_contain_text("numb")
    expect(phones["Ash"].get_by_text("This activity has closed. Thank you.")).to_be_visible()
    audit(phones["Ash"], "the phone after the check-in closed", phone=True)
    audit(screen, "the screen with the check-in's results withheld")

    # --- a prompt: one phone writes, the facilitator approves, the screen shows it unsigned -----
    agenda.get_by_role("button", name=f"Start “{PROMPT}”").click()
    ash = phones["Ash"]
    expect(ash.get_by_role("heading", name=PROMPT)).to_be_visible()
    audit(ash, "the phone's prompt", phone=True)
    ash.get_by_label("Or write a few words (optional)").fill(SHARED_TEXT)
    ash.get_by_role("button", name="Send my words").click()
    expect(ash.get_by_text("Saved ✓ You can change it until this closes.")).to_be_visible()
    phones["Birch"].get_by_role("button", name="Done ✓").click()
    expect(phones["Birch"].get_by_text("Saved ✓")).to_be_visible()
    phones["Cedar"].get_by_role("button", name="Pass").click()
    expect(phones["Cedar"].get_by_text(re.compile("^You passed ✓"))).to_be_visible()
    audit(phones["Cedar"], "the phone after a pass", phone=True)
    queue = console.get_by_role("region", name=re.compile("^Waiting for approval"))
    item = queue.get_by_role("listitem").filter(has_text=SHARED_TEXT)
    expect(item).to_contain_text(f"Text for “{PROMPT}”")
    expect(item).not_to_contain_text("Ash")
    expect(queue.get_by_role("heading")).to_have_text("Waiting for approval 1")
    prompt = screen.get_by_role("region", name=PROMPT)
    # A pass counts as a response: nobody can tell who passed from the count.
    expect(prompt.get_by_text("3 people responded")).to_be_visible()
    expect(prompt).not_to_contain_text(SHARED_TEXT)  # not before it is approved
    # The top of the console: what is on now, its results, the queue, the room and the agenda.
    screenshot(
        console, "console", full_page=True, clip={"x": 0, "y": 0, "width": 1280, "height": 1340}
    )
    audit(console, "the console with a text waiting for approval")
    item.get_by_role("button", name="Approve this text").click()
    expect(queue.get_by_text("Nothing waiting.")).to_be_visible()
    shared = prompt.get_by_role("listitem").filter(has_text=SHARED_TEXT)
    expect(shared).to_have_text(SHARED_TEXT)  # the words alone: no name beside them
    for name in PHONES:
        expect(prompt).not_to_contain_text(name)
    screenshot(screen, "screen")
    audit(screen, "the screen showing an approved text")

    # --- dyads: three people make one triad; each phone sees the other two ----------------------
    agenda.get_by_role("button", name=f"Start “{DYADS}”").click()
    now.get_by_role("button", name="Form pairs").click()
    pairs = screen.get_by_role("region", name=DYADS)
    expect(pairs.get_by_text("Round 1: find your partner")).to_be_visible()
    for name in PHONES:
        others = [other for other in PHONES if other != name]
        partner = phones[name].get_by_text(re.compile(r"^Your partners: "))
        expect(partner).to_be_visible()
        for other in others:
            expect(partner).to_contain_text(other)
        expect(partner).not_to_contain_text(name)
        if name == "Birch":
            screenshot(phones[name], "phone-dyad")
            audit(phones[name], "the phone's dyads", phone=True)
    triad = pairs.get_by_role("listitem")
    expect(triad).to_have_count(1)
    for name in PHONES:
        expect(triad).to_contain_text(name)  # pairs are shown with names by design
    audit(screen, "the screen's pairs")
    audit(console, "the console during the dyads")

    # --- check-out: sliders, words and the circles ----------------------------------------------
    agenda.get_by_role("button", name=f"Start “{CHECK_OUT}”").click()
    for index, name in enumerate(PHONES):
        page = phones[name]
        expect(page.get_by_role("heading", name=CHECK_OUT)).to_be_visible()
        if name == "Ash":
            audit(page, "the phone's check-out", phone=True)
            circles_by_keyboard(page)
        answer_mood(page, f"0.{5 + index}", f"0.{3 + index}", "warm", circles=f"{4 + index} — ")
        send_answer(page)
    leaving = screen.get_by_role("region", name=CHECK_OUT)
    expect(leaving.get_by_text("3 people responded")).to_be_visible()

    # --- the end: every phone and the screen say goodbye ----------------------------------------
    console.get_by_role("link", name="End session…").click()
    expect(console.get_by_role("heading", name="End session 7?")).to_be_visible()
    audit(console, "the page that confirms the end of a session")
    console.get_by_role("button", name="End the session").click()
    expect(
        console.get_by_text("The session has ended. Phones show a closing screen.")
    ).to_be_visible()
    for page in phones.values():
        expect(page.get_by_role("heading", name="Thank you for coming")).to_be_visible()
        expect(page.get_by_role("button", name="I need a pause")).to_be_hidden()
    expect(screen.get_by_role("heading", name="Thank you for coming")).to_be_visible()
    audit(phones["Ash"], "the phone's closing screen", phone=True)
    audit(screen, "the screen's closing screen")
