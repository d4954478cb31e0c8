"""Own the freely usable instruments Hearth ships, as data, and their loading into the database."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from groups.models import Instrument

FEELING_WORDS = [
    "calm",
    "warm",
    "curious",
    "tired",
    "tense",
    "sad",
    "hopeful",
    "restless",
    "numb",
    "I can't name it",
]

BUILTIN_INSTRUMENTS: list[dict[str, Any]] = [
    {
        "key": "affective-slider",
        "name": "Affective Slider",
        "kind": "mood",
        "items": [
            {
                "key": "pleasure",
                "label": "How pleasant do you feel?",
                "low": "unpleasant",
                "high": "pleasant",
            },
            {
                "key": "arousal",
                "label": "How awake or activated do you feel?",
                "low": "calm, sleepy",
                "high": "wide awake",
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
                "label": "How connected to the group do you feel? Pick the pair of circles.",
            }
        ],
        "response_format": {"type": "circles", "min": 1, "max": 7},
        "scoring": {"type": "raw"},
        "norms": None,
        "licence": "Free to use for research and practice",
        "citation": "Aron, A., Aron, E.N. & Smollan, D. (1992). Inclusion of Other in the Self "
        "Scale and the structure of interpersonal closeness. JPSP 63(4), 596-612.",
    },
    {
        "key": "who5",
        "name": "WHO-5 Well-Being Index",
        "kind": "questionnaire",
        "items": [
            {"key": "cheerful", "label": "I have felt cheerful and in good spirits"},
            {"key": "calm", "label": "I have felt calm and relaxed"},
            {"key": "active", "label": "I have felt active and vigorous"},
            {"key": "rested", "label": "I woke up feeling fresh and rested"},
            {
                "key": "interest",
                "label": "My daily life has been filled with things that interest me",
            },
        ],
        "response_format": {
            "type": "likert",
            "min": 0,
            "max": 5,
            "period": "the last two weeks",
            "anchors": [
                "At no time",
                "Some of the time",
                "Less than half of the time",
                "More than half of the time",
                "Most of the time",
                "All of the time",
            ],
        },
        "scoring": {"type": "sum", "multiplier": 4, "min": 0, "max": 100, "higher_is_better": True},
        "norms": {
            "sd": 20.0,
            "reliability": 0.84,
            "source": "Topp et al. (2015): SD about 20 on the 0-100 scale, alpha about .84",
        },
        "licence": "Free to use (WHO Collaborating Centre in Mental Health)",
        "citation": "Topp, C.W., Østergaard, S.D., Søndergaard, S. & Bech, P. (2015). The WHO-5 "
        "Well-Being Index: a systematic review of the literature. Psychother "
        "Psychosom 84(3), 167-176.",
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
