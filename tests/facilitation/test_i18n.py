"""Languages: the Spanish catalogue is complete where participants and the screen read it, and
the phone, the join flow and the shared screen render with no English left."""

from __future__ import annotations

import json
import re
import shlex
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from facilitation import services as live
from facilitation.anonymity import new_secret
from groups import services
from groups.access import SYSTEM
from groups.i18n import CHOICE_COOKIE, CONTEXT_SEP, ROOM_COOKIE, js_messages
from groups.instruments import BUILTIN_INSTRUMENTS, TRANSLATION_SOURCES
from realtime.extensions import socketio

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "translations" / "es" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")

# What a participant or the shared screen can meet: these sources' strings must all be Spanish.
PARTICIPANT_SOURCES = (
    "templates/base.html",
    "templates/live/_grounding.html",
    "templates/live/_lang_switch.html",
    "templates/live/_phone_header.html",
    "templates/live/join.html",
    "templates/live/join_pick.html",
    "templates/live/phone.html",
    "templates/live/pair_screen.html",
    "templates/live/screen.html",
    "static/js/live-common.js",
    "static/js/join.js",
    "static/js/phone.js",
    "static/js/screen.js",
    "facilitation/consent.py",
    "facilitation/services.py",
    "groups/instruments.py",
    "realtime/handlers.py",
)


def _catalog():
    with PO.open("rb") as fileobj:
        return read_po(fileobj, locale="es")


def _translated(message) -> bool:
    strings = [message.string] if isinstance(message.string, str) else list(message.string)
    return all(strings) and "fuzzy" not in message.flags


def _participant_messages():
    return [
        m
        for m in _catalog()
        if m.id and any(path in PARTICIPANT_SOURCES for path, _line in m.locations)
    ]


def _placeholders(text: str) -> set[str]:
    return set(re.findall(r"\{\w+\}|%\(\w+\)s", text))


def test_every_participant_and_screen_string_has_spanish():
    missing = [m.id for m in _participant_messages() if not _translated(m)]
    assert missing == []


def test_spanish_keeps_every_placeholder():
    for message in _catalog():
        if not message.id or not _translated(message):
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        for msgid, text in zip(ids, strings, strict=False):
            # A singular may say "your answer" instead of "{n}"; the plural keeps it.
            expected = _placeholders(msgid) - (
                {"{n}"} if msgid is ids[0] and len(ids) > 1 else set()
            )
            assert expected <= _placeholders(text), (msgid, text)


def test_compiled_catalogue_matches_the_po_file():
    """The app reads the committed .mo: `make translations` after editing the .po."""
    with MO.open("rb") as fileobj:
        compiled = read_mo(fileobj)
    po = {_key(m): _text(m) for m in _catalog() if m.id and _translated(m)}
    mo = {_key(m): _text(m) for m in compiled if m.id}
    assert po == mo


def _key(message) -> str:
    return message.id if isinstance(message.id, str) else message.id[0]


def _ids(message) -> tuple[str, ...]:
    return (message.id,) if isinstance(message.id, str) else tuple(message.id)


def _text(message) -> tuple[str, ...]:
    return (message.string,) if isinstance(message.string, str) else tuple(message.string)


def _makefile_keywords() -> dict:
    text = (ROOT / "Makefile").read_text().replace("\\\n", " ")
    line = next(ln for ln in text.splitlines() if ln.startswith("BABEL_KEYWORDS :="))
    args = shlex.split(line.split(":=", 1)[1])
    keywords: dict = dict(DEFAULT_KEYWORDS)  # pybabel's own (_, gettext, ...) plus the Makefile's
    for flag, spec in zip(args[::2], args[1::2], strict=True):
        assert flag == "-k"
        name, _, positions = spec.partition(":")
        # "1c,2": the first argument is the context, the second the message.
        parts = positions.split(",") if positions else []
        spec_ = tuple((int(p[:-1]), "c") if p.endswith("c") else int(p) for p in parts)
        keywords[name] = spec_ or None
    return keywords


def test_the_catalogue_holds_every_marked_string():
    """A string marked in a template, a script or the code is in the .po (`make messages`)."""
    with (ROOT / "babel.cfg").open() as fileobj:
        method_map, options_map = parse_mapping_cfg(fileobj)
    known = {m.id if isinstance(m.id, str) else m.id[0] for m in _catalog() if m.id}
    found = extract_from_dir(str(ROOT), method_map, options_map, keywords=_makefile_keywords())
    missing = set()
    for filename, _line, message, _comments, _context in found:
        msgid = message if isinstance(message, str) else message[0]
        if msgid and msgid not in known:
            missing.add((filename, msgid))
    assert missing == set()


# --- pages in Spanish ---------------------------------------------------------------------------


class VisibleText(HTMLParser):
    """Text a person meets: text nodes and the attributes read aloud or shown, no catalogue."""

    ATTRS = ("aria-label", "alt", "title", "placeholder", "value")

    def __init__(self):
        super().__init__()
        self.chunks: list[str] = []
        self.catalogue: dict = {}

    def handle_starttag(self, tag, attrs):
        names = dict(attrs)
        if tag == "meta" and names.get("name") == "hearth-i18n":
            self.catalogue = json.loads(names["content"])
            return
        self.chunks.extend(v for k, v in attrs if k in self.ATTRS and v)

    def handle_data(self, data):
        if data.strip():
            self.chunks.append(" ".join(data.split()))


def _visible(html: str) -> VisibleText:
    parser = VisibleText()
    parser.feed(html)
    return parser


def _english_leftovers(html: str) -> list[str]:
    """Participant msgids (with a different Spanish) still shown in English on the page."""
    page = _visible(html)
    text = " | ".join(page.chunks)
    leftovers = []
    for message in _participant_messages():
        msgid = message.id if isinstance(message.id, str) else message.id[0]
        spanish = message.string if isinstance(message.string, str) else message.string[0]
        plain = re.sub(r"<[^>]+>", "", msgid)
        if plain == re.sub(r"<[^>]+>", "", spanish) or "{" in plain or "%(" in plain:
            continue
        # Whole chunks for short words ("Pass"), anywhere for sentences.
        if plain in page.chunks or (len(plain.split()) >= 3 and plain in text):
            leftovers.append(plain)
    return leftovers


@pytest.fixture
def spanish_cohort(cohort):
    services.update_cohort(SYSTEM, cohort.id, language="es")
    return cohort


@pytest.fixture
def started(spanish_cohort, facilitator):
    return live.start_session(facilitator, spanish_cohort.sessions[0].id)


def test_join_pick_speaks_the_rooms_language_and_remembers_it(client, started):
    response = client.get(f"/j/{started.join_code}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<html lang="es"' in html
    for phrase in ("¿Quién eres?", "Toca tu nombre.", "Antes de unirte", "Acepto: unirme"):
        assert phrase in html
    assert "Quién ve qué" in html  # the default consent text, in Spanish
    assert _english_leftovers(html) == []
    assert f"{ROOM_COOKIE}=es" in " ".join(response.headers.get_all("Set-Cookie"))


def test_phone_page_is_spanish_after_joining_a_spanish_room(client, started):
    client.get(f"/j/{started.join_code}")  # keeps the room's language on this phone
    html = client.get("/phone").get_data(as_text=True)
    assert '<html lang="es"' in html
    for phrase in ("Necesito una pausa", "Hagamos una pausa en grupo", "Mis respuestas"):
        assert phrase in html
    assert _english_leftovers(html) == []
    catalogue = _visible(html).catalogue
    # The scripts' words and the instruments' labels, translated for this page.
    assert catalogue["numb"] == "entumecimiento"
    assert catalogue["I can't name it"] == "No sé ponerle nombre"
    assert catalogue["Pass"] == "Paso"
    assert catalogue["{n} person responded"] == [
        "Respondió {n} persona",
        "Respondieron {n} personas",
    ]
    differs = {_key(m) for m in _catalog() if m.id and _text(m) != _ids(m)}
    scripts = js_messages("live-common") + js_messages("phone")
    keys = {m if isinstance(m, str) else m[0] for m in scripts}
    assert sorted((keys & differs) - set(catalogue)) == []


def test_questionnaire_wording_reaches_a_spanish_phone_from_its_published_translation(
    client, started
):
    """WHO-5 goes out in the WHO's own Spanish, under its key, so its words never mix with
    another questionnaire's; UCLA-3 has no confirmed Spanish wording and stays English."""
    client.get(f"/j/{started.join_code}")
    catalogue = _visible(client.get("/phone").get_data(as_text=True)).catalogue
    who5 = next(i for i in BUILTIN_INSTRUMENTS if i["key"] == "who5")
    fmt = who5["response_format"]
    texts = [who5["name"], who5["licence"], fmt["period"], *fmt["anchors"]]
    texts += [item["label"] for item in who5["items"]]
    spanish = {text: catalogue.get(f"who5{CONTEXT_SEP}{text}") for text in texts}
    assert all(spanish.values()), spanish
    cheerful = "I have felt cheerful and in good spirits"
    assert spanish[cheerful] == "Me he sentido alegre y de buen humor"
    assert spanish["Some of the time"] == "De vez en cuando"
    assert spanish["At no time"] == "Nunca"
    assert spanish["the last two weeks"] == "las últimas dos semanas"
    # The same English words without the context are not translated (UCLA-3's "Some of the time").
    assert "Some of the time" not in catalogue
    assert "ucla3" not in TRANSLATION_SOURCES
    assert not any(key.startswith(f"ucla3{CONTEXT_SEP}") for key in catalogue)
    # The phone looks the labels up in the questionnaire's context.
    script = (ROOT / "static" / "js" / "phone.js").read_text()
    for call in ("H.tc(ctx, item.label)", "H.tc(ctx, anchor)", "H.tc(ctx, fmt.period)"):
        assert call in script


def test_join_page_follows_the_browser_until_a_room_is_known(client):
    html = client.get("/join", headers={"Accept-Language": "es-MX,es;q=0.9"}).get_data(as_text=True)
    assert "Únete a tu grupo" in html
    assert _english_leftovers(html) == []


def test_a_phones_own_choice_beats_the_rooms_language(client, started):
    client.get(f"/j/{started.join_code}")
    response = client.get("/phone?lang=en")
    assert f"{CHOICE_COOKIE}=en" in " ".join(response.headers.get_all("Set-Cookie"))
    html = client.get("/phone").get_data(as_text=True)
    assert '<html lang="en"' in html and "data-lang-chosen" in html
    assert "I need a pause" in html
    assert _visible(html).catalogue == {}  # English needs no catalogue
    # The switch offers the other language.
    assert 'href="?lang=es"' in html


def test_shared_screen_speaks_the_rooms_language_whatever_the_laptop_chose(
    login, facilitator, started
):
    client = login(facilitator)
    client.set_cookie(CHOICE_COOKIE, "en")
    html = client.get(f"/live/{started.id}/screen").get_data(as_text=True)
    assert '<html lang="es"' in html and "data-lang-chosen" not in html
    for phrase in ("Únete desde tu teléfono", "Puedes pasar: cada actividad es una elección."):
        assert phrase in html
    assert _english_leftovers(html) == []
    assert _visible(html).catalogue["Mood"] == "Estado de ánimo"


def test_paired_tv_pages_in_spanish(client):
    client.set_cookie(ROOM_COOKIE, "es")
    for path in ("/screen/show", "/screen?lang=es"):
        html = client.get(path).get_data(as_text=True)
        assert '<html lang="es"' in html
        assert _english_leftovers(html) == []


def test_staff_pages_follow_accept_language_and_default_to_english(client):
    assert "Skip to content" in client.get("/login").get_data(as_text=True)
    html = client.get("/login", headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert "Saltar al contenido" in html


# --- the console and the staff pages: the staff member's language -------------------------------

CONSOLE_SOURCES = ("templates/live/console.html", "static/js/console.js")
SPANISH = {"Accept-Language": "es-ES,es;q=0.9"}


def _messages_from(sources):
    return [m for m in _catalog() if m.id and any(p in sources for p, _line in m.locations)]


def test_every_console_string_has_spanish():
    missing = [m.id for m in _messages_from(CONSOLE_SOURCES) if not _translated(m)]
    assert missing == []


def test_console_follows_the_staff_members_language_not_the_rooms(login, facilitator, started):
    client = login(facilitator)
    english = client.get(f"/live/{started.id}/console").get_data(as_text=True)
    assert '<html lang="en"' in english and "Live console" in english
    assert _visible(english).catalogue == {}  # the room is Spanish; the facilitator is not

    html = client.get(f"/live/{started.id}/console", headers=SPANISH).get_data(as_text=True)
    assert '<html lang="es"' in html
    for phrase in (
        "Consola en directo",
        "Pausa para anclarse",
        "Peticiones de pausa",
        "Asistencia",
    ):
        assert phrase in html
    page = _visible(html)
    text = " | ".join(page.chunks)
    for message in _messages_from(("templates/live/console.html",)):
        plain = message.id if isinstance(message.id, str) else message.id[0]
        if "%(" in plain or plain == _text(message)[0]:
            continue
        assert plain not in page.chunks and (len(plain.split()) < 3 or plain not in text), plain
    # The script's words, in Spanish, for everything console.js says.
    catalogue = page.catalogue
    assert catalogue["Grounding break"] == "Pausa para anclarse"
    assert catalogue["Someone needs a pause"] == "Alguien necesita una pausa"
    keys = {m if isinstance(m, str) else m[0] for m in js_messages("console")}
    differs = {_key(m) for m in _catalog() if m.id and _text(m) != _ids(m)}
    assert sorted((keys & differs) - set(catalogue)) == []

    confirm = client.get(f"/sessions/{started.id}/end", headers=SPANISH).get_data(as_text=True)
    assert "¿Terminar la sesión 1?" in confirm and "Volver a la consola" in confirm


def test_staff_pages_in_spanish_and_english_by_default(app, login, facilitator, cohort):
    client = login(facilitator)
    session_id = cohort.sessions[0].id
    pages = {
        "/": ("Mis grupos", "My cohorts"),
        "/cohorts": ("Grupos que puedes ver", "Cohorts you can see"),
        f"/cohorts/{cohort.id}": ("Calendario", "Schedule"),
        f"/cohorts/{cohort.id}/members/new": ("Nombre visible", "Display name"),
        f"/sessions/{session_id}": ("Hoja de asistencia", "Attendance sheet"),
    }
    for url, (spanish, english) in pages.items():
        html = client.get(url, headers=SPANISH).get_data(as_text=True)
        assert '<html lang="es"' in html, url
        assert spanish in html and english not in html, url
        assert ">Grupos</a>" in html and "Saltar al contenido" in html, url  # nav and skip link
        default = client.get(url).get_data(as_text=True)
        assert '<html lang="en"' in default and english in default, url
    login_page = app.test_client().get("/login", headers=SPANISH).get_data(as_text=True)
    assert "Iniciar sesión" in login_page and "Correo electrónico" in login_page


def test_a_flash_message_comes_in_the_staff_members_language(login, facilitator, cohort):
    client = login(facilitator)
    client.set_cookie(CHOICE_COOKIE, "es")
    response = client.post(
        f"/cohorts/{cohort.id}/members/new", data={"display_name": "Noa"}, follow_redirects=True
    )
    assert "Noa añadido a la lista." in response.get_data(as_text=True)


# --- errors the server sends, in the phone's language -------------------------------------------


def test_join_errors_come_in_the_language_the_page_asks_for(client):
    response = client.post(
        "/api/v1/join",
        json={"code": "ZZZZZZ", "device_token": new_secret()},
        headers={"Accept-Language": "es"},
    )
    assert response.status_code == 404
    assert response.get_json()["error"]["message"].startswith("Ninguna sesión en curso")


def test_socket_acks_come_in_the_phones_language(app, started, spanish_cohort):
    token, secret = new_secret(), new_secret()
    member = spanish_cohort.members[0]
    http = app.test_client()
    joined = http.post(
        "/api/v1/join",
        json={
            "code": started.join_code,
            "device_token": token,
            "member_id": member.id,
            "consent_version": 1,
        },
    )
    assert joined.status_code == 200, joined.get_json()
    sock = socketio.test_client(
        app, auth={"role": "phone", "device_token": token, "secret": secret, "lang": "es"}
    )
    try:
        assert sock.is_connected()
        state = next(m["args"][0] for m in sock.get_received() if m["name"] == "session_state")
        assert state["session"]["language"] == "es"
        ack = sock.emit(
            "submit_answer",
            {"activity_id": 999999, "client_id": new_secret()[:16], "passed": True},
            callback=True,
        )
        assert ack["ok"] is False
        assert ack["error"]["message"] == "Esa actividad no existe en esta sesión."
    finally:
        sock.disconnect()
