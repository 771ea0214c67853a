"""`review OWNER/REPO#N` with the App: one PR's current head reviewed in this process and
published, as `serve` would (a manual review), the result printed."""

from __future__ import annotations

import asyncio
import sys
import uuid

import gidgethub

from bot.app.serve import check_private_key, secrets_of
from bot.app.services import Services
from bot.app.worker import process_review
from bot.config import Settings, load_settings
from bot.errors import describe
from bot.github import sources
from bot.logs import setup_logging
from bot.pull import Pull
from bot.review.findings import Finding
from bot.standalone import local
from bot.standalone.cli import parse_pull
from bot.store import queue, reviews
from bot.store.findings_table import FindingRepo


def run(pull: str, fail_on: str | None) -> int:
    """The exit status of `review_once`, with the App's settings (its key checked first)."""
    settings = load_settings()
    check_private_key(settings.github_private_key, settings.github_private_key_source)
    return asyncio.run(review_once(settings, pull, fail_on))


async def review_once(settings: Settings, pull: str, fail_on: str | None = None) -> int:
    """Review one PR's current head in this process, publish it, print the result; the exit
    status as `review --diff` has it (FOUND by --fail-on, else the repository's fail_on)."""
    parsed = parse_pull(pull)
    if parsed is None:
        print(f"second-look: expected OWNER/REPO#NUMBER, got {pull!r}", file=sys.stderr)
        return local.USAGE
    owner, repo, number = parsed
    setup_logging(secrets_of(settings), level=settings.log_level, log_format=settings.log_format)
    async with Services.open(settings) as services:
        await services.github.learn_identity()  # to know our inline threads on the PR
        try:
            target = Pull(await services.github.installation_for(owner, repo), owner, repo, number)
            gh = await services.github.api(target.installation_id)
            pr = await gh.getitem(f"/repos/{owner}/{repo}/pulls/{number}")
        except gidgethub.GitHubException as exc:
            print(f"second-look: {describe(exc)}", file=sys.stderr)
            return 1
        review = queue.NewReview(
            id=uuid.uuid4(),
            installation_id=target.installation_id,
            owner=owner,
            repo=repo,
            pr_number=number,
            head_sha=pr["head"]["sha"],
            base_ref=pr["base"]["ref"],
            trigger=queue.Trigger.MANUAL,
            draft=False,
        )
        async with services.pool.acquire() as conn:
            await queue.create(conn, [review])
        await process_review(review.id, services)
        done = await reviews.get(services.pool, review.id)
        assert done is not None
        print(f"review {review.id}: {done.status}" + (f" ({done.error})" if done.error else ""))
        if done.status != "completed":
            return local.CLEAN if done.status == "skipped" else local.COULD_NOT_RUN
        rows = await FindingRepo(services.pool).for_review(review.id)
        if fail_on is None:  # the repository's, as the check run had it
            base = await sources.read_base(services.github, target, review.base_ref)
            fail_on = base.config.config.fail_on
    return local.exit_code([Finding.from_mapping(row) for row in rows], fail_on)
