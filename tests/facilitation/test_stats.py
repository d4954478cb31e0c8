"""The statistics match values worked out by hand and published tables."""

import math

import pytest

from facilitation import stats


@pytest.mark.parametrize(
    ("df", "expected"),
    [
        (1, 12.706204736),
        (2, 4.302652730),
        (5, 2.570581836),
        (7, 2.364624252),
        (10, 2.228138852),
        (30, 2.042272456),
        (60, 2.000297822),
        (120, 1.979930405),
    ],
)
def test_t_quantile_matches_the_published_table(df, expected):
    assert stats.t_quantile(0.975, df) == pytest.approx(expected, abs=1e-6)


def test_t_quantile_is_symmetric_and_approaches_the_normal():
    assert stats.t_quantile(0.025, 9) == pytest.approx(-stats.t_quantile(0.975, 9))
    assert stats.t_quantile(0.5, 4) == 0.0
    assert stats.t_quantile(0.975, 100000) == pytest.approx(1.959964, abs=1e-4)
    assert stats.t_cdf(0.0, 3) == pytest.approx(0.5)
    with pytest.raises(ValueError):
        stats.t_quantile(1.0, 3)


def test_mean_ci_by_hand():
    # 0.2 .. 0.6: mean 0.4, SS 0.1, sd sqrt(0.02), half = 2.570582 * sd / sqrt(6)
    result = stats.mean_ci([0.2, 0.3, 0.4, 0.5, 0.6, 0.4])
    assert result.n == 6
    assert result.mean == pytest.approx(0.4)
    assert result.sd == pytest.approx(0.1414214, abs=1e-6)
    assert result.lo == pytest.approx(0.251587, abs=1e-5)
    assert result.hi == pytest.approx(0.548413, abs=1e-5)


def test_mean_ci_drops_missing_and_is_none_below_two():
    assert stats.mean_ci([]) is None
    assert stats.mean_ci([0.5]) is None
    assert stats.mean_ci([0.5, None]) is None  # a missing value is never filled in
    assert stats.mean_ci([1.0, None, 3.0]).mean == 2.0


def test_wilson_by_hand():
    half = stats.wilson(5, 10)
    assert (half.lo, half.hi) == pytest.approx((0.236593, 0.763407), abs=1e-6)
    four_of_six = stats.wilson(4, 6)
    assert four_of_six.p == pytest.approx(2 / 3)
    assert (four_of_six.lo, four_of_six.hi) == pytest.approx((0.299993, 0.903231), abs=1e-5)
    zero = stats.wilson(0, 8)
    assert zero.lo == 0.0 and zero.hi == pytest.approx(0.324405, abs=1e-5)
    assert stats.wilson(0, 0) is None
    with pytest.raises(ValueError):
        stats.wilson(3, 2)


def test_person_weighted_mean_averages_within_each_person_first():
    # A came three times (all 1.0), B once (0.0): per answer 0.75, per person 0.5.
    pairs = [("A", 1.0), ("A", 1.0), ("A", 1.0), ("B", 0.0), ("C", None)]
    assert stats.person_means(pairs) == {"A": 1.0, "B": 0.0}
    result = stats.person_weighted_mean(pairs)
    assert result.n == 2 and result.mean == 0.5


def test_paired_change_uses_only_people_with_both_answers():
    before = {"a": 0.2, "b": 0.3, "c": 0.4, "d": 0.5, "e": 0.6, "f": 0.4, "g": 0.9}
    after = {"a": 0.3, "b": 0.4, "c": 0.5, "d": 0.6, "e": 0.7, "f": 0.6, "h": 0.1}
    result = stats.paired_change(before, after)
    # differences 0.1 x5 and 0.2: mean 0.116667, sd 0.040825, half 2.570582*0.016667
    assert result.n == 6
    assert result.mean == pytest.approx(0.116667, abs=1e-6)
    assert result.sd == pytest.approx(0.040825, abs=1e-6)
    assert (result.lo, result.hi) == pytest.approx((0.073824, 0.159510), abs=1e-5)


def test_welch_change_by_hand():
    # means 2 and 4; variances of the means 1/3 and 4/3; se = sqrt(5/3); df = 2.9412
    result = stats.welch_change([1, 2, 3], [2, 4, 6])
    se = math.sqrt(5 / 3)
    df = (5 / 3) ** 2 / ((1 / 3) ** 2 / 2 + (4 / 3) ** 2 / 2)
    assert result.mean == 2.0
    assert df == pytest.approx(2.941176, abs=1e-6)
    assert result.hi - result.mean == pytest.approx(stats.t_quantile(0.975, df) * se)
    assert stats.welch_change([1], [2, 3]) is None


def test_reliable_change_with_who5_and_ucla3_norms():
    # WHO-5: SD 20, r .84: S_diff = 20 * sqrt(2 * .16) = 11.3137; 1.96 * S_diff = 22.17
    assert stats.reliable_change_threshold(20.0, 0.84) == pytest.approx(22.1745, abs=1e-3)
    before = {"a": 40, "b": 40, "c": 40, "d": 60, "e": None}
    after = {"a": 64, "b": 56, "c": 16, "d": 60, "e": 80, "f": 12}
    result = stats.reliable_change(before, after, sd=20.0, reliability=0.84)
    assert (result.n, result.improved, result.unchanged, result.worse) == (4, 1, 2, 1)
    # UCLA-3: lower is better. SD 1.8, r .72: threshold 2.64 points.
    assert stats.reliable_change_threshold(1.8, 0.72) == pytest.approx(2.6401, abs=1e-3)
    lonely = stats.reliable_change(
        {"a": 8, "b": 6}, {"a": 5, "b": 9}, sd=1.8, reliability=0.72, higher_is_better=False
    )
    assert (lonely.improved, lonely.worse) == (1, 1)
    assert stats.rci(40, 64, 20.0, 0.84) == pytest.approx(24 / 11.3137, abs=1e-4)
