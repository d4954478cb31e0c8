"""Own the honest statistics for small groups: t intervals, Wilson, person weighting, RCI.

Pure Python (no numpy or scipy). Conventions every function keeps:
- a missing value (None) is dropped and never replaced: no last answer carried forward;
- a figure that cannot be estimated returns None, so the page shows "missing", not zero;
- person weighting: answers are averaged within each person (pseudonym) first, then across
  people, so someone who came every week does not outweigh someone who came twice.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

Z_95 = 1.959963984540054


@dataclass(frozen=True)
class MeanCI:
    """A mean with its t-based confidence interval over n independent values."""

    n: int
    mean: float
    sd: float
    lo: float
    hi: float


@dataclass(frozen=True)
class Proportion:
    """A proportion with its Wilson score interval."""

    n: int
    count: int
    p: float
    lo: float
    hi: float


@dataclass(frozen=True)
class ReliableChange:
    """Jacobson-Truax counts: how many people changed by more than measurement error."""

    n: int
    improved: int
    unchanged: int
    worse: int
    threshold: float  # the raw-score change needed to count as reliable


# --- the t distribution ------------------------------------------------------------------------


def _beta_cf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 300):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-15:
            break
    return h


def betainc(a: float, b: float, x: float) -> float:
    """Regularized incomplete beta I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    front = math.exp(log_front)
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _beta_cf(a, b, x) / a
    return 1.0 - front * _beta_cf(b, a, 1.0 - x) / b


def t_cdf(t: float, df: float) -> float:
    """P(T <= t) for Student's t with df degrees of freedom (df may be fractional: Welch)."""
    tail = 0.5 * betainc(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t >= 0 else tail


def t_quantile(p: float, df: float) -> float:
    """The t value below which a share p of the distribution lies (bisection on t_cdf)."""
    if not 0.0 < p < 1.0 or df <= 0:
        raise ValueError("need 0 < p < 1 and df > 0")
    if p < 0.5:
        return -t_quantile(1.0 - p, df)
    if p == 0.5:
        return 0.0
    lo, hi = 0.0, 2.0
    while t_cdf(hi, df) < p:
        hi *= 2.0
    for _ in range(200):
        mid = (lo + hi) / 2.0
        if t_cdf(mid, df) < p:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-12:
            break
    return (lo + hi) / 2.0


# --- means, proportions, changes ---------------------------------------------------------------


def _present(values: Iterable[float | None]) -> list[float]:
    return [float(v) for v in values if v is not None]


def mean_ci(values: Iterable[float | None], level: float = 0.95) -> MeanCI | None:
    """Mean, sample SD and t interval of the values present; None below two values."""
    xs = _present(values)
    n = len(xs)
    if n < 2:
        return None
    mean = math.fsum(xs) / n
    sd = math.sqrt(math.fsum((x - mean) ** 2 for x in xs) / (n - 1))
    half = t_quantile(0.5 + level / 2.0, n - 1) * sd / math.sqrt(n)
    return MeanCI(n, mean, sd, mean - half, mean + half)


def wilson(count: int, n: int, level: float = 0.95) -> Proportion | None:
    """Proportion count/n with its Wilson score interval; None when n is 0."""
    if n <= 0:
        return None
    if not 0 <= count <= n:
        raise ValueError("count must lie between 0 and n")
    z = Z_95 if level == 0.95 else _normal_quantile(0.5 + level / 2.0)
    p = count / n
    z2 = z * z
    denom = 1.0 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom
    return Proportion(n, count, p, max(0.0, centre - half), min(1.0, centre + half))


def _normal_quantile(p: float) -> float:
    lo, hi = -40.0, 40.0
    for _ in range(200):
        mid = (lo + hi) / 2.0
        if 0.5 * math.erfc(-mid / math.sqrt(2)) < p:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2.0


def person_means(pairs: Iterable[tuple[str, float | None]]) -> dict[str, float]:
    """Average each person's values (missing ones dropped); a person with none is left out."""
    sums: dict[str, list[float]] = {}
    for person, value in pairs:
        if value is not None:
            sums.setdefault(person, []).append(float(value))
    return {person: math.fsum(vs) / len(vs) for person, vs in sums.items()}


def person_weighted_mean(pairs: Iterable[tuple[str, float | None]]) -> MeanCI | None:
    """Mean across people of each person's own mean, with n = people (not answers)."""
    return mean_ci(person_means(pairs).values())


def paired_change(
    before: Mapping[str, float | None], after: Mapping[str, float | None]
) -> MeanCI | None:
    """Mean of after minus before over the people with both values; None below two pairs."""
    return mean_ci(
        after[p] - before[p]  # type: ignore[operator]
        for p in sorted(before.keys() & after.keys())
        if before[p] is not None and after[p] is not None
    )


def welch_change(
    before: Iterable[float | None], after: Iterable[float | None], level: float = 0.95
) -> MeanCI | None:
    """Difference of means (after - before) of two unlinked groups, with Welch's interval.

    Used only when answers carry no pseudonym and cannot be paired. n is both groups together;
    sd is the standard error of the difference times sqrt(n), kept for the record.
    """
    a, b = _present(before), _present(after)
    if len(a) < 2 or len(b) < 2:
        return None
    ma, mb = math.fsum(a) / len(a), math.fsum(b) / len(b)
    va = math.fsum((x - ma) ** 2 for x in a) / (len(a) - 1) / len(a)
    vb = math.fsum((x - mb) ** 2 for x in b) / (len(b) - 1) / len(b)
    se = math.sqrt(va + vb)
    diff = mb - ma
    if se == 0:
        return MeanCI(len(a) + len(b), diff, 0.0, diff, diff)
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    half = t_quantile(0.5 + level / 2.0, df) * se
    return MeanCI(len(a) + len(b), diff, se * math.sqrt(len(a) + len(b)), diff - half, diff + half)


# --- reliable change ---------------------------------------------------------------------------


def reliable_change_threshold(sd: float, reliability: float, z: float = Z_95) -> float:
    """The smallest raw change beyond measurement error: z * SD * sqrt(2 * (1 - r))."""
    if sd <= 0 or not 0 <= reliability < 1:
        raise ValueError("need sd > 0 and 0 <= reliability < 1")
    return z * sd * math.sqrt(2.0 * (1.0 - reliability))


def rci(before: float, after: float, sd: float, reliability: float) -> float:
    """Jacobson-Truax reliable change index: (after - before) / S_diff."""
    s_diff = sd * math.sqrt(2.0 * (1.0 - reliability))
    return (after - before) / s_diff


def reliable_change(
    before: Mapping[str, float | None],
    after: Mapping[str, float | None],
    *,
    sd: float,
    reliability: float,
    higher_is_better: bool = True,
) -> ReliableChange:
    """Count people improved / unchanged / worse by |RCI| > 1.96, over those with both scores."""
    threshold = reliable_change_threshold(sd, reliability)
    improved = unchanged = worse = 0
    for person in sorted(before.keys() & after.keys()):
        b, a = before[person], after[person]
        if b is None or a is None:
            continue
        index = rci(b, a, sd, reliability)
        if not higher_is_better:
            index = -index
        if index > Z_95:
            improved += 1
        elif index < -Z_95:
            worse += 1
        else:
            unchanged += 1
    return ReliableChange(improved + unchanged + worse, improved, unchanged, worse, threshold)
