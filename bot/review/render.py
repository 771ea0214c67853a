"""Markdown for GitHub: the summary comment and inline comments; untrusted text via markdown."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import TypeAdapter

from bot.review.agents import SEVERITIES
from bot.review.analyzers.registry import SEPARATOR, docs_of, sources_of, without_docs
from bot.review.changes import Skipped
from bot.review.coverage import AgentFailure, Coverage
from bot.review.findings import Finding, reaches
from bot.review.markdown import block, code, plain, text
from bot.review.pricing import rounded
from bot.review.walkthrough import Walkthrough

MARKER = "<!-- second-look:summary -->"
# The state of the PR (paused, ignored) sits between these, so that a command can change it
# in the comment without the review that wrote the rest.
STATE_OPEN, STATE_CLOSE = "<!-- second-look:state -->", "<!-- /second-look:state -->"
# Ends each inline comment: which finding it is, read back from its thread (hex only).
_FINDING_MARKER = re.compile(r"<!-- second-look:finding ([0-9a-f]{8,64}) -->\s*\Z")
MAX_BODY = 65_536  # GitHub refuses a comment longer than this
ICONS = {"critical": "🔴", "high": "🟠", "medium": "🟡", "low": "🔵", "info": "⚪"}
NOT_REVIEWED_PATHS = 200  # the files-not-reviewed list names at most this many, counts the rest
NOT_REVIEWED_CHARS = 24_000  # and takes at most this much of the comment, findings the rest
WALK_ROWS = 100  # the walkthrough's table shows at most this many files, counts the rest


@dataclass(frozen=True)
class Summary:
    """What a review found and how it went: built once by the pipeline (bot/pipeline.py),
    rendered by every output. What publishing learns later is a new value
    (`dataclasses.replace`), made where that fact is owned."""

    head_sha: str
    status: str  # completed | failed | skipped | queued
    findings: tuple[Finding, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    failed_agents: Mapping[str, str] = field(default_factory=dict)  # agent -> reason
    agents: tuple[str, ...] = ()
    error: str | None = None
    dropped: int = 0
    moved: int = 0
    untouched: int = 0  # on unchanged lines only, the evidence naming no changed line
    inline: int = 0
    calls: int = 0  # Gemini calls, retries included
    unreached_calls: int = 0  # of them, those that never reached Gemini: they cost nothing
    notes: tuple[str, ...] = ()
    config_problems: tuple[tuple[str | None, str], ...] = ()  # (key, what)
    reviewed_files: int | None = None  # set for an incremental review: files sent to the agents
    resolved: tuple[Finding, ...] = ()  # gone since the last review
    coverage: Coverage | None = None  # None: the review read no diff (failed early, skipped)
    prompt_tokens: int = 0  # input tokens of every Gemini call, cached ones included
    cached_tokens: int = 0
    output_tokens: int = 0  # the answers' tokens, thinking not included
    thinking_tokens: int = 0  # billed at the output rate
    cost_usd: float | None = None  # estimated from the price table; None: model unpriced
    output_cost_usd: float = 0.0  # of cost_usd, what the output and thinking tokens cost
    queued_until: datetime | None = None  # status "queued": not claimed again before (UTC)
    queued_reason: str = ""  # which quota or cap was reached
    withheld: tuple[Finding, ...] = ()  # verification dropped or doubted
    fail_on: str = "never"  # the check fails on a finding this severe
    guidance: str = ""  # the guidance the agents read ("" none), e.g. "AGENTS.md, 2 path rules"
    dismissed: tuple[Finding, ...] = ()  # by a maintainer: `dismissed_by`
    threads_resolved: frozenset[str] = frozenset()  # fingerprints whose thread we closed
    paused_by: str | None = None  # automatic reviews of the PR are paused
    verdict_by: str = "the check"  # what fails on a finding at fail_on: "the job" in Actions
    walkthrough: Walkthrough | None = None  # None: switched off, or no review ran

    def noted(self, *notes: str) -> Summary:
        """This summary with `notes` said after its own."""
        return replace(self, notes=self.notes + notes)


_SUMMARY_JSON: TypeAdapter[Summary] = TypeAdapter(Summary)


def summary_json(summary: Summary) -> dict[str, Any]:
    """The summary as JSON, to store it and render it again later (`summary_of_json`)."""
    data: dict[str, Any] = _SUMMARY_JSON.dump_python(summary, mode="json")
    return data


def summary_of_json(data: Any) -> Summary:
    """A summary stored by `summary_json` (ValidationError when it is not one)."""
    return _SUMMARY_JSON.validate_python(data)


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
    if summary.paused_by:  # else the block is added when a command sets a state
        out += [state_block(paused_by=summary.paused_by), ""]
    out += walkthrough_lines(summary)
    out.append(_status_line(summary))
    out.append("")
    out += _coverage(summary)
    if summary.error:
        out += [f"**The review failed:** {text(summary.error)}", ""]
    out += _counts(summary)
    out += _by_file(findings)
    out += _resolved(summary.resolved, summary.threads_resolved)
    out += _dismissed(summary.dismissed, summary.threads_resolved)
    out += _withheld(summary.withheld)
    if cut:
        out += [
            f"_{cut} less severe finding(s) are not shown: the comment would exceed "
            f"GitHub's {MAX_BODY:,} characters._",
            "",
        ]
    out += _notes(summary)
    out += _not_reviewed(not_reviewed(summary))
    out.append(f"<sub>{_usage(summary)}</sub>")
    return "\n".join(out) + "\n"


def walkthrough_lines(summary: Summary) -> list[str]:
    """The walkthrough section the summary opens with: what the PR does, its files grouped
    by purpose, the effort, where to look first, and what it does not describe."""
    walk = summary.walkthrough
    if walk is None:
        return []
    out = ["### Walkthrough", ""]
    if walk.empty:
        why = "; ".join(walk.missing) or "no part of the diff was described"
        return out + [f"_The walkthrough is missing: {text(why)}._", ""]
    if walk.summary:
        out += [text(walk.summary), ""]
    if walk.files:
        groups = list(dict.fromkeys(row.group for row in walk.files))
        rows = sorted(walk.files, key=lambda row: groups.index(row.group))
        out += ["| Purpose | File | What changed |", "|---|---|---|"]
        out += [
            f"| {text(r.group)} | {text(r.path)} | {text(r.change)} |" for r in rows[:WALK_ROWS]
        ]
        if len(rows) > WALK_ROWS:
            out.append(f"| … | … and {len(rows) - WALK_ROWS} more file(s) | |")
        out.append("")
    if walk.effort is not None:
        reason = f" {text(walk.effort_reason)}" if walk.effort_reason else ""
        out += [f"**Review effort: {walk.effort}/5.**{reason}", ""]
    if walk.focus:
        out += ["**Look first:**", ""]
        out += [f"- {code(f.path)}: {text(f.why)}" for f in walk.focus] + [""]
    if walk.kept:
        out.append(
            f"_The rows of {walk.kept} file(s) unchanged since {code(walk.kept_from[:12])} are "
            "kept from that review; the summary and the effort describe this push's changes._"
        )
        out.append("")
    elif walk.kept_from:
        out += [f"_It describes the files changed since {code(walk.kept_from[:12])} only._", ""]
    left_out = {s.path for s in not_reviewed(summary)} - {row.path for row in walk.files}
    if left_out:
        out.append(
            f"_It does not describe {len(left_out)} file(s) the review did not read "
            "(listed under the files not reviewed)._"
        )
        out.append("")
    if walk.missing:
        out += [f"_Part of the walkthrough is missing: {text('; '.join(walk.missing))}._", ""]
    return out


def not_reviewed(summary: Summary) -> list[Skipped]:
    """The files the review did not read: `coverage.not_reviewed`, then any other `skipped`."""
    listed = list(summary.coverage.not_reviewed) if summary.coverage else []
    seen = set(listed)
    return listed + [s for s in summary.skipped if s not in seen]


def partial(summary: Summary) -> bool:
    """The budget or a size cap left out a file the review would have read, or agent calls
    were not made or failed (the coverage decides)."""
    return summary.coverage is not None and summary.coverage.partial


def queued_until(summary: Summary) -> datetime | None:
    """When a queued review may run again, in UTC, rounded up to the minute it is shown in."""
    when = summary.queued_until
    if when is None:
        return None
    when = when.astimezone(UTC) if when.tzinfo else when.replace(tzinfo=UTC)
    if when.second or when.microsecond:
        when = when.replace(second=0, microsecond=0) + timedelta(minutes=1)
    return when


def _status_line(summary: Summary) -> str:
    head = code(summary.head_sha[:12])
    if summary.status == "failed":
        return f"❌ Review of {head} failed."
    if summary.status == "skipped":
        return f"⏭️ Review of {head} skipped."
    if summary.status == "queued":
        until = queued_until(summary)
        line = f"⏳ Review of {head} is queued"
        if until is not None:
            line += f" until {until:%H:%M} UTC ({until:%Y-%m-%d})"
        reason = summary.queued_reason.strip().rstrip(".")
        return line + (f": {text(reason)}." if reason else ".")
    total = len(summary.findings)
    failing = sum(1 for f in summary.findings if reaches(f, summary.fail_on))
    if failing:
        kind = "Partial review" if partial(summary) else "Review"
        return (
            f"❌ {kind} of {head}: {total} finding(s), {failing} at or above "
            f"{summary.fail_on}, so {summary.verdict_by} fails."
        )
    if partial(summary):
        return f"⚠️ Partial review of {head}: {total} finding(s)."
    if total:
        return f"⚠️ Reviewed {head}: {total} finding(s) to look at."
    return f"✅ Reviewed {head}: no findings."


def _coverage(summary: Summary) -> list[str]:
    coverage = summary.coverage
    if coverage is None:
        return []
    sentence = coverage.sentence()
    if not partial(summary):
        return [f"{sentence}.", ""]
    why = "; ".join(text(reason) for reason in coverage.reasons())
    out = [f"**This review is partial.** {sentence}: {why}.", ""]
    return out + failed_calls(coverage.failed)


FAILED_PATHS = 10  # a failed call's files named, the rest counted


def failed_calls(failed: tuple[AgentFailure, ...]) -> list[str]:
    """One line per agent call that failed: the agent, the part and its files, and why."""
    if not failed:
        return []
    out = []
    for failure in sorted(failed, key=lambda f: (f.part, f.agent)):
        paths = ", ".join(code(p) for p in failure.paths[:FAILED_PATHS])
        if len(failure.paths) > FAILED_PATHS:
            paths += f" and {len(failure.paths) - FAILED_PATHS} more"
        where = f"part {failure.part}" if failure.part else "its part"
        files = f" ({paths})" if paths else ""
        out.append(f"- ⚠️ **{text(failure.agent)}** on {where}{files}: {text(failure.reason)}")
    return out + [""]


def _usage(summary: Summary) -> str:
    """The footer: Gemini calls, input tokens (cached among them), output and thinking
    tokens, the cost, and how much of it output and thinking made."""
    if summary.calls == 0:
        return "No Gemini calls."
    if summary.cost_usd is None:
        cost = "cost unknown for this model"
    elif 0 < summary.cost_usd < 0.00005:
        cost = "estimated cost under $0.0001"
    else:
        usd, output = rounded(summary.cost_usd), rounded(summary.output_cost_usd)
        cost = f"estimated cost ${usd:,.4f}"
        if usd:
            cost += f" (${usd - output:,.4f} input, ${output:,.4f} output and thinking)"
    return (
        f"{calls_made(summary)}, {summary.prompt_tokens:,} input tokens "
        f"({summary.cached_tokens:,} cached), {summary.output_tokens:,} output tokens, "
        f"{summary.thinking_tokens:,} thinking tokens, {cost}."
    )


def calls_made(summary: Summary) -> str:
    """'13 Gemini call(s)', and how many of them never reached Gemini (they cost nothing)."""
    made = f"{summary.calls} Gemini call(s)"
    if summary.unreached_calls:
        made += f", {summary.unreached_calls} of them never reached Gemini"
    return made


def _counts(summary: Summary) -> list[str]:
    if not summary.findings:
        # A review that failed before its agents ran, or has not run, has no findings to speak of.
        ran = summary.status in ("completed", "failed") and not summary.error
        return ["No findings.", ""] if ran else []
    severities = Counter(f.severity for f in summary.findings)
    # A finding counts for each of its sources: "ruff F821 · bugs" for ruff and for bugs.
    agents = Counter(name for f in summary.findings for name in sources_of(f.agent_type))
    out = [
        " · ".join(f"{ICONS[s]} {s}: {severities[s]}" for s in SEVERITIES if severities[s]),
        "",
        "| Agent | Findings |",
        "|---|---|",
    ]
    for agent in [*summary.agents, *sorted(set(agents) - set(summary.agents))]:
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
                f"({where}, {source(f)}{carried})"
            )
            description = without_docs(f.agent_type, f.description)
            if description:
                out.append("  " + text(description, multiline=True, indent="  "))
        out.append("")
    return out


def _bullets(items: list[str], limit: int) -> list[str]:
    """At most `limit` bullet lines, then how many more there are."""
    out = [f"- {item}" for item in items[:limit]]
    if len(items) > limit:
        out.append(f"- … and {len(items) - limit} more")
    return out


def _resolved(resolved: Sequence[Finding], threads: frozenset[str]) -> list[str]:
    if not resolved:
        return []
    out = [f"### ✔️ Resolved since the last review ({len(resolved)})", ""]
    out += _bullets(
        [
            f"~~{text(f.title)}~~ in {code(f.file_path)}"
            + (" (its thread is resolved)" if f.fingerprint in threads else "")
            for f in resolved
        ],
        100,
    )
    return out + [""]


def _dismissed(dismissed: Sequence[Finding], threads: frozenset[str]) -> list[str]:
    """Findings a maintainer said are wrong: not posted again, not failing the check."""
    if not dismissed:
        return []
    out = [f"### 🙈 Dismissed ({len(dismissed)})", ""]
    items = [
        f"~~{text(f.title)}~~ in {code(f.file_path)}, dismissed by {code(f.dismissed_by or '')}"
        + (" (its thread is resolved)" if f.fingerprint in threads else "")
        for f in sorted(dismissed, key=lambda f: (f.rank, f.file_path, f.line_start or 0))
    ]
    return out + _bullets(items, 100) + [""]


def _withheld(withheld: Sequence[Finding]) -> list[str]:
    """Findings the verifier dropped or doubted: counted, listed folded, never lost."""
    if not withheld:
        return []
    out = [
        f"<details><summary>{len(withheld)} finding(s) withheld after verification</summary>",
        "",
    ]
    items = []
    for f in sorted(withheld, key=lambda f: (f.rank, f.file_path, f.line_start or 0)):
        confidence = "" if f.confidence is None else f", confidence {f.confidence:.2f}"
        reason = f": {text(f.verify_reason)}" if f.verify_reason else ""
        items.append(
            f"{f.severity} · {text(f.title)} in {code(f.file_path)} "
            f"({f.agent_type}{confidence}){reason}"
        )
    return out + _bullets(items, 50) + ["", "</details>", ""]


def _notes(summary: Summary) -> list[str]:
    out = []
    if summary.guidance:
        out.append(f"- Guidance: {text(summary.guidance)}.")
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
    if summary.untouched:
        out.append(
            f"- {summary.untouched} finding(s) were only about lines this PR did not change, "
            "with no evidence tying them to a changed line, and were dropped."
        )
    if summary.inline:
        out.append(f"- {summary.inline} finding(s) are also inline comments on the diff.")
    for key, problem in summary.config_problems:
        out.append(
            f"- Config {code(key)}: {text(problem)}" if key else f"- Config: {text(problem)}"
        )
    out += [f"- {text(note)}" for note in summary.notes]
    return out + [""] if out else []


def _not_reviewed(skipped: list[Skipped]) -> list[str]:
    """The files not reviewed, grouped by reason, cut ones first, each with its changed lines.

    Groups with more files come first; within one, files keep the order they were given in.
    At most NOT_REVIEWED_PATHS paths and NOT_REVIEWED_CHARS characters are named; the rest are
    counted.
    """
    if not skipped:
        return []
    groups: dict[tuple[bool, str], list[Skipped]] = {}
    for s in skipped:
        groups.setdefault((s.cut, s.reason), []).append(s)
    cut = sum(1 for s in skipped if s.cut)
    heading = f"{len(skipped)} file(s) not reviewed" + (f", {cut} of them cut" if cut else "")
    out = [f"<details><summary>{heading}</summary>", ""]
    budget = _Budget(NOT_REVIEWED_PATHS, NOT_REVIEWED_CHARS)
    for was_cut in (True, False):
        chosen = sorted(
            ((reason, files) for (c, reason), files in groups.items() if c is was_cut),
            key=lambda group: (-len(group[1]), group[0]),
        )
        if not chosen:
            continue
        out += ["Left out, so the review is partial:" if was_cut else "Not reviewed:", ""]
        for i, (reason, files) in enumerate(chosen):
            line = f"- {text(reason)}: {_files_and_lines(len(files), _lines(files))}"
            if not budget.take(line, path=False):
                rest = chosen[i:]
                out.append(
                    f"- … and {sum(len(f) for _, f in rest):,} more file(s) "
                    f"for {len(rest)} other reason(s)"
                )
                break
            out.append(line)
            named = 0
            for s in files:
                item = f"  - {code(s.path)}" + (f" ({_lines_of(s.lines)})" if s.lines else "")
                if not budget.take(item, path=True):
                    break
                out.append(item)
                named += 1
            if named < len(files):
                out.append(f"  - … and {len(files) - named:,} more")
        out.append("")
    return out + ["</details>", ""]


@dataclass
class _Budget:
    """What is left of the paths and characters the not-reviewed list may name."""

    paths: int
    chars: int

    def take(self, line: str, *, path: bool) -> bool:
        if len(line) + 1 > self.chars or (path and self.paths == 0):
            return False
        self.chars -= len(line) + 1
        if path:
            self.paths -= 1
        return True


def _lines(files: list[Skipped]) -> int:
    return sum(s.lines for s in files)


def _lines_of(lines: int) -> str:
    return "1 changed line" if lines == 1 else f"{lines:,} changed lines"


def _files_and_lines(files: int, lines: int) -> str:
    count = "1 file" if files == 1 else f"{files:,} files"
    return f"{count}, {_lines_of(lines)}" if lines else count


def source(finding: Finding) -> str:
    """Who found it: an agent ("bugs"), or an analyzer's rule linked to its documentation
    ("[ruff F821](https://docs.astral.sh/ruff/rules/undefined-name/) · bugs")."""
    docs = docs_of(finding.agent_type, finding.description)
    if docs is None:
        return text(finding.agent_type)
    first, _, rest = finding.agent_type.partition(SEPARATOR)
    linked = f"[{text(first)}]({docs})"
    return linked + (SEPARATOR + text(rest) if rest else "")


EVIDENCE_CHARS = 300  # the evidence line of an inline comment is cut here


def inline_body(finding: Finding, with_suggestion: bool) -> str:
    """One inline comment: severity, title, the evidence in a short line, the explanation, and
    the suggestion: a one-click block when `with_suggestion` (the finding's `offered`, and it
    fits the diff), else a plain code block the author may copy, or nothing when the verifier
    said it is wrong (a wrong fix is not worth the reader's time)."""
    parts = [
        f"{ICONS[finding.severity]} **{finding.severity}** · {text(finding.title)} "
        f"<sub>({source(finding)})</sub>"
    ]
    evidence = " ".join(finding.evidence.split())
    if evidence:
        if len(evidence) > EVIDENCE_CHARS:
            evidence = evidence[: EVIDENCE_CHARS - 1] + "…"
        parts.append(f"**Evidence:** {text(evidence)}")
    description = without_docs(finding.agent_type, finding.description)
    if description:
        parts.append(text(description, multiline=True))
    if finding.suggestion and finding.suggestion.strip() and finding.suggestion_kept is not False:
        if with_suggestion:
            parts.append(block(finding.suggestion, "suggestion"))
        else:
            parts.append("_A possible fix, to adapt: it was not checked to apply as it is._")
            parts.append(block(finding.suggestion))
    if finding.fingerprint:
        parts.append(f"<!-- second-look:finding {finding.fingerprint} -->")
    return "\n\n".join(parts)


def marked_fingerprint(body: str) -> str | None:
    """The finding an inline comment of ours is about (its last line's marker), or None."""
    found = _FINDING_MARKER.search(body)
    return found.group(1) if found else None


def state_block(*, paused_by: str | None = None, ignored_by: str | None = None) -> str:
    """The PR's state, between its markers: empty when reviews run as usual."""
    if ignored_by:
        line = (
            f"🚫 Second Look ignores this pull request ({code(ignored_by)} asked); "
            "`/second-look resume` reviews it again."
        )
    elif paused_by:
        line = (
            f"⏸️ Automatic reviews are paused ({code(paused_by)} asked); `/second-look "
            "resume` resumes them, `/second-look review` reviews once."
        )
    else:
        line = ""
    return f"{STATE_OPEN}{line}{STATE_CLOSE}"


def with_state(body: str, state: str) -> str:
    """`body` (our summary comment) with its state block replaced by `state`."""
    start, end = body.find(STATE_OPEN), body.find(STATE_CLOSE)
    if start != -1 and end > start:
        return body[:start] + state + body[end + len(STATE_CLOSE) :]
    # A comment written before the block existed: it goes under the heading.
    heading = "## Second Look review\n"
    at = body.find(heading)
    if at == -1:
        return f"{body.rstrip()}\n\n{state}\n"
    at += len(heading)
    return f"{body[:at]}\n{state}\n{body[at:]}"


def check_title(summary: Summary) -> str:
    """The check run's one-line title; a partial review's says so."""
    if summary.status == "failed":
        return plain("Review failed" + (f": {summary.error}" if summary.error else ""), 200)
    if summary.status == "skipped":
        return "Skipped"
    if summary.status == "queued":
        until = queued_until(summary)
        return "Queued" if until is None else f"Queued until {until:%H:%M} UTC"
    counts = Counter(f.severity for f in summary.findings)
    found = ", ".join(f"{counts[s]} {s}" for s in SEVERITIES if counts[s])
    if partial(summary):
        return f"Partial review: {found or 'no findings'}"
    return found or "No findings"
