"""An outage defers, it does not fail (bot/app/outage.py): GitHub or Gemini away for longer
than the in-place retries puts the review back to the queue, its check run in progress and
saying when it is tried again; once the service is back the review completes once, with one
summary comment and one check run. Past OUTAGE_HORIZON_SECONDS, or on a 4xx no wait mends,
it fails."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from datetime import UTC, datetime, timedelta
from http import HTTPStatus

import gidgethub
import pytest

from bot import retry
from bot.app import outage
from bot.app.conversation.context import Hooks
from bot.app.conversation.runner import process_job
from bot.app.scheduler import Scheduler
from bot.app.services import Services
from bot.app.worker import process_review
from bot.github.client import GitHubUnreachable
from bot.store import jobs, queue, reviews
from bot.store.jobs import Kind, NewJob
from tests.reviewing import OWNER, REPO, finding, new_review, open_pull, summary_of

STORM = 400  # more failed answers than every in-place retry of one review asks for


class Clock:
    """The App's clock, moved by the test: a deferral's `not_before` is waited out at once."""

    def __init__(self) -> None:
        self.now = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def past(self, when: datetime | None) -> None:
        assert when is not None
        self.now = when + timedelta(seconds=1)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def app(settings, fake_github, fake_gemini, sleep, clock):
    async with Services.open(settings, sleep=sleep, clock=clock) as opened:
        yield opened


async def not_before(app: Services, review_id: uuid.UUID) -> datetime | None:
    return await app.pool.fetchval("SELECT not_before FROM reviews WHERE id = $1", review_id)


async def test_gemini_down_past_the_retries_defers_then_completes_once(
    app, fake_github, fake_gemini, clock
):
    pull = open_pull(fake_github)
    fake_gemini.findings["security"] = [finding(line=9)]
    fake_gemini.fail_next(503, times=STORM)
    review_id = await new_review(app.pool, pull)

    await process_review(review_id, app)

    deferred = await reviews.get(app.pool, review_id)
    assert deferred is not None
    assert (deferred.status, deferred.error, deferred.outage_retries) == ("pending", None, 1)
    assert deferred.outage_since == clock.now
    until = await not_before(app, review_id)
    assert until is not None and clock.now + timedelta(seconds=15) <= until
    assert until <= clock.now + timedelta(seconds=30)
    (check,) = fake_github.check_runs(OWNER, REPO, pull.head_sha)
    assert check["status"] == "in_progress"
    said = check["output"]["summary"] + check["output"]["title"]
    assert "tries again" in summary_of(fake_github) and "503" in summary_of(fake_github)
    assert "Queued until" in said
    assert fake_github.reviews(OWNER, REPO, 7) == []  # nothing half-reviewed was posted

    fake_gemini.heal()
    await process_review(review_id, app)  # not yet due: not claimed
    assert (await reviews.get(app.pool, review_id)).status == "pending"
    clock.past(until)
    await process_review(review_id, app)

    done = await reviews.get(app.pool, review_id)
    assert done is not None and done.status == "completed" and done.error is None
    (check,) = fake_github.check_runs(OWNER, REPO, pull.head_sha)
    assert check["status"] == "completed" and check["conclusion"] == "failure"
    assert len(fake_github.comments(OWNER, REPO, 7)) == 1
    assert len(fake_github.reviews(OWNER, REPO, 7)) == 1
    assert "tries again" not in summary_of(fake_github)


async def test_github_down_past_the_retries_defers_then_completes_once(
    app, fake_github, fake_gemini, clock
):
    pull = open_pull(fake_github)
    fake_gemini.findings["bugs"] = [finding(line=9)]
    fake_github.fail_next("*", r".", 502, times=STORM)  # the token endpoint first
    review_id = await new_review(app.pool, pull)

    await process_review(review_id, app)

    deferred = await reviews.get(app.pool, review_id)
    assert deferred is not None and deferred.status == "pending"
    assert deferred.outage_retries == 1 and deferred.attempts == 0  # waiting is not failing
    assert fake_gemini.requests == [] and fake_github.check_runs(OWNER, REPO) == []

    # Down for the next try too: the backoff doubles, the outage's start is kept.
    first = await not_before(app, review_id)
    clock.past(first)
    await process_review(review_id, app)
    again = await reviews.get(app.pool, review_id)
    second = await not_before(app, review_id)
    assert again is not None and again.outage_retries == 2
    assert again.outage_since == deferred.outage_since
    assert first is not None and second is not None
    assert second - clock.now >= timedelta(seconds=30)  # 1 min, with jitter down to half

    fake_github.heal()
    clock.past(second)
    await process_review(review_id, app)

    done = await reviews.get(app.pool, review_id)
    assert done is not None and done.status == "completed"
    assert len(fake_github.check_runs(OWNER, REPO, pull.head_sha)) == 1
    assert len(fake_github.comments(OWNER, REPO, 7)) == 1
    assert len(fake_github.reviews(OWNER, REPO, 7)) == 1


async def test_an_outage_past_the_horizon_fails_and_says_for_how_long(
    settings, fake_github, fake_gemini, sleep, clock
):
    pull = open_pull(fake_github)
    fake_gemini.fail_next(500, times=STORM)
    hour = dataclasses.replace(settings, outage_horizon_seconds=3600)
    async with Services.open(hour, sleep=sleep, clock=clock) as app:
        review_id = await new_review(app.pool, pull)
        await process_review(review_id, app)
        started = clock.now
        clock.now = started + timedelta(hours=1)
        await process_review(review_id, app)

        failed = await reviews.get(app.pool, review_id)

    assert failed is not None and failed.status == "failed"
    assert failed.error is not None and "500" in failed.error
    assert "after 1.0 h of tries since 09:00 UTC" in failed.error
    (check,) = fake_github.check_runs(OWNER, REPO, pull.head_sha)
    assert check["conclusion"] == "failure"


async def test_a_deleted_pull_request_fails_at_once(app, fake_github, fake_gemini):
    pull = open_pull(fake_github)
    fake_github.fail_next("GET", rf"/repos/{OWNER}/{REPO}/pulls/7$", 404, times=STORM)
    fake_github.fail_next("POST", r"/graphql$", 404, times=STORM)
    review_id = await new_review(app.pool, pull)

    await process_review(review_id, app)

    failed = await reviews.get(app.pool, review_id)
    assert failed is not None and failed.status == "failed" and failed.outage_retries == 0


def test_the_backoff_doubles_from_30_s_to_15_min_and_stops_at_the_horizon():
    now = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    broken = TimeoutError("no answer")
    waits = []
    for retries in range(8):
        deferral = outage.deferral(
            broken, "down", since=now, retries=retries, now=now, horizon_seconds=21_600
        )
        assert deferral is not None
        waits.append((deferral.until - now).total_seconds())
    ceilings = [30, 60, 120, 240, 480, 900, 900, 900]
    assert all(c / 2 <= w <= c for w, c in zip(waits, ceilings, strict=True))
    late = now + timedelta(hours=5, minutes=59, seconds=50)
    last = outage.deferral(broken, "down", since=now, retries=20, now=late, horizon_seconds=21_600)
    assert last is not None and last.until == now + timedelta(hours=6)  # a last try, then fail
    assert (
        outage.deferral(
            broken, "down", since=now, retries=21, now=last.until, horizon_seconds=21_600
        )
        is None
    )
    assert outage.deferral(ValueError("a bug"), "x", since=None, retries=0, now=now,
                           horizon_seconds=21_600) is None  # fmt: skip
    assert retry.outage(GitHubUnreachable("no answer")) and retry.outage(retry.Outage("503"))
    assert not retry.outage(gidgethub.BadRequest(HTTPStatus.NOT_FOUND))


async def test_github_refusing_connections_fails_with_one_readable_sentence(
    settings, fake_github, sleep, clock
):
    """With no horizon (0), an outage fails at once: the error names the host, not a repr."""
    pull = open_pull(fake_github)
    refused = dataclasses.replace(
        settings, github_api_url="http://127.0.0.1:9", outage_horizon_seconds=0
    )
    async with Services.open(refused, sleep=sleep, clock=clock) as app:
        review_id = await new_review(app.pool, pull)
        await process_review(review_id, app)
        failed = await reviews.get(app.pool, review_id)

    assert failed is not None and failed.status == "failed"
    assert failed.error is not None and "127.0.0.1:9" in failed.error
    assert "ConnectionKey" not in failed.error and "(" not in failed.error.split(":")[0]


async def test_a_job_meeting_github_down_is_deferred_too(app, fake_github, clock):
    pull = open_pull(fake_github)
    command = NewJob(uuid.uuid4(), Kind.COMMAND, pull.installation_id, OWNER, REPO, 7,
                     {"comment_id": 1, "command": "help", "login": "octocat"})  # fmt: skip
    async with app.pool.acquire() as conn:
        await queue.create(conn, [command])
    fake_github.fail_next("*", r".", 503, times=STORM)
    hooks = Hooks(lambda _: False, lambda _: None)

    await process_job(command.id, app, hooks)

    row = await jobs.get(app.pool, command.id)
    assert (row["status"], row["attempts"], row["outage_retries"]) == ("pending", 0, 1)
    assert row["not_before"] > clock.now and row["outage_since"] == clock.now
    await process_job(command.id, app, hooks)  # not due yet: not claimed
    assert (await jobs.get(app.pool, command.id))["status"] == "pending"

    fake_github.heal()
    clock.past(row["not_before"])
    await process_job(command.id, app, hooks)

    # GitHub is back, and answers that the comment is gone: a 404 no wait mends, failed at once.
    ended = await jobs.get(app.pool, command.id)
    assert (ended["status"], ended["outage_retries"]) == ("failed", 1)
    assert ended["error"].startswith("GitHub answered 404 to POST /repos/octo/widgets/issues/")


async def test_three_prs_through_an_outage_of_both_each_completes_once(
    app, fake_github, fake_gemini, clock
):
    """The scheduler's reclaimer takes deferred reviews again once due, and not before."""
    pulls = [open_pull(fake_github, number) for number in (7, 8, 9)]
    fake_gemini.findings["security"] = [finding(line=9)]
    fake_github.fail_next("*", r"/access_tokens$", 502, times=STORM)  # GitHub: a token refused
    fake_gemini.fail_next(503, times=STORM)
    ids = [await new_review(app.pool, pull) for pull in pulls]
    scheduler = Scheduler(app)

    async def statuses() -> list[str]:
        rows = await app.pool.fetch("SELECT status FROM reviews WHERE id = ANY($1)", ids)
        return sorted(row["status"] for row in rows)

    async def settle() -> None:
        while scheduler._tasks:
            await asyncio.sleep(0.02)

    async with asyncio.timeout(60):
        assert await scheduler.reclaim() == 3
        await settle()
        assert await statuses() == ["pending"] * 3
        fake_github.heal()  # GitHub is back, Gemini is not: deferred again, the checks in progress
        assert await scheduler.reclaim() == 0  # not due yet
        clock.past(await app.pool.fetchval("SELECT max(not_before) FROM reviews"))
        assert await scheduler.reclaim() == 3
        await settle()
        assert await statuses() == ["pending"] * 3
        assert await scheduler._until_due(3600) <= 60.1  # the reclaimer wakes when one falls due
        fake_gemini.heal()
        clock.past(await app.pool.fetchval("SELECT max(not_before) FROM reviews"))
        assert await scheduler.reclaim() == 3
        await settle()
        assert await statuses() == ["completed"] * 3

    for pull in pulls:
        (check,) = fake_github.check_runs(OWNER, REPO, pull.head_sha)
        assert check["status"] == "completed"
        assert len(fake_github.comments(OWNER, REPO, pull.number)) == 1
        assert len(fake_github.reviews(OWNER, REPO, pull.number)) == 1
