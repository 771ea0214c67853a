"""The gidgethub Router and its pull_request handlers: record a review, nothing slow."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from gidgethub import routing, sansio

from bot.store import reviews

log = logging.getLogger(__name__)

router = routing.Router()


@dataclass
class Intake:
    """What handling one delivery decided; acted on by the web layer after the commit."""

    delivery_id: str
    review_id: uuid.UUID | None = None
    status: str = "ignored"
    start: list[uuid.UUID] = field(default_factory=list)
    cancel: list[uuid.UUID] = field(default_factory=list)


# An edit of these re-runs the review; a label or an assignee does not.
RERUN_ON_EDIT_OF = ("title", "body", "base")


async def create_review(
    event: sansio.Event, conn: asyncpg.Connection, intake: Intake, supersede: bool = True
) -> None:
    """Insert a pending review of the PR's head and supersede the PR's older ones.

    Whether a draft or an edit is reviewed depends on the repository's config, which only
    the review task reads: an `edited` review supersedes the others once it knows it runs.
    """
    pr: dict[str, Any] = event.data["pull_request"]
    repository = event.data["repository"]
    review_id = await reviews.create(
        conn,
        delivery_id=event.delivery_id,
        installation_id=int(event.data["installation"]["id"]),
        owner=repository["owner"]["login"],
        repo=repository["name"],
        pr_number=int(pr["number"]),
        head_sha=pr["head"]["sha"],
        base_ref=pr["base"]["ref"],
        trigger=event.data["action"],
        draft=bool(pr.get("draft")),
    )
    intake.review_id = review_id
    intake.status = "pending"
    if supersede:
        intake.cancel = await reviews.supersede_older(
            conn, repository["owner"]["login"], repository["name"], int(pr["number"]), review_id
        )
    intake.start.append(review_id)
    log.info("delivery %s: review %s pending", event.delivery_id, review_id)


@router.register("pull_request", action="opened")
async def on_opened(event: sansio.Event, conn: asyncpg.Connection, intake: Intake) -> None:
    await create_review(event, conn, intake)


@router.register("pull_request", action="reopened")
async def on_reopened(event: sansio.Event, conn: asyncpg.Connection, intake: Intake) -> None:
    await create_review(event, conn, intake)


@router.register("pull_request", action="synchronize")
async def on_synchronize(event: sansio.Event, conn: asyncpg.Connection, intake: Intake) -> None:
    await create_review(event, conn, intake)


@router.register("pull_request", action="ready_for_review")
async def on_ready_for_review(
    event: sansio.Event, conn: asyncpg.Connection, intake: Intake
) -> None:
    await create_review(event, conn, intake)


@router.register("pull_request", action="edited")
async def on_edited(event: sansio.Event, conn: asyncpg.Connection, intake: Intake) -> None:
    changes = event.data.get("changes") or {}
    if not any(key in changes for key in RERUN_ON_EDIT_OF):
        log.info("delivery %s: edit of %s only; nothing to review", event.delivery_id,
                 ", ".join(sorted(changes)) or "nothing")  # fmt: skip
        return
    await create_review(event, conn, intake, supersede=False)
