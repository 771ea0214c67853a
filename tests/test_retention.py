"""Retention: what is older than RETENTION_DAYS goes, in batches; what is younger stays, and
so does what an open PR's next review needs (its latest review, its latest completed one)."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from bot.app import retention_loop
from bot.app.conversation import lifecycle
from bot.app.retention_loop import retention_pass
from bot.store import publications
from bot.store import retention as store
from bot.store.publications import Action, Publication, Target
from tests.reviewing import until

OLD, YOUNG = 100, 10  # days; the settings keep 90


async def review(
    pool,
    pr: int,
    *,
    status: str = "completed",
    days: int = OLD,
    error: str | None = None,
    delivery: str | None = None,
    findings: int = 1,
    calls: int = 1,
) -> uuid.UUID:
    """A review of o/r#pr finished `days` ago, with its findings and Gemini calls."""
    if delivery is not None:
        await pool.execute(
            "INSERT INTO webhook_deliveries (delivery_id, event, received_at)"
            " VALUES ($1, 'pull_request', now() - make_interval(days => $2))",
            delivery,
            days,
        )
    review_id = await pool.fetchval(
        "INSERT INTO reviews (installation_id, owner, repo, pr_number, head_sha, trigger,"
        " status, error, delivery_id) VALUES (1, 'o', 'r', $1, 'abc', 'opened', $2, $3, $4)"
        " RETURNING id",
        pr,
        status,
        error,
        delivery,
    )
    await pool.execute(
        "UPDATE reviews SET finished_at = now() - make_interval(days => $2) WHERE id = $1",
        review_id,
        days,
    )
    for n in range(findings):
        await pool.execute(
            "INSERT INTO findings (review_id, agent_type, severity, file_path, title)"
            " VALUES ($1, 'bugs', 'low', 'a.py', $2)",
            review_id,
            f"finding {n}",
        )
    for n in range(calls):
        await pool.execute(
            "INSERT INTO gemini_calls (review_id, installation_id, owner, repo, model, agent,"
            " chunk, chunk_digest, attempt, status, created_at)"
            " VALUES ($1, 1, 'o', 'r', 'gemini', 'bugs', $2, 'd', 1, 'ok',"
            " now() - make_interval(days => $3))",
            review_id,
            n + 1,
            days,
        )
    said = Publication(Target.COMMENT, Action.POSTED, "No findings", github_id=1)
    await publications.record(pool, review_id, said)
    return review_id


async def job(
    pool, pr: int | None, *, kind: str = "command", status: str = "done", days: int = OLD
) -> uuid.UUID:
    job_id = uuid.uuid4()
    await pool.execute(
        "INSERT INTO jobs (id, kind, installation_id, owner, repo, pr_number, status,"
        " finished_at) VALUES ($1, $2, 1, 'o', 'r', $3, $4,"
        " CASE WHEN $4 IN ('done', 'failed') THEN now() - make_interval(days => $5) END)",
        job_id,
        kind,
        pr,
        status,
        days,
    )
    return job_id


async def remaining(pool, table: str, key: str = "id") -> set:
    return {row[0] for row in await pool.fetch(f"SELECT {key} FROM {table}")}  # noqa: S608


async def test_what_is_older_than_the_limit_goes_and_what_is_younger_stays(services):
    pool = services.pool
    await review(pool, 1, findings=2, calls=3, delivery="d-old")
    await review(pool, 1, status="superseded", findings=0)
    young = await review(pool, 1, days=YOUNG, delivery="d-young")
    await pool.execute(
        "INSERT INTO webhook_deliveries (delivery_id, event, received_at) VALUES"
        " ('d-stray', 'ping', now() - interval '100 days'), ('d-new', 'ping', now())"
    )
    old_job, young_job = await job(pool, 1), await job(pool, 1, days=YOUNG)
    waiting = await job(pool, 1, status="pending")
    await pool.execute(
        "INSERT INTO gemini_spend (installation_id, day) VALUES (1, current_date - 100),"
        " (1, current_date)"
    )
    await pool.execute(
        "INSERT INTO gemini_quota (last_at, day_requests) VALUES (now() - interval '100 days', 3)"
    )

    deleted = await retention_pass(services)

    assert await remaining(pool, "reviews") == {young}
    assert deleted.tables() == {
        "reviews": 2,
        "findings": 2,
        "gemini_calls": 4,
        "review_events": 2,
        "publications": 2,
        "webhook_deliveries": 2,
        "jobs": 1,
        "gemini_quota": 1,
        "gemini_spend": 1,
    }
    assert await remaining(pool, "findings", "review_id") == {young}
    assert await remaining(pool, "gemini_calls", "review_id") == {young}
    assert await remaining(pool, "review_events", "review_id") == {young}
    assert await remaining(pool, "publications", "review_id") == {young}
    assert await remaining(pool, "webhook_deliveries", "delivery_id") == {"d-young", "d-new"}
    assert await remaining(pool, "jobs") == {young_job, waiting}
    assert old_job not in await remaining(pool, "jobs")
    assert await pool.fetchval("SELECT count(*) FROM gemini_spend") == 1
    assert await pool.fetchval("SELECT count(*) FROM gemini_quota") == 0

    assert (await retention_pass(services)).tables() == dict.fromkeys(deleted.tables(), 0)


async def test_an_open_prs_latest_review_stays_however_old(services):
    pool = services.pool
    older = await review(pool, 2, findings=2)
    completed = await review(pool, 2, findings=2, delivery="d-2")
    latest = await review(pool, 2, status="skipped", findings=0)  # a draft, say
    failed = await review(pool, 3, status="failed")

    deleted = await retention_pass(services)

    assert await remaining(pool, "reviews") == {completed, latest, failed}
    assert deleted.reviews == 1 and older not in await remaining(pool, "reviews")
    assert await remaining(pool, "findings", "review_id") == {completed, failed}
    assert await pool.fetchval("SELECT count(*) FROM findings") == 3
    assert await remaining(pool, "webhook_deliveries", "delivery_id") == {"d-2"}, (
        "the delivery of a kept review is kept (its row points at it)"
    )


async def test_a_closed_prs_reviews_all_go(services):
    pool = services.pool
    stopped = await review(pool, 4, status="skipped", error=store.CLOSED)
    by_job = await review(pool, 5)
    closed = await job(pool, 5, kind="closed")
    await review(pool, 6)  # closed, then reopened: the reopened review came after the job
    await pool.execute(
        "UPDATE jobs SET created_at = now() - interval '1 day' WHERE id = $1",
        await job(pool, 6, kind="closed"),
    )
    reopened = await review(pool, 6, status="skipped")
    other_closed = await job(pool, 7, kind="closed")  # its PR's reviews are young
    young = await review(pool, 7, days=YOUNG)
    await pool.execute(
        "UPDATE jobs SET created_at = now() + interval '1 second' WHERE id = $1", other_closed
    )

    await retention_pass(services)

    reviews = await remaining(pool, "reviews")
    assert stopped not in reviews and by_job not in reviews
    assert reviews >= {reopened, young}
    assert len(reviews) == 3, "PR 6 keeps its latest completed review too"
    jobs = await remaining(pool, "jobs")
    assert closed not in jobs, "a closed PR's closed job goes with its last review"
    assert other_closed in jobs, "kept while its PR has reviews: it says the PR closed"
    assert store.CLOSED == lifecycle.CLOSED


async def test_batches_delete_more_rows_than_one_batch(services):
    pool = services.pool
    doomed = [await review(pool, 8, findings=3, calls=2) for _ in range(11)]
    kept = await review(pool, 8, findings=3, delivery="d-kept")
    await pool.execute(
        "INSERT INTO webhook_deliveries (delivery_id, event, received_at)"
        " SELECT 'd' || n, 'pull_request', now() - interval '100 days'"
        " FROM generate_series(1, 9) n"
    )

    deleted = await retention_pass(services, batch=4)

    assert await remaining(pool, "reviews") == {kept}
    assert (deleted.reviews, deleted.findings, deleted.gemini_calls) == (11, 33, 22)
    assert deleted.review_events == 11
    assert deleted.webhook_deliveries == 9
    assert await remaining(pool, "webhook_deliveries", "delivery_id") == {"d-kept"}
    assert doomed[0] not in await remaining(pool, "findings", "review_id")


async def test_purge_refuses_an_empty_batch(services):
    async with services.pool.acquire() as conn:
        with pytest.raises(ValueError, match="batch"):
            await store.purge(conn, services.clock(), batch=0)


async def test_one_replica_at_a_time(services):
    pool = services.pool
    old = await review(pool, 9, status="failed")
    await review(pool, 9)
    async with pool.acquire() as other:
        await other.execute("SELECT pg_advisory_lock($1)", store.RETENTION_LOCK_KEY)
        try:
            deleted = await retention_pass(services)
        finally:
            await other.execute("SELECT pg_advisory_unlock($1)", store.RETENTION_LOCK_KEY)

    assert not deleted.ran
    assert old in await remaining(pool, "reviews")
    assert (await retention_pass(services)).reviews == 1


async def test_run_forever_makes_a_pass_at_start_up_then_waits_a_day(services, waits):
    pool = services.pool
    old = await review(pool, 10, status="failed")
    latest = await review(pool, 10)

    task = asyncio.create_task(retention_loop.run_forever(services))
    try:
        await until(lambda: retention_loop.INTERVAL in waits)  # asked for once the pass is done
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert await remaining(pool, "reviews") == {latest}
    assert old != latest
