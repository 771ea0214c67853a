"""Incremental reviews: what changed since the last completed review, what carries forward."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace

from bot.github.compare import changed_since
from bot.review.changes import Diff
from bot.review.findings import Finding, check
from bot.services import Services
from bot.store import reviews
from bot.store.findings import FindingRepo
from bot.store.reviews import Review

log = logging.getLogger(__name__)


@dataclass
class Plan:
    """Which files the agents read, and what the last completed review left behind."""

    files: list[str]
    incremental: bool = False
    carried: list[Finding] = field(default_factory=list)  # on files unchanged since then
    previous: list[Finding] = field(default_factory=list)  # all of the last review's findings


async def plan(review: Review, diff: Diff, services: Services, agents: tuple[str, ...]) -> Plan:
    """Review only the files changed since the last completed review when that head is an
    ancestor of this one (a plain push); after a force-push or rebase, review everything."""
    last = await reviews.last_completed(
        services.pool, review.owner, review.repo, review.pr_number, before=review.id
    )
    if last is None:
        return Plan(diff.paths)
    previous = [
        Finding.from_mapping(row) for row in await FindingRepo(services.pool).for_review(last.id)
    ]
    if review.trigger != "synchronize" or last.head_sha == review.head_sha:
        return Plan(diff.paths, previous=previous)
    changed = await changed_since(
        services.github, review.installation_id, review.owner, review.repo,
        last.head_sha, review.head_sha,
    )  # fmt: skip
    if changed is None:
        log.info("review %s: %s is not an ancestor of %s; full review", review.id,
                 last.head_sha[:12], review.head_sha[:12])  # fmt: skip
        return Plan(diff.paths, previous=previous)
    unchanged = set(diff.paths) - changed
    carried = [
        replace(f, carried_from=f.carried_from or last.id)
        for f in previous
        if f.file_path in unchanged and f.agent_type in agents
    ]
    # The file is the same as when it was reviewed, but check the lines against today's diff.
    carried = check(carried, diff).findings
    files = [path for path in diff.paths if path in changed]
    log.info("review %s: incremental, %d of %d file(s) changed since %s", review.id, len(files),
             len(diff.paths), last.head_sha[:12])  # fmt: skip
    return Plan(files, incremental=True, carried=carried, previous=previous)


def resolved(previous: list[Finding], current: list[Finding]) -> list[Finding]:
    """The last review's findings whose fingerprint is gone now."""
    now = {f.fingerprint for f in current}
    gone: dict[str, Finding] = {}
    for finding in previous:
        if finding.fingerprint not in now:
            gone.setdefault(finding.fingerprint, finding)
    return list(gone.values())
