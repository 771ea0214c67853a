"""Which posted findings are the expected ones: the same place and the same issue, one to one.

A finding matches an expected finding when it is on the same path, its lines overlap the
expected lines give or take NEAR, and it is about the same issue. Who decides "the same issue"
is pluggable: a `Judge` (a model reading both sentences, bot/tools/judge.py), or without one the
kind rule below. Each finding matches at most one expected finding and the reverse; of all such
pairings the largest is taken (a maximum bipartite matching), so the order the agents reported
in changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from bot.review.findings import Finding
from bot.tools.eval_cases import Expected
from bot.tools.judge import candidate

NEAR = 3  # a finding's lines may miss the expected lines by this many and still match

# What kind of problem each agent reports: the labels' kinds (`bug`, `style`).
AGENT_KINDS = {"security": "bug", "bugs": "bug", "performance": "bug", "style": "style"}


class Judge(Protocol):
    """Decides whether a finding (title and description) names the same underlying issue as an
    expected finding's `what`."""

    async def same_issue(self, candidate: str, golden: str) -> bool: ...


def same_kind(finding: Finding, expected_kind: str) -> bool:
    """The rule without a judge: the finding's kind agrees with the case's.

    Why this and not words: at lines that a case was built around (one defect, labelled with its
    lines), a finding of the right kind within NEAR lines is about that defect far more often than
    not, while the words of a correct finding vary freely (substrings matched the prompts' own
    vocabulary, not the issue, and missed a correct finding worded otherwise). What the rule
    cannot tell apart, and so counts as a match, is a different bug of the same kind on the same
    lines: rare in cases with one defect each. What it refuses is what matters most for
    precision: a style remark on a bug's lines is not the bug, a bug claimed on a style case's
    lines is not the style issue. An agent without a known kind matches nothing. A judge decides
    by meaning instead (`eval --judge`).
    """
    return AGENT_KINDS.get(finding.agent_type) == expected_kind


def near(finding: Finding, expected: Expected) -> bool:
    """Same path, and the lines overlap give or take NEAR (a finding about a whole file never)."""
    if finding.file_path != expected.path:
        return False
    if finding.line_start is None or finding.line_end is None:
        return False
    return (
        finding.line_start - NEAR <= expected.line_end
        and expected.line_start - NEAR <= finding.line_end
    )


@dataclass(frozen=True)
class Matched:
    """One case's matching: how many findings and expected findings, and the pairs."""

    findings: int
    expected: int
    pairs: tuple[tuple[int, int], ...]  # (finding index, expected index)

    @property
    def right(self) -> int:
        return len(self.pairs)


async def match(
    findings: Sequence[Finding],
    expected: Sequence[Expected],
    kind: str,
    judge: Judge | None = None,
    *,
    by_line: bool = True,
) -> Matched:
    """The largest one-to-one pairing of `findings` with `expected` (of a case of `kind`) where
    each pair is at the same place (`by_line` False: the same file) and about the same issue."""
    edges: list[list[int]] = []
    for finding in findings:
        fits = []
        for index, wanted in enumerate(expected):
            placed = near(finding, wanted) if by_line else finding.file_path == wanted.path
            if placed and await _same_issue(finding, wanted, kind, judge):
                fits.append(index)
        edges.append(fits)
    return Matched(len(findings), len(expected), tuple(sorted(maximum_matching(edges))))


async def _same_issue(finding: Finding, wanted: Expected, kind: str, judge: Judge | None) -> bool:
    if judge is None:
        return same_kind(finding, kind)
    return await judge.same_issue(candidate(finding), wanted.what)


def maximum_matching(edges: Sequence[Sequence[int]]) -> list[tuple[int, int]]:
    """A maximum matching of a bipartite graph: `edges[left]` lists the right nodes `left` may
    pair with. Augmenting paths (Kuhn's algorithm): a case has a handful of findings."""
    owner: dict[int, int] = {}  # right -> left

    def augment(left: int, seen: set[int]) -> bool:
        for right in edges[left]:
            if right in seen:
                continue
            seen.add(right)
            if right not in owner or augment(owner[right], seen):
                owner[right] = left
                return True
        return False

    for left in range(len(edges)):
        augment(left, set())
    return [(left, right) for right, left in owner.items()]
