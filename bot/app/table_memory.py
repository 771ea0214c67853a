"""The PR publisher's memory for one of the App's reviews, in its tables: the review's row
(summary comment, check run, the summary as published), the findings posted inline, and the
review's standing (still processing under our lease, nothing newer replacing it).

A statement a step makes anyway reads the standing too (`reviews.last_comment_standing`,
`reviews.set_fields_standing`), so that the next step's `ensure_ours(found)` costs no round
trip of its own.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import asyncpg

from bot.app import leased_runner
from bot.errors import describe
from bot.review.render import Summary, render_summary, summary_json
from bot.store import db, publications, queue, reviews
from bot.store.findings_table import FindingRepo
from bot.store.publications import Publication
from bot.store.queue import Standing
from bot.store.reviews import Review
from bot.store.standing import Check

log = logging.getLogger(__name__)


class Superseded(leased_runner.NotOurs):
    """The review is no longer ours: a newer one replaced it, or another process took it."""

    said = "superseded; it publishes nothing more"


@dataclass
class TableMemory:
    """What a review published, kept and read back in the tables; its standing."""

    pool: asyncpg.Pool
    review: Review
    lease_owner: str
    replaced: Callable[[uuid.UUID], Awaitable[None]]  # supersede what this newer review replaces

    async def ensure_ours(self, found: Check | None = None) -> None:
        """Stop (Superseded) when the review was superseded or taken over; a newer review
        that replaces it supersedes it (and the PR's others) first."""
        if found is None:
            found = await queue.standing(self.pool, self.review.id, self.lease_owner)
        if found.standing is Standing.OURS:
            return
        if found.newer is not None:  # REPLACED: ours among them, it can publish no more
            await self.replaced(found.newer)
        raise Superseded()

    async def posted_inline(self) -> set[str]:
        return await FindingRepo(self.pool).posted_inline(self.review.pull)

    async def mark_inline(self, fingerprints: Sequence[str], posted: Publication) -> None:
        await FindingRepo(self.pool).mark_inline(self.review.id, fingerprints, [posted])

    async def last_comment(self) -> tuple[int | None, Check]:
        """The summary comment an earlier review of the PR posted, with the standing."""
        return await reviews.last_comment_standing(self.pool, self.review, self.lease_owner)

    def render(self, summary: Summary) -> str:
        return render_summary(summary)

    async def comment_posted(self, comment_id: int, summary: Summary, posted: Publication) -> Check:
        return await reviews.set_fields_standing(
            self.pool,
            self.review.id,
            self.lease_owner,
            [posted],
            comment_id=comment_id,
            summary=summary_json(summary),
        )

    async def check_started(self, check_run_id: int, started: Publication) -> Check:
        return await reviews.set_fields_standing(
            self.pool, self.review.id, self.lease_owner, [started], check_run_id=check_run_id
        )

    async def check_done(self, done: Publication) -> None:
        await reviews.set_fields(self.pool, self.review.id, [done], check_run_done=True)

    async def record(self, publication: Publication) -> None:
        """What reached GitHub (or did not), alone; the database away loses only this."""
        try:
            await publications.record(self.pool, self.review.id, publication)
        except db.UNREACHABLE as exc:
            log.warning(
                "review %s: what reached GitHub (%s %s) not recorded: %s",
                self.review.id,
                publication.target,
                publication.action,
                describe(exc),
            )
