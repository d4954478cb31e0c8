"""Own the languages: which locale a request gets, and the catalogue the browser scripts read.

A room speaks its cohort's language; a phone may choose its own (a cookie it keeps); staff pages
follow the person's choice or the browser's Accept-Language. English is the source language.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.extract import extract
from flask import Flask, Response, g, has_request_context, request
from flask_babel import Babel, get_locale, get_translations, refresh

babel = Babel()

# Adding a language: its code here and in LANGUAGE_NAMES, then `make messages LANG=xx` (Makefile).
LANGUAGES = ("en", "es")
LANGUAGE_NAMES = {"en": "English", "es": "Español"}
# A person's own choice on this browser (the phone's language switch).
CHOICE_COOKIE = "hearth_lang"
# The language of the room this phone or TV last joined; scripts update it, so not HttpOnly.
ROOM_COOKIE = "hearth_room_lang"
COOKIE_AGE = 365 * 24 * 3600

PARTICIPANT_ENDPOINTS = frozenset({"live.join", "live.join_code", "live.phone"})
SCREEN_ENDPOINTS = frozenset({"live.screen", "live.paired_screen"})

STATIC_JS = Path(__file__).resolve().parent.parent / "static" / "js"
# The browser scripts mark their strings as H.t("...") and H.tn("one", "many", n): pybabel
# extracts them with these keywords (see the Makefile), and so does js_catalogue() below.
JS_KEYWORDS: dict[str, Any] = {"H.t": None, "H.tn": (1, 2)}


def N_(text: str) -> str:
    """Mark a string for translation where it is defined; it is translated where it is shown."""
    return text


def NC_(context: str, text: str) -> str:
    """N_ with a context: one instrument's own wording (its key), kept apart from the same English
    words elsewhere (WHO-5's "Some of the time" is not UCLA-3's)."""
    return text


# How a context and a msgid make one key in the browsers' catalogue (gettext's own separator).
CONTEXT_SEP = "\x04"


def _valid(code: str | None) -> str | None:
    return code if code in LANGUAGES else None


def select_locale() -> str | None:
    """Pick the language: asked for, the socket's, the room's, chosen, or the browser's."""
    if not has_request_context():
        return None  # a CLI command or a background task: the default, English
    forced = _valid(g.get("hearth_locale"))  # a socket connection's own page language
    if forced:
        return forced
    asked = _valid(request.args.get("lang"))
    if asked:
        return asked
    endpoint = request.endpoint or ""
    room = _valid(g.get("room_language")) or _valid(request.cookies.get(ROOM_COOKIE))
    if endpoint in SCREEN_ENDPOINTS and room:
        # The shared screen speaks to the whole room: the room's language, never a person's.
        return room
    own = _valid(request.cookies.get(CHOICE_COOKIE))
    if own:
        return own
    if endpoint in PARTICIPANT_ENDPOINTS and room:
        return room
    return request.accept_languages.best_match(LANGUAGES) or "en"


def current_language() -> str:
    """The language of this request (the default outside a request)."""
    locale = get_locale() if has_request_context() else None
    return locale.language if locale is not None else "en"


def use_room_language(language: str | None) -> None:
    """A view that knows the room says so before rendering, so the room's language applies."""
    g.room_language = _valid(language)
    refresh()


def use_connection_language(language: str | None) -> None:
    """A socket event answers in the language of the page that opened the connection."""
    g.hearth_locale = _valid(language)
    refresh()


def _fresh_request() -> None:
    # Flask-Babel caches the locale on g, which one app context may share between requests
    # (tests, or a socket event inside a request): each request chooses afresh.
    for name in ("room_language", "hearth_locale"):
        g.pop(name, None)
    refresh()


def remember_room_language(response: Response, language: str | None) -> Response:
    """Keep the room's language on this phone, for the pages that follow the join."""
    if _valid(language):
        response.set_cookie(ROOM_COOKIE, language, max_age=COOKIE_AGE, samesite="Lax")
    return response


def _keep_choice(response: Response) -> Response:
    # ?lang=xx on a participant or staff page is the person's own choice: keep it. On the shared
    # screen it is a one-off (the room's language wins there).
    asked = _valid(request.args.get("lang"))
    if asked and (request.endpoint or "") not in SCREEN_ENDPOINTS:
        response.set_cookie(CHOICE_COOKIE, asked, max_age=COOKIE_AGE, samesite="Lax", httponly=True)
    return response


@cache
def js_messages(script: str) -> tuple[str | tuple[str, str], ...]:
    """The msgids one browser script marks, read from the file once per process."""
    with (STATIC_JS / f"{script}.js").open("rb") as fileobj:
        found = extract("javascript", fileobj, keywords=JS_KEYWORDS)
        return tuple(dict.fromkeys(message for _line, message, _comments, _ctx in found))


def js_catalogue(*scripts: str) -> dict[str, Any]:
    """English msgid -> this language's text, for the scripts named and the instruments' labels.

    Empty for English (the scripts fall back to the msgid). A plural entry is [one, many]:
    English and Spanish both pick the first form for exactly 1.
    """
    if current_language() == "en":
        return {}
    translations = get_translations()
    out: dict[str, Any] = {}
    for script in scripts:
        for message in js_messages(script):
            if isinstance(message, tuple):
                one, many = message[0], message[1]
                forms = [translations.ngettext(one, many, 1), translations.ngettext(one, many, 2)]
                if forms != [one, many]:
                    out[one] = forms
            else:
                text = translations.gettext(message)
                if text != message:
                    out[message] = text
    from groups.instruments import client_labels  # instruments import N_ from here

    for label in client_labels():
        if isinstance(label, tuple):  # (context, msgid): one questionnaire's own wording
            context, msgid = label
            text = translations.pgettext(context, msgid)
            if text != msgid:
                out[f"{context}{CONTEXT_SEP}{msgid}"] = text
            continue
        text = translations.gettext(label)
        if text != label:
            out[label] = text
    return out


def init_app(app: Flask) -> None:
    """Attach Flask-Babel with Hearth's locale rules and give templates what they need."""
    babel.init_app(app, locale_selector=select_locale)
    app.before_request(_fresh_request)
    app.after_request(_keep_choice)

    @app.context_processor
    def _languages() -> dict[str, Any]:
        return {
            "page_lang": current_language(),
            "language_names": LANGUAGE_NAMES,
            "lang_chosen": _chose_language(),
            "js_catalogue": js_catalogue,
        }


def _chose_language() -> bool:
    """Whether this browser asked for its own language (then it does not follow the room's)."""
    if not has_request_context() or (request.endpoint or "") in SCREEN_ENDPOINTS:
        return False
    return bool(_valid(request.args.get("lang")) or _valid(request.cookies.get(CHOICE_COOKIE)))
