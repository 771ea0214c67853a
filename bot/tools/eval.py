"""`python -m bot eval FILE.jsonl`: the review pipeline over labelled PRs, without GitHub or the
database, scored against the findings each PR should get.

Each PR's result is saved as it ends (bot/tools/eval_results.py); a run resumes after what the last
one saved, and a quota wait longer than `max_wait` stops the run with what it has.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from aiolimiter import AsyncLimiter

from bot import resources
from bot.config import ConfigError, GeminiSettings, gemini_settings
from bot.github import sources
from bot.github.files import FileText
from bot.github.repo_config import LoadedConfig, RepoConfig
from bot.logs import setup_logging
from bot.pipeline import Reviewed
from bot.review.agents import SEVERITIES
from bot.review.findings import Finding
from bot.review.metering import QuotaReached, rate_limiter
from bot.review.prompt import Intent
from bot.standalone import local
from bot.standalone.local_sources import DiffSource
from bot.tools.eval_results import ResultsFile, default_path, prompt_version

NEAR = 3  # a finding matches an expected one on the same path within this many lines
PARALLEL_PRS = 4  # PRs reviewed at once; each has up to GEMINI_MAX_IN_FLIGHT calls open
DEFAULTS = RepoConfig()  # a PR is reviewed as a repository without a config file would be
MAX_QUOTA_WAIT = 600.0  # a quota wait up to this is waited out; a longer one stops the run
# Exit statuses: SCORED, USAGE (the file or the settings), CALL_FAILED (a PR's agent call
# failed), QUOTA_STOPPED (a quota asked for a longer wait than allowed: partial, resumable;
# EX_TEMPFAIL of sysexits.h, "try again later").
SCORED, USAGE, CALL_FAILED, QUOTA_STOPPED = 0, 2, 3, 75
SCORED_FIELDS = (
    "agent_type",
    "severity",
    "file_path",
    "line_start",
    "line_end",
    "title",
    "description",
)


class EvalError(Exception):
    """The labelled file cannot be read; the message names the line."""


@dataclass(frozen=True)
class Expected:
    path: str
    line_start: int
    line_end: int
    severity: str
    agent: str | None = None
    keyword: str | None = None


@dataclass(frozen=True)
class Case:
    id: str
    diff: str
    title: str = ""
    body: str = ""
    base: str = "main"
    head_files: dict[str, str] = field(default_factory=dict)
    expected: tuple[Expected, ...] = ()


def _text(item: dict[str, Any], key: str, where: str, default: str | None = None) -> str:
    value = item.get(key, default)
    if not isinstance(value, str):
        raise EvalError(f"{where}: {key!r} must be text")
    return value


def parse_case(line: str, where: str) -> Case:
    try:
        item = json.loads(line)
    except ValueError as exc:
        raise EvalError(f"{where}: not JSON ({exc})") from None
    if not isinstance(item, dict):
        raise EvalError(f"{where}: each line must be a JSON object")
    heads = item.get("head_files") or {}
    if not isinstance(heads, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in heads.items()
    ):
        raise EvalError(f"{where}: 'head_files' must map paths to text")
    expected = item.get("expected") or []
    if not isinstance(expected, list):
        raise EvalError(f"{where}: 'expected' must be a list")
    return Case(
        id=_text(item, "id", where),
        diff=_text(item, "diff", where),
        title=_text(item, "title", where, ""),
        body=_text(item, "body", where, ""),
        base=_text(item, "base", where, "main"),
        head_files=heads,
        expected=tuple(_expected(e, f"{where}, expected #{n}") for n, e in enumerate(expected, 1)),
    )


def _expected(item: object, where: str) -> Expected:
    if not isinstance(item, dict):
        raise EvalError(f"{where}: must be an object")
    start, end = item.get("line_start"), item.get("line_end", item.get("line_start"))
    if not isinstance(start, int) or not isinstance(end, int) or not 1 <= start <= end:
        raise EvalError(f"{where}: line_start and line_end must be lines, start <= end")
    severity = item.get("severity", "medium")
    if severity not in SEVERITIES:
        raise EvalError(f"{where}: severity must be one of {', '.join(SEVERITIES)}")
    keyword = item.get("keyword")
    agent = item.get("agent")
    return Expected(
        _text(item, "path", where),
        start,
        end,
        severity,
        agent if isinstance(agent, str) else None,
        keyword.lower() if isinstance(keyword, str) and keyword else None,
    )


def read_cases(path: Traversable) -> list[Case]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise EvalError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    cases: list[Case] = []
    lines_of: dict[str, int] = {}
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        case = parse_case(line, f"{path}:{number}")
        if case.id in lines_of:
            raise EvalError(f"{path}:{number}: id {case.id!r} is line {lines_of[case.id]}'s too")
        lines_of[case.id] = number
        cases.append(case)
    if not cases:
        raise EvalError(f"{path} holds no PR")
    return cases


@dataclass
class CaseResult:
    case: Case
    findings: list[Finding]  # posted: not withheld
    withheld: int = 0
    failures: list[str] = field(default_factory=list)
    prompt_tokens: int = 0
    cached_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0

    def as_json(self) -> dict[str, Any]:
        """What the results file keeps of it: what is scored and what it cost."""
        return {
            "findings": [{name: getattr(f, name) for name in SCORED_FIELDS} for f in self.findings],
            "withheld": self.withheld,
            "failures": self.failures,
            "prompt_tokens": self.prompt_tokens,
            "cached_tokens": self.cached_tokens,
            "output_tokens": self.output_tokens,
            "cost_usd": self.cost_usd,
        }

    @classmethod
    def from_json(cls, case: Case, data: Mapping[str, Any]) -> CaseResult | None:
        """A saved result of `case`, or None when it is not one as_json wrote."""
        try:
            findings = [Finding(**{k: f[k] for k in SCORED_FIELDS}) for f in data["findings"]]
            return cls(
                case,
                findings,
                withheld=int(data["withheld"]),
                failures=[str(f) for f in data["failures"]],
                prompt_tokens=int(data["prompt_tokens"]),
                cached_tokens=int(data["cached_tokens"]),
                output_tokens=int(data["output_tokens"]),
                cost_usd=float(data["cost_usd"]),
            )
        except (KeyError, TypeError, ValueError):
            return None


def matches(finding: Finding, expected: Expected, *, by_line: bool) -> bool:
    if finding.file_path != expected.path:
        return False
    if not by_line:
        return True
    if finding.line_start is None or finding.line_end is None:
        return False
    near = (
        finding.line_start - NEAR <= expected.line_end
        and expected.line_start - NEAR <= finding.line_end
    )
    said = f"{finding.title} {finding.description}".lower()
    return near and (expected.keyword is None or expected.keyword in said)


@dataclass
class Score:
    found: int = 0  # findings posted
    right: int = 0  # of them, matching an expected finding
    expected: int = 0
    caught: int = 0  # expected findings matched

    def add(self, findings: Sequence[Finding], expected: Sequence[Expected], by_line: bool) -> None:
        """One-to-one: each finding matches at most one expected finding, and the reverse."""
        taken: set[int] = set()
        for finding in findings:
            for index, wanted in enumerate(expected):
                if index not in taken and matches(finding, wanted, by_line=by_line):
                    taken.add(index)
                    self.right += 1
                    break
        self.found += len(findings)
        self.expected += len(expected)
        self.caught += len(taken)

    def as_json(self) -> dict[str, float | int | None]:
        precision = self.right / self.found if self.found else None
        recall = self.caught / self.expected if self.expected else None
        f1 = (
            2 * precision * recall / (precision + recall)
            if precision is not None and recall is not None and precision + recall
            else (0.0 if precision is not None and recall is not None else None)
        )
        return {
            "findings": self.found,
            "matched": self.right,
            "expected": self.expected,
            "caught": self.caught,
            "precision": _round(precision),
            "recall": _round(recall),
            "f1": _round(f1),
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def report(results: Iterable[CaseResult], agents: Sequence[str], model: str) -> dict[str, Any]:
    """Precision, recall and F1 per agent (by line) and overall (by line and by file)."""
    results = list(results)
    per_agent = {agent: Score() for agent in agents}
    by_line, by_file = Score(), Score()
    cases = []
    for result in results:
        expected = list(result.case.expected)
        by_line.add(result.findings, expected, by_line=True)
        by_file.add(result.findings, expected, by_line=False)
        for agent, score in per_agent.items():
            score.add(
                [f for f in result.findings if f.agent_type == agent],
                [e for e in expected if e.agent == agent],
                by_line=True,
            )
        line = Score()
        line.add(result.findings, expected, by_line=True)
        cases.append(
            {
                "id": result.case.id,
                "expected": len(expected),
                "findings": len(result.findings),
                "matched": line.right,
                "withheld": result.withheld,
                "failures": result.failures,
            }
        )
    return {
        "model": model,
        "prs": len(results),
        "prs_without_bug": sum(1 for r in results if not r.case.expected),
        "overall": {"by_line": by_line.as_json(), "by_file": by_file.as_json()},
        "agents": {agent: score.as_json() for agent, score in per_agent.items()},
        "withheld": sum(r.withheld for r in results),
        "false_positives_on_clean_prs": sum(
            len(r.findings) for r in results if not r.case.expected
        ),
        "tokens": {
            "input": sum(r.prompt_tokens for r in results),
            "cached": sum(r.cached_tokens for r in results),
            "output": sum(r.output_tokens for r in results),
        },
        "cost_usd": round(sum(r.cost_usd for r in results), 6),
        "failed_prs": sum(1 for r in results if r.failures),
        "cases": cases,
    }


async def review_case(case: Case, settings: GeminiSettings, limiter: AsyncLimiter) -> CaseResult:
    """The review pipeline on one labelled PR, as `review --diff` runs it: the defaults of a
    repository without a config file, the head files the case gives for context."""
    # The labels are the agents' to find: the analyzers are measured apart (bench_analyzers).
    agents_only = DEFAULTS.model_copy(update={"analyzers": {}})
    base = sources.Base(LoadedConfig(agents_only), intent=Intent(case.title, case.body, case.base))
    heads = {path: FileText(path, "head", text) for path, text in case.head_files.items()}

    async def read(paths: Sequence[str]) -> Mapping[str, FileText]:
        return {path: heads.get(path, FileText(path, "head", None)) for path in paths}

    reviewed = await local.review(
        DiffSource(case.diff, read), base, settings, "", label=f"case {case.id}", limiter=limiter
    )
    return result_of(case, reviewed)


def result_of(case: Case, reviewed: Reviewed) -> CaseResult:
    """What is scored and kept of a review of `case`: the findings posted, those withheld,
    the failed agent calls, the tokens and the cost."""
    summary, findings = reviewed.summary, reviewed.checked.findings
    return CaseResult(
        case,
        [f for f in findings if not f.withheld],
        withheld=sum(1 for f in findings if f.withheld),
        failures=[f"{f.agent}: {f.reason}" for f in reviewed.result.failures],
        prompt_tokens=summary.prompt_tokens,
        cached_tokens=summary.cached_tokens,
        output_tokens=summary.output_tokens,
        cost_usd=summary.cost_usd or 0.0,
    )


@dataclass
class Stopped:
    """Why a run stopped before every PR was reviewed: the quota and the wait it asked for."""

    reason: str
    wait: float | None  # seconds; None: not said


def quota_wait(reached: QuotaReached, now: float) -> float | None:
    """The seconds `reached` asks to wait, if it says."""
    if reached.after is not None:
        return reached.after
    if reached.until is not None:
        return max(0.0, reached.until.timestamp() - now)
    return None


@dataclass
class Outcome:
    results: list[CaseResult]  # in the cases' order: those saved before and those run now
    resumed: int = 0  # of them, read from the results file
    total: int = 0  # the PRs of the file
    stopped: Stopped | None = None


async def evaluate(
    cases: Sequence[Case],
    settings: GeminiSettings,
    results: ResultsFile | None = None,
    *,
    max_wait: float = MAX_QUOTA_WAIT,
    parallel: int = PARALLEL_PRS,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> Outcome:
    """Review the PRs not saved yet, `parallel` at a time, every call under one GEMINI_RPM;
    each result is saved as it ends. A quota wait up to `max_wait` s is waited out and the PR
    reviewed again; a longer one stops the run (the PRs under way are dropped, not saved)."""
    limiter = rate_limiter(settings.rpm)
    gate = asyncio.Semaphore(parallel)
    done: dict[str, CaseResult] = {}
    for case in cases:
        saved = results.done(case) if results else None
        result = CaseResult.from_json(case, saved["result"]) if saved else None
        if result is not None:
            done[case.id] = result
    resumed = len(done)
    todo = [case for case in cases if case.id not in done]

    async def one(case: Case) -> None:
        async with gate:
            while True:
                try:
                    result = await review_case(case, settings, limiter)
                    break
                except QuotaReached as reached:
                    wait = quota_wait(reached, time.time())
                    if wait is None or wait > max_wait:
                        raise _Stop(Stopped(reached.reason, wait)) from None
                    print(
                        f"second-look: {reached.reason}; waiting {_duration(wait)}", file=sys.stderr
                    )
                    await sleep(wait)
        if results:
            results.save(case, result.as_json(), complete=not result.failures)
        done[case.id] = result
        if sys.stderr.isatty():
            print(f"\r{len(done)}/{len(cases)} PRs reviewed", end="", file=sys.stderr, flush=True)

    stopped = None
    tasks = [asyncio.ensure_future(one(case)) for case in todo]
    try:
        for finished in asyncio.as_completed(tasks):
            await finished
    except _Stop as stop:
        stopped = stop.stopped
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    if sys.stderr.isatty() and todo:
        print(file=sys.stderr)
    ordered = [done[case.id] for case in cases if case.id in done]
    return Outcome(ordered, resumed, len(cases), stopped)


class _Stop(Exception):
    def __init__(self, stopped: Stopped) -> None:
        super().__init__(stopped.reason)
        self.stopped = stopped


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    return f"{minutes} min" if minutes < 120 else f"{minutes // 60} h {minutes % 60:02d} min"


def scored(outcome: Outcome, model: str) -> dict[str, Any]:
    """The report of what was reviewed, and where the run stopped if it did."""
    data = report(outcome.results, list(DEFAULTS.agents), model)
    data["prs_in_file"] = outcome.total
    data["resumed"] = outcome.resumed
    stopped = outcome.stopped
    data["stopped"] = (
        None if stopped is None else {"reason": stopped.reason, "wait_seconds": stopped.wait}
    )
    return data


def table(data: dict[str, Any]) -> str:
    def row(name: str, s: dict[str, Any]) -> str:
        def pct(v: float | None) -> str:
            return "-" if v is None else f"{v:.0%}"

        return (
            f"{name:<16}{s['findings']:>9}{s['matched']:>9}{s['expected']:>10}"
            f"{pct(s['precision']):>11}{pct(s['recall']):>8}{pct(s['f1']):>6}"
        )

    tokens = data["tokens"]
    out = [
        f"Second Look eval: {data['prs']} PRs ({data['prs_without_bug']} without a bug), "
        f"model {data['model']}",
        "",
        f"{'':<16}{'findings':>9}{'matched':>9}{'expected':>10}{'precision':>11}{'recall':>8}"
        f"{'F1':>6}",
    ]
    out += [row(agent, score) for agent, score in data["agents"].items()]
    out.append(row("overall, line", data["overall"]["by_line"]))
    out.append(row("overall, file", data["overall"]["by_file"]))
    out += [
        "",
        f"withheld after verification: {data['withheld']}",
        f"findings on PRs without a bug: {data['false_positives_on_clean_prs']}",
        f"tokens: {tokens['input']:,} input ({tokens['cached']:,} cached), "
        f"{tokens['output']:,} output; estimated cost ${data['cost_usd']:,.4f}",
    ]
    if data["failed_prs"]:
        out.append(f"PRs with a failed agent call: {data['failed_prs']} (see --format json)")
    if data.get("stopped"):
        out.append(f"partial: {data['prs']} of {data['prs_in_file']} PRs, stopped at a quota")
    return "\n".join(out)


def run(
    path: str | None,
    output: str,
    *,
    results: str | None = None,
    fresh: bool = False,
    max_wait: float | None = None,
    parallel: int | None = None,
) -> int:
    """SCORED; USAGE: the file or the settings are wrong; CALL_FAILED: a Gemini call failed;
    QUOTA_STOPPED: a quota asked to wait longer than `max_wait`, the scores are partial."""
    max_wait = MAX_QUOTA_WAIT if max_wait is None else max_wait
    parallel = PARALLEL_PRS if parallel is None else parallel
    if not (max_wait >= 0 and parallel >= 1):  # NaN too
        print("second-look: --max-wait must be 0 or more, --parallel 1 or more", file=sys.stderr)
        return USAGE
    source = resources.eval_set() if path is None else Path(path)
    try:
        cases = read_cases(source)
        settings = gemini_settings()
    except (EvalError, ConfigError) as exc:
        print(f"second-look: {exc}", file=sys.stderr)
        return USAGE
    where = Path(results) if results else default_path(source)
    saved = ResultsFile(
        where, settings.model, prompt_version(DEFAULTS.agents, DEFAULTS.model_dump_json())
    )
    try:
        if fresh:
            saved.clear()
        else:
            saved.load()
    except OSError as exc:
        print(
            f"second-look: cannot read {where}: {getattr(exc, 'strerror', None) or exc}",
            file=sys.stderr,
        )
        return USAGE
    setup_logging([settings.api_key], level="WARNING")
    outcome = asyncio.run(evaluate(cases, settings, saved, max_wait=max_wait, parallel=parallel))
    data = scored(outcome, settings.model)
    print(json.dumps(data, indent=2) if output == "json" else table(data))
    if outcome.resumed:
        print(
            f"second-look: {outcome.resumed} of {len(cases)} PRs read from {where}, reviewed "
            "by an earlier run (--fresh reviews them again)",
            file=sys.stderr,
        )
    if outcome.stopped is not None:
        wait = outcome.stopped.wait
        asked = "" if wait is None else f", asked to wait {_duration(wait)}"
        print(
            f"second-look: stopped: {outcome.stopped.reason}{asked} (more than --max-wait "
            f"{max_wait:g} s); {len(outcome.results)} of {len(cases)} PRs reviewed, saved in "
            f"{where}: run the same command again to go on from there",
            file=sys.stderr,
        )
        return QUOTA_STOPPED
    return CALL_FAILED if data["failed_prs"] else SCORED
