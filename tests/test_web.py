"""POST /webhooks: verification, recording once, and the answer codes of the contract."""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
import json

import pytest

from bot.app.web import MAX_BODY, create_app
from tests.payloads import delivery, pull_request_payload, sign


@pytest.fixture
async def client(aiohttp_client, settings):
    return await aiohttp_client(create_app(settings))


async def stored(pool) -> tuple[int, int]:
    deliveries = await pool.fetchval("SELECT count(*) FROM webhook_deliveries")
    reviews = await pool.fetchval("SELECT count(*) FROM reviews")
    return deliveries, reviews


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


def unrecordable() -> list:
    """(name, body, headers, status): refused before a signed delivery id is known."""
    cases = []

    body, headers = unsigned()
    headers["X-Hub-Signature-256"] = sign(body, secret="not-the-secret")
    cases.append(("wrong signature", body, headers, 401))

    body, headers = unsigned()
    headers["X-Hub-Signature-256"] = "sha256=" + "0" * 64
    cases.append(("forged signature", body, headers, 401))

    body, headers = unsigned()
    headers["X-Hub-Signature-256"] = "sha256=" + "é" * 64
    cases.append(("signature not hex", body, headers, 401))

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

    for header, value in (("X-GitHub-Event", "pull request"), ("X-GitHub-Delivery", "a/b" * 9)):
        body, headers = unsigned()
        headers[header] = value
        cases.append((f"bad {header}", body, headers, 400))
    return cases


@pytest.mark.parametrize(
    ("body", "headers", "status"),
    [case[1:] for case in unrecordable()],
    ids=[case[0] for case in unrecordable()],
)
async def test_bad_delivery_gets_its_code_and_stores_nothing(client, pool, body, headers, status):
    response = await client.post("/webhooks", data=body, headers=headers)

    assert response.status == status
    assert "error" in await response.json()
    assert await stored(pool) == (0, 0)


def with_field(path: str, value: object) -> dict:
    """A valid opened payload with one field (dotted path) replaced, or deleted for DELETE."""
    payload = pull_request_payload("opened")
    *parents, last = path.split(".")
    node = payload
    for key in parents:
        node = node[key]
    if value is DELETE:
        del node[last]
    else:
        node[last] = value
    return payload


DELETE = object()

# (name, raw body, the field the error names): every one is signed and gets a 400.
MALFORMED_BODIES = [
    ("not json", b"{not json", "not JSON"),
    ("json array", b"[1, 2]", "not a JSON object"),
    ("empty", b"", "not JSON"),
    ("not utf-8", b'{"action": "\xff"}', "not JSON"),
    ("nested 1000 deep", b"[" * 1000 + b"]" * 1000, "nested deeper than 64"),
    ("nested 65 deep", b'{"a":' * 65 + b"1" + b"}" * 65, "nested deeper than 64"),
    ("Infinity", b'{"action": "opened", "number": Infinity}', "non-finite"),
    ("NaN", b'{"number": NaN}', "non-finite"),
    ("1e400", b'{"action": "opened", "number": 1e400}', "too large for a float"),
    ("5000-digit integer", b'{"number": ' + b"9" * 5000 + b"}", "not JSON"),
]
MALFORMED_FIELDS = [
    ("head sha is a list", "pull_request.head.sha", ["a" * 40], "pull_request.head.sha"),
    ("head sha too short", "pull_request.head.sha", "abc", "pull_request.head.sha"),
    ("installation true", "installation.id", True, "installation.id"),
    ("installation 2**63", "installation.id", 2**63, "installation.id"),
    ("number -5", "pull_request.number", -5, "pull_request.number"),
    ("number 2**31", "pull_request.number", 2**31, "pull_request.number"),
    ("number 1.0", "pull_request.number", 1.0, "pull_request.number"),
    ("number as text", "pull_request.number", "7", "pull_request.number"),
    ("repo name empty", "repository.name", "", "repository.name"),
    ("repo name ..", "repository.name", "..", "repository.name"),
    ("owner with NUL", "repository.owner.login", "oc\x00to", "repository.owner.login"),
    ("owner lone surrogate", "repository.owner.login", "oc\ud800to", "repository.owner.login"),
    ("full name bad", "repository.full_name", "octo/wid gets", "repository.full_name"),
    ("base ref ..", "pull_request.base.ref", "main..x", "pull_request.base.ref"),
    ("base ref NUL", "pull_request.base.ref", "ma\x00in", "pull_request.base.ref"),
    ("draft as text", "pull_request.draft", "false", "pull_request.draft"),
    ("no head", "pull_request.head", DELETE, "pull_request.head"),
    ("no installation", "installation", DELETE, "installation"),
    ("pull_request null", "pull_request", None, "pull_request"),
    ("action a number", "action", 1, "action"),
]


async def assert_refused_and_recorded(pool, response, headers, names: str) -> None:
    assert response.status == 400
    error = (await response.json())["error"]
    assert names in error
    assert "\n" not in error
    assert await pool.fetchval("SELECT count(*) FROM reviews") == 0
    row = await pool.fetchrow("SELECT * FROM webhook_deliveries")
    assert row["delivery_id"] == headers["X-GitHub-Delivery"]
    assert row["refused"] == error


@pytest.mark.parametrize(
    ("body", "names"), [c[1:] for c in MALFORMED_BODIES], ids=[c[0] for c in MALFORMED_BODIES]
)
async def test_signed_body_that_is_not_a_payload_is_refused_and_recorded(client, pool, body, names):
    _, headers = unsigned()
    headers["X-Hub-Signature-256"] = sign(body)

    response = await client.post("/webhooks", data=body, headers=headers)

    await assert_refused_and_recorded(pool, response, headers, names)


@pytest.mark.parametrize(
    ("path", "value", "names"),
    [c[1:] for c in MALFORMED_FIELDS],
    ids=[c[0] for c in MALFORMED_FIELDS],
)
async def test_malformed_field_is_refused_by_name_and_recorded(client, pool, path, value, names):
    body, headers = delivery(with_field(path, value))

    response = await client.post("/webhooks", data=body, headers=headers)

    await assert_refused_and_recorded(pool, response, headers, names)


async def test_a_refused_delivery_is_taken_when_github_redelivers_it(client, pool):
    body, headers = delivery(with_field("pull_request.head.sha", "not-a-sha"))
    assert (await client.post("/webhooks", data=body, headers=headers)).status == 400
    fixed = json.dumps(pull_request_payload("opened")).encode()
    headers["X-Hub-Signature-256"] = sign(fixed)

    response = await client.post("/webhooks", data=fixed, headers=headers)

    assert response.status == 202
    row = await pool.fetchrow("SELECT * FROM webhook_deliveries")
    assert row["refused"] is None and row["repository"] == "octo/widgets"
    assert await stored(pool) == (1, 1)


async def test_one_poisoned_delivery_among_fifty_fails_only_itself(client, pool):
    good = [
        delivery(pull_request_payload("opened", number=n, head_sha=f"{n:040x}"))
        for n in range(1, 51)
    ]
    poisoned = delivery(with_field("pull_request.base.ref", "ma\x00in"))

    answers = await asyncio.gather(
        *(client.post("/webhooks", data=body, headers=headers) for body, headers in good),
        client.post("/webhooks", data=poisoned[0], headers=poisoned[1]),
    )

    assert [a.status for a in answers] == [202] * 50 + [400]
    assert await pool.fetchval("SELECT count(*) FROM reviews") == 50
    assert await pool.fetchval("SELECT count(*) FROM webhook_deliveries") == 51


async def test_unknown_event_with_a_malformed_envelope_is_refused(client, pool):
    body, headers = delivery({"action": "created", "installation": {"id": "1"}}, event="issues")

    response = await client.post("/webhooks", data=body, headers=headers)

    await assert_refused_and_recorded(pool, response, headers, "installation.id")


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
        ("pull_request", pull_request_payload("labeled")),
        ("issues", {"action": "opened", "issue": {"number": 1}}),
    ],
    ids=["labeled", "issues"],
)
async def test_other_events_are_recorded_and_nothing_more(client, pool, event, payload):
    body, headers = delivery(payload, event=event)

    response = await client.post("/webhooks", data=body, headers=headers)

    assert response.status == 200
    assert (await response.json())["status"] == "ignored"
    assert await stored(pool) == (1, 0)


async def test_healthz_answers_while_the_database_does(client):
    response = await client.get("/healthz")

    assert response.status == 200
    assert json.loads(await response.text())["database"] == "up"


async def test_metrics_count_deliveries(client):
    body, headers = delivery({"zen": "hi"}, event="ping")
    await client.post("/webhooks", data=body, headers=headers)

    text = await (await client.get("/metrics")).text()

    assert 'secondlook_deliveries_total{action="-",event="ping",outcome="ignored"} 1.0' in text


async def test_healthz_is_503_when_the_database_is_gone(client):
    from bot.app.web import services_key

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
    from bot.app.web import services_key

    client.app[services_key].pool.terminate()
    body, headers = delivery(pull_request_payload("opened"))

    response = await client.post("/webhooks", data=body, headers=headers)

    assert response.status == 503
    assert "redeliver" in (await response.json())["error"]


async def test_the_app_reads_x_forwarded_for_from_trusted_proxies_only(aiohttp_client, settings):
    # The test client connects from 127.0.0.1; the App listens on loopback, no token.
    def app(trusted: str):
        networks = tuple(ipaddress.ip_network(n) for n in trusted.split(",") if n)
        changed = dataclasses.replace(settings, host="127.0.0.1", trusted_proxies=networks)
        return create_app(changed)

    behind = await aiohttp_client(app("127.0.0.1"))
    outsider = {"X-Forwarded-For": "203.0.113.9"}
    assert (await behind.get("/dashboard", headers=outsider)).status == 403
    here = await behind.get("/dashboard", headers={"X-Forwarded-For": "127.0.0.1"})
    assert here.status == 200

    direct = await aiohttp_client(app(""))
    assert (await direct.get("/dashboard")).status == 200
    assert (await direct.get("/dashboard", headers={"X-Forwarded-For": "127.0.0.1"})).status == 403
