"""A PR closed (its review stopped, its reactions read one last time) and an installation
created, removed, suspended or changed; who has access changed."""

from __future__ import annotations

import logging
from typing import ClassVar

from bot.app.conversation import access, thread_sync
from bot.app.conversation.context import Context, JobPayload
from bot.app.stopped_checks import close_stopped_checks
from bot.store import installations, reviews
from bot.store.findings_table import FindingRepo
from bot.store.installations import InstallationStatus
from bot.store.jobs import Kind

log = logging.getLogger(__name__)

CLOSED = "the pull request was closed"
STATUS_OF = {
    "created": InstallationStatus.ACTIVE,
    "unsuspend": InstallationStatus.ACTIVE,
    "new_permissions_accepted": InstallationStatus.ACTIVE,
    "suspend": InstallationStatus.SUSPENDED,
    "deleted": InstallationStatus.DELETED,
}


class ClosedJob(JobPayload):
    """A PR closed: the job names it; nothing more to hold."""

    kind: ClassVar[Kind] = Kind.CLOSED


class InstallationJob(JobPayload):
    """An installation created, removed, (un)suspended, or its repositories changed."""

    kind: ClassVar[Kind] = Kind.INSTALLATION
    event: str  # installation | installation_repositories
    action: str
    account: str | None = None  # the account it is installed on (installation events)
    added: list[str] = []  # repositories, "owner/name"
    removed: list[str] = []


class AccessJob(JobPayload):
    """A member, team or organization event: what was known of access there is stale."""

    kind: ClassVar[Kind] = Kind.ACCESS
    event: str
    action: str
    repository: tuple[str, str] | None = None  # (owner, name); None: every repository
    who: str | None = None  # the login; None: everyone


async def closed(ctx: Context[ClosedJob]) -> str:
    """Stop the PR's review, close its check run, and read the reactions on our comments."""
    pull, pool = ctx.pull, ctx.services.pool
    stopped = await ctx.stop_reviews(CLOSED)
    open_checks = await reviews.open_checks(pool, pull)
    if not open_checks and not await FindingRepo(pool).posted_inline(pull):
        return f"{stopped} review(s) stopped"  # nothing on GitHub to close or read: no call
    gh = await ctx.gh()
    await close_stopped_checks(gh, pool, pull)
    synced = await thread_sync.sync(gh, ctx.services, pull)
    return f"{stopped} review(s) stopped, {len(synced.found.threads)} thread(s) read"


async def installation(ctx: Context[InstallationJob]) -> str:
    """Record the installation's status and repositories; forget a removed one's token."""
    job, pool, payload = ctx.job, ctx.services.pool, ctx.payload
    action = payload.action
    await access.forget(ctx.services, job.installation_id)  # its permissions may differ now
    if payload.event == "installation_repositories":
        added, removed = payload.added, payload.removed
        await installations.change_repositories(pool, job.installation_id, added, removed)
        return f"{len(added)} repositories added, {len(removed)} removed"
    status = STATUS_OF.get(action)
    if status is None:
        return f"nothing to record for {action}"
    await installations.record(pool, job.installation_id, status, payload.account)
    if action == "created":
        await installations.change_repositories(pool, job.installation_id, payload.added, [])
    if status is not InstallationStatus.ACTIVE:
        ctx.services.github.forget(job.installation_id)
    log.info("installation %s is %s", job.installation_id, status)
    return str(status)


async def access_changed(ctx: Context[AccessJob]) -> str:
    """A member, team or organization event: forget what we knew of who may steer."""
    payload = ctx.payload
    dropped = await access.forget(
        ctx.services, ctx.job.installation_id, payload.repository, payload.who
    )
    return f"{dropped} permission(s) forgotten ({payload.event} {payload.action})"
