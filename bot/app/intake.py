"""Group commit for deliveries: those that arrive while a write is under way share the next
call of queue.create."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import uuid
from dataclasses import dataclass, field

import asyncpg

from bot.store import deliveries, queue
from bot.store.deliveries import Delivery
from bot.store.values import printable, text_problem

log = logging.getLogger(__name__)

MAX_BATCH = 500

Waiting = tuple[Delivery, "asyncio.Future[Result]"]


@dataclass
class Result:
    fresh: bool  # False: this delivery id was recorded before (a redelivery)
    superseded: list[uuid.UUID] = field(default_factory=list)
    refused: str | None = None  # the database refused a value of this delivery: which, why


class IntakeWriter:
    """Write deliveries (and the reviews they ask for) in batches, one transaction each.

    Nothing waits for a batch to fill: a delivery that finds no write under way starts one at
    once; those arriving meanwhile go together in the next. Under load this turns one
    transaction per delivery into one per batch. A row the database refuses fails only its
    own delivery: the batch is written again one delivery at a time.
    """

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self._queue: list[Waiting] = []
        self._writer: asyncio.Task[None] | None = None
        self.batches = 0

    async def record(self, delivery: Delivery) -> Result:
        """Record one delivery; returns once its batch is committed (or raises its error)."""
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._queue.append((delivery, future))
        if self._writer is None or self._writer.done():
            # A context of its own: the writer serves other deliveries than the one that
            # started it, so it must not carry that one's log fields.
            self._writer = asyncio.create_task(
                self._write_all(), name="intake-writer", context=contextvars.Context()
            )
        # Should this request be cancelled (the client hung up), the write still goes on:
        # the writer owns the queue; it skips answering a cancelled future.
        return await future

    async def _write_all(self) -> None:
        while self._queue:
            batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
            await self._write(batch)

    async def _write(self, batch: list[Waiting]) -> None:
        try:
            async with self.pool.acquire() as conn:
                recorded = await queue.create(conn, [d for d, _ in batch])
        except Exception as exc:
            if not deliveries.refused_row(exc):  # unreachable, or our fault: all get the error
                for _, future in batch:
                    _answer(future, exc)
                return
            if len(batch) > 1:
                log.warning(
                    "the database refused a batch of %d deliveries (%s); writing each on its own",
                    len(batch),
                    type(exc).__name__,
                )
                for waiting in batch:
                    await self._write([waiting])
                return
            delivery, future = batch[0]
            reason = delivery.problem() or f"the database refused it: {printable(str(exc))}"
            await self._record_refusal(delivery, reason)
            _answer(future, Result(fresh=True, refused=reason))
            return
        self.batches += 1
        seen: set[str] = set()
        for delivery, future in batch:
            fresh = delivery.delivery_id in recorded.fresh and delivery.delivery_id not in seen
            seen.add(delivery.delivery_id)
            review = delivery.review
            replaced = []
            if fresh and review is not None:
                key = (review.owner, review.repo, review.pr_number)
                replaced = recorded.superseded.get(key, [])
            _answer(future, Result(fresh, replaced))

    async def _record_refusal(self, delivery: Delivery, reason: str) -> None:
        """Keep what can be kept of a refused delivery: its id, event and the reason."""
        if text_problem(delivery.delivery_id) or text_problem(delivery.event):
            log.warning("refused delivery %r cannot be recorded", delivery.delivery_id)
            return
        kept = Delivery(delivery.delivery_id, delivery.event, None, None, None, refused=reason)
        try:
            async with self.pool.acquire() as conn:
                await queue.create(conn, [kept])
        except Exception as exc:  # the answer is 400 all the same; the log keeps the reason
            log.warning(
                "refused delivery %s not recorded: %s", delivery.delivery_id, type(exc).__name__
            )


def _answer(future: asyncio.Future[Result], outcome: Result | BaseException) -> None:
    if future.done():  # the request was cancelled
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)
