"""The live pages: who may open the console and screen, the phone's join flow, the CSP rules."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from facilitation import services as live
from groups.extensions import db
from groups.models import GroupSession, SessionState

STATIC = Path(__file__).resolve().parents[2] / "static"
NAMES = ("Robin", "Sam", "Alex", "Jo", "Kim", "Lee")


@pytest.fixture
def started(cohort, facilitator):
    return live.start_session(facilitator, cohort.sessions[0].id)


@pytest.fixture
def as_role(request, login, client, admin, coordinator, facilitator, other_facilitator):
    """Sign the test client in as one role by name ("anonymous" stays signed out)."""

    def _as(role: str):
        users = {
            "admin": admin,
            "coordinator": coordinator,
            "facilitator": facilitator,
            "other_facilitator": other_facilitator,
        }
        return client if role == "anonymous" else login(users[role])

    return _as


class PageAudit(HTMLParser):
    """Collect what the CSP forbids: inline scripts and styles, on* handlers, other origins."""

    URL_ATTRS = ("src", "href", "action", "formaction", "data", "poster")

    def __init__(self):
        super().__init__()
        self.problems: list[str] = []
        self.urls: list[str] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        names = dict(attrs)
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=...> is an inline handler")
            if name == "style":
                self.problems.append(f"<{tag} style=...> is an inline style")
            if name in self.URL_ATTRS and value:
                self.urls.append(value)
        if tag == "style":
            self.problems.append("<style> element")
        if tag == "script":
            if not names.get("src"):
                self.problems.append("inline <script>")
            else:
                self.scripts.append(names["src"])
            self._in_script = True

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.problems.append("script element with a body")


def audit(html: str) -> PageAudit:
    parser = PageAudit()
    parser.feed(html)
    return parser


def assert_csp_clean(html: str) -> None:
    """No inline script, style or handler, and every URL on this origin (tests run on localhost)."""
    result = audit(html)
    assert result.problems == []
    for url in result.urls:
        parts = urlsplit(url)
        if parts.scheme or parts.netloc:
            assert parts.scheme in ("http", "https") and parts.netloc == "localhost", url
        assert not url.startswith("//"), url
    assert not re.search(r"https?://(?!localhost[/\"'])", html), "a URL of another origin"


# --- who may open the console and the screen --------------------------------------------------

STAFF_ONLY = {
    "facilitator": 200,
    "admin": 200,
    "coordinator": 403,
    "other_facilitator": 404,
    "anonymous": 302,
}


@pytest.mark.parametrize("page", ["console", "screen"])
@pytest.mark.parametrize("role", sorted(STAFF_ONLY))
def test_console_and_screen_open_only_for_who_runs_the_session(page, role, as_role, started):
    client = as_role(role)
    response = client.get(f"/live/{started.id}/{page}")
    assert response.status_code == STAFF_ONLY[role]
    if role == "anonymous":
        assert "/login" in response.headers["Location"]


def test_console_carries_the_csrf_token_the_room_code_and_the_join_address(
    as_role, started, client
):
    html = as_role("facilitator").get(f"/live/{started.id}/console").get_data(as_text=True)
    assert '<meta name="csrf-token" content="' in html
    assert f'data-session-id="{started.id}"' in html
    assert started.join_code in html
    assert f"/j/{started.join_code}" in html
    assert f"/sessions/{started.id}/end" in html
    assert f"/live/{started.id}/screen" in html
    assert "Grounding break" in html
    assert_csp_clean(html)


def test_screen_page_names_nobody(as_role, started):
    """Privacy: the shared screen's page carries no roster name (names come over the socket)."""
    html = as_role("facilitator").get(f"/live/{started.id}/screen").get_data(as_text=True)
    assert 'data-paired="false"' in html
    assert f'data-session-id="{started.id}"' in html
    for name in NAMES:
        assert f">{name}<" not in html
    assert_csp_clean(html)


def test_console_of_a_session_not_live_is_refused(as_role, cohort):
    response = as_role("facilitator").get(f"/live/{cohort.sessions[1].id}/console")
    assert response.status_code == 409


def test_tv_pages_open_without_a_sign_in(client):
    pair = client.get("/screen")
    assert pair.status_code == 200
    assert 'id="pair-form"' in pair.get_data(as_text=True)
    assert_csp_clean(pair.get_data(as_text=True))
    shown = client.get("/screen/show")
    assert shown.status_code == 200
    html = shown.get_data(as_text=True)
    assert 'data-paired="true"' in html and "data-session-id" not in html
    assert_csp_clean(html)


# --- ending ----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", sorted(STAFF_ONLY))
def test_end_confirmation_asks_first(role, as_role, started):
    response = as_role(role).get(f"/sessions/{started.id}/end")
    assert response.status_code == STAFF_ONLY[role]
    if response.status_code == 200:
        html = response.get_data(as_text=True)
        assert 'method="post"' in html and 'name="csrf_token"' in html
        assert_csp_clean(html)


def test_end_confirmation_post_ends_the_session(as_role, started):
    response = as_role("facilitator").post(f"/sessions/{started.id}/end")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(GroupSession, started.id).state == SessionState.ENDED


# --- the phone's join flow -------------------------------------------------------------------


def test_join_form_works_without_javascript(client):
    response = client.get("/join")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'method="get"' in html and 'name="code"' in html
    assert_csp_clean(html)
    redirect = client.get("/join?code=abc123")
    assert redirect.status_code == 302
    assert redirect.headers["Location"].endswith("/j/ABC123")


def test_join_page_lists_the_roster_and_the_consent_text(client, started, cohort):
    response = client.get(f"/j/{started.join_code}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    for name in NAMES:
        assert f">{name}</button>" in html
    assert "How your answers are used" in html and "I agree" in html
    assert f'data-consent-version="{cohort.program.consent_version}"' in html
    assert 'data-api="/api/v1/join"' in html
    assert_csp_clean(html)


def test_join_page_takes_a_lower_case_code(client, started):
    assert client.get(f"/j/{started.join_code.lower()}").status_code == 200


def test_a_bad_code_gets_a_friendly_404_with_the_form_again(client, started):
    response = client.get("/j/QQQQQQ")
    html = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "No live session has that code" in html
    assert 'name="code"' in html and 'aria-invalid="true"' in html
    assert "Robin" not in html
    assert_csp_clean(html)


def test_an_ended_session_code_no_longer_opens(client, started, facilitator):
    code = started.join_code
    live.end_session(facilitator, started.id)
    assert client.get(f"/j/{code}").status_code == 404


def test_qr_code_is_an_svg_of_this_site(client, started):
    response = client.get(f"/j/{started.join_code}/qr.svg")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert response.get_data(as_text=True).lstrip().startswith("<svg")
    assert client.get("/j/QQQQQQ/qr.svg").status_code == 404


def test_phone_page_renders_for_anyone_with_a_pause_button(client):
    response = client.get("/phone")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "I need a pause" in html and "My answers" in html and "Larger text" in html
    assert_csp_clean(html)


# --- static files ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "js/live-common.js",
        "js/console.js",
        "js/screen.js",
        "js/phone.js",
        "js/join.js",
        "css/live.css",
        "vendor/socket.io.min.js",
    ],
)
def test_live_assets_are_served_from_this_site(client, name):
    response = client.get(f"/static/{name}")
    assert response.status_code == 200
    response.close()


def test_live_scripts_load_nothing_from_elsewhere_and_write_no_html():
    for path in [*(STATIC / "js").glob("*.js"), STATIC / "css" / "live.css"]:
        text = path.read_text()
        urls = re.findall(r"https?://[^\s'\"]+", text)
        # The SVG namespace is a name, not a request.
        assert [u for u in urls if u != "http://www.w3.org/2000/svg"] == [], path.name
        assert "innerHTML" not in text and "eval(" not in text, path.name
        assert "crypto.subtle" not in text, path.name


def test_phone_own_code_stays_small():
    files = ["js/live-common.js", "js/phone.js", "js/join.js", "css/live.css"]
    assert sum((STATIC / f).stat().st_size for f in files) < 100 * 1024
