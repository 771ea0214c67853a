"""`eval --compare A.yml B.yml`'s report: each side's precision, recall and F1 with their
intervals and costs on the cases both reviewed, and the paired difference B - A with its 95%
bootstrap interval (the same resampled cases for both sides) and which side is better, or "no
detectable difference" when the interval holds 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.tools.eval_report import (
    Scored,
    bootstrap_note,
    cost_line,
    costs,
    counts,
    figures,
    interval_note,
    with_interval,
)
from bot.tools.eval_stats import METRICS, draws, paired_interval, total, verdict


def side(name: str, model: str, scored: Sequence[Scored], resamples: Any) -> dict[str, Any]:
    results = [s.result for s in scored]
    by_line = [counts(s.by_line) for s in scored]
    return {
        "name": name,
        "model": model,
        **figures(by_line, resamples),
        "withheld": sum(r.withheld for r in results),
        "failed_prs": sum(1 for r in results if r.failures),
        **costs(results, total(by_line).matched),
    }


def compare(
    a: tuple[str, str, Sequence[Scored]], b: tuple[str, str, Sequence[Scored]]
) -> dict[str, Any]:
    """`a` and `b` are (name, model, scored cases); the cases that only one side reviewed (a
    run stopped at a quota) are left out of both."""
    (a_name, a_model, a_scored), (b_name, b_model, b_scored) = a, b
    of_b = {s.result.case.id: s for s in b_scored}
    pairs = [(s, of_b[s.result.case.id]) for s in a_scored if s.result.case.id in of_b]
    left, right = [p[0] for p in pairs], [p[1] for p in pairs]
    resamples = draws(len(pairs))
    a_counts, b_counts = [counts(s.by_line) for s in left], [counts(s.by_line) for s in right]
    difference = {}
    for name, metric in METRICS.items():
        of_a, of_b_value = metric(total(a_counts)), metric(total(b_counts))
        span = paired_interval(a_counts, b_counts, metric, resamples)
        difference[name] = {
            "value": None if of_a is None or of_b_value is None else round(of_b_value - of_a, 3),
            "interval": None if span is None else [round(span[0], 3), round(span[1], 3)],
            "better": verdict(span),
        }
    return {
        "cases": len(pairs),
        "bootstrap": bootstrap_note(len(pairs)),
        "a": side(a_name, a_model, left, resamples),
        "b": side(b_name, b_model, right, resamples),
        "difference": difference,
    }


def points(value: float | None, pair: list[float] | None) -> str:
    """`+5 (-3 to +12) points`: a difference of shares in percentage points."""
    if value is None:
        return "-"
    shown = f"{value * 100:+.0f}"
    if pair is None:
        return shown
    return f"{shown} ({pair[0] * 100:+.0f} to {pair[1] * 100:+.0f})"


def compare_table(data: dict[str, Any]) -> str:
    a, b = data["a"], data["b"]

    def row(label: str, s: dict[str, Any]) -> str:
        spans = s["interval"]
        return f"{label:<14}" + "".join(
            f"{with_interval(s[name], spans[name]):>18}" for name in METRICS
        )

    def better(name: str) -> str:
        said = str(data["difference"][name]["better"])
        return {"A": f"A ({a['name']})", "B": f"B ({b['name']})"}.get(said, said)

    diff = data["difference"]
    out = [
        f"Second Look eval --compare: {data['cases']} cases both reviewed; "
        f"A = {a['name']} ({a['model']}), B = {b['name']} ({b['model']})",
        "",
        f"{'':<14}{'precision':>18}{'recall':>18}{'F1':>18}",
        row(f"A {a['name']}"[:13], a),
        row(f"B {b['name']}"[:13], b),
        f"{'B - A, points':<14}"
        + "".join(f"{points(diff[n]['value'], diff[n]['interval']):>18}" for n in METRICS),
        "",
    ]
    labels = {"precision": "precision", "recall": "recall", "f1": "F1"}
    out += [f"better on {labels[name]}: {better(name)}" for name in METRICS]
    out += [
        "",
        interval_note(data["cases"]) + "; B - A draws the same cases for both",
        f"A {a['name']}: {a['findings']} findings, {a['matched']} true; {cost_line(a)}",
        f"B {b['name']}: {b['findings']} findings, {b['matched']} true; {cost_line(b)}",
    ]
    for label, s in (("A", a), ("B", b)):
        if s["failed_prs"]:
            out.append(f"{label}: PRs with a failed agent call: {s['failed_prs']}")
    return "\n".join(out)
