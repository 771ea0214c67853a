"""Owns this process's tasks of leased work, reviews and jobs: start, cancel superseded
reviews, recover on start-up, shut down."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

from bot.app import worker
from bot.app.conversation.context import Hooks
from bot.app.conversation.runner import process_job
from bot.app.metrics import Metrics
from bot.app.services import Services
from bot.store import db, jobs, lease, queue, reviews

log = logging.getLogger(__name__)

JOB_CAPACITY = 16  # jobs run at once by one process; each is a few GitHub calls


@dataclass(frozen=True)
class Runs:
    """A kind of leased work this process runs: its table, how many at once, the run."""

    name: str  # "review", "job": in task names and log lines
    leased: lease.Leased
    capacity: int
    run: Callable[[uuid.UUID], Coroutine[Any, Any, None]]


class Scheduler:
    def __init__(self, services: Services, metrics: Metrics | None = None) -> None:
        self.services = services
        self.metrics = metrics
        self._observers: set[asyncio.Task[None]] = set()
        self.accepting = True
        # Every task of ours, by the id of its row (a review's or a job's), and its kind.
        self._tasks: dict[uuid.UUID, tuple[Runs, asyncio.Task[None]]] = {}
        self.hooks = Hooks(start_review=self.start, cancel_reviews=self.cancel_all)
        self._reclaimer: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        capacity = services.settings.max_concurrent_reviews
        self.reviews = Runs("review", queue.REVIEWS, capacity, self._run_review)
        self.jobs = Runs("job", jobs.JOBS, JOB_CAPACITY, self._run_job)
        self._kinds = (self.jobs, self.reviews)  # reclaimed in this order

    def _count(self, kind: Runs) -> int:
        return sum(1 for runs, _ in self._tasks.values() if runs is kind)

    async def begin(self) -> None:
        """Pick up work left waiting (by a crash, a restart or another replica), then poll."""
        await self.reclaim()
        self._reclaimer = asyncio.create_task(self._reclaim_forever(), name="reclaim")

    def start(self, review_id: uuid.UUID) -> bool:
        """Run process_review in a task we keep a reference to, once per review.

        At capacity the review stays pending in the table; a finishing task wakes the reclaimer.
        """
        return self._start(self.reviews, review_id)

    def start_job(self, job_id: uuid.UUID) -> bool:
        """Run process_job in a task, once per job; past JOB_CAPACITY it waits in the table."""
        return self._start(self.jobs, job_id)

    def _start(self, kind: Runs, row_id: uuid.UUID) -> bool:
        if not self.accepting or row_id in self._tasks:
            return False
        running = self._count(kind)
        if running >= kind.capacity:
            log.debug("%s %s waits: %d running", kind.name, row_id, running)
            return False
        task = asyncio.create_task(self._guarded(kind, row_id), name=f"{kind.name}-{row_id}")
        self._tasks[row_id] = (kind, task)
        return True

    def cancel(self, review_id: uuid.UUID) -> bool:
        """Stop the task of a superseded review, if this process runs it."""
        running = self._tasks.get(review_id)
        if running is None or running[0] is not self.reviews:
            return False
        log.info("review %s superseded: cancelling its task", review_id)
        running[1].cancel()
        return True

    def cancel_all(self, review_ids: Sequence[uuid.UUID]) -> None:
        """Stop the tasks of reviews this process just superseded or stopped."""
        for review_id in review_ids:
            self.cancel(review_id)
        if self.metrics is not None and review_ids and self.accepting:
            observer = asyncio.create_task(
                self._observe(list(review_ids), None), name="observe-reviews"
            )
            self._observers.add(observer)
            observer.add_done_callback(self._observers.discard)

    async def _guarded(self, kind: Runs, row_id: uuid.UUID) -> None:
        """Run a review or a job to its end; then wake the reclaimer: a review may wait for a
        free slot, and a PR's next job for this one."""
        try:
            await kind.run(row_id)
        except asyncio.CancelledError:
            log.info("%s %s task cancelled", kind.name, row_id)
        except Exception:
            log.exception("%s %s task raised unexpectedly", kind.name, row_id)
        finally:
            self._tasks.pop(row_id, None)
            self._wake.set()

    async def _run_job(self, job_id: uuid.UUID) -> None:
        await process_job(job_id, self.services, self.hooks)

    async def _run_review(self, review_id: uuid.UUID) -> None:
        """process_review; then the review is counted in the metrics, however it ended."""
        began = time.monotonic()
        timing: reviews.Timing | None = None
        try:
            timing = await worker.process_review(review_id, self.services, cancel=self.cancel_all)
        finally:
            if self.metrics is not None:
                if timing is not None:  # finished here: the statement said how long
                    self._count_finished([timing], began)
                else:  # superseded or stopped meanwhile, perhaps: as the table has it
                    await self._observe([review_id], began)

    async def _observe(self, review_ids: list[uuid.UUID], began: float | None) -> None:
        """Count the reviews that reached a final status, each exactly once.

        A review that was ever claimed is counted by the task that ran it, when it ends
        (`began`: when that task started, on the monotonic clock); one never claimed, by
        the process whose UPDATE superseded or stopped it (`cancel_all`). The duration runs
        from created_at to finished_at; the wait, from created_at to the task's start.
        """
        assert self.metrics is not None
        try:
            rows = await reviews.timings(self.services.pool, review_ids)
        except db.UNREACHABLE as exc:
            log.warning("reviews %s not counted: %s", review_ids, type(exc).__name__)
            return
        self._count_finished(rows, began)

    def _count_finished(self, rows: list[reviews.Timing], began: float | None) -> None:
        assert self.metrics is not None
        for row in rows:
            if row.status not in queue.FINISHED or row.ran != (began is not None):
                continue
            waited = None if began is None else row.age - (time.monotonic() - began)
            self.metrics.review_finished(row.status, row.took, waited)

    async def reclaim(self) -> int:
        """Start a task for every review and job no process is working on; return how many."""
        if not self.accepting:
            return 0
        started = 0
        for kind in self._kinds:
            running = self._count(kind)
            if running >= kind.capacity:
                continue
            # Rows we just started may still be pending: ask for enough to fill the room anyway.
            ids = await kind.leased.waiting(
                self.services.pool, kind.capacity, now=self.services.clock()
            )
            started += sum(self._start(kind, row_id) for row_id in ids)
        if started:
            log.info("reclaimed %d waiting review(s) and job(s)", started)
        return started

    async def _reclaim_forever(self) -> None:
        interval = self.services.settings.reclaim_interval
        # Look again soon after start-up too: PostgreSQL may take a moment to drop the
        # liveness lock of a process that was just killed.
        wait = min(interval, 2.0)
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=wait)
            except TimeoutError:
                pass
            self._wake.clear()
            wait = interval
            try:
                await self.reclaim()
                wait = await self._until_due(interval)
            except Exception:  # the database may be briefly away; try again next round
                log.exception("reclaiming waiting reviews failed")

    async def _until_due(self, interval: float) -> float:
        """Seconds to the next look: sooner when a review or job put back for a quota or an
        outage falls due."""
        now = self.services.clock()
        dues = [await kind.leased.next_due(self.services.pool, now) for kind in self._kinds]
        due = min((d for d in dues if d is not None), default=None)
        if due is None:
            return interval
        return min(interval, (due - now).total_seconds() + 0.01)

    async def shutdown(self, timeout: float) -> None:
        """Stop taking work, give running reviews and jobs `timeout` seconds, then hand them
        back."""
        if not self.accepting:
            return
        self.accepting = False
        if self._reclaimer is not None:
            self._reclaimer.cancel()
        for observer in list(self._observers):
            observer.cancel()
        tasks = [task for _, task in self._tasks.values()]
        if not tasks:
            return
        log.info("waiting up to %.0f s for %d running review(s) and job(s)", timeout, len(tasks))
        _, pending = await asyncio.wait(tasks, timeout=timeout)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)
            pool, owner = self.services.pool, self.services.lease_owner
            released = sum([await kind.leased.release(pool, owner) for kind in self._kinds])
            log.info("handed %d unfinished review(s) and job(s) back to the queue", released)
