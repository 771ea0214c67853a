"""Owns the review and job tasks: start, cancel superseded ones, recover on start-up, shut
down."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Coroutine, Sequence
from typing import Any

from bot.app import worker
from bot.app.conversation.context import Hooks
from bot.app.conversation.runner import process_job
from bot.app.metrics import Metrics
from bot.app.services import Services
from bot.store import db, jobs, queue, reviews

log = logging.getLogger(__name__)

JOB_CAPACITY = 16  # jobs run at once by one process; each is a few GitHub calls


class Scheduler:
    def __init__(self, services: Services, metrics: Metrics | None = None) -> None:
        self.services = services
        self.metrics = metrics
        self._observers: set[asyncio.Task[None]] = set()
        self.accepting = True
        self._tasks: dict[uuid.UUID, asyncio.Task[None]] = {}
        self._jobs: dict[uuid.UUID, asyncio.Task[None]] = {}
        self.hooks = Hooks(start_review=self.start, cancel_reviews=self.cancel_all)
        self._reclaimer: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self.capacity = services.settings.max_concurrent_reviews

    @property
    def running(self) -> int:
        return len(self._tasks)

    async def begin(self) -> None:
        """Pick up reviews left waiting (by a crash, a restart or another replica), then poll."""
        await self.reclaim()
        self._reclaimer = asyncio.create_task(self._reclaim_forever(), name="reclaim")

    def start(self, review_id: uuid.UUID) -> bool:
        """Run process_review in a task we keep a reference to, once per review.

        At capacity the review stays pending in the table; a finishing task wakes the reclaimer.
        """
        if not self.accepting or review_id in self._tasks:
            return False
        if len(self._tasks) >= self.capacity:
            log.debug("review %s waits: %d reviews running", review_id, len(self._tasks))
            return False
        task = asyncio.create_task(self._run(review_id), name=f"review-{review_id}")
        self._tasks[review_id] = task
        return True

    def cancel(self, review_id: uuid.UUID) -> bool:
        """Stop the task of a superseded review, if this process runs it."""
        task = self._tasks.get(review_id)
        if task is None:
            return False
        log.info("review %s superseded: cancelling its task", review_id)
        task.cancel()
        return True

    def cancel_all(self, review_ids: Sequence[uuid.UUID]) -> None:
        """Stop the tasks of reviews this process just superseded or stopped."""
        for review_id in review_ids:
            self.cancel(review_id)
        if self.metrics is not None and review_ids and self.accepting:
            observer = asyncio.create_task(self._observe(list(review_ids), None),
                                           name="observe-reviews")  # fmt: skip
            self._observers.add(observer)
            observer.add_done_callback(self._observers.discard)

    def start_job(self, job_id: uuid.UUID) -> bool:
        """Run process_job in a task, once per job; past JOB_CAPACITY it waits in the table."""
        if not self.accepting or job_id in self._jobs or len(self._jobs) >= JOB_CAPACITY:
            return False
        task = asyncio.create_task(self._run_job(job_id), name=f"job-{job_id}")
        self._jobs[job_id] = task
        return True

    async def _run_job(self, job_id: uuid.UUID) -> None:
        await self._guarded("job", job_id, process_job(job_id, self.services, self.hooks),
                            self._jobs)  # fmt: skip

    async def _run(self, review_id: uuid.UUID) -> None:
        began = time.monotonic()
        finished: list[reviews.Timing | None] = []

        async def work() -> None:
            timing = await worker.process_review(review_id, self.services, cancel=self.cancel_all)
            finished.append(timing)

        await self._guarded("review", review_id, work(), self._tasks)
        if self.metrics is None:
            return
        if finished and finished[0] is not None:  # finished here: the statement said how long
            self._count([finished[0]], began)
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
        self._count(rows, began)

    def _count(self, rows: list[reviews.Timing], began: float | None) -> None:
        assert self.metrics is not None
        for row in rows:
            if row.status not in queue.FINISHED or row.ran != (began is not None):
                continue
            waited = None if began is None else row.age - (time.monotonic() - began)
            self.metrics.review_finished(row.status, row.took, waited)

    async def _guarded(
        self, kind: str, key: uuid.UUID, work: Coroutine[Any, Any, None],
        running: dict[uuid.UUID, asyncio.Task[None]],
    ) -> None:  # fmt: skip
        """Run a review or a job to its end; then wake the reclaimer: a review may wait for a
        free slot, and a PR's next job for this one."""
        try:
            await work
        except asyncio.CancelledError:
            log.info("%s %s task cancelled", kind, key)
        except Exception:
            log.exception("%s %s task raised unexpectedly", kind, key)
        finally:
            running.pop(key, None)
            self._wake.set()

    async def reclaim(self) -> int:
        """Start a task for every review and job no process is working on; return how many."""
        if not self.accepting:
            return 0
        started = 0
        # Jobs we just started may still be pending: ask for enough to fill the room anyway.
        if len(self._jobs) < JOB_CAPACITY:
            ids = await jobs.waiting(self.services.pool, limit=JOB_CAPACITY + len(self._jobs))
            started += sum(self.start_job(job_id) for job_id in ids)
        room = self.capacity - len(self._tasks)
        if room > 0:
            ids = await queue.waiting(
                self.services.pool, limit=room + len(self._tasks), now=self.services.clock()
            )
            started += sum(self.start(review_id) for review_id in ids)
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
        """Seconds to the next look: sooner when a review put back for a quota falls due."""
        now = self.services.clock()
        due = await queue.next_due(self.services.pool, now)
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
        tasks = list(self._tasks.values()) + list(self._jobs.values())
        if not tasks:
            return
        log.info("waiting up to %.0f s for %d running review(s) and job(s)", timeout, len(tasks))
        _, pending = await asyncio.wait(tasks, timeout=timeout)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)
            pool, owner = self.services.pool, self.services.lease_owner
            released = await queue.release(pool, owner) + await jobs.release(pool, owner)
            log.info("handed %d unfinished review(s) and job(s) back to the queue", released)
