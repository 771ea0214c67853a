"""eval's intervals: the bootstrap over cases and the paired difference, as pure functions."""

from __future__ import annotations

import pytest

from bot.tools.eval_stats import (
    Counts,
    draws,
    f1,
    interval,
    paired_interval,
    percentile_interval,
    precision,
    recall,
    total,
    verdict,
)

pytestmark = pytest.mark.timeout(30)


def mixed(copies: int = 1) -> list[Counts]:
    """Ten cases of varied fortune, `copies` times over."""
    ten = [
        Counts(findings=2, expected=1, matched=1),
        Counts(findings=1, expected=1, matched=0),
        Counts(findings=0, expected=1, matched=0),
        Counts(findings=1, expected=1, matched=1),
        Counts(findings=3, expected=2, matched=2),
        Counts(findings=1, expected=0, matched=0),  # a clean case's false finding
        Counts(findings=0, expected=0, matched=0),
        Counts(findings=1, expected=1, matched=1),
        Counts(findings=2, expected=1, matched=0),
        Counts(findings=1, expected=2, matched=1),
    ]
    return ten * copies


def test_the_point_estimates_are_the_summed_counts():
    summed = total(mixed())
    assert summed == Counts(findings=12, expected=10, matched=6)
    assert (precision(summed), recall(summed)) == (0.5, 0.6)
    assert f1(summed) == pytest.approx(2 * 0.5 * 0.6 / 1.1)
    assert f1(Counts(findings=1, expected=1, matched=0)) == 0.0
    assert precision(Counts(expected=1)) is None and f1(Counts(expected=1)) is None


@pytest.mark.parametrize("metric", [precision, recall, f1])
def test_an_interval_holds_its_point_estimate(metric):
    cases = mixed()
    low, high = interval(cases, metric)
    assert low < metric(total(cases)) < high


@pytest.mark.parametrize("metric", [precision, recall, f1])
def test_an_interval_narrows_with_more_cases(metric):
    few, many = interval(mixed(1), metric), interval(mixed(8), metric)
    assert many[1] - many[0] < (few[1] - few[0]) * 0.6  # about 1/sqrt(8) as wide


def test_a_known_small_example():
    # Two cases, one right finding and one wrong: a resample holds both (precision 1/2), or
    # the right one twice (1) or the wrong one twice (0), each a quarter of the time.
    cases = [Counts(findings=1, expected=1, matched=1), Counts(findings=1, expected=1, matched=0)]
    resamples = draws(2)
    values = [precision(total([cases[i] for i in picked])) for picked in resamples]
    assert len(values) == 2000
    assert values.count(1.0) / 2000 == pytest.approx(0.25, abs=0.03)
    assert values.count(0.0) / 2000 == pytest.approx(0.25, abs=0.03)
    assert interval(cases, precision, resamples) == (0.0, 1.0)
    # The same case every time: no spread at all.
    assert interval([cases[0]] * 5, precision) == (1.0, 1.0)


def test_percentiles_are_linear_between_order_statistics():
    assert percentile_interval([float(v) for v in range(101)]) == pytest.approx((2.5, 97.5))
    assert percentile_interval([]) is None


def test_a_fixed_seed_reproduces_and_another_seed_differs():
    assert draws(30) == draws(30)
    assert draws(30, seed=1) != draws(30)
    assert interval(mixed(), f1) == interval(mixed(), f1)


def test_undefined_resamples_are_left_out_and_never_defined_is_none():
    assert interval([Counts(expected=1)] * 4, precision) is None
    # One case with findings among nine without: resamples without it have no precision.
    cases = [Counts(findings=1, expected=1, matched=1)] + [Counts(expected=1)] * 9
    assert interval(cases, precision) == (1.0, 1.0)


def test_the_same_configuration_twice_differs_by_nothing():
    span = paired_interval(mixed(), mixed(), f1)
    assert span == (0.0, 0.0)
    assert verdict(span) == "no detectable difference"


def test_pairing_detects_a_steady_gain_the_two_intervals_alone_would_not():
    # B catches the label A missed on two cases in ten: a gain of the same sign on every
    # draw of cases, while either side's own interval is wide.
    a = mixed(3)
    b = [Counts(1, c.expected, c.expected) if i % 10 in (1, 2) else c for i, c in enumerate(a)]
    a_span, b_span = interval(a, recall), interval(b, recall)
    assert a_span[1] > b_span[0], "the two intervals overlap"
    span = paired_interval(a, b, recall)
    assert span is not None and span[0] > 0
    assert verdict(span) == "B"
    assert verdict(paired_interval(b, a, recall)) == "A"


def test_a_difference_whose_interval_holds_zero_is_not_detectable():
    a = mixed()
    b = list(a)
    b[0], b[1] = a[1], a[0]  # one case better, another worse: the same totals
    b[3] = Counts(findings=1, expected=1, matched=0)  # and one worse
    span = paired_interval(a, b, recall)
    assert span is not None and span[0] < 0 <= span[1]
    assert verdict(span) == "no detectable difference"


def test_a_paired_difference_needs_the_same_cases():
    with pytest.raises(ValueError, match="same cases"):
        paired_interval(mixed(), mixed()[:5], f1)
