"""The trends page's charts: what each shows, in which looks and units, from store/trends.py's
figures. charts.py makes the geometry; templates/chart.html draws it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from bot.app.dashboard import present
from bot.app.dashboard.charts import (
    DURATION_STEPS,
    PATTERNS,
    Chart,
    Look,
    Series,
    Table,
    lines,
    rates,
    stacked_bars,
)
from bot.store.dashboard import SEVERITIES
from bot.store.feedback import Acceptance
from bot.store.trends import Trends

# Okabe and Ito's colours, told apart by most colour-blind readers; never by colour alone.
ORANGE, SKY, GREEN, YELLOW = "#e69f00", "#56b4e9", "#009e73", "#f0e442"
BLUE, VERMILION, PURPLE, GREY = "#0072b2", "#d55e00", "#cc79a7", "#8c8c8c"

STATUS_LOOKS = {
    "completed": Look(GREEN, "solid"),
    "failed": Look(VERMILION, "cross"),
    "skipped": Look(GREY, "dots"),
    "superseded": Look(SKY, "diagonal"),
    "processing": Look(YELLOW, "vertical"),
    "pending": Look(ORANGE, "horizontal"),
}
OUTCOME_ORDER = ("completed", "failed", "skipped", "superseded", "processing", "pending")
SEVERITY_LOOKS = {
    "critical": Look(VERMILION, "cross"),
    "high": Look(ORANGE, "diagonal"),
    "medium": Look(YELLOW, "dots"),
    "low": Look(SKY, "horizontal"),
    "info": Look(GREY, "solid"),
}
TOKEN_LOOKS = {
    "input": Look(BLUE, "solid"),
    "cached": Look(SKY, "dots"),
    "output": Look(ORANGE, "diagonal"),
    "thinking": Look(PURPLE, "cross"),
}
# Agents are open-ended (analyzers add theirs): a look each, in turn.
AGENT_COLOURS = (BLUE, ORANGE, GREEN, PURPLE, VERMILION, SKY, YELLOW, GREY)
SPEND = Look(BLUE, "solid")
ACCEPTED = Look(GREEN, "solid")
P50 = Look(BLUE, dash="", marker="circle")
P95 = Look(VERMILION, dash="5 3", marker="square")
NONE = "—"


def count(value: float) -> str:
    return f"{int(value):,}"


def usd(value: float) -> str:
    return f"${value:,.4f}"


def usd_tick(value: float) -> str:
    """$0.00, $0.005, $0.50, $12.00: as many decimals as the step needs, at least two."""
    text = f"{value:.4f}".rstrip("0")
    whole, _, decimals = text.partition(".")
    return f"${whole}.{decimals.ljust(2, '0')}"


def compact(value: float) -> str:
    """1.2M, 350k, 12: for an axis."""
    for size, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:.3g}{suffix}"
    return f"{value:.3g}"


def duration_tick(value: float) -> str:
    """30 s, 2 min, 1.5 h: for an axis."""
    if value < 60:
        return f"{value:g} s"
    if value < 3600:
        return f"{value / 60:g} min"
    return f"{value / 3600:.3g} h"


def _agent_looks(agents: Iterable[str]) -> dict[str, Look]:
    return {
        agent: Look(AGENT_COLOURS[i % len(AGENT_COLOURS)], PATTERNS[i % len(PATTERNS)])
        for i, agent in enumerate(agents)
    }


def _key(name: str) -> str:
    return "".join(c if c.isascii() and c.isalnum() else "-" for c in name.lower())


def _where(trends: Trends) -> str:
    period = trends.period
    place = f" in {'/'.join(period.repository)}" if period.repository else ""
    return f"from {period.first.isoformat()} to {period.last.isoformat()}{place}"


def _sums(series: Iterable[Series], fmt: Any) -> str:
    return ", ".join(f"{s.name} {fmt(sum(v or 0 for v in s.values))}" for s in series)


def outcomes(trends: Trends, days: list[date]) -> Chart:
    per_day = [trends.outcomes.get(d, {}) for d in days]
    shown = [s for s in OUTCOME_ORDER if any(day.get(s) for day in per_day)]
    series = [
        Series(s, s, tuple(float(day.get(s, 0)) for day in per_day), STATUS_LOOKS[s]) for s in shown
    ]
    total = sum(sum(day.values()) for day in per_day)
    return stacked_bars(
        "outcomes",
        "Reviews by outcome",
        "Reviews",
        days,
        series,
        fmt=count,
        tick=count,
        whole=True,
        description=(
            f"Reviews created each day {_where(trends)}, stacked by status: {total:,} in all"
            + (f" ({_sums(series, count)})." if series else ".")
        ),
    )


def spend(trends: Trends, days: list[date]) -> Chart:
    values = tuple(float(trends.usage[d].cost_usd) if d in trends.usage else 0.0 for d in days)
    total = sum((u.cost_usd for u in trends.usage.values()), Decimal(0))
    return stacked_bars(
        "spend",
        "Gemini spend",
        "US dollars",
        days,
        [Series("cost", "Cost", values, SPEND)],
        fmt=usd,
        tick=usd_tick,
        whole=False,
        description=f"Estimated Gemini cost each day {_where(trends)}: {usd(float(total))} in all.",
    )


def tokens(trends: Trends, days: list[date]) -> Chart:
    usage = [trends.usage.get(d) for d in days]
    parts = {
        "input": (
            "Input, not cached",
            [u.input_tokens - u.cached_tokens if u else 0 for u in usage],
        ),
        "cached": ("Cached input", [u.cached_tokens if u else 0 for u in usage]),
        "output": ("Output", [u.output_tokens if u else 0 for u in usage]),
        "thinking": ("Thinking", [u.thinking_tokens if u else 0 for u in usage]),
    }
    series = [
        Series(key, name, tuple(float(v) for v in values), TOKEN_LOOKS[key])
        for key, (name, values) in parts.items()
    ]
    return stacked_bars(
        "tokens",
        "Gemini tokens",
        "Tokens",
        days,
        series,
        fmt=count,
        tick=compact,
        whole=True,
        description=f"Gemini tokens each day {_where(trends)}, stacked by kind: "
        f"{_sums(series, count)}.",
    )


def latency(trends: Trends, days: list[date]) -> Chart:
    found = [trends.latency.get(d) for d in days]
    series = [
        Series("p50", "p50", tuple(f.p50 if f else None for f in found), P50),
        Series("p95", "p95", tuple(f.p95 if f else None for f in found), P95),
    ]
    reviews = sum(f.reviews for f in found if f)
    return lines(
        "latency",
        "Review latency",
        "Time to finish",
        days,
        series,
        fmt=present.seconds,
        tick=duration_tick,
        missing=NONE,
        steps=DURATION_STEPS,
        description=(
            f"The median (p50) and 95th percentile (p95) of the time from a review's creation "
            f"to its finish, per day {_where(trends)}, over {reviews:,} completed reviews; "
            "days without a completed review have no point."
        ),
    )


def _findings(trends: Trends, days: list[date], by: int) -> list[dict[str, int]]:
    per_day: list[dict[str, int]] = []
    for d in days:
        sums: dict[str, int] = {}
        for key, n in trends.findings.get(d, {}).items():
            sums[key[by]] = sums.get(key[by], 0) + n
        per_day.append(sums)
    return per_day


def findings_by_severity(trends: Trends, days: list[date]) -> Chart:
    per_day = _findings(trends, days, 0)
    shown = [s for s in SEVERITIES if any(day.get(s) for day in per_day)]
    series = [
        Series(s, s, tuple(float(day.get(s, 0)) for day in per_day), SEVERITY_LOOKS[s])
        for s in shown
    ]
    return _findings_chart(trends, days, "findings-severity", "severity", series)


def findings_by_agent(trends: Trends, days: list[date]) -> Chart:
    per_day = _findings(trends, days, 1)
    agents = sorted({a for day in per_day for a in day})
    looks = _agent_looks(agents)
    series = [
        Series(_key(a), a, tuple(float(day.get(a, 0)) for day in per_day), looks[a]) for a in agents
    ]
    return _findings_chart(trends, days, "findings-agent", "agent", series)


def _findings_chart(
    trends: Trends, days: list[date], id: str, by: str, series: list[Series]
) -> Chart:
    total = sum(sum(v or 0 for v in s.values) for s in series)
    return stacked_bars(
        id,
        f"Findings by {by}",
        "Findings",
        days,
        series,
        fmt=count,
        tick=count,
        whole=True,
        description=(
            f"Findings first raised on their PR, by the day of the review that raised them, "
            f"{_where(trends)}, stacked by {by}: {int(total):,} in all"
            + (f" ({_sums(series, count)})." if series else ".")
        ),
    )


def _rate(a: Acceptance) -> str:
    judged = a.accepted + a.rejected
    if a.rate is None:
        return "no verdict yet"
    return f"{a.rate:.0%} ({a.accepted:,} of {judged:,})"


def acceptance(trends: Trends) -> Chart:
    found = trends.acceptance
    header = ("Agent", "Accepted", "Rejected", "Rate", "👍", "👎", "Dismissed", "Fixed")
    rows = tuple(
        (
            a.group,
            f"{a.accepted:,}",
            f"{a.rejected:,}",
            NONE if a.rate is None else f"{a.rate:.0%}",
            f"{a.thumbs_up:,}",
            f"{a.thumbs_down:,}",
            f"{a.dismissed:,}",
            f"{a.fixed:,}",
        )
        for a in found
    )
    note = (
        "Accepted: more 👍 than 👎, or its thread resolved because the finding was fixed; "
        f"rejected: dismissed, or more 👎 than 👍. {NONE}: nothing judged yet."
    )
    judged = [a for a in found if a.rate is not None]
    summary = "; ".join(f"{a.group} {_rate(a)}" for a in judged)
    return rates(
        "acceptance",
        "Acceptance by agent",
        [a.group for a in found],
        [a.rate for a in found],
        [_rate(a) for a in found],
        ACCEPTED,
        Table(header, rows, note),
        description=(
            f"The share of each agent's judged findings that people accepted, by the day of "
            f"the latest 👍, 👎, dismissal or resolved thread, {_where(trends)}"
            + (f": {summary}." if summary else ": nothing judged.")
        ),
    )


def charts(trends: Trends) -> list[Chart]:
    """The page's charts, in the page's order."""
    days = trends.period.days
    return [
        outcomes(trends, days),
        spend(trends, days),
        tokens(trends, days),
        latency(trends, days),
        findings_by_severity(trends, days),
        findings_by_agent(trends, days),
        acceptance(trends),
    ]


def glance(trends: Trends) -> list[tuple[str, str]]:
    """The period's totals, above the charts."""
    reviews = sum(sum(day.values()) for day in trends.outcomes.values())
    completed = sum(day.get("completed", 0) for day in trends.outcomes.values())
    failed = sum(day.get("failed", 0) for day in trends.outcomes.values())
    cost = sum((u.cost_usd for u in trends.usage.values()), Decimal(0))
    used = sum(u.input_tokens + u.output_tokens + u.thinking_tokens for u in trends.usage.values())
    found = sum(sum(day.values()) for day in trends.findings.values())
    return [
        ("Reviews", f"{reviews:,} ({completed:,} completed, {failed:,} failed)"),
        ("Gemini spend", usd(float(cost))),
        ("Gemini tokens", f"{used:,}"),
        ("Findings raised", f"{found:,}"),
    ]
