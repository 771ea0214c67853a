"""The review as JSON, for scripts. This shape is a contract: add keys, never change or
remove one. `version` goes up by one with every change of the shape (keys added), so a reader
of version N reads any later one. 2 added `partial`, `partial_reasons`, `unreached_calls` and
the coverage's `partly_reviewed_*`, and rounds the costs to the hundredth of a cent. 3
added `walkthrough`. 4 added a finding's `evidence` and `suggestion_offered`.

    {
      "version": 4,
      "source": "diff from standard input",   # what was reviewed
      "head": "0123abc...",                   # the head commit ("" when there is none)
      "status": "completed",                  # completed | failed | skipped | queued
      "error": null,                          # why the review failed: set when "failed"
      "partial": false,                       # something that would have been read was not
      "partial_reasons": ["..."],             # why, one line per cause ([] when not partial)
      "fail_on": "high",                      # the severity that fails the review, or "never"
      "findings": [finding, ...],             # shown: neither withheld nor dismissed
      "withheld": [finding, ...],             # verification dropped or doubted them
      "dismissed": [finding, ...],            # a maintainer said they are wrong
      "coverage": {                           # null: the review read no diff
        "files": 12, "reviewed_files": 10, "lines": 340, "reviewed_lines": 300,
        "line_percent": 88,                   # whole percent, rounded down; never 100
                                              # when partial
        "partly_reviewed_files": 1, "partly_reviewed_lines": 20,  # some agents read them,
                                              # not all: not among the reviewed
        "partial": false,                     # the budget, a size cap, a diff that did not
                                              # parse or a failed call left something out
        "not_reviewed": [{"path": "...", "reason": "lock file", "lines": 40, "cut": false}],
        "failed_calls": [{"agent": "bugs", "part": 2, "paths": ["..."], "reason": "..."}]
      },                                      # an agent's call for that part failed: partial
      "usage": {"calls": 8, "prompt_tokens": 51200, "cached_tokens": 0,
                "unreached_calls": 0,         # of calls, those that never reached Gemini
                                              # (no connection): they cost nothing
                "output_tokens": 900, "thinking_tokens": 2048,  # thinking apart from output
                "cost_usd": 0.0123, "output_cost_usd": 0.0074},  # null: model unpriced;
                                              # USD, rounded to 4 decimals (0.01 cent)
      "agents": ["security", "bugs", "performance", "style"],
      "failed_agents": {"bugs": "why"},
      "notes": ["..."],
      "config_problems": [{"key": "fail_on", "message": "..."}],   # key null: the whole file
      "walkthrough": walkthrough,             # null: switched off (`walkthrough: false`)
    }

    walkthrough = {
      "summary": "...",                          # what the PR does, 2-4 sentences
      "files": [{"path": "...", "group": "...", "change": "..."}],  # by purpose
      "effort": 3, "effort_reason": "...",       # 1-5; effort null: no part was described
      "focus": [{"path": "...", "why": "..."}],  # where a human reviewer looks first
      "missing": ["part 2: why"],                # parts not described, and why
      "not_described": ["path", ...],            # files the review did not read
      "kept_from": "0123abc...", "kept": 4       # incremental: rows of unchanged files kept
    }

    finding = {
      "agent": "security", "severity": "high",   # critical | high | medium | low | info
      "path": "src/app.py",
      "line_start": 42, "line_end": 44,          # new-side lines; both null: about the file
      "title": "...", "description": "...", "suggestion": "..." or null,
      "evidence": "...",                         # the lines and why the change breaks ("": none)
      "suggestion_offered": true,                # the suggestion is a one-click block on GitHub:
                                                 # the verifier kept it and the file still parses
      "fingerprint": "...",                      # stable across pushes
      "verdict": "kept" | "dropped" | null,      # null: not verified
      "confidence": 0.9 or null,
      "dismissed_by": "login"                    # in "dismissed" only
    }

`not_reviewed` lists every file the review did not read (the coverage's, then any other
skipped one). Strings are the model's and the diff's as they are: JSON escapes every control
character, and `render_json` writes ASCII only, so printing the output cannot drive a terminal.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from bot.review.findings import Finding
from bot.review.pricing import rounded
from bot.review.render import Summary, not_reviewed

if TYPE_CHECKING:
    from bot.output import Report

VERSION = 4


def render_json(report: Report) -> str:
    """`as_json(report)`, indented, ending with a newline."""
    return json.dumps(as_json(report), indent=2) + "\n"


def as_json(report: Report) -> dict[str, Any]:
    """The report as the documented JSON object."""
    summary = report.summary
    coverage, cost = summary.coverage, summary.cost_usd
    return {
        "version": VERSION,
        "source": report.source,
        "head": summary.head_sha,
        "status": summary.status,
        "error": summary.error,
        "partial": coverage.partial if coverage else False,
        "partial_reasons": list(coverage.reasons()) if coverage else [],
        "fail_on": summary.fail_on,
        "findings": [finding_json(f) for f in summary.findings],
        "withheld": [finding_json(f) for f in summary.withheld],
        "dismissed": [finding_json(f, dismissed=True) for f in summary.dismissed],
        "coverage": coverage_json(summary),
        "usage": {
            "calls": summary.calls,
            "unreached_calls": summary.unreached_calls,
            "prompt_tokens": summary.prompt_tokens,
            "cached_tokens": summary.cached_tokens,
            "output_tokens": summary.output_tokens,
            "thinking_tokens": summary.thinking_tokens,
            "cost_usd": None if cost is None else rounded(cost),
            "output_cost_usd": None if cost is None else rounded(summary.output_cost_usd),
        },
        "agents": list(summary.agents),
        "failed_agents": dict(summary.failed_agents),
        "notes": list(summary.notes),
        "config_problems": [
            {"key": key, "message": message} for key, message in summary.config_problems
        ],
        "walkthrough": walkthrough_json(summary),
    }


def walkthrough_json(summary: Summary) -> dict[str, Any] | None:
    """The walkthrough, as the summary comment opens with it; None when switched off."""
    walk = summary.walkthrough
    if walk is None:
        return None
    described = {row.path for row in walk.files}
    return {
        "summary": walk.summary,
        "files": [{"path": r.path, "group": r.group, "change": r.change} for r in walk.files],
        "effort": walk.effort,
        "effort_reason": walk.effort_reason,
        "focus": [{"path": f.path, "why": f.why} for f in walk.focus],
        "missing": list(walk.missing),
        "not_described": [s.path for s in not_reviewed(summary) if s.path not in described],
        "kept_from": walk.kept_from,
        "kept": walk.kept,
    }


def finding_json(finding: Finding, *, dismissed: bool = False) -> dict[str, Any]:
    """One finding; a dismissed one also says who dismissed it."""
    out: dict[str, Any] = {
        "agent": finding.agent_type,
        "severity": finding.severity,
        "path": finding.file_path,
        "line_start": finding.line_start,
        "line_end": finding.line_end,
        "title": finding.title,
        "description": finding.description,
        "suggestion": finding.suggestion,
        "evidence": finding.evidence,
        "suggestion_offered": finding.offered,
        "fingerprint": finding.fingerprint,
        "verdict": finding.verdict,
        "confidence": finding.confidence,
    }
    if dismissed:
        out["dismissed_by"] = finding.dismissed_by
    return out


def coverage_json(summary: Summary) -> dict[str, Any] | None:
    """What share of the diff the review read; None when it read none."""
    coverage = summary.coverage
    if coverage is None:
        return None
    return {
        "files": coverage.files,
        "reviewed_files": coverage.reviewed_files,
        "lines": coverage.lines,
        "reviewed_lines": coverage.reviewed_lines,
        "line_percent": coverage.line_percent,
        "partly_reviewed_files": coverage.partly_files,
        "partly_reviewed_lines": coverage.partly_lines,
        "partial": coverage.partial,
        "not_reviewed": [
            {"path": s.path, "reason": s.reason, "lines": s.lines, "cut": s.cut}
            for s in not_reviewed(summary)
        ],
        "failed_calls": [
            {"agent": f.agent, "part": f.part, "paths": list(f.paths), "reason": f.reason}
            for f in coverage.failed
        ],
    }
