"""The Re-run button, installations removed or suspended, and a PR closed mid-review."""

from __future__ import annotations

import asyncio

import pytest

from bot.app.web import services_key
from tests.conversing import app_client, deliver, job_done, last_review_done, reviews_of
from tests.payloads import (
    check_run_payload,
    check_suite_payload,
    installation_payload,
    installation_repositories_payload,
    pull_request_payload,
)
from tests.reviewing import OWNER, REPO, open_pull, until, wait_for

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
async def client(aiohttp_client, settings, fake_github, fake_gemini):
    return await app_client(aiohttp_client, settings)


async def test_rerun_of_our_check_run_reviews_that_head_in_full(client, pool, fake_github):
    pull = open_pull(fake_github)
    payload = check_run_payload(head_sha=pull.head_sha, app_id=4242)

    job = await job_done(pool, await deliver(client, payload, "check_run"))
    review = await last_review_done(pool)

    assert job["outcome"] == "1 review(s) started"
    assert (review["trigger"], review["head_sha"], review["status"]) == (
        "rerun",
        pull.head_sha,
        "completed",
    )


async def test_rerun_for_a_forks_pr_finds_the_pr_by_our_review(client, pool, fake_github):
    pull = open_pull(fake_github)
    first = await deliver(
        client, pull_request_payload("opened", head_sha=pull.head_sha), "pull_request"
    )
    await wait_for(pool, first["review_id"])
    # GitHub lists no pull request for a fork's head; external_id is our review's id.
    payload = check_run_payload(
        head_sha=pull.head_sha, pull_numbers=(), external_id=first["review_id"]
    )

    job = await job_done(pool, await deliver(client, payload, "check_run"))
    review = await last_review_done(pool)

    assert job["outcome"] == "1 review(s) started"
    assert (review["trigger"], review["pr_number"]) == ("rerun", 7)


async def test_rerun_all_checks_of_our_suite_reviews_again(client, pool, fake_github):
    pull = open_pull(fake_github)

    await job_done(
        pool, await deliver(client, check_suite_payload(head_sha=pull.head_sha), "check_suite")
    )

    assert (await last_review_done(pool))["trigger"] == "rerun"


@pytest.mark.parametrize(
    "payload",
    [
        check_run_payload(app_id=999),
        check_run_payload(name="Other CI"),
        check_suite_payload(app_id=999),
    ],
    ids=["another app's run", "another check's name", "another app's suite"],
)
async def test_rerun_of_a_check_that_is_not_ours_is_ignored(client, pool, payload):
    event = "check_run" if "check_run" in payload else "check_suite"

    assert await deliver(client, payload, event) == {"status": "ignored"}
    assert await pool.fetchval("SELECT count(*) FROM jobs") == 0


async def test_a_deleted_installations_review_is_skipped_and_its_token_dropped(
    client, pool, fake_github, fake_gemini
):
    pull = open_pull(fake_github)
    services = client.app[services_key]
    first = await deliver(
        client, pull_request_payload("opened", head_sha=pull.head_sha), "pull_request"
    )
    await wait_for(pool, first["review_id"])
    issued = len(fake_github.tokens_issued)

    job = await job_done(
        pool, await deliver(client, installation_payload("deleted"), "installation")
    )
    second = await deliver(
        client, pull_request_payload("synchronize", head_sha=pull.head_sha), "pull_request"
    )
    await wait_for(pool, second["review_id"])

    assert job["outcome"] == "deleted"
    row = await pool.fetchrow(
        "SELECT status, error FROM reviews WHERE id = $1::uuid", second["review_id"]
    )
    assert row["status"] == "skipped" and "installation 1 is deleted" in row["error"]
    assert len(fake_github.tokens_issued) == issued
    assert 1 not in services.github._tokens

    await job_done(pool, await deliver(client, installation_payload("created"), "installation"))
    third = await deliver(
        client, pull_request_payload("synchronize", head_sha=pull.head_sha), "pull_request"
    )
    assert await wait_for(pool, third["review_id"]) == "completed"
    assert len(fake_github.tokens_issued) == issued + 1  # a new token: the old was dropped


async def test_a_suspended_installation_is_skipped_until_unsuspended(client, pool, fake_github):
    pull = open_pull(fake_github)
    await job_done(pool, await deliver(client, installation_payload("suspend"), "installation"))

    skipped = await deliver(
        client, pull_request_payload("opened", head_sha=pull.head_sha), "pull_request"
    )
    assert await wait_for(pool, skipped["review_id"]) == "skipped"

    await job_done(pool, await deliver(client, installation_payload("unsuspend"), "installation"))
    again = await deliver(
        client, pull_request_payload("synchronize", head_sha=pull.head_sha), "pull_request"
    )
    assert await wait_for(pool, again["review_id"]) == "completed"


async def test_installations_and_their_repositories_are_recorded(client, pool):
    await job_done(
        pool,
        await deliver(
            client,
            installation_payload(
                "created",
                installation_id=5,
                account="acme",
                repositories=("acme/a", "acme/b"),
            ),
            "installation",
        ),
    )
    await job_done(
        pool,
        await deliver(
            client,
            installation_repositories_payload(
                "removed",
                installation_id=5,
                added=(),
                removed=("acme/a",),
            ),
            "installation_repositories",
        ),
    )
    await job_done(
        pool,
        await deliver(
            client,
            installation_repositories_payload(
                "added",
                installation_id=5,
                added=("acme/c",),
            ),
            "installation_repositories",
        ),
    )

    row = await pool.fetchrow("SELECT account, status FROM installations WHERE id = 5")
    assert tuple(row) == ("acme", "active")
    repos = await pool.fetch(
        "SELECT full_name FROM installation_repositories WHERE installation_id = 5 ORDER BY 1"
    )
    assert [r["full_name"] for r in repos] == ["acme/b", "acme/c"]


async def test_closing_the_pr_stops_its_running_review(client, pool, fake_github, fake_gemini):
    pull = open_pull(fake_github)
    fake_gemini.latency = 2.0  # the agents are still thinking when the PR closes
    started = await deliver(
        client, pull_request_payload("opened", head_sha=pull.head_sha), "pull_request"
    )
    await until(lambda: len(fake_gemini.requests) > 0)

    job = await job_done(
        pool,
        await deliver(
            client,
            pull_request_payload("closed", head_sha=pull.head_sha, state="closed"),
            "pull_request",
        ),
    )

    assert job["outcome"].startswith("1 review(s) stopped")
    row = await pool.fetchrow(
        "SELECT status, error FROM reviews WHERE id = $1::uuid", started["review_id"]
    )
    assert (row["status"], row["error"]) == ("skipped", "the pull request was closed")
    [run] = fake_github.check_runs(OWNER, REPO)
    assert (run["status"], run["conclusion"]) == ("completed", "cancelled")
    assert "stopped" in run["output"]["summary"]
    # The task was cancelled: nothing is posted after the close.
    await asyncio.sleep(0.1)
    assert fake_github.comments(OWNER, REPO, 7) == []
    assert [r["status"] for r in await reviews_of(pool)] == ["skipped"]
