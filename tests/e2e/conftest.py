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
    SHOTS.mkdir(parents=True, exist_ok=True)
    # From the top, as a person first sees the page (and sticky bars sit where they belong).
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SHOTS / f"{name}.png"), animations="disabled", **options)


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


def load_demo(database_url: str, consent_text: str | None = None) -> dict[str, int]:
    """Build the demo as `seed-demo` does; optionally revise its consent text (a new version)."""
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
    """
    need_service(_chromium_missing())  # no server to start when no browser can use it
    tmp = tmp_path_factory.mktemp("e2e")
    url = "sqlite:///" + str(tmp / "hearth.db")
    create_schema(url)
    ids = load_demo(url, getattr(request.module, "DEMO_CONSENT_TEXT", None))
    server = LiveServer(url, "eventlet", tmp)
    server.start()
    try:
        yield Demo(server=server, database_url=url, **ids)
    finally:
        server.kill()
        if request.session.testsfailed:
            print(server.logs())
