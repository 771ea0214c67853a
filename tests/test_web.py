"""POST /webhooks: verification, recording once, and the answer codes of the contract."""

from __future__ import annotations

import asyncio
import json

import pytest

from bot.web import MAX_BODY, create_app
from tests.payloads import delivery, pull_request_payload, sign


@pytest.fixture
async def client(aiohttp_client, settings):
    return await aiohttp_client(create_app(settings))


async def stored(pool) -> tuple[int, int]:
    deliveries = await pool.fetchval("SELECT count(*) FROM webhook_deliveries")
    reviews = await pool.fetchval("SELECT count(*) FROM reviews")
    return deliveries, reviews


async def wait_for_status(pool, review_id: str, wanted: set[str], timeout: float = 10) -> str:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        status = await pool.fetchval("SELECT status FROM reviews WHERE id = $1::uuid", review_id)
        if status in wanted or asyncio.get_running_loop().time() > deadline:
            return status
        await asyncio.sleep(0.05)


async def test_opened_pull_request_creates_one_pending_review(client, pool):
    body, headers = delivery(pull_request_payload("opened", number=12, head_sha="c" * 40))

    response = await client.post("/webhooks", data=body, headers=headers)

    assert response.status == 202
    answer = await response.json()
    assert answer["status"] == "processing"
    row = await pool.fetchrow("SELECT * FROM reviews WHERE id = $1::uuid", answer["review_id"])
    assert (row["owner"], row["repo"], row["pr_number"], row["head_sha"]) == (
        "octo",
        "widgets",
        12,
        "c" * 40,
    )
    assert row["delivery_id"] == headers["X-GitHub-Delivery"]
    recorded = await pool.fetchrow("SELECT * FROM webhook_deliveries")
    assert (recorded["event"], recorded["action"], recorded["repository"]) == (
        "pull_request",
        "opened",
        "octo/widgets",
    )
    assert recorded["installation_id"] == 1


@pytest.mark.parametrize("action", ["reopened", "synchronize", "ready_for_review", "edited"])
async def test_every_reviewing_action_creates_a_review(client, pool, action):
    changes = {"title": {"from": "Old title"}} if action == "edited" else None
    body, headers = delivery(pull_request_payload(action, changes=changes))

    response = await client.post("/webhooks", data=body, headers=headers)

    assert response.status == 202
    review_id = (await response.json())["review_id"]
    trigger = await pool.fetchval("SELECT trigger FROM reviews WHERE id = $1::uuid", review_id)
    assert trigger == action


def unsigned(payload: object = None) -> tuple[bytes, dict[str, str]]:
    return delivery(pull_request_payload() if payload is None else payload)


def bad_requests() -> list:
    """(name, body, headers, expected status) for every refusal of the contract."""
    cases = []

    body, headers = unsigned()
    headers["X-Hub-Signature-256"] = sign(body, secret="not-the-secret")
    cases.append(("wrong signature", body, headers, 401))

    body, headers = unsigned()
    headers["X-Hub-Signature-256"] = "sha256=" + "0" * 64
    cases.append(("forged signature", body, headers, 401))

    body, headers = unsigned()
    del headers["X-Hub-Signature-256"]
    cases.append(("no signature", body, headers, 401))

    import hashlib
    import hmac

    body, headers = unsigned()
    del headers["X-Hub-Signature-256"]
    sha1 = hmac.new(b"test-webhook-secret", body, hashlib.sha1).hexdigest()
    headers["X-Hub-Signature"] = "sha1=" + sha1
    cases.append(("sha1 only", body, headers, 401))

    for header in ("X-GitHub-Event", "X-GitHub-Delivery"):
        body, headers = unsigned()
        del headers[header]
        cases.append((f"no {header}", body, headers, 400))

    for name, raw in (("not json", b"{not json"), ("json array", b"[1, 2]"), ("empty", b"")):
        _, headers = unsigned()
        headers["X-Hub-Signature-256"] = sign(raw)
        cases.append((name, raw, headers, 400))

    return cases


@pytest.mark.parametrize(
    ("body", "headers", "status"),
    [case[1:] for case in bad_requests()],
    ids=[case[0] for case in bad_requests()],
)
async def test_bad_delivery_gets_its_code_and_stores_nothing(client, pool, body, headers, status):
    response = await client.post("/webhooks", data=body, headers=headers)

    assert response.status == status
    assert "error" in await response.json()
    assert await stored(pool) == (0, 0)


async def test_body_over_25_mib_is_refused_before_it_is_all_read(client, pool):
    body = b"{" + b" " * (26 * 1024 * 1024) + b"}"
    _, headers = unsigned()
    headers["X-Hub-Signature-256"] = sign(body)

    response = await client.post("/webhooks", data=body, headers=headers)

    assert response.status == 413
    assert await stored(pool) == (0, 0)


async def test_chunked_body_over_the_limit_is_refused(client, pool):
    async def chunks():
        for _ in range(MAX_BODY // (1024 * 1024) + 2):
            yield b" " * (1024 * 1024)

    _, headers = unsigned()
    response = await client.post("/webhooks", data=chunks(), headers=headers)

    assert response.status == 413
    assert await stored(pool) == (0, 0)


async def test_same_delivery_twice_gives_one_review(client, pool):
    body, headers = delivery(pull_request_payload("opened"))

    first = await client.post("/webhooks", data=body, headers=headers)
    second = await client.post("/webhooks", data=body, headers=headers)

    assert first.status == 202
    assert second.status == 200
    assert (await second.json())["status"] == "duplicate"
    assert await stored(pool) == (1, 1)


async def test_concurrent_redeliveries_give_one_review(client, pool):
    body, headers = delivery(pull_request_payload("opened"))

    answers = await asyncio.gather(
        *(client.post("/webhooks", data=body, headers=headers) for _ in range(5))
    )

    assert sorted(a.status for a in answers) == [200, 200, 200, 200, 202]
    assert await stored(pool) == (1, 1)


async def test_ping_gets_200_and_is_recorded(client, pool):
    body, headers = delivery({"zen": "Keep it logically awesome.", "hook_id": 1}, event="ping")

    response = await client.post("/webhooks", data=body, headers=headers)

    assert response.status == 200
    assert await stored(pool) == (1, 0)


@pytest.mark.parametrize(
    ("event", "payload"),
    [
        ("pull_request", pull_request_payload("closed")),
        ("pull_request", pull_request_payload("labeled")),
        ("issues", {"action": "opened", "issue": {"number": 1}}),
    ],
    ids=["closed", "labeled", "issues"],
)
async def test_other_events_are_recorded_and_nothing_more(client, pool, event, payload):
    body, headers = delivery(payload, event=event)

    response = await client.post("/webhooks", data=body, headers=headers)

    assert response.status == 200
    assert (await response.json())["status"] == "ignored"
    assert await stored(pool) == (1, 0)


async def test_malformed_pull_request_payload_is_refused_and_not_recorded(client, pool):
    payload = pull_request_payload("opened")
    del payload["pull_request"]["head"]
    body, headers = delivery(payload)

    response = await client.post("/webhooks", data=body, headers=headers)

    assert response.status == 400
    assert "head" in (await response.json())["error"]
    assert await stored(pool) == (0, 0)


async def test_healthz_answers_while_the_database_does(client):
    response = await client.get("/healthz")

    assert response.status == 200
    assert json.loads(await response.text())["database"] == "up"


async def test_metrics_count_deliveries(client):
    body, headers = delivery({"zen": "hi"}, event="ping")
    await client.post("/webhooks", data=body, headers=headers)

    text = await (await client.get("/metrics")).text()

    assert "secondlook_deliveries_ignored_total 1" in text


async def test_healthz_is_503_when_the_database_is_gone(client):
    from bot.web import services_key

    client.app[services_key].pool.terminate()

    response = await client.get("/healthz")

    assert response.status == 503


async def test_form_encoded_delivery_is_accepted(client, pool):
    import urllib.parse

    payload = json.dumps(pull_request_payload("opened"))
    body = urllib.parse.urlencode({"payload": payload}).encode()
    _, headers = unsigned()
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    headers["X-Hub-Signature-256"] = sign(body)

    response = await client.post("/webhooks", data=body, headers=headers)

    assert response.status == 202
    assert await stored(pool) == (1, 1)


async def test_delivery_is_refused_with_503_when_the_database_is_gone(client):
    from bot.web import services_key

    client.app[services_key].pool.terminate()
    body, headers = delivery(pull_request_payload("opened"))

    response = await client.post("/webhooks", data=body, headers=headers)

    assert response.status == 503
    assert "redeliver" in (await response.json())["error"]
