"""The App's end of the review pipeline (`pipeline.Publisher`) for one review: what the PR's
earlier reviews left and its dismissals, from the tables; the usage; then the seed's steps 8
(the findings stored) and 9 (published by the PR publisher); the review's stats, and the
figures of the line it ends with (`finish_figures`)."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from bot import incremental, pipeline
from bot.app.review_meter import ReviewMeter
from bot.app.services import Services
from bot.app.table_memory import TableMemory
from bot.github.compare import changed_since
from bot.github.repo_config import RepoConfig
from bot.publishing.pull_publisher import PullPublisher
from bot.review.findings import Finding
from bot.review.render import summary_of_json
from bot.store import calls, db, pulls, queue, reviews
from bot.store.findings_table import FindingRepo
from bot.store.queue import Trigger
from bot.store.reviews import Review

log = logging.getLogger(__name__)


@dataclass
class AppPublisher:
    """What the pipeline asks of the App for one claimed review."""

    review: Review
    services: Services
    memory: TableMemory
    pr: PullPublisher
    config: RepoConfig  # the repository's, as read from the base branch
    meter: ReviewMeter
    earlier: calls.Totals  # what the review's earlier attempts' calls used
    dismissals: Mapping[str, str] = field(default_factory=dict)  # fingerprint -> by whom
    totals: calls.Totals | None = None  # the usage the summary shows
    figures: tuple[Mapping[str, Any], calls.Totals] | None = None  # stats, usage: published

    async def prior(self) -> incremental.Prior:
        """The last completed review of the PR, from the table; on a plain push, the files
        changed since its head (incremental.following decides)."""
        review, services = self.review, self.services
        last = await reviews.last_completed(services.pool, review.pull, before=review.id)
        if last is None:
            return incremental.Prior()
        rows = await FindingRepo(services.pool).for_review(last.id)

        async def compare(base: str, head: str) -> set[str] | None:
            return await changed_since(services.github, review.pull.repository, base, head)

        stored = await reviews.published_summary(services.pool, last.id)
        walk = summary_of_json(stored).walkthrough if stored else None
        return await incremental.following(
            [Finding.from_mapping(row) for row in rows],
            last.head_sha,
            review.head_sha,
            compare,
            push=review.trigger == Trigger.SYNCHRONIZE,
            partial=bool(last.stats.get("partial")),
            last_id=last.id,
            label=f"review {review.id}",
            walkthrough=walk,
        )

    async def ready(self) -> None:
        """A push that replaced a running review waits PUSH_SETTLE_SECONDS for the burst to
        settle: a newer push meanwhile supersedes this one, whose task is then cancelled
        while it waits."""
        services, review = self.services, self.review
        wait = services.settings.push_settle_seconds
        if wait and await queue.follows_running(services.pool, review.id):
            log.info("review %s: waiting %g s for further pushes", review.id, wait)
            await services.sleep(wait)
            await self.memory.ensure_ours()

    async def dismissed(self) -> Mapping[str, str]:
        self.dismissals = await pulls.dismissed(self.services.pool, self.review.pull)
        return self.dismissals

    async def usage(self) -> calls.Totals:
        """The review's usage: its earlier attempts' calls and those this run stored."""
        self.totals = self.earlier.and_(self.meter.recorded)
        return self.totals

    async def publish(self, reviewed: pipeline.Reviewed) -> None:
        findings = reviewed.checked.findings
        # 8. Stored.
        await self.store(findings)
        # Paused while this review ran: the summary it writes says so too.
        review, pool = self.review, self.services.pool
        state = await pulls.state(pool, review.pull)
        summary = replace(reviewed.summary, paused_by=state.paused_by)
        # 9. Published: inline review, threads, summary comment, check run, the reply.
        await self.pr.publish(
            reviewed.diff,
            findings,
            summary,
            self.config,
            reviewed=reviewed.plan.files,
            dismissed=self.dismissals,
        )
        stats = reviewed.stats() | {"conclusion": self.pr.conclusion}  # as reviews.failing reads it
        await reviews.add_stats(pool, review.id, stats)
        if self.totals is not None:
            self.figures = (stats, self.totals)

    async def store(self, findings: list[Finding]) -> None:
        pool, review_id = self.services.pool, self.review.id
        if self.review.attempts == 1:  # a first attempt: nothing stored before, one statement
            await FindingRepo(pool).create_many(review_id, findings)
            return
        async with pool.acquire() as conn, conn.transaction():
            repo = FindingRepo(conn)
            await repo.delete_for_review(review_id)  # a resumed review stores them afresh
            await repo.create_many(review_id, findings)


async def finish_figures(
    services: Services,
    review: Review,
    claimed: float,
    known: tuple[Mapping[str, Any], calls.Totals] | None = None,
) -> str:
    """` in 41.2 s (38.0 s since claimed): 3 finding(s) (1 withheld, 0 dismissed), ...`:
    for the line a review ends with, from the stats and usage it published (`known`), else
    as stored."""
    since_claimed = time.monotonic() - claimed
    since_created = (services.clock() - review.created_at).total_seconds()
    if known is not None:
        stats, usage = known
    else:
        try:
            done = await reviews.get(services.pool, review.id)
            usage = await calls.totals(services.pool, review.id)
        except db.UNREACHABLE as exc:  # the status is recorded: the line goes without figures
            return f" in {since_created:.1f} s (figures not read: {type(exc).__name__})"
        stats = done.stats if done is not None else {}
    return (
        f" in {since_created:.1f} s ({since_claimed:.1f} s since claimed): "
        f"{stats.get('findings', 0)} finding(s) ({stats.get('withheld', 0)} withheld, "
        f"{stats.get('dismissed', 0)} dismissed), {usage.calls} call(s), tokens "
        f"{usage.prompt_tokens} in ({usage.cached_tokens} cached) {usage.output_tokens} out, "
        f"est. cost ${usage.cost_usd:.4f}"
    )
