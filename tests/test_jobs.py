"""The jobs table: created once with its delivery, a PR's jobs one at a time and in order,
taken back from a dead process, given up after MAX_ATTEMPTS."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest

from bot.app.conversation.context import Hooks
from bot.app.conversation.runner import process_job
from bot.store import jobs, queue
from bot.store.deliveries import Delivery
from bot.store.jobs import JobStatus, Kind, NewJob

pytestmark = pytest.mark.timeout(30)

OWNER = "this-process"


def job(pr: int | None = 7, kind: Kind = Kind.COMMAND) -> NewJob:
    return NewJob(uuid.uuid4(), kind, 1, "octo", "widgets", pr, {"comment_id": 1})


async def create(pool, *items) -> None:
    async with pool.acquire() as conn:
        await queue.create(conn, list(items))


async def test_a_prs_jobs_run_one_at_a_time_in_arrival_order(pool):
    first, second, elsewhere = job(), job(), job(pr=8)
    await create(pool, first, second, elsewhere)

    assert await jobs.waiting(pool, 10) == [first.id, elsewhere.id]
    assert await jobs.claim(pool, second.id, OWNER) is None
    assert (await jobs.claim(pool, first.id, OWNER)) is not None
    assert await jobs.claim(pool, second.id, OWNER) is None  # the first still runs
    assert await jobs.finish(pool, first.id, OWNER, JobStatus.DONE, "help")

    claimed = await jobs.claim(pool, second.id, OWNER)
    assert claimed is not None and claimed.attempts == 1


async def test_a_redelivered_delivery_creates_its_job_once(pool):
    def delivered() -> Delivery:
        return Delivery("guid-1", "issue_comment", "created", 1, "octo/widgets", job=job())

    await create(pool, delivered())
    await create(pool, delivered())

    assert await pool.fetchval("SELECT count(*) FROM jobs") == 1
    assert await pool.fetchval("SELECT delivery_id FROM jobs") == "guid-1"


async def test_a_dead_processes_job_is_taken_back(pool):
    mine = job()
    await create(pool, mine)
    await jobs.claim(pool, mine.id, "dead")  # no process holds "dead"'s liveness lock

    assert await jobs.waiting(pool, 10) == [mine.id]
    assert (await jobs.claim(pool, mine.id, OWNER)) is not None


async def test_release_puts_our_jobs_back(pool):
    mine = job()
    await create(pool, mine)
    await jobs.claim(pool, mine.id, OWNER)

    assert await jobs.release(pool, OWNER) == 1
    assert (await jobs.get(pool, mine.id))["status"] == "pending"


async def test_finish_takes_only_final_statuses(pool):
    mine = job()
    await create(pool, mine)
    await jobs.claim(pool, mine.id, OWNER)

    with pytest.raises(ValueError):
        await jobs.finish(pool, mine.id, OWNER, JobStatus.PENDING, "x")
    assert not await jobs.finish(pool, mine.id, "another", JobStatus.DONE, "x")


async def test_a_job_whose_process_kept_dying_is_given_up(services):
    mine = job()
    await create(services.pool, mine)
    await services.pool.execute(
        "UPDATE jobs SET attempts = $2 WHERE id = $1", mine.id, jobs.MAX_ATTEMPTS
    )

    await process_job(mine.id, services, Hooks(lambda _: False, lambda _: None))

    row = await jobs.get(services.pool, mine.id)
    assert (row["status"], row["outcome"]) == ("failed", "gave up")
    assert "gave up after 3 attempts" in row["error"]


async def test_a_failing_job_is_recorded_failed_with_a_readable_error(services, fake_github):
    # Installation 1 is unknown to FakeGitHub: its token is refused.
    mine = job()
    await create(services.pool, mine)

    await process_job(mine.id, services, Hooks(lambda _: False, lambda _: None))

    row = await jobs.get(services.pool, mine.id)
    assert row["status"] == "failed"
    assert row["error"].startswith("GitHub answered 404 to POST /app/installations/1/")


async def test_kinds_and_statuses_are_the_migrations_checks(pool):
    checks = {
        row["conname"]: set(re.findall(r"'(\w+)'", row["def"]))
        for row in await pool.fetch(
            "SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint"
            " WHERE conrelid = 'jobs'::regclass AND contype = 'c'"
        )
    }

    assert checks["jobs_kind_check"] == {k.value for k in Kind}
    assert checks["jobs_status_check"] == {s.value for s in JobStatus}


def test_jobs_are_inserted_only_with_their_deliveries():
    bot = Path(__file__).resolve().parents[1] / "bot"
    inserts = [
        path.relative_to(bot).as_posix()
        for path in bot.rglob("*.py")
        if re.search(r"INSERT INTO jobs\b", path.read_text())
    ]
    assert inserts == ["store/jobs.py"]  # its INSERT runs only inside queue.create
