"""The gidgethub Router and its pull_request handlers: decide what to review, nothing slow."""

from __future__ import annotations

import logging
import os
import uuid
from dataclasses import dataclass

from gidgethub import routing, sansio

from bot.payloads import Envelope, PullRequestEvent, validate
from bot.store.queue import NewReview, Trigger

log = logging.getLogger(__name__)

router = routing.Router()

# An edit of these re-runs the review; a label or an assignee does not.
RERUN_ON_EDIT_OF = ("title", "body", "base")
REVIEWED_ACTIONS = ("opened", "reopened", "synchronize", "ready_for_review", "edited")

# The model each delivery a handler acts on is validated against before any handler runs;
# every other delivery is checked as an Envelope (the fields recorded for it).
MODELS: dict[tuple[str, str], type[Envelope]] = {
    ("pull_request", action): PullRequestEvent for action in REVIEWED_ACTIONS
}


def payload_of(event: sansio.Event) -> Envelope:
    """The delivery's payload, validated for what its handlers read (PayloadError if not)."""
    action = event.data.get("action")
    model = MODELS.get((event.event, action)) if isinstance(action, str) else None
    return validate(model or Envelope, event.data)


@dataclass
class Intake:
    """What handling one delivery decided: at most one review to create."""

    review: NewReview | None = None


_random = bytearray()


def new_review_id() -> uuid.UUID:
    """A random (version 4) UUID; the random bytes are read 4 KiB at a time, not per id."""
    if not _random:
        _random.extend(os.urandom(4096))
    raw = bytes(_random[:16])
    del _random[:16]
    return uuid.UUID(bytes=raw, version=4)


def review_head(payload: PullRequestEvent, intake: Intake, supersede: bool = True) -> None:
    """Ask for a review of the PR's head; it replaces the PR's earlier reviews.

    Whether a draft or an edit is reviewed depends on the repository's config, which only
    the review task reads: an `edited` review supersedes the others once it knows it runs.
    """
    pr, repository = payload.pull_request, payload.repository
    intake.review = NewReview(
        id=new_review_id(),
        installation_id=payload.installation.id,
        owner=repository.owner.login,
        repo=repository.name,
        pr_number=pr.number,
        head_sha=pr.head.sha,
        base_ref=pr.base.ref,
        trigger=Trigger(payload.action),
        draft=pr.draft,
        supersede=supersede,
    )


@router.register("pull_request", action="opened")
async def on_opened(event: sansio.Event, payload: PullRequestEvent, intake: Intake) -> None:
    review_head(payload, intake)


@router.register("pull_request", action="reopened")
async def on_reopened(event: sansio.Event, payload: PullRequestEvent, intake: Intake) -> None:
    review_head(payload, intake)


@router.register("pull_request", action="synchronize")
async def on_synchronize(event: sansio.Event, payload: PullRequestEvent, intake: Intake) -> None:
    review_head(payload, intake)


@router.register("pull_request", action="ready_for_review")
async def on_ready_for_review(
    event: sansio.Event, payload: PullRequestEvent, intake: Intake
) -> None:
    review_head(payload, intake)


@router.register("pull_request", action="edited")
async def on_edited(event: sansio.Event, payload: PullRequestEvent, intake: Intake) -> None:
    if any(key in payload.changes for key in RERUN_ON_EDIT_OF):
        review_head(payload, intake, supersede=False)
