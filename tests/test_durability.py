"""Nothing lost, nothing twice: supersede, incremental reviews, crashes and replicas."""

from __future__ import annotations

import asyncio
import uuid

import aiohttp
import pytest

from bot.store import reviews
from bot.store.findings import FindingRepo
from bot.web import create_app
from bot.worker import process_review
from tests.payloads import delivery, pull_request_payload
from tests.processes import Server
from tests.reviewing import (
    NEW_APP,
    OLD_APP,
    OWNER,
    REPO,
    finding,
    many_files,
    new_review,
    open_pull,
    run_review,
)


async def wait_for(pool, review_id, statuses=("completed", "failed", "skipped", "superseded"),
                   timeout: float = 30) -> str:  # fmt: skip
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    status = None
    while loop.time() < deadline:
        status = await pool.fetchval("SELECT status FROM reviews WHERE id = $1::uuid", review_id)
        if status in statuses:
            return status
        await asyncio.sleep(0.05)
    raise AssertionError(f"review {review_id} still {status} after {timeout} s")


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
    while not fake_gemini.requests:  # the first review is asking Gemini now
        await asyncio.sleep(0.02)
    first_head = pull.head_sha
    pull.push({"app.py": NEW_APP + "# second push\n"})

    second = await post(client, push_payload(pull))

    assert await wait_for(pool, second) == "completed"
    assert await wait_for(pool, first) == "superseded"
    (comment,) = fake_github.comments(OWNER, REPO, 7)
    assert pull.head_sha[:12] in comment["body"]
    assert first_head[:12] not in comment["body"]
    stale = fake_github.check_runs(OWNER, REPO, first_head)
    assert all(run["status"] != "completed" for run in stale)
    superseded = await reviews.get(pool, uuid.UUID(first))
    assert superseded.stats["gemini_cancelled"] >= 1


async def test_review_running_elsewhere_stops_before_publishing(services, fake_github, fake_gemini):
    pull = open_pull(fake_github)
    review_id = await new_review(services.pool, pull)
    fake_gemini.latency = 0.5
    task = asyncio.create_task(process_review(review_id, services))
    while not fake_gemini.requests:
        await asyncio.sleep(0.02)
    # Another process took a newer delivery: only the database says so.
    await services.pool.execute("UPDATE reviews SET status = 'superseded' WHERE id = $1", review_id)

    await task

    assert fake_github.comments(OWNER, REPO, 7) == []
    assert fake_github.reviews(OWNER, REPO, 7) == []
    assert all(r["status"] != "completed" for r in fake_github.check_runs(OWNER, REPO))


async def test_older_review_that_raced_a_newer_one_publishes_nothing(
    services, fake_github, fake_gemini
):
    # Two pushes recorded at the same moment by two replicas: neither superseded the other.
    pull = open_pull(fake_github)
    fake_gemini.findings["security"] = [finding(line=9)]
    older = await new_review(services.pool, pull)
    pull.push({"app.py": NEW_APP + "# newer\n"})
    newer = await new_review(services.pool, pull)

    await process_review(older, services)
    await process_review(newer, services)

    assert (await reviews.get(services.pool, older)).status == "superseded"
    assert (await reviews.get(services.pool, newer)).status == "completed"
    (comment,) = fake_github.comments(OWNER, REPO, 7)
    assert pull.head_sha[:12] in comment["body"]
    (inline,) = fake_github.reviews(OWNER, REPO, 7)
    assert inline["commit_id"] == pull.head_sha


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
    assert len(fake_gemini.requests) == 4


async def test_edit_is_not_rerun_when_the_repository_says_so(services, fake_github, fake_gemini):
    pull = open_pull(fake_github)
    fake_github.set_content(OWNER, REPO, "main", ".github/second-look.yml", "rerun_on_edit: false")
    review_id = await new_review(services.pool, pull, trigger="edited")

    await process_review(review_id, services)

    assert (await reviews.get(services.pool, review_id)).status == "skipped"
    assert fake_gemini.requests == []


async def test_incremental_review_sends_only_the_changed_file(services, fake_github, fake_gemini):
    files = many_files(5)
    pull = open_pull(fake_github, files=files)
    fake_gemini.findings["bugs"] = [
        finding("pkg/module_001.py", line=2, severity="high", title="Doubled twice")
    ]
    await run_review(services, pull, "opened")
    fake_gemini.requests.clear()
    pull.push({"pkg/module_003.py": "VALUE = 3\nDOUBLE = 3 * 2\nTRIPLE = 9\n"})

    second = await run_review(services, pull, "synchronize")

    assert {p for r in fake_gemini.requests for p in r.files} == {"pkg/module_003.py"}
    assert second.stats["incremental"] is True
    stored = await FindingRepo(services.pool).for_review(second.id)
    assert [(f["title"], f["carried_from"] is not None) for f in stored] == [
        ("Doubled twice", True)
    ]
    body = fake_github.comments(OWNER, REPO, 7)[0]["body"]
    assert "Doubled twice" in body and "carried forward" in body


async def test_force_push_gives_a_full_review(services, fake_github, fake_gemini):
    pull = open_pull(fake_github, files=many_files(3))
    await run_review(services, pull, "opened")
    fake_gemini.requests.clear()
    pull.push({"pkg/module_000.py": "VALUE = 0\nDOUBLE = 0\n"}, force=True)

    second = await run_review(services, pull, "synchronize")

    assert second.stats["incremental"] is False
    assert {p for r in fake_gemini.requests for p in r.files} == set(many_files(3))


async def test_unchanged_finding_is_posted_inline_once_and_a_fixed_one_resolves(
    services, fake_github, fake_gemini
):
    pull = open_pull(fake_github, files={"app.py": (OLD_APP, NEW_APP), "b.py": ("", "x = 1\n")})
    eval_finding = finding("app.py", line=9, title="eval of user input")
    fake_gemini.findings["security"] = [eval_finding]
    await run_review(services, pull, "opened")
    # Second push: app.py changes above the flagged line, which moves down but is the same.
    pull.push({"app.py": "# header\n" + NEW_APP})
    fake_gemini.findings["security"] = [finding("app.py", line=10, title="eval of user input")]
    await run_review(services, pull, "synchronize")
    # Third push: the eval is fixed.
    pull.push({"app.py": "# header\n" + NEW_APP.replace("eval(", "int(")})
    fake_gemini.findings["security"] = []

    await run_review(services, pull, "synchronize")

    bodies = [c["body"] for c in fake_github.review_comments(OWNER, REPO, 7)]
    assert len(bodies) == 1, "the unchanged finding was commented on once"
    summary = fake_github.comments(OWNER, REPO, 7)[0]["body"]
    assert "Resolved since the last review (1)" in summary
    assert "~~eval of user input~~" in summary


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
        while len(fake_gemini.requests) < 4:  # mid-review: every agent is waiting on Gemini
            await asyncio.sleep(0.02)
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
    assert len(fake_gemini.requests) == 20 * 4
    for pull in pulls:
        assert len(fake_github.comments(OWNER, REPO, pull.number)) == 1
        assert len(fake_github.check_runs(OWNER, REPO, pull.head_sha)) == 1
        assert len(fake_github.reviews(OWNER, REPO, pull.number)) == 1
