"""Browser fixtures: Debian's chromium through Playwright, and Hearth served with the demo."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.conftest import need_service
from tests.realtime.live_server import ROOT, LiveServer, create_schema, local_app

CHROMIUM = Path("/usr/bin/chromium")
# Never a downloaded browser: Debian's chromium, with nothing fetched behind the test's back.
LAUNCH_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update"]
SHOTS = ROOT / "docs" / "screenshots"
TIMEOUT_MS = 10_000  # any single action or navigation
# Refusals that are part of a page's protocol, not faults: a phone's first join asks the
# server, which answers 422 consent_required when the consent text must be read first.
EXPECTED_REFUSALS = {"/api/v1/join": {422}}

DESKTOP = {"viewport": {"width": 1280, "height": 800}}
PROJECTOR = {"viewport": {"width": 1280, "height": 720}, "device_scale_factor": 1.5}
PHONE = {
    "viewport": {"width": 360, "height": 740},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}


def _chromium_missing() -> str | None:
    if not os.access(CHROMIUM, os.X_OK):
        return f"{CHROMIUM} is missing: `make chromium` installs Debian's package"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is missing (pip install -e '.[test]')"
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One chromium for the whole run (each test opens its own contexts)."""
    need_service(_chromium_missing())
    from playwright.sync_api import expect, sync_playwright

    # Twice Playwright's default: CI runs these beside other suites on two shared cores.
    expect.set_options(timeout=2 * 5_000)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_context(browser):
    """Open browser contexts (one per device) that close at the end of the test.

    Any uncaught script error or console error (a CSP refusal, a failed asset) fails the test.
    """
    contexts = []
    errors: list[str] = []

    def on_console(message) -> None:
        # A failed request is reported (with its address) by on_response instead.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            errors.append(f"console error at {message.location.get('url')}: {message.text}")

    def make(refusals: dict[str, set[int]] | None = None, **options: Any):
        """A new context; `refusals` names the error answers a test provokes on purpose."""
        allowed = {**EXPECTED_REFUSALS, **(refusals or {})}

        def on_response(response) -> None:
            path = urlsplit(response.url).path
            if response.status >= 400 and response.status not in allowed.get(path, ()):
                errors.append(f"{response.request.method} {path} answered {response.status}")

        context = browser.new_context(locale="en-GB", timezone_id="UTC", **options)
        context.set_default_timeout(TIMEOUT_MS)
        context.on("console", on_console)
        context.on("response", on_response)
        context.on("weberror", lambda error: errors.append(f"uncaught: {error.error}"))
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()
    if errors:
        pytest.fail("the pages reported errors:\n" + "\n".join(errors))


def screenshot(page, name: str, **options: Any) -> None:
    """Save docs/screenshots/<name>.png when HEARTH_SCREENSHOTS=1 (so CI leaves the tree clean)."""
    if os.environ.get("HEARTH_SCREENSHOTS") != "1":
        return
    path = SHOTS / f"{name}.png"  # a name may hold a folder: es/phone-join
    path.parent.mkdir(parents=True, exist_ok=True)
    # From the top, as a person first sees the page (and sticky bars sit where they belong).
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(path), animations="disabled", **options)


def sign_in(page, base_url: str, email: str) -> None:
    """Sign a demo staff member in through the real login form."""
    from playwright.sync_api import expect

    from facilitation.demo import DEMO_PASSWORD

    page.goto(base_url + "/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Welcome"))).to_be_visible()


@dataclass
class Demo:
    """A server on a fresh database holding the demo (`flask seed-demo`), and its numbers."""

    server: LiveServer
    database_url: str
    program_id: int
    cohort_id: int
    today_id: int  # session 7, planned for today
    last_held_id: int  # session 6

    @property
    def url(self) -> str:
        return self.server.url


def load_demo(
    database_url: str, consent_text: str | None = None, language: str | None = None
) -> dict[str, int]:
    """Build the demo as `seed-demo` does; optionally revise its consent text (a new version)
    and set the cohort's language (the room's: the screen's, and the phones' unless they choose).
    """
    from facilitation import demo
    from groups import services
    from groups.access import SYSTEM
    from groups.extensions import db
    from groups.types import utcnow

    app = local_app(database_url)
    with app.app_context():
        cohort = demo.build_demo(utcnow())
        if consent_text is not None:
            services.update_program(SYSTEM, cohort.program_id, consent_text=consent_text)
        if language is not None:
            services.update_cohort(SYSTEM, cohort.id, language=language)
        ids = {
            "program_id": cohort.program_id,
            "cohort_id": cohort.id,
            "today_id": cohort.sessions[demo.SESSIONS_HELD].id,
            "last_held_id": cohort.sessions[demo.SESSIONS_HELD - 1].id,
        }
        db.session.remove()
        db.engine.dispose()
    return ids


@pytest.fixture(scope="module")
def demo_server(request, tmp_path_factory) -> Iterator[Demo]:
    """`python wsgi.py` (eventlet, as in production) on a SQLite file with the demo loaded.

    A module may set `DEMO_CONSENT_TEXT` to revise the consent text, so every phone asks again.
    It may set `DEMO_COHORT_LANGUAGE` ("es") so the room speaks that language.
    """
    need_service(_chromium_missing())  # no server to start when no browser can use it
    tmp = tmp_path_factory.mktemp("e2e")
    url = "sqlite:///" + str(tmp / "hearth.db")
    create_schema(url)
    ids = load_demo(
        url,
        getattr(request.module, "DEMO_CONSENT_TEXT", None),
        getattr(request.module, "DEMO_COHORT_LANGUAGE", None),
    )
    server = LiveServer(url, "eventlet", tmp)
    server.start()
    try:
        yield Demo(server=server, database_url=url, **ids)
    finally:
        server.kill()
        if request.session.testsfailed:
            print(server.logs())


# --- axe-core: every page and state a browser test reaches ----------------------------------------
# tests/e2e/vendor/axe.min.js is axe-core 4 as published on npm (`npm pack axe-core@4`), committed
# with its MPL-2.0 header and licence files so a fresh clone needs no network for it.
AXE_JS = Path(__file__).parent / "vendor" / "axe.min.js"
AXE_FAIL_ON = ("serious", "critical")
_RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations
    .filter(v => ['serious', 'critical'].includes(v.impact))
    .map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => ({target: n.target.join(' '),
                                                      summary: n.failureSummary}))}));
}"""


def check_a11y(page, where: str) -> None:
    """Run axe-core on the page as it is now; fail on any serious or critical violation.

    The script is evaluated through the DevTools protocol, which the page's CSP (no inline
    script, no other origins) does not govern, so the page's own policy stays as served.
    """
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(_axe_source())
    violations = page.evaluate(_RUN_AXE)
    if violations:
        count = len(violations)
        lines = [f"axe: {count} serious or critical violation(s) on {where} ({page.url}):"]
        for v in violations:
            lines.append(f"  [{v['impact']}] {v['id']}: {v['help']}")
            for node in v["nodes"]:
                summary = " ".join(node["summary"].split())
                lines.append(f"      at {node['target']}: {summary}")
        pytest.fail("\n".join(lines), pytrace=False)


_AXE_CACHE: list[str] = []


def _axe_source() -> str:
    if not _AXE_CACHE:
        _AXE_CACHE.append(AXE_JS.read_text(encoding="utf-8"))
    return _AXE_CACHE[0]


# --- the phone at 360 px --------------------------------------------------------------------------
PHONE_WIDTH = PHONE["viewport"]["width"]
MIN_TARGET = 44  # CSS px, WCAG 2.5.5
_PHONE_LAYOUT = """() => {
  const small = [];
  const seen = (el) => {
    const r = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    // Off to the left until focused (the skip link): not on the screen, so not a target yet.
    return r.width > 0 && r.height > 0 && r.right > 0 && style.visibility !== 'hidden'
      && !el.closest('[hidden]');
  };
  for (const el of document.querySelectorAll(
      'button, a[href], input, select, textarea, summary, [role=button]')) {
    if (!seen(el) || el.type === 'hidden') continue;
    let r = el.getBoundingClientRect();
    let box = {left: r.left, top: r.top, right: r.right, bottom: r.bottom};
    // A checkbox or a radio is tapped through its label too: the target is both together.
    if ((el.type === 'checkbox' || el.type === 'radio') && el.labels) {
      for (const label of el.labels) {
        const l = label.getBoundingClientRect();
        box = {left: Math.min(box.left, l.left), top: Math.min(box.top, l.top),
               right: Math.max(box.right, l.right), bottom: Math.max(box.bottom, l.bottom)};
      }
    }
    const w = box.right - box.left, h = box.bottom - box.top;
    if (w < 43.5 || h < 43.5) {
      const name = (el.getAttribute('aria-label') || el.textContent || el.id || '').trim();
      small.push(`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''} "${name.slice(0, 40)}" `
                 + `${Math.round(w)}x${Math.round(h)}`);
    }
  }
  return {width: document.scrollingElement.scrollWidth, small: small};
}"""


def check_phone(page, where: str) -> None:
    """The phone at 360 px: nothing wider than the screen, every control at least 44x44 px."""
    layout = page.evaluate(_PHONE_LAYOUT)
    problems = []
    if layout["width"] > PHONE_WIDTH:
        problems.append(f"the page scrolls sideways: {layout['width']} px wide")
    problems += [f"touch target under {MIN_TARGET} px: {item}" for item in layout["small"]]
    if problems:
        pytest.fail(f"phone layout on {where}:\n  " + "\n  ".join(problems), pytrace=False)
