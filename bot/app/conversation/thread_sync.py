"""Our inline threads at the start of a review and when the PR closes: the 👍/👎 on them
stored as feedback, a maintainer's 👎 taken as a dismissal; after a review, the threads of
findings that were fixed (or dismissed) resolved."""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

import gidgethub

from bot.app.conversation import access
from bot.app.services import Services
from bot.github import threads
from bot.github.client import RetryingGitHubAPI, describe
from bot.github.threads import Thread, Threads
from bot.review.findings import Finding
from bot.store import feedback, pulls
from bot.store.findings_table import FindingRepo

log = logging.getLogger(__name__)


@dataclass
class Synced:
    """Our threads as read, and the findings a 👎 in them dismissed now (fingerprint, who)."""

    found: Threads = field(default_factory=Threads)
    dismissed: list[tuple[str, str]] = field(default_factory=list)


async def sync(
    gh: RetryingGitHubAPI, services: Services, installation_id: int, owner: str, repo: str,
    number: int,
) -> Synced:  # fmt: skip
    """Read our threads (no call when nothing was ever posted inline on the PR), store the
    reactions (everyone's), and dismiss the findings whose 👎 came from someone with write
    access (`access.is_writer`)."""
    repo_findings = FindingRepo(services.pool)
    if not await repo_findings.posted_inline(owner, repo, number):
        return Synced()
    found = await threads.ours(gh, services.github.identity, owner, repo, number)
    agents = await repo_findings.agents_of(owner, repo, number,
                                           [t.fingerprint for t in found.threads])  # fmt: skip
    await feedback.store(services.pool, owner, repo, number, [
        feedback.Reactions(t.fingerprint, agents.get(t.fingerprint, "unknown"),
                           len(t.thumbs_up), len(t.thumbs_down))
        for t in found.threads if t.fingerprint in agents
    ])  # fmt: skip
    already = await pulls.dismissed(services.pool, owner, repo, number)
    writers: dict[str, bool] = {}
    dismissed: list[tuple[str, str]] = []
    for thread in found.threads:
        if thread.fingerprint in already or thread.fingerprint not in agents:
            continue
        for login in thread.thumbs_down:
            if login not in writers:
                writers[login] = await access.is_writer(services, gh, installation_id, owner,
                                                        repo, login)  # fmt: skip
            if writers[login]:
                await pulls.dismiss(services.pool, owner, repo, number, thread.fingerprint,
                                    login, "reaction")  # fmt: skip
                log.info("%s/%s#%d: finding %s dismissed by %s's 👎", owner, repo, number,
                         thread.fingerprint[:12], login)  # fmt: skip
                dismissed.append((thread.fingerprint, login))
                break
    return Synced(found, dismissed)


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
        t for t in found.threads
        if not t.resolved and (
            t.fingerprint in dismissed
            or (t.fingerprint not in now and t.outdated and t.path in reviewed)
        )
    ]  # fmt: skip


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
