"""Hardening: join attempts rate-limited per address and per room, same-origin sockets only,
cookies a script cannot read, and security headers on every answer."""

from __future__ import annotations

import pytest
from limits import parse

from facilitation.api import JOIN_PER_ROOM
from tests.conftest import PASSWORD
from wsgi import load_config

CSP = {
    "default-src": "'self'",
    "img-src": "'self' data:",
    "style-src": "'self'",
    "script-src": "'self'",
    "connect-src": "'self'",
    "font-src": "'self'",
    "frame-ancestors": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
}


class TestJoinRateLimits:
    @pytest.fixture
    def app_config(self):
        return {"RATELIMIT_ENABLED": True}

    def test_guessing_room_codes_from_one_address_is_stopped(self, app, client):
        statuses = [
            client.post("/api/v1/join/lookup", json={"code": f"ZZZ{n:03d}"}).status_code
            for n in range(61)
        ]
        assert statuses[:60] == [404] * 60
        assert statuses[60] == 429
        # Joining is limited as well, apart from looking up.
        joins = [
            client.post("/api/v1/join", json={"code": f"ZZZ{n:03d}"}).status_code
            for n in range(121)
        ]
        assert 429 not in joins[:120] and joins[120] == 429

    def test_one_room_probed_from_many_addresses_is_stopped(self, app, world):
        limit = parse(JOIN_PER_ROOM).amount
        client = app.test_client()

        def lookup(n: int, code: str):
            # A different address each time: only the per-room limit can answer 429.
            addr = f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"
            return client.post(
                "/api/v1/join/lookup", json={"code": code}, environ_base={"REMOTE_ADDR": addr}
            ).status_code

        statuses = [lookup(n, world.join_code.lower()) for n in range(limit)]
        assert statuses == [200] * limit
        assert lookup(limit, world.join_code) == 429  # the same room, however it is typed
        assert lookup(limit + 1, "QQQQQQ") == 404  # another room is not held up

    def test_the_join_page_is_rate_limited_per_address(self, app, client, world):
        statuses = [client.get(f"/j/ZZZ{n:03d}").status_code for n in range(61)]
        assert statuses[:60] == [404] * 60 and statuses[60] == 429


@pytest.mark.parametrize(
    ("origin", "status"),
    [
        ("http://localhost", 200),
        ("https://evil.example.org", 400),
        ("http://localhost.evil.example.org", 400),
        ("null", 400),
    ],
)
def test_sockets_accept_only_their_own_origin(app, client, origin, status):
    """A page on another site cannot open a socket with the visitor's cookie."""
    assert app.extensions["socketio"].server.eio.cors_allowed_origins in (None, [])
    response = client.get(
        "/socket.io/?EIO=4&transport=polling",
        headers={"Origin": origin},
        base_url="http://localhost",
    )
    assert response.status_code == status, response.get_data(as_text=True)
    response.close()


def test_session_cookie_settings_come_from_the_environment(app):
    default = load_config(app, {"SECRET_KEY": "x"})
    assert default["SESSION_COOKIE_SECURE"] is False
    behind_https = load_config(app, {"SECRET_KEY": "x", "SESSION_COOKIE_SECURE": "1"})
    assert behind_https["SESSION_COOKIE_SECURE"] is True
    assert behind_https["REMEMBER_COOKIE_SECURE"] is True
    for config in (default, behind_https):
        assert config["SESSION_COOKIE_HTTPONLY"] is True
        assert config["SESSION_COOKIE_SAMESITE"] == "Lax"
        assert config["REMEMBER_COOKIE_HTTPONLY"] is True


class TestSecureCookie:
    @pytest.fixture
    def app_config(self):
        return {"SESSION_COOKIE_SECURE": True}

    def test_the_login_cookie_is_secure_http_only_and_same_site(self, app, client, admin):
        response = client.post("/login", data={"email": admin.email, "password": PASSWORD})
        assert response.status_code == 302
        cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))
        attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
        assert {"secure", "httponly", "samesite"} <= attributes
        assert "SameSite=Lax" in cookie


def _csp(header: str) -> dict[str, str]:
    return {
        part.strip().split(" ", 1)[0]: part.strip().split(" ", 1)[1]
        for part in header.split(";")
        if part.strip()
    }


@pytest.mark.parametrize(
    "path",
    [
        "/login",
        "/join",
        "/phone",
        "/screen",
        "/api/v1/me",
        "/api/openapi.json",
        "/nowhere",
        "/static/css/hearth.css",
        "/healthz",
    ],
)
def test_every_answer_carries_the_security_headers(client, path):
    response = client.get(path)
    response.close()
    headers = response.headers
    # No inline script, no style attribute, no other origin: only this site's own files.
    assert _csp(headers["Content-Security-Policy"]) == CSP
    assert "unsafe" not in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    if path.startswith("/api/"):
        assert headers["Cache-Control"] == "no-store"
