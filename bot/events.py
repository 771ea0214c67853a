"""The gidgethub Router and its pull_request handlers: decide what to review, nothing slow."""

from __future__ import annotations

import logging
import os
import uuid
from dataclasses import dataclass
from typing import Any

from gidgethub import routing, sansio

from bot.store.deliveries import NewReview

log = logging.getLogger(__name__)

router = routing.Router()

# An edit of these re-runs the review; a label or an assignee does not.
RERUN_ON_EDIT_OF = ("title", "body", "base")


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


def review_head(event: sansio.Event, intake: Intake, supersede: bool = True) -> None:
    """Ask for a review of the PR's head; it replaces the PR's earlier reviews.

    Whether a draft or an edit is reviewed depends on the repository's config, which only
    the review task reads: an `edited` review supersedes the others once it knows it runs.
    """
    pr: dict[str, Any] = event.data["pull_request"]
    repository = event.data["repository"]
    intake.review = NewReview(
        id=new_review_id(),
        installation_id=int(event.data["installation"]["id"]),
        owner=str(repository["owner"]["login"]),
        repo=str(repository["name"]),
        pr_number=int(pr["number"]),
        head_sha=str(pr["head"]["sha"]),
        base_ref=str(pr["base"]["ref"]),
        trigger=str(event.data["action"]),
        draft=bool(pr.get("draft")),
        supersede=supersede,
    )


@router.register("pull_request", action="opened")
async def on_opened(event: sansio.Event, intake: Intake) -> None:
    review_head(event, intake)


@router.register("pull_request", action="reopened")
async def on_reopened(event: sansio.Event, intake: Intake) -> None:
    review_head(event, intake)


@router.register("pull_request", action="synchronize")
async def on_synchronize(event: sansio.Event, intake: Intake) -> None:
    review_head(event, intake)


@router.register("pull_request", action="ready_for_review")
async def on_ready_for_review(event: sansio.Event, intake: Intake) -> None:
    review_head(event, intake)


@router.register("pull_request", action="edited")
async def on_edited(event: sansio.Event, intake: Intake) -> None:
    changes = event.data.get("changes") or {}
    if any(key in changes for key in RERUN_ON_EDIT_OF):
        review_head(event, intake, supersede=False)
