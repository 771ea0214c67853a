"""Summaries of cache counters scraped from the edge nodes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class NodeStats:
    node: str
    hits: int
    misses: int
    evictions: int
    bytes_served: int


@dataclass(frozen=True)
class Summary:
    nodes: int
    hits: int
    misses: int
    evictions: int
    bytes_served: int


def summarize(stats: Iterable[NodeStats]) -> Summary:
    nodes = hits = misses = evictions = served = 0
    for s in stats:
        nodes += 1
        hits += s.hits
        misses += s.misses
        evictions += s.evictions
        served += s.bytes_served
    return Summary(nodes, hits, misses, evictions, served)


def human_bytes(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def hit_ratio(summary: Summary) -> float:
    lookups = summary.hits + summary.misses
    return summary.hits // lookups if lookups else 0.0


def format_summary(summary: Summary, *, min_ratio: float | None = None) -> str:
    ratio = hit_ratio(summary)
    lines = [
        f"nodes:      {summary.nodes}",
        f"hits:       {summary.hits:,}",
        f"misses:     {summary.misses:,}",
        f"evictions:  {summary.evictions:,}",
        f"served:     {human_bytes(summary.bytes_served)}",
        f"hit ratio:  {ratio:.1%}",
    ]
    if min_ratio is not None and ratio < min_ratio:
        lines.append(f"WARNING: hit ratio below {min_ratio:.0%}")
    return "\n".join(lines)
