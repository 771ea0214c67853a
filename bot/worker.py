"""process_review(review_id): the seed's processor, orchestration only."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from bot.github.client import GitHubError
from bot.github.diff import fetch_diff
from bot.github.publish import upsert_comment
from bot.logs import redact
from bot.review.findings import check
from bot.review.gemini import AgentCallError
from bot.review.render import MARKER, Summary, render_summary
from bot.review.supervisor import ReviewSupervisor
from bot.services import Services
from bot.store import reviews
from bot.store.findings import FindingRepo
from bot.store.reviews import Review

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    status: str  # completed | failed
    error: str | None = None


async def process_review(review_id: uuid.UUID, services: Services) -> None:
    """Claim the review and run it to a final status; never raises for a review failure."""
    settings = services.settings
    review = await reviews.claim(
        services.pool, review_id, services.lease_owner, settings.lease_seconds
    )
    if review is None:
        log.info("review %s not claimed: another process has it or it is finished", review_id)
        return
    log.info("review %s processing (attempt %d)", review_id, review.attempts)
    try:
        outcome = await run_review(review, services)
    except Exception as exc:
        outcome = Outcome("failed", describe_error(exc))
        log.warning("review %s failed: %s", review_id, outcome.error)
        await _publish_failure(review, services, outcome.error)
    finished = await reviews.finish(
        services.pool, review_id, services.lease_owner, outcome.status, outcome.error
    )
    if finished:
        log.info("review %s %s", review_id, outcome.status)
    else:
        log.warning("review %s finished after losing its lease; result not recorded", review_id)


async def run_review(review: Review, services: Services) -> Outcome:
    """The seed's steps 2 to 9 for one claimed review."""
    settings = services.settings
    github = services.github
    gh = await github.api(review.installation_id)
    diff = await fetch_diff(
        github,
        review.installation_id,
        review.owner,
        review.repo,
        review.pr_number,
        max_file_bytes=settings.max_diff_file_bytes,
    )
    log.info(
        "review %s: %d file(s) to review, %d skipped", review.id, len(diff.files), len(diff.skipped)
    )
    supervisor = ReviewSupervisor(services.gemini, max_in_flight=settings.gemini_max_in_flight)
    result = await supervisor.run(diff, diff.paths)
    checked = check(result.findings, diff)

    async with services.pool.acquire() as conn, conn.transaction():
        repo = FindingRepo(conn)
        await repo.delete_for_review(review.id)  # a resumed review stores them afresh
        await repo.create_many(review.id, checked.findings)

    failed = {f.agent: f.reason for f in result.failures}
    summary = Summary(
        head_sha=review.head_sha,
        status="failed" if failed else "completed",
        findings=checked.findings,
        skipped=diff.skipped,
        failed_agents=failed,
        agents=[agent.name for agent in supervisor.agents],
        dropped=checked.dropped,
        moved=checked.moved,
        calls=result.calls,
        input_chars=result.input_chars,
        tokens=result.prompt_tokens + result.output_tokens,
    )
    known = await reviews.last_comment_id(
        services.pool, review.owner, review.repo, review.pr_number
    )
    comment_id = await upsert_comment(
        gh, review.owner, review.repo, review.pr_number, render_summary(summary), MARKER, known
    )
    stats = {
        "files": len(diff.files),
        "skipped": len(diff.skipped),
        "findings": len(checked.findings),
        "dropped": checked.dropped,
        "moved": checked.moved,
        "merged": checked.merged,
        "gemini_calls": result.calls,
        "input_chars": result.input_chars,
        "prompt_tokens": result.prompt_tokens,
        "output_tokens": result.output_tokens,
    }
    await reviews.set_fields(services.pool, review.id, comment_id=comment_id, stats=stats)
    if failed:
        error = "; ".join(f"agent {agent} failed: {reason}" for agent, reason in failed.items())
        return Outcome("failed", error[:1000])
    return Outcome("completed")


async def _publish_failure(review: Review, services: Services, error: str) -> None:
    """Say on the PR that the review failed and why; GitHub may be the thing that is down."""
    try:
        gh = await services.github.api(review.installation_id)
        known = await reviews.last_comment_id(
            services.pool, review.owner, review.repo, review.pr_number
        )
        body = render_summary(Summary(head_sha=review.head_sha, status="failed", error=error))
        comment_id = await upsert_comment(
            gh, review.owner, review.repo, review.pr_number, body, MARKER, known
        )
        await reviews.set_fields(services.pool, review.id, comment_id=comment_id)
    except (GitHubError, OSError) as exc:
        log.warning("review %s: could not post the failure: %s", review.id, describe_error(exc))


def describe_error(exc: BaseException) -> str:
    """A readable one-line reason for a failed review, with no secret in it."""
    text = str(exc).strip()
    if not isinstance(exc, (GitHubError, AgentCallError)):
        text = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return redact(text.splitlines()[0])[:1000]
