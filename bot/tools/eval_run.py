"""Reviewing `eval`'s cases: the review pipeline on each labelled PR, without GitHub or the
database, `parallel` at a time; each result saved as it ends (bot/tools/eval_results.py), what an
earlier run saved read back, and a quota wait longer than `max_wait` stopping the run with what
it has.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from aiolimiter import AsyncLimiter

from bot.config import GeminiSettings
from bot.github import sources
from bot.github.files import FileText
from bot.github.repo_config import LoadedConfig, RepoConfig
from bot.pipeline import Reviewed
from bot.review.metering import QuotaReached, rate_limiter
from bot.review.prompt import Intent
from bot.standalone import local
from bot.standalone.local_sources import DiffSource
from bot.tools.eval_cases import Case
from bot.tools.eval_configs import DEFAULTS
from bot.tools.eval_results import CaseResult, ResultsFile

PARALLEL_PRS = 4  # PRs reviewed at once; each has up to GEMINI_MAX_IN_FLIGHT calls open
MAX_QUOTA_WAIT = 600.0  # a quota wait up to this is waited out; a longer one stops the run
# Exit statuses of `eval` (every suite): SCORED, USAGE (the file, an option or the settings),
# CALL_FAILED (a PR's agent call failed, or it could not be read), QUOTA_STOPPED (a quota asked
# for a longer wait than allowed: partial, resumable; EX_TEMPFAIL of sysexits.h).
SCORED, USAGE, CALL_FAILED, QUOTA_STOPPED = 0, 2, 3, 75
T = TypeVar("T")


async def review_case(
    case: Case,
    settings: GeminiSettings,
    limiter: AsyncLimiter,
    config: RepoConfig | None = None,
) -> CaseResult:
    """The review pipeline on one labelled PR, as `review --diff` runs it: under `config` (by
    default a repository's without a config file) with the analyzers off (the labels are the
    agents' to find; bench_analyzers measures the analyzers), the head files the case gives for
    context."""
    agents_only = (config or DEFAULTS).model_copy(update={"analyzers": {}})
    base = sources.Base(LoadedConfig(agents_only), intent=Intent(case.title, case.body, case.base))
    heads = {path: FileText(path, "head", text) for path, text in case.head_files.items()}

    async def read(paths: Sequence[str]) -> Mapping[str, FileText]:
        return {path: heads.get(path, FileText(path, "head", None)) for path in paths}

    reviewed = await local.review(
        DiffSource(case.diff, read), base, settings, "", label=f"case {case.id}", limiter=limiter
    )
    return result_of(case, reviewed)


def result_of(case: Case, reviewed: Reviewed) -> CaseResult:
    """What is scored and kept of a review of `case`: the findings posted, those withheld, the
    failed agent calls, the tokens and the cost."""
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


def run_options(max_wait: float | None, parallel: int | None) -> tuple[float, int] | None:
    """--max-wait and --parallel, their defaults filled in; None when either is out of range."""
    max_wait = MAX_QUOTA_WAIT if max_wait is None else max_wait
    parallel = PARALLEL_PRS if parallel is None else parallel
    if not (max_wait >= 0 and parallel >= 1):  # NaN too
        return None
    return max_wait, parallel


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
    config: RepoConfig | None = None,
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
            result = await within_quota(
                lambda: review_case(case, settings, limiter, config), max_wait, sleep
            )
        if results:
            results.save(case, result.as_json(), complete=not result.failures)
        done[case.id] = result
        if sys.stderr.isatty():
            print(f"\r{len(done)}/{len(cases)} PRs reviewed", end="", file=sys.stderr, flush=True)

    stopped = await until_stopped(one(case) for case in todo)
    if sys.stderr.isatty() and todo:
        print(file=sys.stderr)
    ordered = [done[case.id] for case in cases if case.id in done]
    return Outcome(ordered, resumed, len(cases), stopped)


async def within_quota(
    call: Callable[[], Awaitable[T]],
    max_wait: float,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> T:
    """`call()`, again after each quota wait up to `max_wait` s; a longer (or unsaid) wait
    stops the run: `until_stopped` returns it."""
    while True:
        try:
            return await call()
        except QuotaReached as reached:
            wait = quota_wait(reached, time.time())
            if wait is None or wait > max_wait:
                raise QuotaStop(Stopped(reached.reason, wait)) from None
            print(f"second-look: {reached.reason}; waiting {duration(wait)}", file=sys.stderr)
            await sleep(wait)


async def until_stopped(runs: Iterable[Awaitable[None]]) -> Stopped | None:
    """Every run to its end, or until one stops at a quota: then the others are cancelled (what
    they had not saved is dropped) and the stop is returned."""
    tasks = [asyncio.ensure_future(run) for run in runs]
    try:
        for finished in asyncio.as_completed(tasks):
            await finished
    except QuotaStop as stop:
        return stop.stopped
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return None


class QuotaStop(Exception):
    def __init__(self, stopped: Stopped) -> None:
        super().__init__(stopped.reason)
        self.stopped = stopped


def duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    return f"{minutes} min" if minutes < 120 else f"{minutes // 60} h {minutes % 60:02d} min"
