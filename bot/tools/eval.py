"""`python -m bot eval [FILE.jsonl]`: the review pipeline over labelled PRs, without GitHub or the
database, scored against the findings each PR should get; `--list` lists the cases, `--compare
A.yml B.yml` measures two configurations on the same cases.

The parts: the cases (eval_cases), the configurations (eval_configs), reviewing and resuming
(eval_run, eval_results), matching (eval_match), the intervals (eval_stats), the reports
(eval_report, eval_compare).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import aiohttp

from bot import resources
from bot.config import ConfigError, GeminiSettings, gemini_settings
from bot.logs import setup_logging
from bot.tools.eval_cases import Case, EvalError, read_cases
from bot.tools.eval_compare import compare, compare_table
from bot.tools.eval_configs import Configuration, read_configuration
from bot.tools.eval_match import Judge
from bot.tools.eval_report import Scored, report, score, table, with_outcome
from bot.tools.eval_results import ResultsFile, default_path, prompt_version
from bot.tools.eval_run import (
    CALL_FAILED,
    QUOTA_STOPPED,
    SCORED,
    USAGE,
    Outcome,
    QuotaStop,
    duration,
    evaluate,
    run_options,
    within_quota,
)
from bot.tools.judge import JudgeCache, open_judge


def _source(path: str | None) -> Traversable:
    return resources.eval_set() if path is None else Path(path)


def list_cases(path: str | None) -> int:
    """`eval --list`: one line per case (id, language, kind, source), nothing else on stdout."""
    source = _source(path)
    try:
        cases = read_cases(source)
    except EvalError as exc:
        print(f"second-look: {exc}", file=sys.stderr)
        return USAGE
    print("\n".join(case.listed() for case in cases))
    return SCORED


def _usage(message: str) -> int:
    print(f"second-look: {message}", file=sys.stderr)
    return USAGE


def _results_file(
    where: Path, settings: GeminiSettings, configuration: Configuration, fresh: bool
) -> ResultsFile:
    """The saved results of `configuration`, read (or forgotten with `fresh`); raises OSError."""
    config = configuration.review_config()
    saved = ResultsFile(
        where,
        settings.model,
        prompt_version(config.agents, config.model_dump_json(), settings.thinking_budget),
    )
    if fresh:
        saved.clear()
    else:
        saved.load()
    return saved


async def _measure(
    cases: list[Case],
    settings: GeminiSettings,
    configuration: Configuration,
    saved: ResultsFile,
    judge: Judge | bool,
    max_wait: float,
    parallel: int,
) -> tuple[Outcome, list[Scored], dict[str, Any] | None]:
    """Review (or read back) the cases, then match their findings; `judge` True: with the
    Gemini judge (EVAL_JUDGE_MODEL), its answers kept beside the results; then what it did."""
    config = configuration.review_config()
    outcome = await evaluate(
        cases, settings, saved, config=config, max_wait=max_wait, parallel=parallel
    )
    agents = list(config.agents)
    if judge is not True:
        return outcome, await score(outcome.results, agents, judge or None), None
    async with aiohttp.ClientSession() as http:
        model = open_judge(settings, http, JudgeCache(saved.path.parent / "judge.jsonl"))
        try:
            scored = await within_quota(lambda: score(outcome.results, agents, model), max_wait)
        except QuotaStop as stop:  # the judge's quota: nothing scored, all kept for the rerun
            outcome.stopped, scored = stop.stopped, []
        finally:
            await model.gemini.aclose()
    return outcome, scored, model.figures()


def _told(outcome: Outcome, where: Path, cases: int, max_wait: float) -> None:
    """What standard error says after a run: resumed PRs, a quota stop."""
    if outcome.resumed:
        print(
            f"second-look: {outcome.resumed} of {cases} PRs read from {where}, reviewed "
            "by an earlier run (--fresh reviews them again)",
            file=sys.stderr,
        )
    if outcome.stopped is not None:
        wait = outcome.stopped.wait
        asked = "" if wait is None else f", asked to wait {duration(wait)}"
        print(
            f"second-look: stopped: {outcome.stopped.reason}{asked} (more than --max-wait "
            f"{max_wait:g} s); {len(outcome.results)} of {cases} PRs reviewed, saved in "
            f"{where}: run the same command again to go on from there",
            file=sys.stderr,
        )


def run(
    path: str | None,
    output: str,
    *,
    results: str | None = None,
    fresh: bool = False,
    max_wait: float | None = None,
    parallel: int | None = None,
    judge: Judge | bool = False,
) -> int:
    """SCORED; USAGE: the file or the settings are wrong; CALL_FAILED: a Gemini call failed;
    QUOTA_STOPPED: a quota asked to wait longer than `max_wait`, the scores are partial."""
    options = run_options(max_wait, parallel)
    if options is None:
        return _usage("--max-wait must be 0 or more, --parallel 1 or more")
    max_wait, parallel = options
    source = _source(path)
    try:
        cases = read_cases(source)
        settings = gemini_settings()
    except (EvalError, ConfigError) as exc:
        return _usage(str(exc))
    configuration = Configuration("default")
    where = Path(results) if results else default_path(source)
    try:
        saved = _results_file(where, settings, configuration, fresh)
    except OSError as exc:
        return _usage(f"cannot read {where}: {getattr(exc, 'strerror', None) or exc}")
    setup_logging([settings.api_key], level="WARNING")
    outcome, scored, judged = asyncio.run(
        _measure(cases, settings, configuration, saved, judge, max_wait, parallel)
    )
    data = with_outcome(report(scored, list(configuration.config.agents), settings.model), outcome)
    data["judge"] = judged
    print(json.dumps(data, indent=2) if output == "json" else table(data))
    _told(outcome, where, len(cases), max_wait)
    if outcome.stopped is not None:
        return QUOTA_STOPPED
    return CALL_FAILED if data["failed_prs"] else SCORED


def run_compare(
    path: str | None,
    files: tuple[str, str],
    output: str,
    *,
    fresh: bool = False,
    max_wait: float | None = None,
    parallel: int | None = None,
    judge: Judge | bool = False,
) -> int:
    """Both configurations on the same cases, A first, each with its own results file (both
    resume); the paired difference B - A. Exit statuses as `run`'s; a quota stop of A stops
    before B."""
    options = run_options(max_wait, parallel)
    if options is None:
        return _usage("--max-wait must be 0 or more, --parallel 1 or more")
    max_wait, parallel = options
    source = _source(path)
    try:
        cases = read_cases(source)
        sides = [read_configuration(Path(file)) for file in files]
        base = gemini_settings()
    except (EvalError, ConfigError) as exc:
        return _usage(str(exc))
    if sides[0].name == sides[1].name:
        return _usage(
            f"--compare: both files are named {sides[0].name!r}; their names name their results"
        )
    setup_logging([base.api_key], level="WARNING")
    measured: list[tuple[str, str, list[Scored]]] = []
    failed = False
    for configuration in sides:
        settings = configuration.settings(base)
        where = default_path(source, configuration.name)
        try:
            saved = _results_file(where, settings, configuration, fresh)
        except OSError as exc:
            return _usage(f"cannot read {where}: {getattr(exc, 'strerror', None) or exc}")
        outcome, scored, _ = asyncio.run(
            _measure(cases, settings, configuration, saved, judge, max_wait, parallel)
        )
        _told(outcome, where, len(cases), max_wait)
        if outcome.stopped is not None:
            partial = with_outcome(
                report(scored, list(configuration.config.agents), settings.model), outcome
            )
            print(json.dumps(partial, indent=2) if output == "json" else table(partial))
            print(
                f"second-look: --compare stopped at {configuration.name}'s quota; "
                "run the same command again to go on",
                file=sys.stderr,
            )
            return QUOTA_STOPPED
        failed = failed or any(s.result.failures for s in scored)
        measured.append((configuration.name, settings.model, scored))
    data: dict[str, Any] = compare(measured[0], measured[1])
    print(json.dumps(data, indent=2) if output == "json" else compare_table(data))
    return CALL_FAILED if failed else SCORED


def command(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """`eval` as parsed (bot/__main__.py): a suite, the list, a comparison or one run."""
    if args.suite or args.limit is not None or args.repo is not None or args.martian_data:
        from bot.tools import martian

        if args.list or args.compare or args.judge:
            parser.error("--suite martian always judges, and has no --list or --compare")
        return martian.command(args)
    if args.list:
        return list_cases(args.file)
    if args.compare:
        if args.results:
            parser.error("--results names one file; --compare keeps one per configuration")
        return run_compare(
            args.file,
            (args.compare[0], args.compare[1]),
            args.format,
            fresh=args.fresh,
            max_wait=args.max_wait,
            parallel=args.parallel,
            judge=args.judge,
        )
    return run(
        args.file,
        args.format,
        results=args.results,
        fresh=args.fresh,
        max_wait=args.max_wait,
        parallel=args.parallel,
        judge=args.judge,
    )
