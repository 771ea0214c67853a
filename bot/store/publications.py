"""What reached GitHub for a review: its summary comment, its inline review and its check run
(the `publications` table, a row per review and target). Each attempt to publish one is
recorded where it happens (bot/publishing/pull_publisher.py through the App's memory,
bot/app/worker.py, bot/app/stopped_checks.py): posted, updated, or failed with the reason. A
failure keeps what GitHub still shows from the last success; the dashboard reads both.

A success rides on the statement its step makes anyway (`upsert`, composed into
bot/store/reviews.py's UPDATE): no round trip of its own.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the Action's publisher reads this module without asyncpg installed
    from bot.store.db import Db


class Target(StrEnum):
    """What a review publishes on its PR, as the migration's CHECK allows."""

    COMMENT = "comment"  # the PR's summary comment (one per PR, edited by each review)
    INLINE = "inline"  # the inline review of the head
    CHECK = "check"  # the check run of the head


class Action(StrEnum):
    POSTED = "posted"  # created on GitHub
    UPDATED = "updated"  # an existing one edited
    FAILED = "failed"  # GitHub refused it or could not be reached


SAYS_CHARS = 300  # of what a publication says, kept


@dataclass(frozen=True)
class Publication:
    """One attempt to publish `target`: what it says (or was to say), and how it went."""

    target: Target
    action: Action
    says: str
    github_id: int | None = None
    error: str | None = None  # why it failed: errors.describe's sentence

    def values(self) -> list[Any]:
        says = " ".join(self.says.split())
        if len(says) > SAYS_CHARS:
            says = says[: SAYS_CHARS - 1] + "…"
        return [str(self.target), str(self.action), says, self.error, self.github_id]


@dataclass(frozen=True)
class Published:
    """A review's row for one target: its last attempt, and what GitHub shows since the last
    success (None: nothing of this review's reached it)."""

    target: Target
    action: Action
    says: str
    error: str | None
    github_id: int | None
    at: datetime
    shown: str | None
    shown_at: datetime | None


def upsert(first: int) -> str:
    """SQL: record a Publication of review $1, its five values in parameters `first` to
    `first + 4` (Publication.values); a success replaces what is shown, a failure keeps it."""
    target, action, says, error, github_id = (f"${first + i}" for i in range(5))
    succeeded = f"{action}::text <> 'failed'"
    return f"""INSERT INTO publications AS p
        (review_id, target, action, says, error, github_id, shown, shown_at)
    VALUES ($1, {target}::text, {action}::text, {says}::text, {error}::text, {github_id}::bigint,
            CASE WHEN {succeeded} THEN {says}::text END,
            CASE WHEN {succeeded} THEN now() END)
    ON CONFLICT (review_id, target) DO UPDATE SET
        action = EXCLUDED.action, says = EXCLUDED.says, error = EXCLUDED.error,
        github_id = coalesce(EXCLUDED.github_id, p.github_id), at = EXCLUDED.at,
        shown = coalesce(EXCLUDED.shown, p.shown),
        shown_at = coalesce(EXCLUDED.shown_at, p.shown_at)"""


def recording(published: Sequence[Publication], first: int) -> str:
    """SQL: a WITH clause that records `published` of review $1 (their values from parameter
    `first` on, as `values` lays them out), for the statement it is put in front of; "" when
    there is nothing to record."""
    upserts = [f"published_{i} AS ({upsert(first + 5 * i)})" for i in range(len(published))]
    return f"WITH {', '.join(upserts)} " if upserts else ""


def values(published: Sequence[Publication]) -> list[Any]:
    return [value for publication in published for value in publication.values()]


async def record(db: Db, review_id: uuid.UUID, publication: Publication) -> None:
    """Record one attempt alone (a failure, or a step that stores nothing else)."""
    await db.execute(upsert(2), review_id, *publication.values())


async def of_review(db: Db, review_id: uuid.UUID) -> dict[Target, Published]:
    """What the review published, by target."""
    rows = await db.fetch(
        "SELECT target, action, says, error, github_id, at, shown, shown_at"
        " FROM publications WHERE review_id = $1",
        review_id,
    )
    return {
        Target(row["target"]): Published(
            Target(row["target"]),
            Action(row["action"]),
            row["says"],
            row["error"],
            row["github_id"],
            row["at"],
            row["shown"],
            row["shown_at"],
        )
        for row in rows
    }
