"""Our inline threads at the start of a review and when the PR closes: the 👍/👎 on them
stored as feedback, a maintainer's 👎 taken as a dismissal. (Which threads a review resolves
is bot/publishing/resolution.py's.)"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import gidgethub

from bot.app import app_identity
from bot.app.conversation import access
from bot.app.services import Services
from bot.errors import describe
from bot.github import threads
from bot.github.client import RetryingGitHubAPI
from bot.github.threads import Threads
from bot.pull import Pull
from bot.store import feedback, pulls
from bot.store.findings_table import FindingRepo
from bot.store.reviews import Review

log = logging.getLogger(__name__)


@dataclass
class Synced:
    """Our threads as read, and the findings a 👎 in them dismissed now (fingerprint, who)."""

    found: Threads = field(default_factory=Threads)
    dismissed: list[tuple[str, str]] = field(default_factory=list)


async def sync(gh: RetryingGitHubAPI, services: Services, pull: Pull) -> Synced:
    """Read our threads (no call when nothing was ever posted inline on the PR), store the
    reactions (everyone's), and dismiss the findings whose 👎 came from someone with write
    access (`access.is_writer`)."""
    repo_findings = FindingRepo(services.pool)
    if not await repo_findings.posted_inline(pull):
        return Synced()
    off = app_identity.off(services.github.identity)
    if off is not None:  # which threads are ours is not known: none is read, none resolved
        log.warning("%s: our threads not read: %s", pull, off)
        return Synced()
    found = await threads.ours(gh, services.github.identity, pull)
    agents = await repo_findings.agents_of(pull, [t.fingerprint for t in found.threads])
    reactions = [
        feedback.Reactions(
            t.fingerprint,
            agents.get(t.fingerprint, "unknown"),
            len(t.thumbs_up),
            len(t.thumbs_down),
        )
        for t in found.threads
        if t.fingerprint in agents
    ]
    await feedback.store(services.pool, pull, reactions)
    already = await pulls.dismissed(services.pool, pull)
    writers: dict[str, bool] = {}
    dismissed: list[tuple[str, str]] = []
    for thread in found.threads:
        if thread.fingerprint in already or thread.fingerprint not in agents:
            continue
        for login in thread.thumbs_down:
            if login not in writers:
                writers[login] = await access.is_writer(services, gh, pull.repository, login)
            if writers[login]:
                await pulls.dismiss(services.pool, pull, thread.fingerprint, login, "reaction")
                log.info(
                    "%s: finding %s dismissed by %s's 👎", pull, thread.fingerprint[:12], login
                )
                dismissed.append((thread.fingerprint, login))
                break
    return Synced(found, dismissed)


async def at_start(gh: RetryingGitHubAPI, services: Services, review: Review) -> Threads:
    """Our threads as a review starts (`sync`); a failure leaves feedback for the next review."""
    try:
        synced = await sync(gh, services, review.pull)
    except gidgethub.GitHubException as exc:
        log.warning("review %s: our threads not read: %s", review.id, describe(exc))
        return Threads()
    return synced.found
