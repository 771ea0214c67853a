"""No check run is left spinning: those of a PR's superseded or stopped reviews, completed as
cancelled (by the PR's next review as it starts, or when the PR closes)."""

from __future__ import annotations

import logging

import asyncpg
import gidgethub

from bot.errors import describe
from bot.github import checks
from bot.github.client import RetryingGitHubAPI
from bot.pull import Pull
from bot.store import publications, reviews
from bot.store.publications import Action, Publication, Target

log = logging.getLogger(__name__)


async def close_stopped_checks(gh: RetryingGitHubAPI, pool: asyncpg.Pool, pull: Pull) -> None:
    """Complete as cancelled the check runs the PR's superseded or stopped reviews left open."""
    for stale in await reviews.open_checks(pool, pull):
        if stale.stopped:
            shows = f"completed (cancelled): stopped, {stale.stopped}"
        else:
            newer = f" of {stale.newer_head_sha[:12]}" if stale.newer_head_sha else ""
            shows = f"completed (cancelled): superseded by the review{newer}"
        try:
            await checks.cancel(
                gh, pull.repository, stale.check_run_id, stale.newer_head_sha, stale.stopped
            )
        except gidgethub.GitHubException as exc:  # left for the PR's next review to retry
            why = describe(exc)
            log.warning(
                "%s: check run %s of review %s not closed: %s",
                pull,
                stale.check_run_id,
                stale.review_id,
                why,
            )
            failed = Publication(Target.CHECK, Action.FAILED, shows, stale.check_run_id, why)
            await publications.record(pool, stale.review_id, failed)
            continue
        closed = Publication(Target.CHECK, Action.UPDATED, shows, stale.check_run_id)
        await reviews.set_fields(pool, stale.review_id, [closed], check_run_done=True)
