"""`eval --suite martian`'s report: precision, recall and F1 with their 95% bootstrap
intervals (eval's figures), per repository and golden severity, beside the figures the
benchmark publishes; as JSON and as a table."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from bot.config import GeminiSettings
from bot.tools.eval_report import bootstrap_note, figures, with_interval
from bot.tools.eval_stats import Counts, draws
from bot.tools.github_cache import ReadCache
from bot.tools.judge import Judge
from bot.tools.martian_prs import Benchmark

if TYPE_CHECKING:
    from bot.tools.martian import Judged, Outcome

SEVERITY_ORDER = ("critical", "high", "medium", "low")
PRF = ("precision", "recall", "f1")
NOTE = (
    "The published figures are the benchmark's, judged by {judge}; ours are judged by "
    "{ours} with our own prompt, one finding against one golden comment as the benchmark "
    "does, matched one to one. The judges differ: compare with care."
)


def _counts(one: Judged) -> Counts:
    """A PR's findings, golden comments and the golden comments caught (one to one)."""
    return Counts(len(one.result.findings), len(one.pr.golden), len(one.caught))


def _figures(judged: Sequence[Judged], with_intervals: bool = False) -> dict[str, Any]:
    """Precision, recall and F1 of `judged`, and with `with_intervals` their 95% bootstrap
    intervals over the PRs (eval's figures: bot/tools/eval_report.py)."""
    cases = [_counts(one) for one in judged]
    return figures(cases, draws(len(cases)) if with_intervals and cases else None)


def report(
    outcome: Outcome, benchmark: Benchmark, settings: GeminiSettings, judge: Judge, gh: ReadCache
) -> dict[str, Any]:
    """The figures of the PRs judged (a PR GitHub could not give is named, not scored)."""
    scored = [j for j in outcome.judged if j.unread is None]
    repositories: dict[str, list[Judged]] = {}
    for one in scored:
        repositories.setdefault(one.pr.repository, []).append(one)
    severities: dict[str, dict[str, Any]] = {}
    for name in SEVERITY_ORDER:
        golden = caught = 0
        for one in scored:
            for index, comment in enumerate(one.pr.golden):
                if comment.severity == name:
                    golden += 1
                    caught += index in one.caught
        if golden:
            severities[name] = {
                "golden": golden,
                "caught": caught,
                "recall": round(caught / golden, 3),
            }
    results = [one.result for one in scored]
    overall = _figures(scored, with_intervals=True)
    return {
        "benchmark": "withmartian/code-review-benchmark (offline)",
        "commit": benchmark.commit,
        "model": settings.model,
        "prs": len(scored),
        "prs_selected": outcome.total,
        "resumed": outcome.resumed,
        "overall": overall,
        "repositories": {name: _figures(group) for name, group in repositories.items()},
        "bootstrap": bootstrap_note(len(scored)),
        "severities": severities,
        "published": {"judge": benchmark.published_judge, "tools": benchmark.published},
        "note": NOTE.format(judge=benchmark.published_judge, ours=judge.model),
        "review": {
            "input_tokens": sum(r.prompt_tokens for r in results),
            "cached_tokens": sum(r.cached_tokens for r in results),
            "output_tokens": sum(r.output_tokens for r in results),
            "cost_usd": round(sum(r.cost_usd for r in results), 6),
            "withheld": sum(r.withheld for r in results),
        },
        "judge": judge.figures(),
        "github": {"fetched": gh.fetched, "from_cache": gh.served},
        "failed_prs": [
            {"pr": one.pr.pull, "why": one.unread or "; ".join(one.result.failures)}
            for one in outcome.judged
            if one.unread or one.result.failures
        ],
        "stopped": None
        if outcome.stopped is None
        else {"reason": outcome.stopped.reason, "wait_seconds": outcome.stopped.wait},
    }


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def table(data: dict[str, Any]) -> str:
    def row(name: str, s: dict[str, Any]) -> str:
        return (
            f"{name:<12}{s['findings']:>9}{s['matched']:>9}{s['expected']:>8}"
            f"{_pct(s['precision']):>11}{_pct(s['recall']):>8}{_pct(s['f1']):>8}"
        )

    out = [
        f"Second Look on the Martian code review benchmark: {data['prs']} of "
        f"{data['prs_selected']} PRs, model {data['model']}, judge {data['judge']['model']}",
        "",
        f"{'':<12}{'findings':>9}{'matched':>9}{'golden':>8}{'precision':>11}{'recall':>8}"
        f"{'F1':>8}",
        row("overall", data["overall"]),
    ]
    out += [row(name, s) for name, s in data["repositories"].items()]
    spans = data["overall"].get("interval")
    if spans:
        out += [
            "",
            "overall, 95% bootstrap interval over the PRs: "
            + ", ".join(
                f"{name} {with_interval(data['overall'][name], spans[name])}" for name in PRF
            ),
        ]
    out += ["", "golden severity: caught / golden (recall)"]
    out += [
        f"  {name:<10}{s['caught']:>4} / {s['golden']:<4}{_pct(s['recall']):>8}"
        for name, s in data["severities"].items()
    ]
    published = data["published"]["tools"]
    if published:

        def figure(value: float | None) -> str:
            return "-" if value is None else f"{value:.1f}"

        overall = data["overall"]
        out += [
            "",
            f"published by the benchmark, judge {data['published']['judge']} (percent):",
            f"  {'':<16}{'precision':>10}{'recall':>7}{'F1':>7}",
        ]
        out += [
            f"  {tool:<16}{figure(s.get('precision')):>10}{figure(s.get('recall')):>7}"
            f"{figure(s.get('f1')):>7}"
            for tool, s in published.items()
        ]
        ours = [None if overall[k] is None else overall[k] * 100 for k in PRF]
        out.append(
            f"  {'Second Look':<16}{figure(ours[0]):>10}{figure(ours[1]):>7}{figure(ours[2]):>7}"
            "  (this run)"
        )
    out += ["", *textwrap.wrap(data["note"], 100)]
    review, judge = data["review"], data["judge"]
    out += [
        "",
        f"review: {review['input_tokens']:,} input tokens ({review['cached_tokens']:,} cached), "
        f"{review['output_tokens']:,} output, ${review['cost_usd']:,.4f}; "
        f"{review['withheld']} findings withheld after verification",
        f"judge: {judge['asked']} pairs asked, {judge['from_cache']} from its cache, "
        f"${judge['cost_usd']:,.4f}",
        f"GitHub: {data['github']['fetched']} requests, {data['github']['from_cache']} from disk",
    ]
    if judge["not_judged"]:
        out.append(
            f"not judged: {judge['not_judged']} pairs (the judge's answer was malformed twice or "
            "its call failed); counted as no match, asked again on the next run"
        )
    for failed in data["failed_prs"]:
        out.append(f"failed: {failed['pr']}: {failed['why']}")
    if data["stopped"]:
        out.append(f"partial: stopped at a quota after {data['prs']} PRs")
    return "\n".join(out)
