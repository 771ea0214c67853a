"""`python -m bot eval --suite martian`: the public Martian code review benchmark (offline part:
50 PRs of Sentry, Grafana, Cal.com, Discourse and Keycloak with human-verified golden comments).

Each PR is read from GitHub as `review OWNER/REPO#N --dry-run` reads it (GITHUB_TOKEN), every
read kept on disk (bot/tools/github_cache.py), and reviewed by the one pipeline; its result is
saved as it ends (bot/tools/eval_results.py) and a rerun resumes. Then every (finding, golden
comment) pair of the PR is put to the judge (bot/tools/judge.py), the pairs it calls the same
issue are matched one to one, and precision, recall and F1 are printed overall, per repository
and per golden severity, beside the figures the benchmark publishes (with its own judge).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import gidgethub
from aiolimiter import AsyncLimiter

from bot import resources
from bot.config import ConfigError, GeminiSettings, GitHubAccess, github_access
from bot.errors import describe
from bot.logs import setup_logging
from bot.retry import Sleep
from bot.review.metering import rate_limiter
from bot.standalone import cli, local
from bot.tools.eval_cases import EvalError
from bot.tools.eval_configs import DEFAULTS
from bot.tools.eval_match import maximum_matching
from bot.tools.eval_results import CaseResult, ResultsFile, prompt_version
from bot.tools.eval_run import (
    CALL_FAILED,
    MAX_QUOTA_WAIT,
    PARALLEL_PRS,
    QUOTA_STOPPED,
    SCORED,
    USAGE,
    Stopped,
    duration,
    result_of,
    run_options,
    until_stopped,
    within_quota,
)
from bot.tools.github_cache import ReadCache
from bot.tools.judge import Judge, JudgeCache, Ruling, candidate, open_judge
from bot.tools.martian_prs import BenchPR, load, select
from bot.tools.martian_report import report, table

DIRECTORY = Path(".data") / "eval" / "martian"


@dataclass
class Judged:
    """One PR's review, judged: which golden comments a finding matched."""

    pr: BenchPR
    result: CaseResult
    caught: dict[int, int]  # golden index -> finding index
    not_judged: int = 0  # pairs the judge could not rule on (counted as no match)
    unread: str | None = None  # why the PR could not be read from GitHub (not scored)


async def judge_pr(judge: Judge, pr: BenchPR, result: CaseResult) -> Judged:
    """Every (finding, golden comment) pair put to the judge, then matched one to one."""
    pairs = [(i, j) for i in range(len(result.findings)) for j in range(len(pr.golden))]
    asked = [judge.rule(candidate(result.findings[i]), pr.golden[j].comment) for i, j in pairs]
    # Every pair ends before a failure (a quota) goes up: no request is left running unowned.
    answers = await asyncio.gather(*asked, return_exceptions=True)
    failed = next((a for a in answers if isinstance(a, BaseException)), None)
    if failed is not None:
        raise failed
    rulings = [a for a in answers if isinstance(a, Ruling)]
    edges: list[list[int]] = [[] for _ in result.findings]
    for (finding, golden), ruling in zip(pairs, rulings, strict=True):
        if ruling.same:
            edges[finding].append(golden)
    unruled = sum(1 for ruling in rulings if ruling.same is None)
    caught = {golden: finding for finding, golden in maximum_matching(edges)}
    return Judged(pr, result, caught, unruled)


async def review_pr(
    pr: BenchPR,
    access: GitHubAccess,
    settings: GeminiSettings,
    http: aiohttp.ClientSession,
    limiter: AsyncLimiter,
    sleep: Sleep = asyncio.sleep,
) -> CaseResult:
    """The PR read as `review OWNER/REPO#N --dry-run` reads it (through `access`, the read
    cache's address), reviewed by the pipeline with the repository's own config."""
    target = await cli.pull_target(http, access, pr.pull)
    reviewed = await local.review(
        target.source,
        target.base,
        settings,
        target.head_sha,
        label=pr.pull,
        limiter=limiter,
        verdict_by="the check",
        sleep=sleep,
    )
    return result_of(pr.case(), reviewed)


@dataclass
class Outcome:
    judged: list[Judged]  # in the benchmark's order
    resumed: int = 0
    total: int = 0
    stopped: Stopped | None = None


async def evaluate(
    prs: Sequence[BenchPR],
    access: GitHubAccess,
    settings: GeminiSettings,
    results: ResultsFile,
    judge_cache: JudgeCache,
    github_dir: Path,
    *,
    max_wait: float = MAX_QUOTA_WAIT,
    parallel: int = PARALLEL_PRS,
    sleep: Sleep = asyncio.sleep,
) -> tuple[Outcome, Judge, ReadCache]:
    """Review the PRs not saved yet, `parallel` at a time, then judge every PR; a quota wait
    up to `max_wait` s is waited out, a longer one stops the run with what it has. `sleep`
    waits (between Gemini's retries, out a quota)."""
    limiter = rate_limiter(settings.rpm)
    gate = asyncio.Semaphore(parallel)
    done: dict[str, Judged] = {}
    resumed = 0
    async with aiohttp.ClientSession() as http, ReadCache(access.api_url, github_dir, http) as gh:
        via_cache = dataclasses.replace(access, api_url=gh.url)
        judge = open_judge(settings, http, judge_cache, limiter, sleep=sleep)

        async def reviewed(pr: BenchPR) -> tuple[CaseResult | None, str | None]:
            saved = results.done(pr.case())
            kept = CaseResult.from_json(pr.case(), saved["result"]) if saved else None
            if kept is not None:
                return kept, "saved"
            try:
                result = await review_pr(pr, via_cache, settings, http, limiter, sleep)
            except (
                gidgethub.GitHubException,
                aiohttp.ClientError,
                TimeoutError,
                cli.UsageError,
            ) as exc:
                return None, f"could not read {pr.pull} from GitHub: {describe(exc)}"
            results.save(pr.case(), result.as_json(), complete=not result.failures)
            return result, None

        async def review_and_judge(pr: BenchPR) -> tuple[Judged, bool]:
            result, said = await reviewed(pr)
            if result is None:
                return Judged(pr, CaseResult(pr.case(), []), {}, unread=said), False
            return await judge_pr(judge, pr, result), said == "saved"

        async def one(pr: BenchPR) -> None:
            nonlocal resumed
            async with gate:
                judged, was_saved = await within_quota(
                    lambda: review_and_judge(pr), max_wait, sleep
                )
            resumed += was_saved
            done[pr.url] = judged
            if sys.stderr.isatty():
                print(f"\r{len(done)}/{len(prs)} PRs", end="", file=sys.stderr, flush=True)

        try:
            stopped = await until_stopped(one(pr) for pr in prs)
        finally:
            await judge.gemini.aclose()
        if sys.stderr.isatty() and prs:
            print(file=sys.stderr)
    ordered = [done[pr.url] for pr in prs if pr.url in done]
    return Outcome(ordered, resumed, len(prs), stopped), judge, gh


def command(args: argparse.Namespace) -> int:
    """`eval --suite martian [--limit N] [--repo NAME]` as parsed (bot/__main__.py)."""
    if args.suite != "martian" or args.file is not None:
        print(
            "second-look: --limit and --repo go with --suite martian, which takes no FILE",
            file=sys.stderr,
        )
        return USAGE
    return run(
        args.format,
        limit=args.limit,
        repo=args.repo,
        data=args.martian_data,
        results=args.results,
        fresh=args.fresh,
        max_wait=args.max_wait,
        parallel=args.parallel,
    )


def run(
    output: str,
    *,
    limit: int | None = None,
    repo: str | None = None,
    data: str | None = None,
    results: str | None = None,
    fresh: bool = False,
    max_wait: float | None = None,
    parallel: int | None = None,
) -> int:
    """SCORED; USAGE: an option, the data or the settings are wrong; CALL_FAILED: a PR could
    not be read or reviewed, or a pair not judged; QUOTA_STOPPED: partial, resumable."""
    options = run_options(max_wait, parallel)
    if options is None or (limit is not None and limit < 1):
        print(
            "second-look: --max-wait must be 0 or more, --parallel and --limit 1 or more",
            file=sys.stderr,
        )
        return USAGE
    max_wait, parallel = options
    folder = resources.martian_data() if data is None else Path(data)
    try:
        benchmark = load(folder)
        prs = select(benchmark.prs, repo, limit)
        access, settings = github_access()
    except (EvalError, ConfigError) as exc:
        print(f"second-look: {exc}", file=sys.stderr)
        return USAGE
    where = Path(results) if results else DIRECTORY / "results.jsonl"
    defaults = DEFAULTS
    saved = ResultsFile(
        where,
        settings.model,
        prompt_version(defaults.agents, defaults.model_dump_json(), settings.thinking_budget),
    )
    try:
        if fresh:
            saved.clear()
        else:
            saved.load()
        judge_cache = JudgeCache(where.parent / "judge.jsonl")
    except OSError as exc:
        print(f"second-look: cannot read {getattr(exc, 'filename', None) or exc}", file=sys.stderr)
        return USAGE
    setup_logging([settings.api_key, access.token, access.private_key], level="WARNING")
    outcome, judge, gh = asyncio.run(
        evaluate(
            prs,
            access,
            settings,
            saved,
            judge_cache,
            where.parent / "github",
            max_wait=max_wait,
            parallel=parallel,
        )
    )
    figures = report(outcome, benchmark, settings, judge, gh)
    print(json.dumps(figures, indent=2) if output == "json" else table(figures))
    if outcome.stopped is not None:
        wait = outcome.stopped.wait
        asked = "" if wait is None else f", asked to wait {duration(wait)}"
        print(
            f"second-look: stopped: {outcome.stopped.reason}{asked}; results saved in {where}: "
            "run the same command again to go on from there",
            file=sys.stderr,
        )
        return QUOTA_STOPPED
    failed = figures["failed_prs"] or figures["judge"]["not_judged"]
    return CALL_FAILED if failed else SCORED
