"""review_events: every status a review passes through, written by the migration's trigger
whatever changes the status, for the dashboard's timeline."""

from __future__ import annotations

import uuid

from bot.store import queue
from bot.store.queue import NewReview, Status, Trigger


def new(pr: int = 7) -> NewReview:
    return NewReview(
        id=uuid.uuid4(),
        installation_id=1,
        owner="octo",
        repo="widgets",
        pr_number=pr,
        head_sha=uuid.uuid4().hex + "00000000",
        base_ref="main",
        trigger=Trigger.SYNCHRONIZE,
        draft=False,
    )


async def events_of(pool, review: NewReview) -> list[tuple]:
    rows = await pool.fetch(
        "SELECT status, attempt, error, superseded_by FROM review_events"
        " WHERE review_id = $1 ORDER BY id",
        review.id,
    )
    return [tuple(row) for row in rows]


async def test_each_status_and_attempt_is_an_event(pool):
    review = new()
    async with pool.acquire() as conn:
        await queue.create(conn, [review])
    await queue.claim(pool, review.id, "dead", 30)  # its process dies: claimed again
    await queue.claim(pool, review.id, "me", 30)
    await queue.renew(pool, review.id, "me", 30)  # a renewal is no event
    await queue.finish(pool, review.id, "me", Status.FAILED, "GitHub answered 502")

    assert await events_of(pool, review) == [
        ("pending", 0, None, None),
        ("processing", 1, None, None),
        ("processing", 2, None, None),
        ("failed", 2, "GitHub answered 502", None),
    ]


async def test_a_superseded_review_names_the_one_that_replaced_it(pool):
    older, newer = new(), new()
    async with pool.acquire() as conn:
        await queue.create(conn, [older])
        await queue.create(conn, [newer])

    assert (await events_of(pool, older))[-1] == ("superseded", 0, None, newer.id)
