"""A dismissal takes effect at once: the finding recorded as dismissed on the PR, and the
summary comment and check run of the PR's latest review published again from what is stored
(`reviews.summary`), without the review or a Gemini call."""

from __future__ import annotations

import dataclasses
import logging

import pydantic

from bot.app.services import Services
from bot.github import checks, publish
from bot.github.client import RetryingGitHubAPI
from bot.publishing.pull_publisher import says
from bot.pull import Pull
from bot.review.render import MARKER, render_summary, summary_json, summary_of_json
from bot.store import pulls, reviews
from bot.store.findings_table import FindingRepo
from bot.store.publications import Action, Publication, Target

log = logging.getLogger(__name__)


async def dismiss(
    services: Services, gh: RetryingGitHubAPI, pull: Pull, fingerprint: str, login: str, how: str
) -> str:
    """Record the dismissal and publish its effect; what happened, in a few words."""
    await pulls.dismiss(services.pool, pull, fingerprint, login, how)
    return await republish(services, gh, pull, fingerprint, login)


async def republish(
    services: Services, gh: RetryingGitHubAPI, pull: Pull, fingerprint: str, login: str
) -> str:
    """The PR's latest review, if completed, shows the finding dismissed: summary comment
    edited, check run concluded again (green when nothing else fails it)."""
    pool = services.pool
    review = await reviews.latest(pool, pull)
    if review is None or review.status != "completed":
        # A review that is running reads the dismissals before it publishes.
        return "the next review shows it"
    stored = await reviews.published_summary(pool, review.id)
    try:
        summary = summary_of_json(stored) if stored is not None else None
    except pydantic.ValidationError as exc:  # written by an older version: let it be
        log.warning(
            "review %s: stored summary unreadable (%d errors); the next review shows the dismissal",
            review.id,
            exc.error_count(),
        )
        summary = None
    if summary is None or summary.status != "completed":
        return "the next review shows it"
    dismissed = [f for f in summary.findings if f.fingerprint == fingerprint]
    if not dismissed:
        return "not in the summary"
    summary = dataclasses.replace(
        summary,
        findings=tuple(f for f in summary.findings if f.fingerprint != fingerprint),
        dismissed=summary.dismissed
        + tuple(dataclasses.replace(f, dismissed_by=login) for f in dismissed),
        paused_by=(await pulls.state(pool, pull)).paused_by,
    )
    await FindingRepo(pool).dismiss(review.id, fingerprint, login)
    body = render_summary(summary)
    comment = await publish.upsert_comment(gh, pull, body, MARKER, review.comment_id)
    shows = f"{says(summary)} ({login} dismissed a finding)"
    action = Action.POSTED if comment.created else Action.UPDATED
    published = [Publication(Target.COMMENT, action, shows, comment.id)]
    verdict = "unchanged"
    if review.check_run_id is not None:
        verdict = await checks.conclude_again(gh, pull.repository, review.check_run_id, summary)
        shows = f"completed ({verdict}): {shows}"
        published.append(Publication(Target.CHECK, Action.UPDATED, shows, review.check_run_id))
    await reviews.set_fields(
        pool, review.id, published, comment_id=comment.id, summary=summary_json(summary)
    )
    if review.check_run_id is not None:
        await reviews.add_stats(pool, review.id, {"conclusion": verdict})
    log.info(
        "%s: finding %s dismissed by %s; summary updated, check %s",
        pull,
        fingerprint[:12],
        login,
        verdict,
    )
    return f"check {verdict}"
