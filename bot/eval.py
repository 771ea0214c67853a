"""`python -m bot eval FILE.jsonl`: the review pipeline over labelled PRs, without GitHub or the
database, scored against the findings each PR should get."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiolimiter import AsyncLimiter

from bot.config import ConfigError, GeminiSettings, gemini_settings
from bot.github import sources
from bot.github.files import FileText
from bot.github.repo_config import LoadedConfig, RepoConfig
from bot.logs import setup_logging
from bot.review.agents import SEVERITIES
from bot.review.findings import Finding
from bot.review.metering import rate_limiter
from bot.review.prompt import Intent
from bot.standalone import local
from bot.standalone.sources import DiffSource

NEAR = 3  # a finding matches an expected one on the same path within this many lines
PARALLEL_PRS = 4  # PRs reviewed at once; each has up to GEMINI_MAX_IN_FLIGHT calls open
DEFAULTS = RepoConfig()  # a PR is reviewed as a repository without a config file would be


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
        _text(item, "path", where), start, end, severity,
        agent if isinstance(agent, str) else None,
        keyword.lower() if isinstance(keyword, str) and keyword else None,
    )  # fmt: skip


def read_cases(path: Path) -> list[Case]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise EvalError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    cases = [parse_case(line, f"{path}:{n}") for n, line in enumerate(lines, 1) if line.strip()]
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
        return {"findings": self.found, "matched": self.right, "expected": self.expected,
                "caught": self.caught, "precision": _round(precision), "recall": _round(recall),
                "f1": _round(f1)}  # fmt: skip


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
        cases.append({"id": result.case.id, "expected": len(expected),
                      "findings": len(result.findings), "matched": line.right,
                      "withheld": result.withheld, "failures": result.failures})  # fmt: skip
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
    base = sources.Base(LoadedConfig(DEFAULTS), intent=Intent(case.title, case.body, case.base))
    heads = {path: FileText(path, "head", text) for path, text in case.head_files.items()}

    async def read(paths: Sequence[str]) -> Mapping[str, FileText]:
        return {path: heads.get(path, FileText(path, "head", None)) for path in paths}

    reviewed = await local.review(DiffSource(case.diff, read), base, settings, "",
                                  label=f"case {case.id}", limiter=limiter)  # fmt: skip
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


async def evaluate(cases: Sequence[Case], settings: GeminiSettings) -> dict[str, Any]:
    """Review the PRs, PARALLEL_PRS at a time, every call under one GEMINI_RPM."""
    limiter = rate_limiter(settings.rpm)
    gate = asyncio.Semaphore(PARALLEL_PRS)
    done = 0

    async def one(case: Case) -> CaseResult:
        nonlocal done
        async with gate:
            result = await review_case(case, settings, limiter)
        done += 1
        if sys.stderr.isatty():
            print(f"\r{done}/{len(cases)} PRs reviewed", end="", file=sys.stderr, flush=True)
        return result

    results = await asyncio.gather(*(one(case) for case in cases))
    if sys.stderr.isatty():
        print(file=sys.stderr)
    return report(results, list(DEFAULTS.agents), settings.model)


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
    return "\n".join(out)


def run(path: str, output: str) -> int:
    """0: scored; 2: the file or the settings are wrong; 3: a Gemini call failed."""
    try:
        cases = read_cases(Path(path))
        settings = gemini_settings()
    except (EvalError, ConfigError) as exc:
        print(f"second-look: {exc}", file=sys.stderr)
        return 2
    setup_logging([settings.api_key], level="WARNING")
    data = asyncio.run(evaluate(cases, settings))
    print(json.dumps(data, indent=2) if output == "json" else table(data))
    return 3 if data["failed_prs"] else 0
