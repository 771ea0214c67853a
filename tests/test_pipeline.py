"""A delivery through POST /webhooks runs to a completed review on the fakes."""

from __future__ import annotations

import asyncio

from bot.app.web import create_app
from bot.store.findings_table import FindingRepo
from tests.payloads import delivery, pull_request_payload
from tests.reviewing import OWNER, REPO, finding, many_files, open_pull


async def wait_until_finished(pool, review_id: str, timeout: float = 20) -> str:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        status = await pool.fetchval("SELECT status FROM reviews WHERE id = $1::uuid", review_id)
        if status not in ("pending", "processing"):
            return status
        await asyncio.sleep(0.05)
    raise AssertionError(f"review {review_id} still {status} after {timeout} s")


async def test_delivery_for_a_twenty_file_pr_completes(
    aiohttp_client, settings, pool, fake_github, fake_gemini
):
    pull = open_pull(fake_github, number=21, files=many_files(20))
    fake_gemini.findings["performance"] = [
        finding("pkg/module_003.py", line=2, severity="medium", title="Recomputed constant")
    ]
    client = await aiohttp_client(create_app(settings))
    body, headers = delivery(
        pull_request_payload("opened", number=21, head_sha=pull.head_sha, owner=OWNER, repo=REPO)
    )

    response = await client.post("/webhooks", data=body, headers=headers)

    assert response.status == 202
    review_id = (await response.json())["review_id"]
    assert await wait_until_finished(pool, review_id) == "completed"
    stored = await FindingRepo(pool).for_review(review_id)
    assert [f["title"] for f in stored] == ["Recomputed constant"]
    comments = fake_github.comments(OWNER, REPO, 21)
    assert len(comments) == 1
    assert "Recomputed constant" in comments[0]["body"]
    assert {p for r in fake_gemini.requests for p in r.files} == set(many_files(20))
