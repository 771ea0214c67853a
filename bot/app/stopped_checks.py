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
from bot.store import reviews

log = logging.getLogger(__name__)


async def close_stopped_checks(gh: RetryingGitHubAPI, pool: asyncpg.Pool, pull: Pull) -> None:
    """Complete as cancelled the check runs the PR's superseded or stopped reviews left open."""
    for stale in await reviews.open_checks(pool, pull):
        try:
            await checks.cancel(
                gh, pull.repository, stale.check_run_id, stale.newer_head_sha, stale.stopped
            )
        except gidgethub.GitHubException as exc:  # left for the PR's next review to retry
            log.warning(
                "%s: check run %s of review %s not closed: %s",
                pull,
                stale.check_run_id,
                stale.review_id,
                describe(exc),
            )
            continue
        await reviews.set_fields(pool, stale.review_id, check_run_done=True)
