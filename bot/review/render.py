"""Markdown for GitHub: the summary comment and inline comments; untrusted text via markdown."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from bot.review.agents import SEVERITIES
from bot.review.changes import Skipped
from bot.review.findings import Finding
from bot.review.markdown import block, code, plain, text

MARKER = "<!-- second-look:summary -->"
MAX_BODY = 65_536  # GitHub refuses a comment longer than this
ICONS = {"critical": "🔴", "high": "🟠", "medium": "🟡", "low": "🔵", "info": "⚪"}


@dataclass
class Summary:
    """What the summary comment reports about one review."""

    head_sha: str
    status: str  # completed | failed | skipped
    findings: list[Finding] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    failed_agents: dict[str, str] = field(default_factory=dict)  # agent -> reason
    agents: list[str] = field(default_factory=list)
    error: str | None = None
    dropped: int = 0
    moved: int = 0
    inline: int = 0
    calls: int = 0
    input_chars: int = 0
    tokens: int = 0
    notes: list[str] = field(default_factory=list)
    config_problems: list[tuple[str | None, str]] = field(default_factory=list)  # (key, what)
    reviewed_files: int | None = None  # set for an incremental review: files sent to the agents
    resolved: list[Finding] = field(default_factory=list)  # gone since the last review


def render_summary(summary: Summary, limit: int = MAX_BODY, *, marker: bool = True) -> str:
    """The whole comment; the least severe findings are cut first to stay under `limit`.

    `marker`: start with the hidden marker that finds the comment again (not in a check run).
    """
    findings = sorted(summary.findings, key=lambda f: (f.rank, f.file_path, f.line_start or 0))
    shown = len(findings)
    while True:
        body = _render(summary, findings[:shown], cut=len(findings) - shown, marker=marker)
        if len(body) <= limit or shown == 0:
            return body[:limit]
        # Drop roughly what is over, at least one finding per round.
        over = len(body) - limit
        per = max(1, len(body) // max(shown, 1))
        shown = max(0, shown - max(1, over // per))


def _render(summary: Summary, findings: list[Finding], cut: int, marker: bool) -> str:
    out = [MARKER] if marker else []
    out += ["## Second Look review", ""]
    out.append(_status_line(summary))
    out.append("")
    if summary.error:
        out += [f"**The review failed:** {text(summary.error)}", ""]
    for agent, reason in sorted(summary.failed_agents.items()):
        out.append(f"> ⚠️ The **{agent}** agent failed, its part is missing: {text(reason)}")
    if summary.failed_agents:
        out.append("")
    out += _counts(summary)
    out += _by_file(findings)
    out += _resolved(summary.resolved)
    if cut:
        out += [
            f"_{cut} less severe finding(s) are not shown: the comment would exceed "
            f"GitHub's {MAX_BODY:,} characters._",
            "",
        ]
    out += _notes(summary)
    out += _skipped(summary.skipped)
    out.append(
        f"<sub>{summary.calls} Gemini call(s), {summary.input_chars:,} input characters, "
        f"{summary.tokens:,} tokens.</sub>"
    )
    return "\n".join(out) + "\n"


def _status_line(summary: Summary) -> str:
    head = code(summary.head_sha[:12])
    if summary.status == "failed":
        return f"❌ Review of {head} failed."
    if summary.status == "skipped":
        return f"⏭️ Review of {head} skipped."
    total = len(summary.findings)
    return f"✅ Reviewed {head}: {total} finding(s)."


def _counts(summary: Summary) -> list[str]:
    if not summary.findings:
        # A review that failed before its agents ran has no findings to speak of.
        return [] if summary.error else ["No findings.", ""]
    severities = Counter(f.severity for f in summary.findings)
    agents = Counter(f.agent_type for f in summary.findings)
    out = [
        " · ".join(f"{ICONS[s]} {s}: {severities[s]}" for s in SEVERITIES if severities[s]),
        "",
        "| Agent | Findings |",
        "|---|---|",
    ]
    for agent in summary.agents or sorted(agents):
        note = " (failed)" if agent in summary.failed_agents else ""
        out.append(f"| {agent}{note} | {agents.get(agent, 0)} |")
    out.append("")
    return out


def _by_file(findings: list[Finding]) -> list[str]:
    out: list[str] = []
    for path in sorted({f.file_path for f in findings}):
        out += [f"### {code(path)}", ""]
        for f in (f for f in findings if f.file_path == path):
            where = (
                "file"
                if f.line_start is None
                else (
                    f"line {f.line_start}"
                    if f.line_start == f.line_end
                    else f"lines {f.line_start}-{f.line_end}"
                )
            )
            carried = ", carried forward" if f.carried_from else ""
            out.append(
                f"- {ICONS[f.severity]} **{f.severity}** · {text(f.title)} "
                f"({where}, {f.agent_type}{carried})"
            )
            if f.description:
                out.append("  " + text(f.description, multiline=True, indent="  "))
        out.append("")
    return out


def _bullets(items: list[str], limit: int) -> list[str]:
    """At most `limit` bullet lines, then how many more there are."""
    out = [f"- {item}" for item in items[:limit]]
    if len(items) > limit:
        out.append(f"- … and {len(items) - limit} more")
    return out


def _resolved(resolved: list[Finding]) -> list[str]:
    if not resolved:
        return []
    out = [f"### ✔️ Resolved since the last review ({len(resolved)})", ""]
    out += _bullets([f"~~{text(f.title)}~~ in {code(f.file_path)}" for f in resolved], 100)
    return out + [""]


def _notes(summary: Summary) -> list[str]:
    out = []
    if summary.reviewed_files is not None:
        carried = sum(1 for f in summary.findings if f.carried_from)
        out.append(
            f"- Incremental review: {summary.reviewed_files} file(s) changed since the last "
            f"review were sent to the agents; {carried} finding(s) on unchanged files were "
            "carried forward."
        )
    if summary.moved:
        out.append(
            f"- {summary.moved} finding(s) pointed at lines outside the diff; "
            "they are listed at file level."
        )
    if summary.dropped:
        out.append(f"- {summary.dropped} finding(s) named files not in this PR and were dropped.")
    if summary.inline:
        out.append(f"- {summary.inline} finding(s) are also inline comments on the diff.")
    for key, problem in summary.config_problems:
        out.append(
            f"- Config {code(key)}: {text(problem)}" if key else f"- Config: {text(problem)}"
        )
    out += [f"- {text(note)}" for note in summary.notes]
    return out + [""] if out else []


def _skipped(skipped: list[Skipped]) -> list[str]:
    if not skipped:
        return []
    out = [f"<details><summary>{len(skipped)} file(s) not reviewed</summary>", ""]
    out += _bullets([f"{code(s.path)}: {text(s.reason)}" for s in skipped], 200)
    return out + ["", "</details>", ""]


def inline_body(finding: Finding, with_suggestion: bool) -> str:
    """One inline comment: severity, title, explanation, and an applicable suggestion."""
    parts = [
        f"{ICONS[finding.severity]} **{finding.severity}** · {text(finding.title)} "
        f"<sub>({finding.agent_type})</sub>"
    ]
    if finding.description:
        parts.append(text(finding.description, multiline=True))
    if with_suggestion and finding.suggestion is not None:
        parts.append(block(finding.suggestion, "suggestion"))
    return "\n\n".join(parts)


def check_title(summary: Summary) -> str:
    """The check run's one-line title."""
    if summary.status == "failed":
        return plain("Review failed" + (f": {summary.error}" if summary.error else ""), 200)
    if summary.status == "skipped":
        return "Skipped"
    counts = Counter(f.severity for f in summary.findings)
    if not summary.findings:
        return "No findings"
    return ", ".join(f"{counts[s]} {s}" for s in SEVERITIES if counts[s])
