"""Which of our review threads are resolved after a review (a dismissed finding's, a fixed
one's), and resolving them with a note when GitHub refuses."""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable

import gidgethub

from bot.errors import describe
from bot.github import threads
from bot.github.client import RetryingGitHubAPI
from bot.github.threads import Thread, Threads
from bot.review.findings import Finding

log = logging.getLogger(__name__)


def to_resolve(
    found: Threads,
    current: Iterable[Finding],
    reviewed: Collection[str],
    dismissed: Collection[str],
) -> list[Thread]:
    """The open threads to resolve now: a dismissed finding's, and a finding's that is gone
    from a file this review read, when GitHub says the lines it was on changed (outdated)."""
    now = {f.fingerprint for f in current if not f.dismissed_by}
    return [
        t
        for t in found.threads
        if not t.resolved
        and (
            t.fingerprint in dismissed
            or (t.fingerprint not in now and t.outdated and t.path in reviewed)
        )
    ]


# GitHub has been reported to refuse resolveReviewThread to an App without Contents: write
# (github/gh-aw#35726); app.yml asks for read only, so the summary says what it would take.
REFUSED = (
    "GitHub refused to resolve {count} thread(s) of fixed or dismissed findings: {why}. "
    "Granting the App Contents: write lets it resolve them."
)


async def resolve(
    gh: RetryingGitHubAPI, chosen: list[Thread], where: str
) -> tuple[set[str], str | None]:
    """Resolve the threads: the fingerprints resolved, and a note when GitHub refused."""
    if not chosen:
        return set(), None
    try:
        await threads.resolve(gh, [t.id for t in chosen])
    except gidgethub.GitHubException as exc:
        why = describe(exc)
        log.warning("%s: %d thread(s) not resolved: %s", where, len(chosen), why)
        return set(), REFUSED.format(count=len(chosen), why=why)
    return {t.fingerprint for t in chosen}, None
