"""The review tasks: supersede and cancel, edits, a killed server, replicas sharing a database."""

from __future__ import annotations

import asyncio
import uuid

import aiohttp
import pytest

from bot.app.web import create_app
from bot.store import reviews
from tests.payloads import delivery, pull_request_payload
from tests.processes import Server
from tests.reviewing import (
    NEW_APP,
    OWNER,
    REPO,
    finding,
    open_pull,
    until,
    wait_for,
)


def push_payload(pull, action: str = "synchronize", **kw) -> dict:
    return pull_request_payload(action, number=pull.number, head_sha=pull.head_sha, **kw)


async def post(client, payload) -> str:
    body, headers = delivery(payload)
    response = await client.post("/webhooks", data=body, headers=headers)
    assert response.status == 202, await response.text()
    return (await response.json())["review_id"]


async def test_two_quick_pushes_only_the_newest_head_completes(
    aiohttp_client, settings, pool, fake_github, fake_gemini
):
    fake_gemini.latency = 0.5
    pull = open_pull(fake_github)
    client = await aiohttp_client(create_app(settings))
    first = await post(client, push_payload(pull))
    await until(lambda: fake_gemini.requests)  # the first review is asking Gemini now
    first_head = pull.head_sha
    pull.push({"app.py": NEW_APP + "# second push\n"})

    second = await post(client, push_payload(pull))

    assert await wait_for(pool, second) == "completed"
    assert await wait_for(pool, first) == "superseded"
    (comment,) = fake_github.comments(OWNER, REPO, 7)
    assert pull.head_sha[:12] in comment["body"]
    assert first_head[:12] not in comment["body"]
    (stale,) = fake_github.check_runs(OWNER, REPO, first_head)
    assert (stale["status"], stale["conclusion"]) == ("completed", "cancelled")
    assert pull.head_sha[:12] in stale["output"]["summary"], "it names the newer head"
    superseded = await reviews.get(pool, uuid.UUID(first))
    assert superseded.stats["gemini_cancelled"] >= 1


async def test_edit_of_a_label_starts_nothing(aiohttp_client, settings, pool, fake_github):
    client = await aiohttp_client(create_app(settings))
    body, headers = delivery(pull_request_payload("edited", changes={"labels": {"from": []}}))

    response = await client.post("/webhooks", data=body, headers=headers)

    assert response.status == 200
    assert await pool.fetchval("SELECT count(*) FROM reviews") == 0


async def test_edit_of_the_title_reruns_the_review_of_the_current_head(
    aiohttp_client, settings, pool, fake_github, fake_gemini
):
    pull = open_pull(fake_github)
    client = await aiohttp_client(create_app(settings))
    payload = push_payload(pull, "edited", changes={"title": {"from": "Old title"}})

    review_id = await post(client, payload)

    assert await wait_for(pool, review_id) == "completed"
    assert len(fake_gemini.requests) == 5


@pytest.fixture
def workdir(tmp_path):
    return tmp_path


async def test_killed_server_resumes_the_review_after_restart(
    settings, pool, fake_github, fake_gemini, workdir
):
    pull = open_pull(fake_github)
    fake_gemini.findings["security"] = [finding(line=9)]
    fake_gemini.latency = 3.0
    first = Server(settings, workdir)
    try:
        await first.ready()
        body, headers = delivery(push_payload(pull, "opened"))
        async with aiohttp.ClientSession() as http:
            async with http.post(first.url + "/webhooks", data=body, headers=headers) as answer:
                review_id = (await answer.json())["review_id"]
        await until(lambda: len(fake_gemini.requests) == 5)  # every call waits on Gemini
        first.kill()
    finally:
        first.stop()
    fake_gemini.latency = 0.0

    second = Server(settings, workdir)
    try:
        await second.ready()
        assert await wait_for(pool, review_id) == "completed"
    finally:
        second.stop()

    review = await reviews.get(pool, uuid.UUID(review_id))
    assert review.attempts == 2
    assert len(fake_github.comments(OWNER, REPO, 7)) == 1
    assert len(fake_github.check_runs(OWNER, REPO, pull.head_sha)) == 1
    assert len(fake_github.reviews(OWNER, REPO, 7)) == 1


async def test_two_servers_on_one_database_process_each_review_once(
    settings, pool, fake_github, fake_gemini, workdir
):
    pulls = [open_pull(fake_github, number=n) for n in range(1, 21)]
    fake_gemini.findings["bugs"] = [finding(severity="low", title="Note")]
    servers = [Server(settings, workdir, MAX_CONCURRENT_REVIEWS="3") for _ in range(2)]
    try:
        await asyncio.gather(*(server.ready() for server in servers))
        async with aiohttp.ClientSession() as http:
            for i, pull in enumerate(pulls):
                body, headers = delivery(push_payload(pull, "opened"))
                url = servers[i % 2].url + "/webhooks"
                async with http.post(url, data=body, headers=headers) as answer:
                    assert answer.status == 202
        rows = await pool.fetch("SELECT id FROM reviews")
        for row in rows:
            assert await wait_for(pool, str(row["id"]), timeout=60) == "completed"
    finally:
        for server in servers:
            server.stop()

    assert await pool.fetchval("SELECT count(*) FROM reviews WHERE attempts = 1") == 20
    for server in servers:
        assert " completed" in server.log.read_text(), "both replicas took part"
    assert len([r for r in fake_gemini.requests if r.agent != "verifier"]) == 20 * 5
    for pull in pulls:
        assert len(fake_github.comments(OWNER, REPO, pull.number)) == 1
        assert len(fake_github.check_runs(OWNER, REPO, pull.head_sha)) == 1
        assert len(fake_github.reviews(OWNER, REPO, pull.number)) == 1


async def test_an_edit_supersedes_the_running_review_and_cancels_its_task(
    aiohttp_client, settings, pool, fake_github, fake_gemini
):
    pull = open_pull(fake_github)
    fake_gemini.latency = 5.0  # the push's review waits on its agents...
    client = await aiohttp_client(create_app(settings))
    push = await post(client, push_payload(pull))
    await until(lambda: len(fake_gemini.requests) == 5)
    fake_gemini.latency = 0.0  # ...and the edit's review gets its answers at once

    edit = await post(client, push_payload(pull, "edited", changes={"title": {"from": "Old"}}))

    assert await wait_for(pool, edit, timeout=10) == "completed"
    assert await wait_for(pool, push, timeout=2) == "superseded"
    replaced = await reviews.get(pool, uuid.UUID(push))
    assert replaced.superseded_by == uuid.UUID(edit)
    assert replaced.stats["gemini_cancelled"] == 5, "its Gemini calls were cut off"
    runs = {run["external_id"]: run for run in fake_github.check_runs(OWNER, REPO, pull.head_sha)}
    assert runs[push]["conclusion"] == "cancelled"
    assert runs[edit]["status"] == "completed" and runs[edit]["conclusion"] != "cancelled"
