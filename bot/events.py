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


async def create_review(event: sansio.Event, conn: asyncpg.Connection, intake: Intake) -> None:
    """Insert a review of the PR's head; a draft is recorded as skipped."""
    pr: dict[str, Any] = event.data["pull_request"]
    repository = event.data["repository"]
    draft = bool(pr.get("draft"))
    status = "skipped" if draft else "pending"
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
        status=status,
    )
    intake.review_id = review_id
    intake.status = status
    if draft:
        log.info("delivery %s: review %s skipped (draft)", event.delivery_id, review_id)
        return
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
    await create_review(event, conn, intake)
