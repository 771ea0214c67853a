"""GET /metrics: every series typed and documented, there from the start, moved by a review."""

from __future__ import annotations

import asyncio
import math

from prometheus_client.parser import text_string_to_metric_families

from bot.app.metrics import (
    DELIVERY_OUTCOMES,
    FINAL_STATUSES,
    GEMINI_AGENTS,
    GEMINI_OUTCOMES,
    GITHUB_OUTCOMES,
    TOKEN_KINDS,
)
from bot.app.web import create_app, metrics_key
from tests.conversing import app_client, deliver
from tests.payloads import delivery, pull_request_payload
from tests.reviewing import FINAL, finding, new_review, open_pull, wait_for

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]

TYPES = {
    "secondlook_deliveries": "counter",
    "secondlook_reviews": "counter",
    "secondlook_reviews_waiting": "gauge",
    "secondlook_reviews_running": "gauge",
    "secondlook_review_duration_seconds": "histogram",
    "secondlook_review_wait_seconds": "histogram",
    "secondlook_gemini_calls": "counter",
    "secondlook_gemini_tokens": "counter",
    "secondlook_gemini_cost_usd": "counter",
    "secondlook_gemini_limiter_wait_seconds": "histogram",
    "secondlook_github_calls": "counter",
    "secondlook_github_ratelimit_remaining": "gauge",
    "secondlook_redeliveries": "counter",
}


async def scrape(client) -> tuple[str, Samples]:
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    text = await response.text()
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return text, samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


def sum_of(samples: Samples, name: str, **labels: str) -> float:
    """The sum of a series over the labels not given."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= ls)


def listed() -> list[tuple[str, dict[str, str]]]:
    """Every series the README lists, with its known label values."""
    series: list[tuple[str, dict[str, str]]] = [
        ("secondlook_reviews_waiting", {}),
        ("secondlook_reviews_running", {}),
        ("secondlook_gemini_cost_usd_total", {}),
        ("secondlook_review_wait_seconds_count", {}),
        ("secondlook_gemini_limiter_wait_seconds_count", {}),
        ("secondlook_deliveries_total", {"event": "-", "action": "-", "outcome": "refused"}),
    ]
    for outcome in DELIVERY_OUTCOMES:
        for action in ("opened", "synchronize", "closed"):
            labels = {"event": "pull_request", "action": action, "outcome": outcome}
            series.append(("secondlook_deliveries_total", labels))
        labels = {"event": "issue_comment", "action": "created", "outcome": outcome}
        series.append(("secondlook_deliveries_total", labels))
    for status in FINAL_STATUSES:
        series.append(("secondlook_reviews_total", {"status": status}))
        series.append(("secondlook_review_duration_seconds_count", {"status": status}))
    for agent in GEMINI_AGENTS:
        for outcome in GEMINI_OUTCOMES:
            series.append(("secondlook_gemini_calls_total", {"agent": agent, "outcome": outcome}))
    for kind in TOKEN_KINDS:
        series.append(("secondlook_gemini_tokens_total", {"kind": kind}))
    for outcome in GITHUB_OUTCOMES:
        series.append(("secondlook_github_calls_total", {"outcome": outcome}))
    return series


async def test_every_family_is_documented_typed_and_there_at_zero(
    aiohttp_client, settings, fake_github, fake_gemini
):
    client = await app_client(aiohttp_client, settings)

    text, samples = await scrape(client)

    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert set(families) == set(TYPES)
    for name, family in families.items():
        assert family.documentation, f"{name} has no HELP"
        assert family.type == TYPES[name], name
        assert f"# TYPE {name}" in text
    for name, labels in listed():
        expected = 0.0
        if name == "secondlook_github_calls_total" and labels["outcome"] == "ok":
            # At start-up: GET /app (the App's slug). Redelivery's GET /app/hook/deliveries
            # waits for `serve` to say every socket accepts (web.listening), which a test
            # client does not.
            expected = 1.0
        assert value(samples, name, **labels) == expected, (name, labels)
    # The old hand-written counters, outcomes in their names, are gone.
    assert "secondlook_deliveries_ignored" not in text


def test_two_apps_count_apart(settings):
    first, second = (create_app(settings)[metrics_key] for _ in range(2))
    assert first.registry is not second.registry

    first.delivery("ping", None, "ignored")

    assert b'action="-",event="ping",outcome="ignored"} 1.0' in first.generate()
    assert b"ping" not in second.generate()


async def test_a_review_moves_deliveries_reviews_gemini_and_github(
    aiohttp_client, settings, pool, fake_github, fake_gemini
):
    pull = open_pull(fake_github)
    fake_gemini.findings["security"] = [finding()]
    client = await app_client(aiohttp_client, settings)
    _, before = await scrape(client)

    answer = await deliver(
        client, pull_request_payload("opened", head_sha=pull.head_sha), "pull_request"
    )
    assert await wait_for(pool, answer["review_id"], FINAL) == "completed"
    samples = await counted(client, "secondlook_reviews_total", status="completed")

    opened = {"event": "pull_request", "action": "opened"}
    assert value(samples, "secondlook_deliveries_total", **opened, outcome="review") == 1
    assert value(samples, "secondlook_reviews_total", status="failed") == 0
    assert value(samples, "secondlook_review_duration_seconds_count", status="completed") == 1
    assert value(samples, "secondlook_review_wait_seconds_count") == 1
    # Gemini: one call per request the fake answered, their tokens and their cost.
    answered = len(fake_gemini.requests)
    assert answered > 0
    assert sum_of(samples, "secondlook_gemini_calls_total", outcome="ok") == answered
    assert value(samples, "secondlook_gemini_calls_total", agent="security", outcome="ok") >= 1
    calls = await pool.fetchrow(
        "SELECT count(*) AS n, sum(prompt_tokens - cached_tokens) AS input,"
        " sum(output_tokens) AS output, sum(cost_usd) AS cost FROM gemini_calls"
    )
    assert sum_of(samples, "secondlook_gemini_calls_total") == calls["n"]
    assert value(samples, "secondlook_gemini_tokens_total", kind="input") == calls["input"]
    assert value(samples, "secondlook_gemini_tokens_total", kind="output") == calls["output"]
    assert math.isclose(value(samples, "secondlook_gemini_cost_usd_total"), calls["cost"])
    assert calls["cost"] > 0
    limiter = value(samples, "secondlook_gemini_limiter_wait_seconds_count")
    assert limiter == calls["n"]
    # GitHub: every request the fake answered, counted ok; the rate limit of the installation.
    ok = value(samples, "secondlook_github_calls_total", outcome="ok")
    gained = ok - value(before, "secondlook_github_calls_total", outcome="ok")
    # Less the start-up's GET /app (no redelivery pass: the test client never says it listens).
    assert gained == len(fake_github.requests) - 1
    assert gained >= 8
    remaining = value(samples, "secondlook_github_ratelimit_remaining", installation="1")
    assert 0 < remaining < 5000
    assert value(samples, "secondlook_github_ratelimit_remaining", installation="app") > 0


async def test_github_answers_are_counted_by_outcome(
    aiohttp_client, settings, pool, fake_github, fake_gemini
):
    pull = open_pull(fake_github)
    fake_github.fail_next("POST", r"/check-runs$", 502)
    fake_github.fail_next("GET", r"/pulls/7$", 429, times=1)
    client = await app_client(aiohttp_client, settings)

    answer = await deliver(
        client, pull_request_payload("opened", head_sha=pull.head_sha), "pull_request"
    )
    await wait_for(pool, answer["review_id"], FINAL)
    samples = await counted(client, "secondlook_reviews_total")

    assert value(samples, "secondlook_github_calls_total", outcome="server_error") == 1
    assert value(samples, "secondlook_github_calls_total", outcome="rate_limited") == 1


async def test_refused_and_duplicate_deliveries_are_counted(
    aiohttp_client, settings, fake_github, fake_gemini
):
    client = await app_client(aiohttp_client, settings)
    body, headers = delivery({"zen": "hi"}, event="ping")
    await client.post("/webhooks", data=body, headers=headers)
    await client.post("/webhooks", data=body, headers=headers)
    await client.post("/webhooks", data=body, headers={**headers, "X-Hub-Signature-256": "x"})

    _, samples = await scrape(client)

    ping = {"event": "ping", "action": "-"}
    assert value(samples, "secondlook_deliveries_total", **ping, outcome="ignored") == 1
    assert value(samples, "secondlook_deliveries_total", **ping, outcome="duplicate") == 1
    unsigned = {"event": "-", "action": "-", "outcome": "refused"}
    assert value(samples, "secondlook_deliveries_total", **unsigned) == 1


async def test_the_queue_gauges_read_the_table(
    aiohttp_client, settings, pool, fake_github, fake_gemini
):
    client = await app_client(aiohttp_client, settings)
    pull = open_pull(fake_github)
    await new_review(pool, pull)  # pending: no task of this App started it
    running = await new_review(pool, open_pull(fake_github, number=8))
    await pool.execute(
        "UPDATE reviews SET status = 'processing', attempts = 1 WHERE id = $1", running
    )

    _, samples = await scrape(client)

    assert value(samples, "secondlook_reviews_waiting") == 1
    assert value(samples, "secondlook_reviews_running") == 1


async def test_a_review_superseded_before_it_ran_is_counted_once(
    aiohttp_client, settings, pool, fake_github, fake_gemini
):
    pull = open_pull(fake_github)
    client = await app_client(aiohttp_client, settings)
    first = await new_review(pool, pull)  # pending, no task of this App runs it
    pull.push({"app.py": "print('again')\n"})

    answer = await deliver(
        client, pull_request_payload("synchronize", head_sha=pull.head_sha), "pull_request"
    )
    assert await wait_for(pool, first, FINAL) == "superseded"
    await wait_for(pool, answer["review_id"], FINAL)
    samples = await counted(client, "secondlook_reviews_total", status="superseded")
    samples = await counted(client, "secondlook_reviews_total", status="completed")

    assert value(samples, "secondlook_reviews_total", status="superseded") == 1
    assert value(samples, "secondlook_review_duration_seconds_count", status="superseded") == 1
    assert value(samples, "secondlook_review_wait_seconds_count") == 1  # the second only


async def counted(client, name: str, timeout: float = 10, **labels: str) -> Samples:
    """Scrape until `name` (summed over the labels not given) is above zero: a review is
    counted just after its row is final."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        _, samples = await scrape(client)
        if sum_of(samples, name, **labels) > 0:
            return samples
        if loop.time() > deadline:
            raise AssertionError(f"{name} {labels} still 0 after {timeout} s")
        await asyncio.sleep(0.02)
