"""The review for a terminal: findings by file with the code they flag, then the rest.

Model text, paths and code lines are not ours: every terminal escape sequence, control and
bidi character is taken out of them before they are printed (`safe`, which is
`bot.review.markdown.terminal`). Colour, when asked
for, is the only escape sequence in the output.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.review.agents import SEVERITIES
from bot.review.changes import Diff
from bot.review.findings import SEVERITY_RANK, Finding, reaches
from bot.review.markdown import terminal
from bot.review.pricing import rounded
from bot.review.render import Summary, calls_made, not_reviewed

if TYPE_CHECKING:
    from bot.output import Report

MAX_CODE_LINES = 5  # of a finding's flagged lines, at most this many are shown
MAX_NOT_REVIEWED = 20  # the files not reviewed are named up to this many, then counted
_RESET = "\x1b[0m"
_SEVERITY_STYLE = {
    "critical": "\x1b[1;31m",  # bold red
    "high": "\x1b[31m",  # red
    "medium": "\x1b[33m",  # yellow
    "low": "\x1b[36m",  # cyan
    "info": "\x1b[37m",  # grey
}
_BOLD, _DIM, _WARN = "\x1b[1m", "\x1b[2m", "\x1b[33m"


def safe(value: str) -> str:
    """Untrusted text for a terminal (`markdown.terminal`)."""
    return terminal(value)


def one_line(value: str) -> str:
    """`safe`, on one line."""
    return " ".join(safe(value).split())


class _Style:
    """ANSI colours, or nothing."""

    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, value: str, style: str) -> str:
        return f"{style}{value}{_RESET}" if self.color and value else value

    def severity(self, severity: str) -> str:
        return self(severity.upper().ljust(8), _SEVERITY_STYLE.get(severity, ""))


def render_text(report: Report, *, color: bool = False) -> str:
    """The whole report for a terminal, ending with a newline."""
    style = _Style(color)
    summary = report.summary
    out = [_heading(report, style), ""]
    out += _walkthrough(summary, style)
    out += _status(summary, style)
    for path, findings in by_file(summary.findings):
        out += [style(one_line(path), _BOLD)]
        for finding in findings:
            out += _finding(finding, report.diff, style)  # each ends with a blank line
    out += _silenced(summary)
    out += _problems(summary, style)
    out += _coverage(summary)
    out.append(style(usage(summary), _DIM))
    return "\n".join(out) + "\n"


def _walkthrough(summary: Summary, style: _Style) -> list[str]:
    """What the PR does, its files by purpose, the effort and where to look first."""
    walk = summary.walkthrough
    if walk is None:
        return []
    out = [style("Walkthrough", _BOLD)]
    if walk.empty:
        why = "; ".join(walk.missing) or "no part of the diff was described"
        return out + [f"  The walkthrough is missing: {one_line(why)}.", ""]
    if walk.summary:
        out.append(f"  {one_line(walk.summary)}")
    groups = list(dict.fromkeys(row.group for row in walk.files))
    for group in groups:
        out.append(f"  {one_line(group)}:")
        out += [
            f"    {one_line(r.path)}: {one_line(r.change)}" for r in walk.files if r.group == group
        ]
    if walk.effort is not None:
        out.append(f"  Review effort: {walk.effort}/5. {one_line(walk.effort_reason)}".rstrip())
    out += [f"  Look first: {one_line(f.path)}: {one_line(f.why)}" for f in walk.focus]
    if walk.kept_from:
        since = one_line(walk.kept_from[:12])
        out.append(f"  Incremental: rows of {walk.kept} file(s) unchanged since {since} kept.")
    left_out = {s.path for s in not_reviewed(summary)} - {row.path for row in walk.files}
    if left_out:
        out.append(f"  Not described: {len(left_out)} file(s) the review did not read.")
    if walk.missing:
        out.append(f"  Part of the walkthrough is missing: {one_line('; '.join(walk.missing))}.")
    return out + [""]


def by_file(findings: Sequence[Finding]) -> list[tuple[str, list[Finding]]]:
    """Findings grouped by file: files by their most severe finding (then path), findings by
    severity then line."""
    groups: dict[str, list[Finding]] = {}
    for finding in sorted(findings, key=lambda f: (f.rank, f.line_start or 0)):
        groups.setdefault(finding.file_path, []).append(finding)
    return sorted(groups.items(), key=lambda item: (item[1][0].rank, item[0]))


def where(finding: Finding) -> str:
    """`path:line`, `path:start-end`, or the path of a file-level finding."""
    path = one_line(finding.file_path)
    start, end = finding.line_start, finding.line_end
    if start is None:
        return path
    if end is None or end == start:
        return f"{path}:{start}"
    return f"{path}:{start}-{end}"


def code_lines(finding: Finding, diff: Diff) -> list[tuple[int, str]]:
    """The flagged new-side lines the diff holds, numbered (all of them)."""
    changed = diff.file(finding.file_path)
    if changed is None or finding.line_start is None:
        return []
    end = finding.line_end if finding.line_end is not None else finding.line_start
    numbers = [n for n in range(finding.line_start, end + 1) if n in changed.new_text]
    return [(n, changed.new_text[n]) for n in numbers]


def usage(summary: Summary) -> str:
    """Gemini calls, tokens in (cached among them) and out, and the estimated cost."""
    if summary.calls == 0:
        return "Usage: no Gemini calls."
    line = (
        f"Usage: {calls_made(summary)}, {summary.prompt_tokens:,} input tokens "
        f"({summary.cached_tokens:,} cached), {summary.output_tokens:,} output tokens, "
        f"{summary.thinking_tokens:,} thinking tokens"
    )
    if summary.cost_usd is not None:
        cost = summary.cost_usd
        if 0 < cost < 0.00005:
            line += ", est. cost under $0.0001"
        else:
            line += f", est. cost ${rounded(cost):,.4f}"
        if cost >= 0.00005:
            line += f" (${rounded(summary.output_cost_usd):,.4f} output and thinking)"
    return line + "."


def _heading(report: Report, style: _Style) -> str:
    head = f" at {one_line(report.summary.head_sha[:12])}" if report.summary.head_sha else ""
    return style(f"Second Look review of {one_line(report.source)}{head}", _BOLD)


def _status(summary: Summary, style: _Style) -> list[str]:
    """Whether the review ran, and what it found, counted by severity."""
    out = []
    if summary.status == "failed" or summary.error:
        reason = f": {one_line(summary.error)}" if summary.error else "."
        out.append(style(f"The review failed{reason}", _SEVERITY_STYLE["critical"]))
    elif summary.status != "completed":
        out.append(f"The review was not run ({one_line(summary.status)}).")
    if not summary.findings:
        if summary.status == "completed" and not summary.error:
            out.append(style("No findings.", _BOLD))
        return out + [""]
    counts = Counter(f.severity for f in summary.findings)
    found = ", ".join(f"{counts[s]} {s}" for s in SEVERITIES if counts[s])
    line = f"{len(summary.findings)} finding(s): {found}."
    if summary.fail_on in SEVERITY_RANK:
        failing = sum(1 for f in summary.findings if reaches(f, summary.fail_on))
        line += f" {failing} at or above {summary.fail_on} (fail_on)."
    return out + [line, ""]


def _finding(finding: Finding, diff: Diff, style: _Style) -> list[str]:
    out = [
        f"  {style.severity(finding.severity)} {style(where(finding), _BOLD)}  "
        f"{one_line(finding.agent_type)} · {one_line(finding.title)}"
    ]
    flagged = code_lines(finding, diff)
    shown = flagged[:MAX_CODE_LINES]
    width = max([4] + [len(str(n)) for n, _ in shown])
    for number, line in shown:
        code = safe(line).replace("\n", " ").rstrip()
        out.append(style(f"    {number:>{width}} │ {code}", _DIM))
    if len(flagged) > len(shown):
        out.append(style(f"    {'':>{width}} │ … {len(flagged) - len(shown)} more line(s)", _DIM))
    description = safe(finding.description).strip()
    if description:
        out += [""] + _indented(description, "      ")
    evidence = safe(finding.evidence).strip()
    if evidence:
        out += ["", "      Evidence:"] + _indented(evidence, "        ")
    if finding.suggestion is not None and finding.suggestion.strip():
        out += ["", "      Suggestion:"] + _indented(safe(finding.suggestion).rstrip(), "        ")
    out.append("")
    return out


def _indented(value: str, indent: str) -> list[str]:
    return [f"{indent}{line}".rstrip() for line in value.split("\n")]


def _silenced(summary: Summary) -> list[str]:
    """Withheld and dismissed findings are counted, not shown."""
    out = []
    if summary.withheld:
        out.append(f"{len(summary.withheld)} finding(s) withheld after verification.")
    if summary.dismissed:
        out.append(f"{len(summary.dismissed)} finding(s) dismissed by a maintainer.")
    return out + [""] if out else []


def _problems(summary: Summary, style: _Style) -> list[str]:
    """Failed agents, notes, config problems and the files not reviewed."""
    out = [
        style(f"warning: the {one_line(agent)} agent failed, its part is missing: ", _WARN)
        + one_line(reason)
        for agent, reason in sorted(summary.failed_agents.items())
    ]
    out += [f"note: {one_line(note)}" for note in summary.notes]
    out += [
        f"config {one_line(key)}: {one_line(problem)}" if key else f"config: {one_line(problem)}"
        for key, problem in summary.config_problems
    ]
    skipped = not_reviewed(summary)
    if skipped:
        out.append(f"{len(skipped)} file(s) not reviewed:")
        for s in skipped[:MAX_NOT_REVIEWED]:
            cut = ", left out: the review is partial" if s.cut else ""
            out.append(f"  {one_line(s.path)} ({one_line(s.reason)}{cut})")
        if len(skipped) > MAX_NOT_REVIEWED:
            out.append(f"  … and {len(skipped) - MAX_NOT_REVIEWED} more")
    return out + [""] if out else []


def _coverage(summary: Summary) -> list[str]:
    coverage = summary.coverage
    if coverage is None:
        return []
    line = coverage.sentence() + "."
    if coverage.partial:
        line = "Partial review. " + line
        if coverage.unfinished:
            line += f" {coverage.unfinished} agent call(s) were not made: the budget ran out."
    return [line]
