"""Own the freely usable instruments Hearth ships, as data, and their loading into the database."""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy import select
from sqlalchemy.orm import Session

from groups.i18n import N_, NC_
from groups.models import Instrument

# N_ marks a label for translation; it stays English here and in the database. Phones and the
# screen translate the labels through their catalogue (see client_labels), so one snapshot serves
# every language in the room.

# Where a validated questionnaire's translation comes from: its wording is copied, never made up.
# The Spanish WHO-5 is the Psychiatric Research Unit's translation (1998) that the WHO publishes.
WHO5_SPANISH_SOURCE = (
    "OMS (cinco) Índice de Bienestar (OMS-5), the Spanish translation published by the WHO "
    "(Psychiatric Research Unit, WHO Collaborating Centre in Mental Health, Mental Health Centre "
    "North Zealand): https://cdn.who.int/media/docs/default-source/mental-health/"
    "oms-(cinco)-indice-de-bienestar-(oms-5).pdf"
)
TRANSLATION_SOURCES: dict[str, dict[str, str]] = {"who5": {"es": WHO5_SPANISH_SOURCE}}
# UCLA-3 has none yet: a Spanish validation exists (Trucharte et al. 2021, Curr Psychol,
# doi:10.1007/s12144-021-02110-x) but its item wording was not confirmed, so it stays English.


FEELING_WORDS = [
    N_("calm"),
    N_("warm"),
    N_("curious"),
    N_("tired"),
    N_("tense"),
    N_("sad"),
    N_("hopeful"),
    N_("restless"),
    N_("numb"),
    N_("I can't name it"),
]

BUILTIN_INSTRUMENTS: list[dict[str, Any]] = [
    {
        "key": "affective-slider",
        "name": "Affective Slider",
        "kind": "mood",
        "items": [
            {
                "key": "pleasure",
                "label": N_("How pleasant do you feel?"),
                "low": N_("unpleasant"),
                "high": N_("pleasant"),
            },
            {
                "key": "arousal",
                "label": N_("How awake or activated do you feel?"),
                "low": N_("calm, sleepy"),
                "high": N_("wide awake"),
            },
        ],
        "response_format": {
            "type": "slider",
            "min": 0.0,
            "max": 1.0,
            "step": 0.01,
            "words": FEELING_WORDS,
            "words_optional": True,
        },
        "scoring": {
            "type": "raw",
            "quadrants": {"numb": {"pleasure_below": 0.5, "arousal_below": 0.5}},
        },
        "norms": None,
        "licence": "CC BY-SA 4.0",
        "citation": "Betella, A. & Verschure, P.F.M.J. (2016). The Affective Slider: A Digital "
        "Self-Assessment Scale for the Measurement of Human Emotions. PLoS ONE "
        "11(2): e0148037.",
    },
    {
        "key": "ios-group",
        "name": "Inclusion of Other in the Self (the group as the other)",
        "kind": "connectedness",
        "items": [
            {
                "key": "connectedness",
                "label": N_("How connected to the group do you feel? Pick the pair of circles."),
            }
        ],
        "response_format": {"type": "circles", "min": 1, "max": 7},
        "scoring": {"type": "raw"},
        "norms": None,
        "licence": "Free to use for research and practice",
        "citation": "Aron, A., Aron, E.N. & Smollan, D. (1992). Inclusion of Other in the Self "
        "Scale and the structure of interpersonal closeness. JPSP 63(4), 596-612.",
    },
    # WHO-5 and UCLA-3 are validated instruments: their items and anchors are not translated ad
    # hoc. A language gets them only from a published translation, marked NC_ with the
    # instrument's key as context and its source in TRANSLATION_SOURCES (and the .po comment).
    {
        "key": "who5",
        "name": NC_("who5", "WHO-5 Well-Being Index"),
        "kind": "questionnaire",
        "items": [
            {"key": "cheerful", "label": NC_("who5", "I have felt cheerful and in good spirits")},
            {"key": "calm", "label": NC_("who5", "I have felt calm and relaxed")},
            {"key": "active", "label": NC_("who5", "I have felt active and vigorous")},
            {"key": "rested", "label": NC_("who5", "I woke up feeling fresh and rested")},
            {
                "key": "interest",
                "label": NC_("who5", "My daily life has been filled with things that interest me"),
            },
        ],
        "response_format": {
            "type": "likert",
            "min": 0,
            "max": 5,
            "period": NC_("who5", "the last two weeks"),
            "anchors": [
                NC_("who5", "At no time"),
                NC_("who5", "Some of the time"),
                NC_("who5", "Less than half of the time"),
                NC_("who5", "More than half of the time"),
                NC_("who5", "Most of the time"),
                NC_("who5", "All of the time"),
            ],
        },
        "scoring": {"type": "sum", "multiplier": 4, "min": 0, "max": 100, "higher_is_better": True},
        "norms": {
            "sd": 20.0,
            "reliability": 0.84,
            "source": "Topp et al. (2015): SD about 20 on the 0-100 scale, alpha about .84",
        },
        "licence": NC_("who5", "Free to use (WHO Collaborating Centre in Mental Health)"),
        "citation": "Topp, C.W., Østergaard, S.D., Søndergaard, S. & Bech, P. (2015). The WHO-5 "
        "Well-Being Index: a systematic review of the literature. Psychother "
        "Psychosom 84(3), 167-176. Spanish: " + WHO5_SPANISH_SOURCE,
    },
    {
        "key": "ucla3",
        "name": "UCLA Loneliness Scale, 3 items",
        "kind": "questionnaire",
        "items": [
            {"key": "companionship", "label": "How often do you feel that you lack companionship?"},
            {"key": "left_out", "label": "How often do you feel left out?"},
            {"key": "isolated", "label": "How often do you feel isolated from others?"},
        ],
        "response_format": {
            "type": "likert",
            "min": 1,
            "max": 3,
            "anchors": ["Hardly ever", "Some of the time", "Often"],
        },
        "scoring": {"type": "sum", "multiplier": 1, "min": 3, "max": 9, "higher_is_better": False},
        "norms": {
            "sd": 1.8,
            "reliability": 0.72,
            "source": "Hughes et al. (2004): alpha .72; SD about 1.8 in older adults",
        },
        "licence": "Free to use",
        "citation": "Hughes, M.E., Waite, L.J., Hawkley, L.C. & Cacioppo, J.T. (2004). A Short "
        "Scale for Measuring Loneliness in Large Surveys. Research on Aging 26(6), "
        "655-672.",
    },
]


def client_labels() -> tuple[str | tuple[str, str], ...]:
    """The shipped labels that phones and the screen translate: feeling words, slider ends, items.

    The instruments Hearth words itself (the affective slider and the circles) by their msgid; a
    validated questionnaire with a published translation (TRANSLATION_SOURCES) as (its key,
    msgid), so its wording never mixes with another's. The others keep their English wording.
    """
    labels: list[str | tuple[str, str]] = list(FEELING_WORDS)
    for data in BUILTIN_INSTRUMENTS:
        if data["kind"] in ("mood", "connectedness"):
            for item in data["items"]:
                labels.extend(item[key] for key in ("label", "low", "high") if key in item)
        elif data["key"] in TRANSLATION_SOURCES:
            fmt = data["response_format"]
            texts = [data["name"], data["licence"], *(i["label"] for i in data["items"])]
            texts += [*fmt.get("anchors", []), *([fmt["period"]] if fmt.get("period") else [])]
            labels.extend((data["key"], text) for text in texts)
    return tuple(dict.fromkeys(labels))


def ensure_builtin_instruments(session: Session) -> list[Instrument]:
    """Load the shipped instruments into the database once, and return them."""
    existing = {i.key: i for i in session.scalars(select(Instrument).where(Instrument.builtin))}
    result = []
    for data in BUILTIN_INSTRUMENTS:
        instrument = existing.get(data["key"])
        if instrument is None:
            instrument = Instrument(builtin=True, **data)
            session.add(instrument)
        result.append(instrument)
    session.flush()
    return result


# --- a program's own instruments ---------------------------------------------------------------

_SLUG = validate.Regexp(r"^[a-z0-9][a-z0-9_-]*$", error="Lower-case letters, digits, - and _.")


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class _ItemSchema(_Strict):
    key = fields.String(required=True, validate=[validate.Length(1, 40), _SLUG])
    label = fields.String(required=True, validate=validate.Length(1, 300))


class _LikertSchema(_Strict):
    type = fields.String(required=True, validate=validate.Equal("likert"))
    min = fields.Integer(required=True, strict=True, validate=validate.Range(0, 10))
    max = fields.Integer(required=True, strict=True, validate=validate.Range(1, 20))
    anchors = fields.List(fields.String(validate=validate.Length(1, 80)))
    period = fields.String(validate=validate.Length(max=120))

    @validates_schema
    def _range(self, data: dict[str, Any], **_: Any) -> None:
        if data["max"] <= data["min"]:
            raise ValidationError("Must be above min.", "max")
        anchors = data.get("anchors")
        if anchors is not None and len(anchors) != data["max"] - data["min"] + 1:
            raise ValidationError("One anchor for each point from min to max.", "anchors")


class _ScoringSchema(_Strict):
    type = fields.String(required=True, validate=validate.Equal("sum"))
    multiplier = fields.Float(
        load_default=1.0, validate=validate.Range(0, 100, min_inclusive=False)
    )
    higher_is_better = fields.Boolean(required=True)
    min = fields.Float()  # the score's range, for charts
    max = fields.Float()


class _NormsSchema(_Strict):
    sd = fields.Float(required=True, validate=validate.Range(0, None, min_inclusive=False))
    reliability = fields.Float(
        required=True, validate=validate.Range(0, 1, min_inclusive=False, max_inclusive=False)
    )
    source = fields.String(required=True, validate=validate.Length(1, 300))


class InstrumentDocument(_Strict):
    """A questionnaire a program brings itself: items, a Likert format, scoring, norms, licence.

    Norms (the score's SD and reliability in a reference group) let the outcome pages count
    reliable change; without them the questionnaire is still scored and charted.
    """

    key = fields.String(required=True, validate=[validate.Length(2, 64), _SLUG])
    name = fields.String(required=True, validate=validate.Length(1, 120))
    kind = fields.String(load_default="questionnaire", validate=validate.Equal("questionnaire"))
    items = fields.List(fields.Nested(_ItemSchema), required=True, validate=validate.Length(1, 40))
    response_format = fields.Nested(_LikertSchema, required=True)
    scoring = fields.Nested(_ScoringSchema, required=True)
    norms = fields.Nested(_NormsSchema, allow_none=True, load_default=None)
    licence = fields.String(required=True, validate=validate.Length(1, 200))
    citation = fields.String(load_default="", validate=validate.Length(max=2000))

    @validates_schema
    def _unique_items(self, data: dict[str, Any], **_: Any) -> None:
        keys = [item["key"] for item in data.get("items", [])]
        if len(keys) != len(set(keys)):
            raise ValidationError("Each item needs its own key.", "items")


# What the page offers as a starting point: a short scale a program wrote for itself.
INSTRUMENT_EXAMPLE: dict[str, Any] = {
    "key": "room-warmth",
    "name": "Warmth in the room (our own, 3 items)",
    "items": [
        {"key": "welcome", "label": "I felt welcome in the group"},
        {"key": "safe", "label": "I could pass when I wanted to"},
        {"key": "close", "label": "I felt close to someone here"},
    ],
    "response_format": {
        "type": "likert",
        "min": 1,
        "max": 4,
        "anchors": ["Not at all", "A little", "Quite a lot", "Very much"],
    },
    "scoring": {"type": "sum", "multiplier": 1, "higher_is_better": True, "min": 3, "max": 12},
    "norms": None,
    "licence": "Written by our program; free to use",
    "citation": "",
}


def parse_instrument(data: Any) -> dict[str, Any]:
    """Check a program's own instrument document; raise marshmallow's ValidationError."""
    if not isinstance(data, dict):
        raise ValidationError({"_schema": ["Must be a JSON object."]})
    return InstrumentDocument().load(data)
