"""Explicit caching of a chunk's shared prefix: when it pays, how requests use it, what it costs,
and that a refused or expired cache only means sending the prefix again."""

from __future__ import annotations

import pytest

from bot.review.caching import CACHE, TTL_SECONDS, min_tokens, pays
from bot.review.changes import Diff, parse_file
from bot.review.metering import Budget, LocalMeter
from bot.review.pricing import DEFAULT_PRICES, Price
from bot.review.supervisor import CALL_MARGIN, RETRY_RESERVE, ReviewSupervisor
from tests.fakes.diffs import make_file_diff

FLASH = DEFAULT_PRICES["gemini-2.5-flash"]


def big_diff() -> Diff:
    """One chunk well over the smallest cache Gemini accepts."""
    body = "".join(f"    total += item_{i}.price * item_{i}.quantity\n" for i in range(120))
    return Diff(
        files=[parse_file(make_file_diff("shop/cart.py", "", f"def total(items):\n{body}"))]
    )


def supervisor(services, tokens: int = 10**9, **kw) -> tuple[ReviewSupervisor, LocalMeter]:
    meter = LocalMeter(Budget(tokens), rpm=60_000)
    return ReviewSupervisor(services.gemini, meter, price=FLASH, **kw), meter


BUG = {
    "file_path": "shop/cart.py",
    "line_start": 3,
    "line_end": 3,
    "severity": "high",
    "title": "Wrong total",
    "description": "d",
}


@pytest.mark.parametrize(
    ("price", "model", "tokens", "readers", "expected"),
    [
        (FLASH, "gemini-2.5-flash", 20_000, 5, True),
        (FLASH, "gemini-2.5-flash", 1_000, 5, False),  # under the model's minimum
        (FLASH, "gemini-2.5-flash", 20_000, 2, False),  # too few readers
        (FLASH, "gemini-2.5-pro-exp", 3_000, 5, False),  # Pro needs 4,096
        (Price(1.0, 1.0, 1.0, storage=1.0), "gemini-2.5-flash", 20_000, 5, False),  # no discount
        (Price(1.0, 0.1, 1.0), "gemini-2.5-flash", 20_000, 5, False),  # storage price unknown
        (None, "gemini-2.5-flash", 20_000, 5, False),
    ],
)
def test_a_cache_is_made_only_where_it_pays(price, model, tokens, readers, expected):
    assert pays(price, model, tokens, readers) is expected


def test_an_unknown_model_is_assumed_to_need_the_largest_minimum():
    assert min_tokens("gemini-2.5-flash-001") == 1_024
    assert min_tokens("some-new-model") == 4_096


async def test_a_chunk_read_by_every_agent_goes_through_one_cache(services, fake_gemini):
    fake_gemini.findings["bugs"] = [BUG]
    review, meter = supervisor(services)

    result = await review.run(big_diff(), ["shop/cart.py"])

    [cache] = fake_gemini.caches.values()
    assert cache.deleted, "deleted once the chunk's calls are done"
    assert {r.cached_content for r in fake_gemini.requests} == {cache.name}
    assert {r.agent for r in fake_gemini.requests} == {
        "security",
        "bugs",
        "performance",
        "style",
        "verifier",
    }
    assert all("=== File: shop/cart.py ===" in r.prompt for r in fake_gemini.requests)
    [created] = [c for c in meter.calls if c.agent == CACHE]
    assert created.usage.prompt == cache.tokens
    assert created.usage.stored == pytest.approx(cache.tokens * TTL_SECONDS / 3600)
    readers = [c for c in meter.calls if c.agent != CACHE]
    assert all(c.usage.cached == cache.tokens for c in readers), "Gemini's cached count kept"
    assert [f.verdict for f in result.findings] == ["kept"]


async def test_a_small_chunk_is_sent_whole_without_a_cache(services, fake_gemini):
    diff = Diff(files=[parse_file(make_file_diff("a.py", "", "x = 1\n"))])

    await supervisor(services)[0].run(diff, diff.paths)

    assert fake_gemini.caches == {}
    assert all(r.cached_content is None and r.system for r in fake_gemini.requests)


async def test_a_refused_cache_means_the_prefix_is_sent_by_every_request(services, fake_gemini):
    fake_gemini.fail_cache_create = 500

    result = await supervisor(services)[0].run(big_diff(), ["shop/cart.py"])

    assert fake_gemini.caches == {} and not result.failures
    assert len(fake_gemini.requests) == 4
    assert all(r.cached_content is None and "=== File:" in r.prompt for r in fake_gemini.requests)


async def test_an_expired_cache_is_dropped_and_the_request_sent_whole(services, fake_gemini):
    fake_gemini.cache_ttl = 0.0  # gone before any agent asks

    result = await supervisor(services)[0].run(big_diff(), ["shop/cart.py"])

    assert not result.failures
    refused = [r for r in fake_gemini.requests if r.status == 403]
    answered = [r for r in fake_gemini.requests if r.status == 200]
    assert len(refused) == 4 and all(r.cached_content for r in refused)
    assert len(answered) == 4 and all(r.cached_content is None for r in answered)


async def test_a_budget_that_cannot_pay_for_the_cache_goes_without(services, fake_gemini):
    fake_gemini.fail_cache_create = 500
    await supervisor(services, verify=False)[0].run(big_diff(), ["shop/cart.py"])
    assert fake_gemini.fail_cache_create is None, "with room enough, a cache was asked for"
    gemini = services.gemini
    plain = 0  # what the plan counts without a cache; a cache costs a whole request more
    for request in fake_gemini.requests:
        plain += await gemini.count_tokens(request.system) + CALL_MARGIN
        plain += await gemini.count_tokens(request.prompt)
    fake_gemini.reset()

    tight, meter = supervisor(
        services, tokens=int((plain + 20) / (1 - RETRY_RESERVE)), verify=False
    )
    result = await tight.run(big_diff(), ["shop/cart.py"])

    assert not result.trimmed, "the file is read"
    assert fake_gemini.caches == {}, "the creation would have gone over the budget"
    assert len(fake_gemini.requests) == 4
    assert meter.budget.spent <= meter.budget.limit
