"""Findings: checked against the diff, merged across agents, ordered by severity."""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from bot.review.agents import SEVERITIES, ModelFinding, map_severity, severity_note
from bot.review.analyzers.registry import SEPARATOR, kin_of, tool_of
from bot.review.changes import ChangedFile, Diff
from bot.review.scopes import language_of, parses

SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}  # critical = 0


@dataclass(frozen=True)
class Finding:
    agent_type: str
    severity: str
    file_path: str
    line_start: int | None  # None: about the file, not a line of the diff
    line_end: int | None
    title: str
    description: str
    suggestion: str | None = None
    fingerprint: str = ""
    carried_from: uuid.UUID | None = None  # the review that found it, if carried forward
    # The verification pass: None when the finding was not verified (off, failed, skipped).
    verdict: str | None = None  # "kept" | "dropped"
    confidence: float | None = None  # 0 to 1
    verify_reason: str | None = None
    withheld: bool = False  # dropped or under min_confidence: stored, not posted, not failing
    dismissed_by: str | None = None  # a maintainer said it is wrong: not posted, not failing
    evidence: str = ""  # the lines involved and why the change breaks them (the agent's words)
    model_confidence: float | None = None  # the agent's own, 0 to 1: the verifier reads it
    suggestion_kept: bool | None = None  # the verifier's word on the suggestion; None: not asked
    offered: bool = False  # the suggestion is a one-click block: kept, and the file parses

    @property
    def rank(self) -> int:
        return SEVERITY_RANK[self.severity]

    @property
    def silenced(self) -> bool:
        """Withheld by verification or dismissed: listed apart, never inline, never failing."""
        return self.withheld or self.dismissed_by is not None

    @classmethod
    def from_mapping(cls, row: Mapping[str, Any]) -> Finding:
        """Rebuild a stored finding (a row of the findings table)."""
        return cls(**{name: row[name] for name in cls.__dataclass_fields__})


@dataclass
class Checked:
    """The findings kept, and what checking them against the diff did."""

    findings: list[Finding]
    dropped: int = 0  # on a file that is not in the diff
    moved: int = 0  # lines not on the new side of a hunk: kept as file-level findings
    merged: int = 0  # the same finding from two agents
    untouched: int = 0  # only on unchanged lines, and the evidence names no changed one


def from_model(agent: str, item: ModelFinding) -> Finding:
    start, end = sorted((item.line_start, item.line_end))
    suggestion = item.suggestion if item.suggestion and item.suggestion.strip() else None
    description = item.description.strip()
    note = severity_note(item.severity)
    if note:
        description = f"{description}\n\n{note}" if description else note
    confidence = item.confidence
    if confidence is not None and not 0 <= confidence <= 1:  # NaN too
        confidence = None
    return Finding(
        evidence=" ".join(item.evidence.split())[:1000],
        model_confidence=round(confidence, 3) if confidence is not None else None,
        agent_type=agent,
        severity=map_severity(item.severity),
        file_path=item.file_path.strip().removeprefix("b/").removeprefix("./"),
        line_start=start,
        line_end=end,
        title=item.title.strip()[:200] or "(untitled)",
        description=description,
        suggestion=suggestion,
    )


def normalize_title(title: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", title.lower()).split())


def check(
    findings: list[Finding],
    diff: Diff,
    min_confidence: float = 0.5,
    texts: Mapping[str, str] | None = None,
) -> Checked:
    """Drop findings on files not in the diff, and agents' findings on unchanged lines whose
    evidence names no changed line; move off-diff lines to file level; merge twins; withhold
    what verification dropped or rated under `min_confidence`; offer a suggestion as a
    one-click block only where it may be (`offerable`, over the head `texts` of the files)."""
    result = Checked(findings=[])
    for finding in findings:
        changed = diff.file(finding.file_path)
        if changed is None:
            result.dropped += 1
            continue
        if off_the_change(finding, diff):
            result.untouched += 1
            continue
        start, end = finding.line_start, finding.line_end
        if start is not None and end is not None and not changed.in_one_hunk(start, end):
            where = f"line {start}" if start == end else f"lines {start}-{end}"
            finding = replace(
                finding,
                line_start=None,
                line_end=None,
                suggestion=None,
                description=f"(Reported at {where}, which is not a changed part of the diff.) "
                + finding.description,
            )
            result.moved += 1
        code = _code(diff, finding)
        result.findings.append(replace(finding, fingerprint=fingerprint(finding, code)))
    result.findings, result.merged = merge(result.findings)
    result.findings = hold_back(result.findings, min_confidence)
    result.findings = [
        replace(f, offered=offerable(f, diff, (texts or {}).get(f.file_path)))
        for f in result.findings
    ]
    result.findings.sort(key=lambda f: (f.rank, f.file_path, f.line_start or 0))
    return result


def merge(findings: list[Finding]) -> tuple[list[Finding], int]:
    """One finding per (file, overlapping lines, same problem); the most severe wins. Two
    agents' findings are about the same problem when their normalized titles are equal, or,
    from two different agents on lines, when their titles and evidence are `similar`.

    An analyzer's finding and an agent's on overlapping lines of the same file are one finding
    when the agent is the analyzer rule's kin (bugs for ruff's pyflakes and bugbear rules,
    security or bugs for its shell rules, security for secrets): the analyzer's stays, with
    its rule and fingerprint, names both sources ("ruff F821 · bugs") and takes the agent's
    suggestion."""
    kept: list[Finding] = []
    merged = 0
    for finding in sorted(findings, key=lambda f: (tool_of(f.agent_type) is None, f.rank)):
        twin = next((k for k in kept if _same(k, finding)), None)
        if twin is None:
            kept.append(finding)
            continue
        merged += 1
        index = kept.index(twin)
        if tool_of(twin.agent_type) is not None and tool_of(finding.agent_type) is None:
            kept[index] = _joined(twin, finding)
        elif finding.agent_type != twin.agent_type:
            kept[index] = replace(
                twin,
                description=twin.description
                + f"\n\n(Also reported by the {finding.agent_type} agent.)",
                **_suggestion_of(twin, finding),
            )
    return kept, merged


def _joined(found: Finding, agent: Finding) -> Finding:
    """An analyzer's finding that an agent also reported: both named, the worse severity."""
    sources = found.agent_type.split(SEPARATOR)
    if agent.agent_type in sources:
        return found
    severity = min(found.severity, agent.severity, key=SEVERITY_RANK.__getitem__)
    named = SEPARATOR.join((*sources, agent.agent_type))
    if tool_of(found.agent_type) == "secrets":  # the model's words may quote the secret
        return replace(found, agent_type=named, severity=severity)
    return replace(
        found,
        agent_type=named,
        severity=severity,
        description=found.description
        + f"\n\n(Also found by the {agent.agent_type} agent: {agent.title})",
        **_suggestion_of(found, agent),
    )


def _suggestion_of(kept: Finding, other: Finding) -> dict[str, Any]:
    """The merged finding's suggestion: the kept one's, else the other's, with the verifier's
    word on that one."""
    source = kept if kept.suggestion else other
    return {"suggestion": source.suggestion, "suggestion_kept": source.suggestion_kept}


def _same(a: Finding, b: Finding) -> bool:
    if a.file_path != b.file_path:
        return False
    kin_a, kin_b = kin_of(a.agent_type), kin_of(b.agent_type)
    if (kin_a is None) == (kin_b is None):  # two agents' findings, or two analyzers'
        if normalize_title(a.title) != normalize_title(b.title) and not (
            kin_a is None and a.agent_type != b.agent_type and similar(a, b)
        ):
            return False
    elif (b.agent_type if kin_b is None else a.agent_type) not in (kin_a or kin_b or ()):
        return False
    if a.line_start is None or b.line_start is None:
        return a.line_start is None and b.line_start is None
    assert a.line_end is not None and b.line_end is not None
    return a.line_start <= b.line_end and b.line_start <= a.line_end


# Words that say nothing of which problem a finding is about.
_STOP = frozenset(
    "a an the of to in on at for by with without and or is are be it its this that from as "
    "into then not no never may can after before once per each every line lines".split()
)
# Two agents' findings on overlapping lines are one problem from this similarity of their
# titles and evidence up. Chosen on tests/data/duplicate_findings.json (13 pairs of one
# problem worded differently by two agents, 9 near-misses: same lines, another problem): the
# near-misses score at most 0.19, the duplicates 0.25 and above but one (0.10, "eval of user
# input" / "eval() on untrusted user_input"); 0.22 sits in the gap. A missed merge costs a
# second comment; a false one loses a finding, so the line stays above every near-miss. On real
# AI review tools' comments from the Martian benchmark (tests/data/real_duplicate_comments.json,
# without lines), it merges 52% of two tools' comments on one issue and 3% of those on two.
SIMILAR = 0.22


def words(text: str) -> frozenset[str]:
    """The words of a title or evidence that say what it is about: lower case, identifiers
    whole, numbers and filler words out, a plural or tense ending cut."""
    out: set[str] = set()
    for word in re.findall(r"[a-z0-9_]+", text.lower()):
        if word in _STOP or word.isdigit():
            continue
        for ending in ("ing", "ed", "es", "s"):
            if len(word) > 4 and word.endswith(ending):
                word = word[: -len(ending)]
                break
        out.add(word)
    return frozenset(out)


def similarity(a: Finding, b: Finding) -> float:
    """Token Jaccard of the two findings' title and evidence (0 to 1)."""
    first, second = words(f"{a.title} {a.evidence}"), words(f"{b.title} {b.evidence}")
    either = first | second
    return len(first & second) / len(either) if either else 0.0


def similar(a: Finding, b: Finding) -> bool:
    """Both on lines (a file-level finding has no lines to share), both with evidence (the
    rule was chosen on titles and evidence together), and `similarity` at least SIMILAR."""
    if a.line_start is None or b.line_start is None or not (a.evidence and b.evidence):
        return False
    return similarity(a, b) >= SIMILAR


_NUMBER = re.compile(r"(?<![\w.])(\d+)(?:\s*(?:-|\.\.)\s*(\d+))?(?![\w.])")
_QUOTED_CHARS = 6  # a changed line's code counts as quoted from this long ("b = 20")


def off_the_change(finding: Finding, diff: Diff) -> bool:
    """An agent's finding `check` drops as `untouched` (an analyzer's is about the lines its
    tool read, never dropped so); the supervisor does not ask the verifier about it."""
    changed = diff.file(finding.file_path)
    return (
        changed is not None and tool_of(finding.agent_type) is None and untouched(finding, changed)
    )


def untouched(finding: Finding, changed: ChangedFile) -> bool:
    """True when the finding's lines are all unchanged context lines of one hunk that adds
    lines, and its evidence names none of that hunk's added lines (by number, or by quoting
    its code). A hunk that only deletes has no added line to name: the lines around a
    deletion are where a finding about it sits, so they are never untouched."""
    start, end = finding.line_start, finding.line_end
    if start is None or end is None or not changed.in_one_hunk(start, end):
        return False
    if any(n in changed.added for n in range(start, end + 1)):
        return False
    hunk = changed.hunk_of(start)
    assert hunk is not None
    added = [(n, text) for kind, n, text in hunk.lines if kind == "+" and n is not None]
    if not added:
        return False
    numbers: set[int] = set()
    for match in _NUMBER.finditer(finding.evidence):
        low = int(match.group(1))
        high = int(match.group(2) or low)
        if high - low <= 200:
            numbers.update(range(low, high + 1))
    evidence = " ".join(finding.evidence.split())
    for number, text in added:
        code = " ".join(text.split())
        if number in numbers or (len(code) >= _QUOTED_CHARS and code in evidence):
            return False
    return True


def offerable(finding: Finding, diff: Diff, text: str | None) -> bool:
    """True when the suggestion may be a one-click block: the verifier kept it, it replaces
    exactly the flagged lines (`suggestion_fits`), and, for a language we parse, the file at
    the head (`text`, as the review read it) still parses with it applied. Unknown head text
    of a language we parse: not offered."""
    if finding.suggestion is None or finding.suggestion_kept is not True or finding.silenced:
        return False
    if not suggestion_fits(finding, diff):
        return False
    if language_of(finding.file_path) is None:
        return True
    if text is None or finding.line_start is None:
        return False
    lines = text.split("\n")
    start, end = finding.line_start, finding.line_end or finding.line_start
    changed = diff.file(finding.file_path)
    assert changed is not None
    if end > len(lines) or any(
        lines[n - 1] != changed.new_text.get(n) for n in range(start, end + 1)
    ):
        return False  # the head text is not the diff's: nothing to apply it to
    replacement = finding.suggestion.rstrip("\n").split("\n")
    applied = "\n".join(lines[: start - 1] + replacement + lines[end:])
    return parses(finding.file_path, applied) is True


def _code(diff: Diff, finding: Finding) -> str:
    changed = diff.file(finding.file_path)
    if changed is None or finding.line_start is None or finding.line_end is None:
        return ""
    lines = (changed.new_text.get(n, "") for n in range(finding.line_start, finding.line_end + 1))
    return "\n".join(" ".join(line.split()) for line in lines)


def fingerprint(finding: Finding, code: str) -> str:
    """Identity across pushes: file, agent, title and the flagged code, not the line number."""
    key = "\0".join((finding.file_path, finding.agent_type, normalize_title(finding.title), code))
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def reaches(finding: Finding, fail_on: str) -> bool:
    """True when the finding fails the check: at least as severe as `fail_on` ("never" never
    is), and neither withheld by verification nor dismissed."""
    return (
        not finding.silenced and fail_on in SEVERITY_RANK and finding.rank <= SEVERITY_RANK[fail_on]
    )


def suggestion_fits(finding: Finding, diff: Diff) -> bool:
    """True when the replacement is for exactly the flagged lines, all on the new side.

    A replacement that repeats the line above or below the range, or leaves the lines as
    they are, would do harm or nothing if applied, so it is not offered as a suggestion.
    """
    changed = diff.file(finding.file_path)
    if finding.suggestion is None or changed is None or finding.line_start is None:
        return False
    start, end = finding.line_start, finding.line_end or finding.line_start
    if not changed.in_one_hunk(start, end):
        return False
    replacement = finding.suggestion.rstrip("\n").split("\n")
    current = [changed.new_text[n] for n in range(start, end + 1)]
    if replacement == current:
        return False
    before, after = changed.new_text.get(start - 1), changed.new_text.get(end + 1)
    if before is not None and replacement[0].strip() and replacement[0] == before:
        return False
    return not (after is not None and replacement[-1].strip() and replacement[-1] == after)


def hold_back(findings: list[Finding], min_confidence: float) -> list[Finding]:
    """Mark withheld what verification dropped or doubted (confidence under the minimum).
    An analyzer's finding is never withheld: a rule saw it, the verifier only weighs it."""
    return [
        replace(
            f,
            withheld=tool_of(f.agent_type) is None
            and (
                f.verdict == "dropped"
                or (f.confidence is not None and f.confidence < min_confidence)
            ),
        )
        for f in findings
    ]


def dismiss(findings: list[Finding], dismissed: Mapping[str, str]) -> list[Finding]:
    """Mark the findings maintainers dismissed on this PR (fingerprint -> who)."""
    return [
        replace(f, dismissed_by=dismissed[f.fingerprint]) if f.fingerprint in dismissed else f
        for f in findings
    ]


def inline_candidates(
    findings: list[Finding], limit: int, min_severity: str = "info"
) -> list[Finding]:
    """The findings to comment inline: on diff lines, not silenced, at least `min_severity`,
    most severe first, at most `limit`."""
    floor = SEVERITY_RANK[min_severity]
    on_lines = [
        f for f in findings if f.line_start is not None and not f.silenced and f.rank <= floor
    ]
    return sorted(on_lines, key=lambda f: (f.rank, f.file_path, f.line_start))[:limit]
