"""Group commit for deliveries: those that arrive while a write is under way share the next."""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass, field

import asyncpg

from bot.store import deliveries
from bot.store.deliveries import Delivery

log = logging.getLogger(__name__)

MAX_BATCH = 500


@dataclass
class Result:
    fresh: bool  # False: this delivery id was recorded before (a redelivery)
    superseded: list[uuid.UUID] = field(default_factory=list)


class IntakeWriter:
    """Write deliveries (and the reviews they ask for) in batches, one transaction each.

    Nothing waits for a batch to fill: a delivery that finds no write under way starts one at
    once; those arriving meanwhile go together in the next. Under load this turns one
    transaction per delivery into one per batch.
    """

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self._queue: list[tuple[Delivery, asyncio.Future[Result]]] = []
        self._writer: asyncio.Task[None] | None = None
        self.batches = 0

    async def record(self, delivery: Delivery) -> Result:
        """Record one delivery; returns once its batch is committed (or raises its error)."""
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._queue.append((delivery, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_all(), name="intake-writer")
        # Should this request be cancelled (the client hung up), the write still goes on:
        # the writer owns the queue; it skips answering a cancelled future.
        return await future

    async def _write_all(self) -> None:
        while self._queue:
            batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
            try:
                async with self.pool.acquire() as conn:
                    recorded = await deliveries.record_many(conn, [d for d, _ in batch])
            except Exception as exc:  # every delivery of the batch gets the error
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
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
                if not future.done():
                    future.set_result(Result(fresh, replaced))
