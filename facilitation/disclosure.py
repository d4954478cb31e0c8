"""Own the small-number rules: which anonymous figures may be published, and which are withheld.

Two rules, applied to every figure before any page, export, API answer or stored aggregate
sees it (all of them draw on the same decisions, so no two outputs can be played off):

1. Threshold. A figure computed from fewer than k respondents (the program's min_group_size)
   is withheld and shown as "fewer than k".

2. Block differencing. Two published figures that draw on the same answers (the same
   measurement: one activity's answers to one question, or a figure derived from them such as
   the check-in to check-out shift, or a questionnaire's first-to-last change) must be over
   exactly the same respondents, or over respondent sets that differ by at least k people (the
   size of their symmetric difference). Otherwise subtracting one from the other isolates fewer
   than k people's answers: check-in pleasure over seven people next to the shift over six of
   them gives away the seventh person's check-in.

   Scope. Figures of different occasions (session 3's check-in and session 4's check-in) are
   different answers: their difference mixes the absentee's answer with everyone else's
   week-to-week change, so it does not read off anyone's answer, and holding them apart would
   leave a group of 8-12 with one point per trend (people miss sessions and pass questions,
   so the groups of two weeks nearly always differ by one or two). STRICT_SERIES = True widens
   the rule to every pair of figures of one family (one measure across the whole cycle); the
   tests cover both.

   Resolution is first come, first kept: figures are considered in a fixed order (session by
   session, in the order they happened, and within a session in a fixed order of figures), and
   a figure that conflicts with one already published is withheld. Earlier decisions therefore
   never change when later sessions arrive: a figure once shown stays shown. Anything shown to
   a coordinator is either a total over members (attendance) or computed from figures already
   published here, so it adds nothing a difference could use.

   Who responded is known through the keyed pseudonym. An answer without one (a phone keeping
   no history) cannot be matched, so the comparison is conservative: the difference counts as
   large enough only if it is at least k for every way those answers could be matched. A figure
   kept after its raw answers were purged has a count but no respondents: it is compared on
   counts alone, again conservatively.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

FEWER_THAN_K = "fewer_than_k"
STRICT_SERIES = False
DIFFERENCING = "differencing"


@dataclass
class Figure:
    """One anonymous figure waiting for a decision, with the people it was computed from."""

    key: str
    family: str
    n: int
    sources: frozenset[str] = frozenset()  # the measurements (answers) the figure draws on
    respondents: frozenset[str] = frozenset()
    unlinked: int = 0  # answers with no pseudonym: counted in n, never matched
    known: bool = True  # False for a stored aggregate whose respondents are gone
    value: Any = None
    published: bool = False
    reason: str | None = None
    # A stored aggregate's decision was made with its respondents known: it is kept as it was.
    fixed: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_people(
        cls,
        key: str,
        family: str,
        sources: Iterable[str],
        people: Iterable[str | None],
        value: Any = None,
    ) -> Figure:
        """Make a figure from each respondent's pseudonym (None for an unlinked answer)."""
        people = list(people)
        linked = frozenset(p for p in people if p is not None)
        unlinked = sum(1 for p in people if p is None)
        n = len(linked) + unlinked
        return cls(key, family, n, frozenset(sources), linked, unlinked, True, value)


def difference_bounds(a: Figure, b: Figure) -> tuple[int, int]:
    """The smallest and largest number of people two figures' respondents can differ by."""
    if not (a.known and b.known):
        return abs(a.n - b.n), a.n + b.n
    linked = len(a.respondents ^ b.respondents)
    upper = linked + a.unlinked + b.unlinked
    lower = max(abs(a.n - b.n), linked - a.unlinked - b.unlinked)
    return lower, upper


def conflicts(a: Figure, b: Figure, k: int) -> bool:
    """Say whether publishing both would let a difference of 1..k-1 people be read off."""
    lower, upper = difference_bounds(a, b)
    if upper == 0:
        return False  # provably the same people: the difference isolates no one
    return lower < k


def comparable(a: Figure, b: Figure, *, strict_series: bool | None = None) -> bool:
    """Say whether the differencing rule holds two figures against each other."""
    strict = STRICT_SERIES if strict_series is None else strict_series
    return a.family == b.family and (strict or bool(a.sources & b.sources))


def resolve(
    figures: Sequence[Figure], k: int, *, strict_series: bool | None = None
) -> list[Figure]:
    """Decide, in the order given, which figures are published; set published and reason."""
    kept: dict[str, list[Figure]] = {}
    for figure in figures:
        if figure.fixed:
            if figure.published:
                kept.setdefault(figure.family, []).append(figure)
            continue
        if figure.n < k:
            figure.published, figure.reason = False, FEWER_THAN_K
            continue
        same_family = kept.setdefault(figure.family, [])
        if any(
            conflicts(other, figure, k)
            for other in same_family
            if comparable(other, figure, strict_series=strict_series)
        ):
            figure.published, figure.reason = False, DIFFERENCING
            continue
        figure.published, figure.reason = True, None
        same_family.append(figure)
    return list(figures)


def withheld_text(reason: str | None, k: int) -> str:
    """Say in words why a figure is not shown."""
    if reason == FEWER_THAN_K:
        return f"fewer than {k}"
    if reason == DIFFERENCING:
        return f"withheld: it differs from another figure by fewer than {k} people"
    return "missing"
