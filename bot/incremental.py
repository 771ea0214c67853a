"""Incremental reviews: what changed since the last completed review, what carries forward."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace

from bot.review.changes import Diff
from bot.review.findings import Finding, check
from bot.review.walkthrough import Walkthrough

log = logging.getLogger(__name__)


@dataclass
class Plan:
    """Which files the agents read, and what the last completed review left behind."""

    files: list[str]
    incremental: bool = False
    carried: list[Finding] = field(default_factory=list)  # on files unchanged since then
    previous: list[Finding] = field(default_factory=list)  # all of the last review's findings
    walkthrough: Walkthrough | None = None  # the last review's, when this one is incremental
    since: str = ""  # the last review's head, when this one is incremental
    changed: frozenset[str] = frozenset()  # files changed since it, when incremental


@dataclass
class Prior:
    """The last completed review of the PR, and which files changed since its head (None:
    review everything: no such review, a force-push or rebase, an edit, or it was partial)."""

    previous: list[Finding] = field(default_factory=list)
    changed: set[str] | None = None
    since: str = ""  # the last review's head
    last_id: uuid.UUID | None = None
    walkthrough: Walkthrough | None = None  # the last review's walkthrough, when known

    def wanted(self, path: str) -> bool:
        """Whether the agents read the file in this review."""
        return self.changed is None or path in self.changed

    def keep(self, path: str) -> bool:
        """Whether an unchanged file is kept: it has findings to carry forward."""
        return any(f.file_path == path for f in self.previous)


Compare = Callable[[str, str], Awaitable[set[str] | None]]  # base, head -> files changed


async def following(
    previous: list[Finding],
    last_head: str,
    head: str,
    compare: Compare,
    *,
    push: bool,
    partial: bool,
    last_id: uuid.UUID | None = None,
    label: str = "review",
    walkthrough: Walkthrough | None = None,
) -> Prior:
    """What a review that follows one of `last_head` reads: only the files changed since when
    it is a push onto that head (an ancestor) and that review was not partial; else all."""
    if not push or last_head == head:
        return Prior(previous)
    if partial:
        log.info("%s: the last review was partial; full review", label)
        return Prior(previous)
    changed = await compare(last_head, head)
    if changed is None:
        log.info("%s: %s is not an ancestor of %s; full review", label, last_head[:12], head[:12])
        return Prior(previous)
    return Prior(previous, set(changed), last_head, last_id, walkthrough)


def plan(
    prior: Prior, diff: Diff, sent: list[str], agents: tuple[str, ...], *, label: str = ""
) -> Plan:
    """The files sent (chosen by the selection) and what carries forward from the last review."""
    if prior.changed is None:
        return Plan(sent, previous=prior.previous)
    carried = [
        replace(f, carried_from=f.carried_from or prior.last_id)
        for f in prior.previous
        if f.file_path not in prior.changed and f.agent_type.split(" ", 1)[0] in agents
    ]
    # The file is the same as when it was reviewed, but check the lines against today's diff.
    carried = check(carried, diff).findings
    log.info(
        "%s: incremental, %d file(s) changed since %s",
        label or "review",
        len(sent),
        prior.since[:12],
    )
    return Plan(
        sent,
        incremental=True,
        carried=carried,
        previous=prior.previous,
        walkthrough=prior.walkthrough,
        since=prior.since,
        changed=frozenset(prior.changed),
    )


def resolved(previous: list[Finding], current: list[Finding]) -> list[Finding]:
    """The last review's findings whose fingerprint is gone now."""
    now = {f.fingerprint for f in current}
    gone: dict[str, Finding] = {}
    for finding in previous:
        if finding.fingerprint not in now:
            gone.setdefault(finding.fingerprint, finding)
    return list(gone.values())
