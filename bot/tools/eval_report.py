"""`eval`'s report of one configuration: each case's findings matched against its labels
(bot/tools/eval_match.py), precision, recall and F1 with their 95% bootstrap intervals
(bot/tools/eval_stats.py), per agent and overall, and what it cost per case and per true finding;
as JSON and as a table.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.tools.eval_match import Judge, Matched, match
from bot.tools.eval_results import CaseResult
from bot.tools.eval_run import Outcome
from bot.tools.eval_stats import CONFIDENCE, DRAWS, METRICS, SEED, Counts, draws, interval, total


@dataclass(frozen=True)
class Scored:
    """One case's result and its matchings: by line, by file, and per agent by line."""

    result: CaseResult
    by_line: Matched
    by_file: Matched
    agents: Mapping[str, Matched]


class _Remembered:
    """A judge asked once per distinct pair of sentences in a report."""

    def __init__(self, judge: Judge) -> None:
        self.judge = judge
        self.answers: dict[tuple[str, str], bool] = {}

    async def same_issue(self, candidate: str, golden: str) -> bool:
        key = (candidate, golden)
        if key not in self.answers:
            self.answers[key] = await self.judge.same_issue(candidate, golden)
        return self.answers[key]


async def score(
    results: Sequence[CaseResult], agents: Sequence[str], judge: Judge | None = None
) -> list[Scored]:
    """Match each case's posted findings against its labels."""
    judge = _Remembered(judge) if judge is not None else None
    out = []
    for result in results:
        case, findings = result.case, result.findings
        expected = list(case.expected)
        by_agent = {}
        for agent in agents:
            by_agent[agent] = await match(
                [f for f in findings if f.agent_type == agent],
                [e for e in expected if e.agent == agent],
                case.kind,
                judge,
            )
        out.append(
            Scored(
                result,
                await match(findings, expected, case.kind, judge),
                await match(findings, expected, case.kind, judge, by_line=False),
                by_agent,
            )
        )
    return out


def counts(matched: Matched) -> Counts:
    return Counts(matched.findings, matched.expected, matched.right)


def figures(cases: Sequence[Counts], resamples: Sequence[Sequence[int]] | None) -> dict[str, Any]:
    """The counts, precision, recall and F1 of `cases`, and with `resamples` their intervals."""
    summed = total(cases)
    data: dict[str, Any] = {
        "findings": summed.findings,
        "matched": summed.matched,
        "expected": summed.expected,
        "caught": summed.matched,  # one to one: each matched finding catches one label
    }
    for name, metric in METRICS.items():
        data[name] = _round(metric(summed))
    if resamples is not None:
        data["interval"] = {
            name: _pair(interval(cases, metric, resamples)) for name, metric in METRICS.items()
        }
    return data


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _pair(pair: tuple[float, float] | None) -> list[float] | None:
    return None if pair is None else [round(pair[0], 3), round(pair[1], 3)]


def costs(results: Sequence[CaseResult], true_findings: int) -> dict[str, float | None]:
    """The estimated cost of the run, per case and per true finding (a matched one)."""
    spent = sum(r.cost_usd for r in results)
    return {
        "cost_usd": round(spent, 6),
        "cost_per_case_usd": round(spent / len(results), 6) if results else None,
        "cost_per_true_finding_usd": round(spent / true_findings, 6) if true_findings else None,
    }


def bootstrap_note(cases: int) -> dict[str, Any]:
    return {"cases": cases, "resamples": DRAWS, "seed": SEED, "confidence": CONFIDENCE}


def report(scored: Sequence[Scored], agents: Sequence[str], model: str) -> dict[str, Any]:
    """Precision, recall and F1 per agent (by line) and overall (by line, with 95% bootstrap
    intervals over the cases, and by file), and what the run cost."""
    resamples = draws(len(scored))
    results = [s.result for s in scored]
    by_line = [counts(s.by_line) for s in scored]
    kinds = Counter(r.case.kind for r in results)
    return {
        "model": model,
        "prs": len(results),
        "prs_without_bug": sum(1 for r in results if not r.case.expected),
        "kinds": {kind: kinds[kind] for kind in ("bug", "style", "clean")},
        "overall": {
            "by_line": figures(by_line, resamples),
            "by_file": figures([counts(s.by_file) for s in scored], None),
        },
        "bootstrap": bootstrap_note(len(scored)),
        "agents": {
            agent: figures([counts(s.agents[agent]) for s in scored], None) for agent in agents
        },
        "languages": _split(scored, lambda s: s.result.case.language),
        "by_kind": _split(scored, lambda s: s.result.case.kind),
        "withheld": sum(r.withheld for r in results),
        "false_positives_on_clean_prs": sum(
            len(r.findings) for r in results if not r.case.expected
        ),
        "tokens": {
            "input": sum(r.prompt_tokens for r in results),
            "cached": sum(r.cached_tokens for r in results),
            "output": sum(r.output_tokens for r in results),
        },
        **costs(results, total(by_line).matched),
        "failed_prs": sum(1 for r in results if r.failures),
        "cases": [
            {
                "id": s.result.case.id,
                "kind": s.result.case.kind,
                "expected": s.by_line.expected,
                "findings": s.by_line.findings,
                "matched": s.by_line.right,
                "withheld": s.result.withheld,
                "failures": s.result.failures,
                "cost_usd": round(s.result.cost_usd, 6),
            }
            for s in scored
        ],
    }


def _split(scored: Sequence[Scored], key: Callable[[Scored], str]) -> dict[str, Any]:
    """The by-line figures of the cases of each value of `key` (a language, a kind), without
    intervals: a slice has few cases, its figures are for finding where to look."""
    groups: dict[str, list[Counts]] = {}
    for one in scored:
        groups.setdefault(key(one), []).append(counts(one.by_line))
    return {name: figures(groups[name], None) for name in sorted(groups)}


def with_outcome(data: dict[str, Any], outcome: Outcome) -> dict[str, Any]:
    """`data` with how many PRs the file has, how many were resumed, and where it stopped."""
    data["prs_in_file"] = outcome.total
    data["resumed"] = outcome.resumed
    stopped = outcome.stopped
    data["stopped"] = (
        None if stopped is None else {"reason": stopped.reason, "wait_seconds": stopped.wait}
    )
    return data


def pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def with_interval(value: float | None, pair: list[float] | None) -> str:
    """`62% (48-75%)`: the figure and its 95% interval."""
    if pair is None:
        return pct(value)
    return f"{pct(value)} ({pair[0] * 100:.0f}-{pair[1]:.0%})"


def money(value: float | None) -> str:
    return "-" if value is None else f"${value:,.4f}"


def cost_line(data: Mapping[str, Any]) -> str:
    return (
        f"estimated cost {money(data['cost_usd'])}: {money(data['cost_per_case_usd'])} per case, "
        f"{money(data['cost_per_true_finding_usd'])} per true finding"
    )


def interval_note(cases: int) -> str:
    return (
        f"x% (low-high): the 95% bootstrap interval over the {cases} cases "
        f"({DRAWS:,} resamples, seed {SEED}); it narrows as cases are added"
    )


def table(data: dict[str, Any]) -> str:
    def row(name: str, s: dict[str, Any]) -> str:
        spans = s.get("interval") or {}
        return (
            f"{name:<16}{s['findings']:>9}{s['matched']:>9}{s['expected']:>10}"
            f"{with_interval(s['precision'], spans.get('precision')):>16}"
            f"{with_interval(s['recall'], spans.get('recall')):>16}"
            f"{with_interval(s['f1'], spans.get('f1')):>16}"
        )

    tokens, kinds = data["tokens"], data["kinds"]
    out = [
        f"Second Look eval: {data['prs']} cases ({kinds['bug']} bug, {kinds['style']} style, "
        f"{kinds['clean']} clean), model {data['model']}",
        "",
        f"{'':<16}{'findings':>9}{'matched':>9}{'expected':>10}{'precision':>16}{'recall':>16}"
        f"{'F1':>16}",
    ]
    out += [row(agent, score) for agent, score in data["agents"].items()]
    out += [row(name, score) for name, score in data["languages"].items()]
    out += [row(f"{name} cases", score) for name, score in data["by_kind"].items()]
    out.append(row("overall, line", data["overall"]["by_line"]))
    out.append(row("overall, file", data["overall"]["by_file"]))
    out += [
        "",
        interval_note(data["bootstrap"]["cases"]),
        f"withheld after verification: {data['withheld']}",
        f"findings on clean PRs: {data['false_positives_on_clean_prs']}",
        f"tokens: {tokens['input']:,} input ({tokens['cached']:,} cached), "
        f"{tokens['output']:,} output; {cost_line(data)}",
    ]
    judge = data.get("judge")
    out.append(
        "the same issue: by the kind rule (--judge asks EVAL_JUDGE_MODEL)"
        if not judge
        else f"the same issue: judged by {judge['model']}, {judge['asked']} pairs asked, "
        f"{judge['from_cache']} from its cache, {judge['not_judged']} not judged, "
        f"${judge['cost_usd']:,.4f} (not in the cost above)"
    )
    if data["failed_prs"]:
        out.append(f"PRs with a failed agent call: {data['failed_prs']} (see --format json)")
    if data.get("stopped"):
        out.append(f"partial: {data['prs']} of {data['prs_in_file']} PRs, stopped at a quota")
    return "\n".join(out)
