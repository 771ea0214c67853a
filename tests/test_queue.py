"""The review lifecycle: create, supersede, the check before publishing, claim, lease, finish."""

from __future__ import annotations

import asyncio
import re
import uuid
from pathlib import Path

import asyncpg
import pytest

from bot.store import queue, reviews
from bot.store.queue import NewReview, Standing, Status, Trigger
from tests.reviewing import create_racing

OWNER = "me"


def new(pr: int = 7, trigger: Trigger = Trigger.SYNCHRONIZE, **kw) -> NewReview:
    return NewReview(
        id=uuid.uuid4(),
        installation_id=1,
        owner="octo",
        repo="widgets",
        pr_number=pr,
        head_sha=uuid.uuid4().hex + "0" * 8,
        base_ref="main",
        trigger=trigger,
        draft=False,
        supersede=trigger is not Trigger.EDITED,
        **kw,
    )


async def create(pool, *items: NewReview) -> queue.Created:
    async with pool.acquire() as conn:
        return await queue.create(conn, list(items))


async def status(pool, review: NewReview) -> str:
    return await pool.fetchval("SELECT status FROM reviews WHERE id = $1", review.id)


async def test_statuses_and_triggers_are_the_migrations_checks(pool):
    checks = {
        row["conname"]: row["def"]
        for row in await pool.fetch(
            "SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint"
            " WHERE conrelid = 'reviews'::regclass AND contype = 'c'"
        )
    }

    def allowed(name: str) -> set[str]:
        return set(re.findall(r"'(\w+)'", checks[name]))

    assert allowed("reviews_status_check") == {s.value for s in Status}
    assert allowed("reviews_trigger_check") == {t.value for t in Trigger}


def test_create_is_the_only_insert_into_reviews():
    bot = Path(__file__).resolve().parents[1] / "bot"
    inserts = [
        path.relative_to(bot).as_posix()
        for path in bot.rglob("*.py")
        if re.search(r"INSERT INTO reviews\b", path.read_text())
    ]
    assert inserts == ["store/queue.py"]
    assert sum(p.read_text().count("SET status = 'superseded'") for p in bot.rglob("*.py")) == 1


async def test_a_new_review_supersedes_the_waiting_ones_and_says_which(pool):
    first, other_pr = new(), new(pr=8)
    await create(pool, first, other_pr)

    second = new()
    created = await create(pool, second)

    assert created.superseded == {("octo", "widgets", 7): [first.id]}
    assert await status(pool, first) == "superseded"
    assert await status(pool, other_pr) == "pending"
    replaced = await reviews.get(pool, first.id)
    assert replaced.superseded_by == second.id


async def test_an_edit_supersedes_nothing_until_it_runs(pool):
    push, edit = new(), new(trigger=Trigger.EDITED)

    created = await create(pool, push, edit)

    assert created.superseded == {}
    assert {await status(pool, push), await status(pool, edit)} == {"pending"}
    assert await queue.supersede(pool, [edit.id]) == [(("octo", "widgets", 7), push.id)]


async def test_finished_reviews_are_not_superseded(pool):
    done = new()
    await create(pool, done)
    await queue.claim(pool, done.id, OWNER, 30)
    await queue.finish(pool, done.id, OWNER, Status.COMPLETED)

    created = await create(pool, new())

    assert created.superseded == {}
    assert await status(pool, done) == "completed"


async def test_the_check_before_publishing_finds_a_race_and_does_not_write(pool):
    older, newer = new(), new()
    await create_racing(pool, older, newer)
    assert {await status(pool, older), await status(pool, newer)} == {"pending"}
    await queue.claim(pool, older.id, OWNER, 30)

    found = await queue.standing(pool, older.id, OWNER)

    assert found == queue.Check(Standing.REPLACED, newer.id)
    assert await status(pool, older) == "processing", "a predicate never writes"
    assert await queue.supersede(pool, [found.newer]) == [(("octo", "widgets", 7), older.id)]


async def test_the_check_says_lost_when_another_process_holds_the_review(pool):
    review = new()
    await create(pool, review)
    await queue.claim(pool, review.id, "someone-else", 30)

    assert (await queue.standing(pool, review.id, OWNER)).standing is Standing.LOST
    assert not await queue.finish(pool, review.id, OWNER, Status.COMPLETED)
    assert not await queue.renew(pool, review.id, OWNER, 30)


async def test_the_liveness_lock_frees_a_dead_process_review_before_its_lease_ends(pool):
    # No process holds the liveness lock of "dead": its review is free at once, although
    # its lease runs for an hour. The lease alone would keep it for that hour.
    review = new()
    await create(pool, review)
    await queue.claim(pool, review.id, "dead", 3600)

    assert await queue.waiting(pool, limit=10) == [review.id]
    assert (await queue.claim(pool, review.id, OWNER, 30)) is not None


async def test_the_lease_frees_a_review_its_live_process_stopped_renewing(pool):
    # "alive" holds its liveness lock (its process runs), but the review's lease ran out:
    # the liveness lock alone would keep the review for as long as that process lives.
    review = new()
    await create(pool, review)
    async with pool.acquire() as liveness:
        await queue.hold_liveness(liveness, "alive")
        await queue.claim(pool, review.id, "alive", 30)
        assert await queue.waiting(pool, limit=10) == [], "renewed leases keep it"
        await pool.execute(
            "UPDATE reviews SET lease_expires_at = now() - interval '1 second' WHERE id = $1",
            review.id,
        )

        assert await queue.waiting(pool, limit=10) == [review.id]
        assert (await queue.claim(pool, review.id, OWNER, 30)) is not None
        await liveness.execute("SELECT pg_advisory_unlock_all()")


async def test_release_hands_our_reviews_back(pool):
    mine, theirs = new(pr=1), new(pr=2)
    await create(pool, mine, theirs)
    await queue.claim(pool, mine.id, OWNER, 30)
    await queue.claim(pool, theirs.id, "other", 30)

    assert await queue.release(pool, OWNER) == 1
    assert await status(pool, mine) == "pending"
    assert await status(pool, theirs) == "processing"


async def test_a_review_claimed_too_often_is_given_up(pool):
    review = new()
    await create(pool, review)
    for _ in range(queue.MAX_ATTEMPTS):
        claimed = await queue.claim(pool, review.id, OWNER, 30)
        await queue.release(pool, OWNER)
    assert not queue.exhausted(claimed)

    last = await queue.claim(pool, review.id, OWNER, 30)

    assert queue.exhausted(last)
    assert await queue.give_up(pool, last, OWNER)
    row = await reviews.get(pool, review.id)
    assert (row.status, row.error) == ("failed", queue.GIVE_UP)


async def test_finish_takes_only_final_statuses(pool):
    review = new()
    await create(pool, review)
    await queue.claim(pool, review.id, OWNER, 30)

    with pytest.raises(ValueError):
        await queue.finish(pool, review.id, OWNER, Status.PENDING)
    with pytest.raises(ValueError, match="superseded"):
        await queue.finish(pool, review.id, OWNER, Status.SUPERSEDED)


async def test_concurrent_claims_give_the_review_to_one_live_process(pool, database_url):
    review = new()
    await create(pool, review)
    owners = [f"process-{i}" for i in range(4)]
    locks = [await asyncpg.connect(database_url) for _ in owners]
    try:
        for conn, owner in zip(locks, owners, strict=True):
            await queue.hold_liveness(conn, owner)

        claims = await asyncio.gather(*(queue.claim(pool, review.id, o, 30) for o in owners))

        assert sum(c is not None for c in claims) == 1
    finally:
        for conn in locks:
            await conn.close()
