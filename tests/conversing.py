"""Helpers for tests that talk to the reviewer: deliveries through the App, and waiting for
the jobs and reviews they start."""

from __future__ import annotations

import asyncio
import dataclasses

import asyncpg

from bot.app.web import create_app
from tests.payloads import delivery, pull_request_payload, review_comment_payload
from tests.reviewing import FINAL, MAINTAINER, OWNER, REPO, wait_for

JOB_FINAL = ("done", "failed")


async def app_client(aiohttp_client, settings, **changes):
    """The App on the fakes; no settling wait after a superseded review unless asked."""
    changes.setdefault("push_settle_seconds", 0)
    return await aiohttp_client(create_app(dataclasses.replace(settings, **changes)))


async def deliver(client, payload: dict, event: str) -> dict:
    """POST one signed delivery; its JSON answer (with the job or review it started)."""
    body, headers = delivery(payload, event=event)
    response = await client.post("/webhooks", data=body, headers=headers)
    assert response.status in (200, 202), await response.text()
    return await response.json()


async def job_done(pool: asyncpg.Pool, answer: dict, timeout: float = 30) -> asyncpg.Record:
    """Wait for the job a delivery started to finish; its row."""
    assert "job_id" in answer, f"the delivery started no job: {answer}"
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        row = await pool.fetchrow("SELECT * FROM jobs WHERE id = $1::uuid", answer["job_id"])
        if row is not None and row["status"] in JOB_FINAL:
            return row
        await asyncio.sleep(0.02)
    raise AssertionError(f"job {answer['job_id']} not finished after {timeout} s")


async def reviews_of(pool: asyncpg.Pool, number: int = 7) -> list[asyncpg.Record]:
    return await pool.fetch(
        "SELECT * FROM reviews WHERE owner = $1 AND repo = $2 AND pr_number = $3 ORDER BY seq",
        OWNER,
        REPO,
        number,
    )


async def last_review_done(pool: asyncpg.Pool, number: int = 7) -> asyncpg.Record:
    """Wait for the PR's newest review to finish; its row."""
    rows = await reviews_of(pool, number)
    assert rows, "the PR has no review"
    await wait_for(pool, rows[-1]["id"], FINAL)
    return (await reviews_of(pool, number))[-1]


async def push_delivered(client, pool, pull, files: dict) -> asyncpg.Record:
    """Push to the PR, deliver `synchronize`, and wait for its review; its row."""
    pull.push(files)
    answer = await deliver(
        client, pull_request_payload("synchronize", head_sha=pull.head_sha), "pull_request"
    )
    await wait_for(pool, answer["review_id"], FINAL)
    return await pool.fetchrow("SELECT * FROM reviews WHERE id = $1::uuid", answer["review_id"])


async def opened_delivered(client, pool, pull) -> asyncpg.Record:
    """Deliver `opened` for the PR's head and wait for its review; its row."""
    answer = await deliver(
        client, pull_request_payload("opened", head_sha=pull.head_sha), "pull_request"
    )
    await wait_for(pool, answer["review_id"], FINAL)
    return await pool.fetchrow("SELECT * FROM reviews WHERE id = $1::uuid", answer["review_id"])


def root(fake_github, path: str = "app.py") -> dict:
    """Our inline comment on `path`."""
    [ours] = [
        c
        for c in fake_github.review_comments(OWNER, REPO, 7)
        if c["path"] == path and "in_reply_to_id" not in c
    ]
    return ours


def answers_in(fake_github, comment: dict) -> list[str]:
    return [
        c["body"]
        for c in fake_github.review_comments(OWNER, REPO, 7)
        if c.get("in_reply_to_id") == comment["id"] and c["user"]["type"] == "Bot"
    ]


async def reply(client, pool, fake_github, pull, to: dict, body: str, **kw) -> dict:
    """A person (the maintainer unless `login` says) replies in the thread; the job the
    delivery started, finished."""
    kw.setdefault("login", MAINTAINER)
    stored = fake_github.reply(OWNER, REPO, 7, to["id"], body, **kw)
    payload = review_comment_payload(stored, head_sha=pull.head_sha)
    return await job_done(pool, await deliver(client, payload, "pull_request_review_comment"))


def thread_of(fake_github, comment: dict) -> dict:
    [thread] = [t for t in fake_github.threads(OWNER, REPO, 7) if t["root_id"] == comment["id"]]
    return thread
