"""A session in Spanish, and the phone's own promises, in chromium.

The demo cohort meets in Spanish here, so the screen speaks Spanish; three phones at 360 px join
with ?lang=es and take part in the check-in and a prompt without meeting an English word of the
interface (the program's own content, its titles and consent text, is the program's language).
Along the way: the console driven by the keyboard alone, the phone's larger text, reduced
motion, the offline message and its send on reconnection, and the weight of the phone's files.
"""

from __future__ import annotations

import gzip
import re
from functools import cache
from urllib.parse import urlsplit

import pytest
from babel.messages.pofile import read_po
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
from tests.realtime.live_server import ROOT

pytestmark = pytest.mark.browser

DEMO_COHORT_LANGUAGE = "es"
# A revised consent text, so every phone reads it (in the program's words) before joining.
DEMO_CONSENT_TEXT = demo_data.CONSENT_TEXT + "- Revisado: las parejas pueden ser de tres.\n"
PHONES = ("Ash", "Birch", "Cedar")
CHECK_IN = "How are you arriving?"
PROMPT = "A song that once mattered"
PO = ROOT / "translations" / "es" / "LC_MESSAGES" / "messages.po"
PHONE_BUDGET = 100 * 1024  # the phone's own JS and CSS, gzipped; the Socket.IO client aside
PLACEHOLDER = re.compile(r"%\(\w+\)s|\{\w+\}|<[^>]+>")


@cache
def catalogue() -> dict[str, str]:
    """English msgid -> Spanish, for every translated message without a context."""
    with PO.open("rb") as fileobj:
        po = read_po(fileobj)
    return {
        m.id: m.string
        for m in po
        if m.id and isinstance(m.id, str) and m.string and not m.context and m.string != m.id
    }


def es(english: str) -> str:
    return catalogue()[english]


@cache
def english_fragments() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The English interface strings to look for: whole short labels, and longer phrases."""
    spanish = {text.strip().lower() for text in catalogue().values()}
    whole: set[str] = set()
    phrases: set[str] = set()
    for english in catalogue():
        for part in PLACEHOLDER.split(english):
            part = part.strip(" .,:;—-()")
            if not part or part.lower() in spanish:
                continue  # a word the two languages share (for example "No")
            words = part.split()
            if len(words) >= 3:
                phrases.add(part)
            elif part == english.strip(" .,:;"):
                whole.add(part)
    return tuple(sorted(whole)), tuple(sorted(phrases))


# Program content on the page: the program's language, not the interface's.
_VISIBLE_UI_TEXT = """() => {
  const content = '#act-title, #act-text, #act-meta, [aria-label="Consent text"], #phone-who,'
    + ' .consent-text, .chips';
  const lines = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const el = node.parentElement;
    if (!el || el.closest('script, style, [hidden], noscript') || el.closest(content)) continue;
    if (!el.getClientRects().length) continue;
    const text = node.textContent.trim();
    if (text) lines.push(text);
  }
  for (const el of document.querySelectorAll('[aria-label], [placeholder], [title], img[alt]')) {
    if (el.closest('[hidden]') || el.closest(content)) continue;
    for (const name of ['aria-label', 'placeholder', 'title', 'alt']) {
      const value = el.getAttribute(name);
      if (value) lines.push(value.trim());
    }
  }
  return lines;
}"""


def assert_no_english(page: Page, where: str) -> None:
    lines = page.evaluate(_VISIBLE_UI_TEXT)
    whole, phrases = english_fragments()
    text = "\n".join(lines)
    found = sorted({line for line in lines if line.strip(" .,:;") in whole})
    found += sorted({phrase for phrase in phrases if phrase in text})
    assert not found, f"English on {where}: {found}"


def audit(page: Page, where: str, phone: bool = True) -> None:
    check_a11y(page, where)
    if phone:
        check_phone(page, where)
        assert_no_english(page, where)


def no_motion(page: Page, where: str) -> None:
    """With prefers-reduced-motion, nothing animates and nothing transitions."""
    moving = page.evaluate(
        """() => {
          const out = document.getAnimations().map(a => 'animation ' + (a.animationName || a.id));
          for (const el of document.querySelectorAll('body *')) {
            const s = getComputedStyle(el);
            const d = s.transitionDuration.split(',').map(parseFloat);
            const a = s.animationDuration.split(',').map(parseFloat);
            if (d.some(x => x > 0.01) || (s.animationName !== 'none' && a.some(x => x > 0.01)))
              out.push(el.tagName.toLowerCase() + '.' + el.className);
          }
          return out.slice(0, 10);
        }"""
    )
    assert not moving, f"moving with reduced motion on {where}: {moving}"


def es_shot(page: Page, name: str, **options) -> None:
    screenshot(page, f"es/{name}", **options)


def join_in_spanish(page: Page, base: str, code: str, name: str, checks: bool) -> None:
    page.goto(base + "/join?lang=es")
    expect(page.get_by_role("heading", name=es("Join your group"))).to_be_visible()
    if checks:
        audit(page, "the Spanish join page")
    page.get_by_label(es("Room code")).fill(code)
    page.get_by_role("button", name=es("Continue")).click()
    expect(page.get_by_role("heading", name=es("Who are you?"))).to_be_visible()
    if checks:
        audit(page, "the Spanish list of names")
        es_shot(page, "phone-join")
    page.get_by_role("button", name=name, exact=True).click()
    expect(page.get_by_role("heading", name=es("Before you join"))).to_be_visible()
    if checks:
        audit(page, "the Spanish consent page")
    page.get_by_role("button", name=es("I agree — join")).click()
    expect(
        page.get_by_role("heading", name=es("You’re in — waiting for the facilitator"))
    ).to_be_visible()
    expect(page.get_by_role("status").first).to_have_text(es("Connected"))
    if checks:
        audit(page, "the Spanish lobby")


def press_on(page: Page, name: str, key: str = "Enter", limit: int = 120) -> None:
    """Tab (only the keyboard) to the control whose accessible name is `name`, then press `key`."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            r"""() => { const el = document.activeElement;
                      const name = el && (el.getAttribute('aria-label') || el.textContent);
                      return (name || '').replace(/\s+/g, ' ').trim(); }"""
        )
        if focused == name:
            page.keyboard.press(key)
            return
    pytest.fail(f"the keyboard never reached “{name}” in {limit} presses of Tab")


def test_a_session_in_spanish_on_three_phones(demo_server, new_context):
    base = demo_server.url

    # --- the console, by keyboard alone once started; the screen follows the Spanish cohort -----
    console = new_context(**DESKTOP).new_page()
    sign_in(console, base, "facilitator@example.org")
    console.get_by_role("link", name="session 7").click()
    console.get_by_role("button", name="Start session").click()
    expect(console.get_by_role("status").first).to_have_text("Connected")
    code = console.locator("#room-code").inner_text()
    console.get_by_role("button", name="Show on a TV").click()
    tv_code = console.locator("#tv-code .tv-code-value")
    expect(tv_code).to_have_text(re.compile(r"^[A-Z2-9]{6}$"))
    screen = new_context(**PROJECTOR).new_page()
    screen.goto(base + "/screen")
    check_a11y(screen, "the screen's pairing page")
    screen.locator("input").first.fill(tv_code.inner_text())
    screen.locator("button[type=submit]").first.click()
    expect(screen.locator("html")).to_have_attribute("lang", "es")
    lobby = screen.get_by_role("region", name=es("Join on your phone"))
    expect(lobby).to_be_visible()
    check_a11y(screen, "the Spanish screen's lobby")

    # --- three phones at 360 px join in Spanish; Cedar asks for reduced motion ------------------
    phones: dict[str, Page] = {}
    loaded: list[str] = []
    for name in PHONES:
        extra = {"reduced_motion": "reduce"} if name == "Cedar" else {}
        page = new_context(**PHONE, **extra).new_page()
        if name == "Ash":
            page.on(
                "request",
                lambda r: (
                    loaded.append(urlsplit(r.url).path)
                    if r.resource_type in ("script", "stylesheet")
                    else None
                ),
            )
        join_in_spanish(page, base, code, name, checks=name == "Ash")
        phones[name] = page
    ash, birch, cedar = (phones[name] for name in PHONES)
    no_motion(cedar, "the lobby")
    expect(lobby).to_contain_text("3")

    # --- the phone's own files: at most 100 KB gzipped, the Socket.IO client aside -------------
    own = sorted({path for path in loaded if path.startswith("/static/") and "vendor/" not in path})
    assert any(path.endswith("phone.js") for path in own), own
    weight = sum(len(gzip.compress((ROOT / path.lstrip("/")).read_bytes(), 9)) for path in own)
    assert weight <= PHONE_BUDGET, f"the phone's own files weigh {weight} bytes gzipped: {own}"

    # --- larger text: the switch makes the type bigger, and switches back -----------------------
    size = "() => parseFloat(getComputedStyle(document.querySelector('#lobby-title')).fontSize)"
    before = ash.evaluate(size)
    toggle = ash.get_by_role("button", name=es("Larger text"))
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    assert ash.evaluate(size) > before * 1.1, "larger text did not grow the type"
    check_phone(ash, "the lobby with larger text")
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "false")
    assert ash.evaluate(size) == before

    # --- check-in: opened, closed and revealed from the console by keyboard alone ---------------
    press_on(console, f"Start “{CHECK_IN}”")
    for index, (name, page) in enumerate(phones.items()):
        expect(page.get_by_role("heading", name=CHECK_IN)).to_be_visible()
        pleasant = page.get_by_role("slider", name=es("How pleasant do you feel?"))
        pleasant.focus()  # the slider by keyboard: arrow keys step it
        for _ in range(index + 1):
            page.keyboard.press("ArrowRight")
        if name == "Ash":
            audit(page, "the Spanish check-in")
            es_shot(page, "phone-checkin")
        if name == "Cedar":
            no_motion(page, "the check-in")
        page.get_by_role("button", name=es("Send"), exact=True).click()
        expect(page.get_by_text(es("Saved ✓ You can change it until this closes."))).to_be_visible()
    audit(ash, "the Spanish check-in, saved")
    now = console.get_by_role("region", name="Now")
    expect(console.get_by_role("region", name="Results")).to_contain_text("3")
    press_on(console, f"Close “{CHECK_IN}”", key="Space")
    expect(now.get_by_role("button", name="Reveal results")).to_be_visible()
    press_on(console, "Reveal results")
    expect(now.get_by_text("Results revealed")).to_be_visible()
    expect(ash.get_by_text(es("This activity has closed. Thank you."))).to_be_visible()
    audit(ash, "the Spanish phone after the check-in closed")
    check_a11y(screen, "the Spanish screen after the check-in")

    # --- a prompt; Birch goes offline, is told, and its words go when it is back ----------------
    console.get_by_role("region", name="Agenda").get_by_role(
        "button", name=f"Start “{PROMPT}”"
    ).click()
    for page in phones.values():
        expect(page.get_by_role("heading", name=PROMPT)).to_be_visible()
    audit(ash, "the Spanish prompt")
    birch.context.set_offline(True)
    expect(birch.get_by_role("status").first).to_have_text(es("Reconnecting…"))
    birch.get_by_label(es("Or write a few words (optional)")).fill("una canción de mi abuela")
    birch.get_by_role("button", name=es("Send my words")).click()
    expect(
        birch.get_by_text(
            es("You are offline: your answer will be sent when the connection is back.")
        )
    ).to_be_visible()
    audit(birch, "the Spanish phone, offline")
    birch.context.set_offline(False)
    expect(birch.get_by_role("status").first).to_have_text(es("Connected"), timeout=20_000)
    expect(birch.get_by_text(es("Saved ✓ You can change it until this closes."))).to_be_visible()
    ash.get_by_role("button", name=es("Done ✓")).click()
    expect(ash.get_by_text(es("Saved ✓ You can change it until this closes."))).to_be_visible()
    cedar.get_by_role("button", name=es("Pass")).click()
    no_motion(cedar, "the prompt, passed")
    audit(cedar, "the Spanish phone after a pass")

    # --- "My answers": deleting them asks first, and "no" keeps them ----------------------------
    cedar.get_by_role("button", name=es("My answers")).click()
    expect(cedar.get_by_role("heading", name=es("My answers"))).to_be_visible()
    cedar.get_by_role("button", name=es("Delete my answers")).click()
    # The question counts what would go: "¿Borrar tus 2 respuestas del servidor? ..."
    question = cedar.locator("#forget-question")
    expect(question).to_contain_text(
        es("Delete all your answers from the server? This cannot be undone.").split("?")[-1].strip()
    )
    expect(question).to_be_visible()
    audit(cedar, "the Spanish question before deleting one's answers")
    cedar.get_by_role("button", name=es("No, keep them")).click()
    expect(question).to_be_hidden()
    cedar.get_by_role("button", name=es("Back to the session")).click()
    expect(cedar.get_by_role("heading", name=PROMPT)).to_be_visible()
    queue = console.get_by_role("region", name=re.compile("^Waiting for approval"))
    expect(queue.get_by_role("listitem")).to_have_count(1)
    console.get_by_role("button", name="Approve this text").click()
    prompt = screen.get_by_role("region", name=PROMPT)
    expect(prompt.get_by_text("una canción de mi abuela")).to_be_visible()
    check_a11y(screen, "the Spanish screen with an approved text")
    es_shot(screen, "screen")
    es_shot(
        console, "console", full_page=True, clip={"x": 0, "y": 0, "width": 1280, "height": 1340}
    )
