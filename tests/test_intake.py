"""Group commit of deliveries: one transaction per batch, each delivery recorded once."""

from __future__ import annotations

import asyncio
import uuid

from bot.app.intake import IntakeWriter
from bot.store import db
from bot.store.deliveries import Delivery
from bot.store.queue import NewReview, Trigger
from bot.store.queue import create as record_many


def delivery_for(pr_number: int, delivery_id: str | None = None, **kw) -> Delivery:
    review = NewReview(
        id=uuid.uuid4(),
        installation_id=1,
        owner="octo",
        repo="widgets",
        pr_number=pr_number,
        head_sha=uuid.uuid4().hex,
        base_ref="main",
        trigger=Trigger.SYNCHRONIZE,
        draft=False,
        **kw,
    )
    return Delivery(
        delivery_id=delivery_id or str(uuid.uuid4()),
        event="pull_request",
        action="synchronize",
        installation_id=1,
        repository="octo/widgets",
        review=review,
    )


async def statuses(pool) -> dict[uuid.UUID, str]:
    return {r["id"]: r["status"] for r in await pool.fetch("SELECT id, status FROM reviews")}


async def test_two_pushes_in_one_batch_keep_only_the_newer(pool):
    older, newer = delivery_for(7), delivery_for(7)

    async with pool.acquire() as conn:
        recorded = await record_many(conn, [older, newer])

    assert recorded.fresh == {older.delivery_id, newer.delivery_id}
    assert await statuses(pool) == {older.review.id: "superseded", newer.review.id: "pending"}


async def test_a_push_supersedes_the_reviews_recorded_before_it(pool):
    first, second = delivery_for(7), delivery_for(7)
    async with pool.acquire() as conn:
        await record_many(conn, [first])

        recorded = await record_many(conn, [second])

    assert recorded.superseded == {("octo", "widgets", 7): [first.review.id]}
    assert (await statuses(pool))[first.review.id] == "superseded"


async def test_an_edit_supersedes_nothing_on_the_way_in(pool):
    push, edit = delivery_for(7), delivery_for(7, supersede=False)

    async with pool.acquire() as conn:
        await record_many(conn, [push, edit])

    assert set((await statuses(pool)).values()) == {"pending"}


async def test_a_redelivery_in_the_same_batch_creates_one_review(pool):
    original = delivery_for(7, delivery_id="same-id")
    again = delivery_for(7, delivery_id="same-id")

    async with pool.acquire() as conn:
        recorded = await record_many(conn, [original, again])

    assert recorded.fresh == {"same-id"}
    assert list(await statuses(pool)) == [original.review.id]


async def test_concurrent_deliveries_share_transactions(pool):
    writer = IntakeWriter(pool)
    batch = [delivery_for(n) for n in range(100)]

    results = await asyncio.gather(*(writer.record(d) for d in batch))

    assert all(result.fresh for result in results)
    assert await pool.fetchval("SELECT count(*) FROM reviews") == 100
    assert writer.batches < 100


async def test_a_row_the_database_refuses_fails_only_its_own_delivery(pool):
    writer = IntakeWriter(pool)
    good = [delivery_for(n) for n in range(1, 51)]
    poisoned = delivery_for(2**31)  # over PostgreSQL's integer: refused by the database

    results = await asyncio.gather(*(writer.record(d) for d in [*good[:25], poisoned, *good[25:]]))

    refused = [r for r in results if r.refused is not None]
    assert [r.refused for r in refused] == [
        "pull_request.number is out of range (at most 2147483647)"
    ]
    assert sum(r.fresh and r.refused is None for r in results) == 50
    assert await pool.fetchval("SELECT count(*) FROM reviews") == 50
    recorded = await pool.fetchrow(
        "SELECT * FROM webhook_deliveries WHERE delivery_id = $1", poisoned.delivery_id
    )
    assert recorded["refused"] == refused[0].refused


async def test_text_the_database_cannot_hold_is_named(pool):
    writer = IntakeWriter(pool)
    nul = delivery_for(7)
    nul.repository = "octo/wid\x00gets"

    result = await writer.record(nul)

    assert result.refused == "repository.full_name contains a NUL character"
    assert await pool.fetchval("SELECT count(*) FROM reviews") == 0


async def test_an_unreachable_database_fails_every_delivery_of_the_batch(pool):
    writer = IntakeWriter(pool)
    pool.terminate()

    results = await asyncio.gather(
        *(writer.record(delivery_for(n)) for n in range(1, 4)), return_exceptions=True
    )

    assert all(isinstance(r, db.UNREACHABLE) for r in results), results


async def test_a_redelivery_batched_after_a_new_push_supersedes_nothing(pool):
    writer = IntakeWriter(pool)
    seen = delivery_for(7, delivery_id="seen-before")
    await writer.record(seen)
    fresh, again = delivery_for(7), delivery_for(7, delivery_id="seen-before")

    first, second = await asyncio.gather(writer.record(fresh), writer.record(again))

    assert (first.fresh, second.fresh) == (True, False)
    assert writer.batches == 2, "one batch for both, not refused and written one by one"
    assert (await statuses(pool))[fresh.review.id] == "pending", "the redelivery created nothing"
    assert again.review.id not in await statuses(pool)
