"""No check run is left spinning: those of a PR's superseded or stopped reviews, completed as
cancelled (by the PR's next review as it starts, or when the PR closes)."""

from __future__ import annotations

import logging

import asyncpg
import gidgethub

from bot.github import checks
from bot.github.client import RetryingGitHubAPI, describe
from bot.store import reviews

log = logging.getLogger(__name__)


async def close_stopped_checks(
    gh: RetryingGitHubAPI, pool: asyncpg.Pool, owner: str, repo: str, number: int
) -> None:
    """Complete as cancelled the check runs the PR's superseded or stopped reviews left open."""
    for stale in await reviews.open_checks(pool, owner, repo, number):
        try:
            await checks.cancel(gh, owner, repo, stale.check_run_id, stale.newer_head_sha,
                                stale.stopped)  # fmt: skip
        except gidgethub.GitHubException as exc:  # left for the PR's next review to retry
            log.warning("%s/%s#%d: check run %s of review %s not closed: %s", owner, repo,
                        number, stale.check_run_id, stale.review_id, describe(exc))  # fmt: skip
            continue
        await reviews.set_fields(pool, stale.review_id, check_run_done=True)
