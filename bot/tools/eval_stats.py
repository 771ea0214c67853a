"""Precision, recall and F1 with their 95% bootstrap intervals, and the paired difference of two
configurations: pure functions over each case's counts.

The cases are what varies by chance (which PRs happened to be labelled), so the bootstrap
resamples cases with replacement: DRAWS resamples of as many cases as there are, the metric
computed on each resample's summed counts, the interval between the 2.5th and 97.5th
percentiles. A fixed SEED makes a report reproducible. A paired difference draws the same cases
for both configurations in each resample, so what the cases share (an easy case is easy for
both) cancels out and a smaller difference can be told apart from chance.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

DRAWS = 2000
SEED = 27
CONFIDENCE = 0.95


@dataclass(frozen=True)
class Counts:
    """One case's (or a sum of cases') findings posted, findings expected, and pairs matched."""

    findings: int = 0
    expected: int = 0
    matched: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            self.findings + other.findings,
            self.expected + other.expected,
            self.matched + other.matched,
        )


def precision(c: Counts) -> float | None:
    return c.matched / c.findings if c.findings else None


def recall(c: Counts) -> float | None:
    return c.matched / c.expected if c.expected else None


def f1(c: Counts) -> float | None:
    p, r = precision(c), recall(c)
    if p is None or r is None:
        return None
    return 2 * p * r / (p + r) if p + r else 0.0


Metric = Callable[[Counts], float | None]
METRICS: dict[str, Metric] = {"precision": precision, "recall": recall, "f1": f1}


def total(cases: Sequence[Counts]) -> Counts:
    out = Counts()
    for case in cases:
        out += case
    return out


def draws(cases: int, times: int = DRAWS, seed: int = SEED) -> list[list[int]]:
    """`times` resamples of `cases` case indices, drawn with replacement."""
    rng = random.Random(seed)
    population = range(cases)
    return [rng.choices(population, k=cases) for _ in range(times)] if cases else []


def percentile_interval(
    values: Sequence[float], confidence: float = CONFIDENCE
) -> tuple[float, float] | None:
    """The central `confidence` share of `values` (linear between order statistics)."""
    if not values:
        return None
    ordered = sorted(values)
    tail = (1 - confidence) / 2
    return _quantile(ordered, tail), _quantile(ordered, 1 - tail)


def _quantile(ordered: Sequence[float], q: float) -> float:
    at = q * (len(ordered) - 1)
    low, high = math.floor(at), math.ceil(at)
    return ordered[low] + (ordered[high] - ordered[low]) * (at - low)


def resampled(cases: Sequence[Counts], resamples: Sequence[Sequence[int]]) -> list[Counts]:
    """Each resample's summed counts."""
    findings = [c.findings for c in cases]
    expected = [c.expected for c in cases]
    matched = [c.matched for c in cases]
    return [
        Counts(
            sum(findings[i] for i in picked),
            sum(expected[i] for i in picked),
            sum(matched[i] for i in picked),
        )
        for picked in resamples
    ]


def interval(
    cases: Sequence[Counts], metric: Metric, resamples: Sequence[Sequence[int]] | None = None
) -> tuple[float, float] | None:
    """The 95% bootstrap interval of `metric` over `cases`; resamples where the metric is
    undefined (no finding at all, for precision) are left out; None when it never is."""
    resamples = draws(len(cases)) if resamples is None else resamples
    values = [metric(summed) for summed in resampled(cases, resamples)]
    return percentile_interval([v for v in values if v is not None])


def paired_interval(
    a: Sequence[Counts],
    b: Sequence[Counts],
    metric: Metric,
    resamples: Sequence[Sequence[int]] | None = None,
) -> tuple[float, float] | None:
    """The 95% bootstrap interval of metric(B) - metric(A), where `a[i]` and `b[i]` are the
    same case under two configurations and each resample draws the same cases for both."""
    if len(a) != len(b):
        raise ValueError("a paired difference needs the same cases on both sides")
    resamples = draws(len(a)) if resamples is None else resamples
    values = []
    for of_a, of_b in zip(resampled(a, resamples), resampled(b, resamples), strict=True):
        value_a, value_b = metric(of_a), metric(of_b)
        if value_a is not None and value_b is not None:
            values.append(value_b - value_a)
    return percentile_interval(values)


def verdict(difference: tuple[float, float] | None) -> str:
    """Which side is better by the paired interval of B - A: "B", "A", or "no detectable
    difference" when the interval holds 0 (or cannot be computed)."""
    if difference is not None and difference[0] > 0:
        return "B"
    if difference is not None and difference[1] < 0:
        return "A"
    return "no detectable difference"
