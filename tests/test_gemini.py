"""GeminiClient against FakeGemini: parsing, retries, the rate limit, and no leaked key."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import traceback
from collections.abc import AsyncIterator, Callable

import aiohttp
import pytest
from pydantic import BaseModel

from bot.review import gemini
from bot.review.gemini import AgentCallError, GeminiClient
from bot.review.metering import (
    Budget,
    BudgetSpent,
    Call,
    LocalMeter,
    QuotaReached,
    Usage,
    Worst,
    bill,
)
from bot.review.pricing import DEFAULT_PRICES
from tests.fakes.gemini import FakeGemini

API_KEY = "AIzaSy-test-key-do-not-leak-0123456789"
BASE = "http://127.0.0.1:9"  # a request body is built, never sent
MODEL = "gemini-2.5-flash"
ANSWER_TOKENS = 1_024  # each test request's answer may be this long
SYSTEM = "You review code.\nSecond Look agent: security\n"
PROMPT = "Review these files.\n=== File: app/auth.py ===\n+password = 'hunter2'\n"


class Finding(BaseModel):
    file_path: str
    line: int
    title: str


class Findings(BaseModel):
    findings: list[Finding]


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def make_client(
    fake_gemini: FakeGemini, http: aiohttp.ClientSession, sleep
) -> AsyncIterator[Callable[..., GeminiClient]]:
    made: list[GeminiClient] = []

    def make(**overrides: object) -> GeminiClient:
        options: dict = {
            "model": MODEL,
            "base_url": fake_gemini.url,
            "http": http,
            "sleep": sleep,
            **overrides,
        }
        client = GeminiClient(api_key=API_KEY, **options)
        made.append(client)
        return client

    yield make
    for client in made:
        await client.aclose()


def unmetered() -> LocalMeter:
    """A meter with no budget to speak of and room for 6,000 requests a minute."""
    return LocalMeter(Budget(10**9), rpm=6000)


async def review(
    client: GeminiClient, agent: str = "security", meter: LocalMeter | None = None
) -> gemini.GeminiResult:
    system = SYSTEM.replace("security", agent)
    return await client.generate(
        agent=agent,
        system=system,
        prompt=PROMPT,
        schema=Findings,
        meter=meter or unmetered(),
        answer_tokens=ANSWER_TOKENS,
    )


async def test_structured_answer_parses_with_the_findings_of_the_files_sent(
    fake_gemini: FakeGemini, make_client: Callable[..., GeminiClient]
) -> None:
    fake_gemini.findings["security"] = [
        {"file_path": "app/auth.py", "line": 1, "title": "Hard-coded password"},
        {"file_path": "app/other.py", "line": 9, "title": "Not in this chunk"},
    ]
    client = make_client()
    meter = unmetered()

    result = await review(client, meter=meter)

    assert result.parsed == Findings(
        findings=[Finding(file_path="app/auth.py", line=1, title="Hard-coded password")]
    )
    [seen] = fake_gemini.requests
    assert seen.path == f"/v1/models/{MODEL}:generateContent"
    assert (seen.agent, seen.files, seen.status) == ("security", ["app/auth.py"], 200)
    assert seen.response_schema
    assert result.attempts == 1
    assert result.prompt_tokens == seen.prompt_tokens > 0
    assert result.output_tokens > 0
    assert (client.calls, client.retries) == (1, 0)
    [call] = meter.calls
    assert (call.agent, call.attempt, call.status) == ("security", 1, "ok")
    assert call.usage.prompt == seen.prompt_tokens and not call.usage.estimated
    assert meter.budget.spent == seen.prompt_tokens and meter.budget.reserved == 0


async def test_a_call_logs_nothing_at_info(
    fake_gemini: FakeGemini,
    make_client: Callable[..., GeminiClient],
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO):
        await review(make_client())

    assert [r.getMessage() for r in caplog.records if r.name.startswith("google")] == []


async def test_base_url_from_the_environment_reaches_the_fake(
    fake_gemini: FakeGemini,
    make_client: Callable[..., GeminiClient],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", fake_gemini.url)

    result = await review(make_client(base_url=None), agent="style")

    assert result.parsed == Findings(findings=[])
    assert [r.agent for r in fake_gemini.requests] == ["style"]


async def test_429_waits_the_retry_delay_google_asks_for(
    fake_gemini: FakeGemini, make_client: Callable[..., GeminiClient], waits: list[float]
) -> None:
    fake_gemini.fail_next(429, retry_delay="2s")
    client = make_client()

    result = await review(client)

    first, second = fake_gemini.requests
    assert (first.status, second.status) == (429, 200)
    assert waits == [2.0]
    assert result.attempts == 2
    assert (client.calls, client.retries) == (2, 1)


async def test_503_is_retried_after_a_backoff(
    fake_gemini: FakeGemini, make_client: Callable[..., GeminiClient], waits: list[float]
) -> None:
    fake_gemini.fail_next(503, times=2)

    result = await review(make_client())

    statuses = [r.status for r in fake_gemini.requests]
    assert statuses == [503, 503, 200]
    first, second = waits
    assert 0.5 <= first <= 1.0 and 1.0 <= second <= 2.0, "backoff doubles, with jitter"
    assert result.attempts == 3


async def test_malformed_output_is_retried_then_fails_naming_the_agent(
    fake_gemini: FakeGemini, make_client: Callable[..., GeminiClient]
) -> None:
    fake_gemini.malformed_next(times=3)
    meter = unmetered()

    with pytest.raises(AgentCallError) as caught:
        await review(make_client(), agent="bugs", meter=meter)

    assert str(caught.value).startswith("malformed output: finish reason")
    assert str(caught.value).endswith("(after 3 attempts)")
    assert (caught.value.agent, caught.value.attempts) == ("bugs", 3)
    assert len(fake_gemini.requests) == 3
    # A malformed answer is still billed, and counted.
    assert [c.status for c in meter.calls] == ["failed"] * 3
    assert all(c.usage.output > 0 for c in meter.calls)
    assert meter.budget.spent == fake_gemini.seen_prompt_tokens()


async def test_a_blocked_answer_is_retried(
    fake_gemini: FakeGemini, make_client: Callable[..., GeminiClient]
) -> None:
    fake_gemini.blocked_next()

    result = await review(make_client())

    assert result.attempts == 2
    assert len(fake_gemini.requests) == 2


async def test_400_fails_at_once(
    fake_gemini: FakeGemini, make_client: Callable[..., GeminiClient]
) -> None:
    fake_gemini.fail_next(400, times=3)

    with pytest.raises(AgentCallError) as caught:
        await review(make_client(), agent="performance")

    assert caught.value.attempts == 1
    assert caught.value.status == "400 INVALID_ARGUMENT"
    assert str(caught.value).startswith("Gemini answered 400 INVALID_ARGUMENT: ")
    assert str(caught.value).endswith("(after 1 attempt)")
    assert len(fake_gemini.requests) == 1


async def test_a_timeout_is_reported_as_such(
    fake_gemini: FakeGemini, make_client: Callable[..., GeminiClient]
) -> None:
    fake_gemini.latency = 1.0

    with pytest.raises(AgentCallError) as caught:
        await review(make_client(timeout=0.2, max_attempts=1))

    assert caught.value.status == "timeout"


async def test_a_call_that_never_reached_gemini_costs_nothing_and_says_so(
    make_client: Callable[..., GeminiClient], waits: list[float]
) -> None:
    meter = unmetered()

    with pytest.raises(AgentCallError):
        await review(make_client(base_url=BASE, max_attempts=3), meter=meter)

    assert len(meter.calls) == 3 and len(waits) == 2
    for call in meter.calls:
        assert (call.status, call.reached, call.usage.prompt) == ("failed", False, 0)
        assert bill(DEFAULT_PRICES[MODEL], call.usage) == 0.0
    assert meter.budget.spent == 0 and meter.budget.spent_usd == 0.0


async def test_a_timeout_after_the_request_was_sent_costs_what_was_sent(
    fake_gemini: FakeGemini, make_client: Callable[..., GeminiClient]
) -> None:
    fake_gemini.latency = 1.0  # Gemini has the request, and may bill it, when we give up
    meter = unmetered()

    with pytest.raises(AgentCallError):
        await review(make_client(timeout=0.2, max_attempts=1), meter=meter)

    [call] = meter.calls
    assert call.reached and call.usage.estimated
    assert call.usage.prompt == len(SYSTEM.encode()) + len(PROMPT.encode()) > 0


async def test_the_limiter_spaces_every_request(
    fake_gemini: FakeGemini, make_client: Callable[..., GeminiClient]
) -> None:
    client = make_client()
    meter = LocalMeter(Budget(10**9), rpm=600)  # one request every 0.1 s

    await asyncio.gather(*(review(client, meter=meter) for _ in range(5)))

    times = sorted(r.time for r in fake_gemini.requests)
    assert len(times) == 5
    assert times[-1] - times[0] >= 0.35
    # Slots are 0.1 s apart; arrival at the fake's thread jitters by a few tens of ms on a busy
    # machine (CI saw 0.074 s), while a burst would arrive with gaps near 0.
    assert min(b - a for a, b in zip(times, times[1:], strict=False)) >= 0.05


async def test_the_api_key_never_appears_in_errors_or_logs(
    fake_gemini: FakeGemini,
    make_client: Callable[..., GeminiClient],
    caplog: pytest.LogCaptureFixture,
) -> None:
    echoed = f"Quota exceeded for key {API_KEY}."
    fake_gemini.fail_next(429, retry_delay="0s", message=echoed)
    fake_gemini.fail_next(403, message=echoed)
    caplog.set_level(logging.DEBUG)

    with pytest.raises(AgentCallError) as caught:
        await review(make_client())

    assert caught.value.status == "403 PERMISSION_DENIED"
    assert "Quota exceeded for key ***" in str(caught.value)
    assert API_KEY not in str(caught.value)
    assert API_KEY not in repr(caught.value)
    assert API_KEY not in "".join(traceback.format_exception(caught.value))
    assert "retrying" in caplog.text
    assert API_KEY not in caplog.text


async def test_the_fake_refuses_a_missing_key_and_answers_v1beta(
    fake_gemini: FakeGemini, http: aiohttp.ClientSession
) -> None:
    url = f"{fake_gemini.url}/v1beta/models/{MODEL}:generateContent"
    body = {"contents": [{"role": "user", "parts": [{"text": PROMPT}]}]}

    async with http.post(url, json=body) as response:
        assert response.status == 400
        error = (await response.json())["error"]
    async with http.post(url, json=body, headers={"x-goog-api-key": "k"}) as response:
        assert response.status == 200
        answer = await response.json()

    assert error["status"] == "INVALID_ARGUMENT"
    assert error["message"].startswith("API key not valid")
    assert answer["candidates"][0]["content"]["parts"][0]["text"] == '{"findings": []}'
    assert [r.status for r in fake_gemini.requests] == [400, 200]


async def test_the_fake_enforces_its_rpm_limit(
    fake_gemini: FakeGemini, make_client: Callable[..., GeminiClient]
) -> None:
    fake_gemini.rpm_limit = 2
    client = make_client(max_attempts=1)

    await review(client)
    await review(client)
    with pytest.raises(AgentCallError) as caught:
        await review(client)

    assert caught.value.status == "429 RESOURCE_EXHAUSTED"
    assert [r.status for r in fake_gemini.requests] == [200, 200, 429]


async def test_a_refused_connection_fails_without_the_sdk_retrying_it(
    make_client: Callable[..., GeminiClient],
) -> None:
    client = make_client(base_url="http://127.0.0.1:9", max_attempts=1)
    started = asyncio.get_running_loop().time()

    with pytest.raises(AgentCallError) as caught:
        await review(client)

    assert caught.value.status == "connection error"
    assert str(caught.value) == (
        "connection error: ClientConnectorError: cannot connect to 127.0.0.1:9 "
        "(Connection refused) (after 1 attempt)"
    )
    # Left to itself the SDK would sleep 1 to 10 s and try again.
    assert asyncio.get_running_loop().time() - started < 1


async def test_a_long_retry_info_puts_the_review_back_instead_of_waiting(
    fake_gemini: FakeGemini, make_client: Callable[..., GeminiClient], waits: list[float]
) -> None:
    fake_gemini.fail_next(429, retry_delay="120s")

    with pytest.raises(QuotaReached) as caught:
        await review(make_client(max_retry_wait=60))

    assert caught.value.after == 120.0
    assert "429" in caught.value.reason
    assert waits == [] and len(fake_gemini.requests) == 1


async def test_a_call_over_the_budget_is_not_sent(
    fake_gemini: FakeGemini, make_client: Callable[..., GeminiClient]
) -> None:
    meter = LocalMeter(Budget(100), rpm=6000)

    with pytest.raises(BudgetSpent):
        await make_client().generate(
            agent="bugs",
            system=SYSTEM,
            prompt=PROMPT,
            schema=Findings,
            meter=meter,
            tokens=101,
            answer_tokens=ANSWER_TOKENS,
        )

    assert fake_gemini.requests == []
    assert (meter.budget.spent, meter.budget.reserved) == (0, 0)


async def test_a_retry_that_would_overrun_the_budget_is_not_sent(
    fake_gemini: FakeGemini, make_client: Callable[..., GeminiClient]
) -> None:
    fake_gemini.fail_next(503)
    meter = LocalMeter(Budget(150), rpm=6000)

    with pytest.raises(BudgetSpent):
        await make_client().generate(
            agent="bugs",
            system=SYSTEM,
            prompt=PROMPT,
            schema=Findings,
            meter=meter,
            tokens=100,
            answer_tokens=ANSWER_TOKENS,
        )

    assert [r.status for r in fake_gemini.requests] == [503]
    assert meter.budget.spent == 100  # a 503 may have been read: counted as reserved


async def test_a_call_cut_off_in_flight_is_counted_as_spent(
    fake_gemini: FakeGemini, make_client: Callable[..., GeminiClient]
) -> None:
    fake_gemini.latency = 5.0
    meter = unmetered()
    task = asyncio.create_task(review(make_client(), meter=meter))
    await asyncio.wait_for(_until(lambda: fake_gemini.requests), 5)

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    [call] = meter.calls
    assert call.status == "cancelled" and call.usage.estimated
    assert call.usage.prompt == len(SYSTEM.encode()) + len(PROMPT.encode())


async def test_tokens_are_counted_once_per_text_and_bytes_when_counting_fails(
    fake_gemini: FakeGemini, make_client: Callable[..., GeminiClient]
) -> None:
    client = make_client()

    first = await client.count_tokens(PROMPT)
    again = await client.count_tokens(PROMPT)
    fake_gemini.fail_count_tokens_next(503)
    fallback = await client.count_tokens(SYSTEM)

    assert first == again > 0
    assert len(fake_gemini.count_requests) == 2
    assert fallback == len(SYSTEM.encode())


async def _until(condition: Callable[[], object]) -> None:
    while not condition():
        await asyncio.sleep(0.01)


class SpyMeter(LocalMeter):
    """A LocalMeter that keeps each attempt's reservation next to what it was billed."""

    def __init__(self, budget: Budget) -> None:
        super().__init__(budget, rpm=6000)
        self.settled: list[tuple[Worst, Usage]] = []

    def abandon(self, call: Call, reserved: Worst) -> None:
        self.settled.append((reserved, call.usage))
        super().abandon(call, reserved)


def long_findings(count: int) -> list[dict[str, object]]:
    return [
        {"file_path": "app/auth.py", "line": n, "title": "A long finding title " * 8}
        for n in range(1, count + 1)
    ]


async def test_a_truncated_answer_is_a_failed_attempt_that_says_so(
    fake_gemini: FakeGemini, make_client: Callable[..., GeminiClient]
) -> None:
    fake_gemini.findings["security"] = long_findings(40)  # about 2,000 tokens of JSON
    fake_gemini.thinking_tokens = 5_000
    meter = unmetered()
    client = make_client(thinking_budget=512)

    with pytest.raises(AgentCallError) as caught:
        await client.generate(
            agent="security",
            system=SYSTEM,
            prompt=PROMPT,
            schema=Findings,
            meter=meter,
            answer_tokens=300,
        )

    assert fake_gemini.requests[0].thinking_budget == 512
    assert "truncated" in str(caught.value) and caught.value.attempts == 3
    assert [r.max_output_tokens for r in fake_gemini.requests] == [812] * 3
    assert [(c.status, c.error) for c in meter.calls] == [
        ("failed", "the answer reached maxOutputTokens (812 tokens)")
    ] * 3
    # Billed all the same: thoughts up to the budget, then the answer up to the cap.
    assert {(c.usage.thinking, c.usage.output) for c in meter.calls} == {(512, 300)}


async def test_a_cut_answer_that_still_parses_is_not_taken(
    fake_gemini: FakeGemini, make_client: Callable[..., GeminiClient]
) -> None:
    # The cut text is valid JSON (a responder answer cut exactly at its end is not possible
    # to script, so the fake's cut lands after a whole object): never parsed as the answer.
    whole = json.dumps({"findings": []})
    fake_gemini.responder = lambda seen: whole + " " * 4_000
    meter = unmetered()

    with pytest.raises(AgentCallError) as caught:
        await make_client(thinking_budget=0).generate(
            agent="bugs",
            system=SYSTEM,
            prompt=PROMPT,
            schema=Findings,
            meter=meter,
            answer_tokens=200,
        )

    assert "truncated" in caught.value.status
    assert all(c.status == "failed" for c in meter.calls)


@pytest.mark.parametrize(
    ("model", "think", "budget"),
    [
        ("gemini-2.5-flash", True, 1_024),
        ("gemini-2.5-flash", False, 0),  # Flash may stop thinking
        ("gemini-2.5-flash-lite", True, 1_024),
        ("gemini-2.5-flash-lite", False, 0),
        ("gemini-2.5-pro", True, 1_024),
        ("gemini-2.5-pro", False, 128),  # Pro cannot: its least
        ("gemini-2.0-flash", True, None),  # no thinking: no thinkingConfig at all
    ],
)
async def test_the_thinking_budget_sent_follows_the_model(
    fake_gemini: FakeGemini,
    make_client: Callable[..., GeminiClient],
    model: str,
    think: bool,
    budget: int | None,
) -> None:
    fake_gemini.thinking_tokens = 50_000
    client = make_client(model=model, thinking_budget=1_024)
    meter = unmetered()

    result = await client.generate(
        agent="bugs",
        system=SYSTEM,
        prompt=PROMPT,
        schema=Findings,
        meter=meter,
        answer_tokens=ANSWER_TOKENS,
        think=think,
    )

    [seen] = fake_gemini.requests
    assert seen.status == 200  # the fake refuses a budget outside the model's range
    assert seen.thinking_budget == budget
    assert seen.max_output_tokens == ANSWER_TOKENS + (budget or 0)
    [call] = meter.calls
    assert call.usage.thinking == (budget or 0)
    assert result.output_tokens == call.usage.output + call.usage.thinking


async def test_the_reservation_is_never_below_the_bill(
    fake_gemini: FakeGemini, make_client: Callable[..., GeminiClient]
) -> None:
    fake_gemini.findings["security"] = long_findings(40)
    fake_gemini.thinking_tokens = 30_000  # the model would think far past the budget
    price = DEFAULT_PRICES["gemini-2.5-flash"]
    meter = SpyMeter(Budget(10**9, usd=100.0, price=price))
    client = make_client(thinking_budget=2_048)

    for answer_tokens in (100, 5_000):  # cut at the cap, then whole
        with contextlib.suppress(AgentCallError):
            await client.generate(
                agent="security",
                system=SYSTEM,
                prompt=PROMPT,
                schema=Findings,
                meter=meter,
                answer_tokens=answer_tokens,
            )

    assert {c.status for c in meter.calls} == {"failed", "ok"}
    for worst, usage in meter.settled:
        assert usage.prompt <= worst.prompt
        assert usage.output + usage.thinking <= worst.output
        assert bill(price, usage) <= meter.budget.cost(worst)
    assert meter.budget.reserved == 0 and meter.budget.reserved_usd == pytest.approx(0)
    assert meter.budget.spent_usd == pytest.approx(sum(bill(price, u) for _, u in meter.settled))


async def test_a_call_over_the_money_budget_is_not_sent(
    fake_gemini: FakeGemini, make_client: Callable[..., GeminiClient]
) -> None:
    price = DEFAULT_PRICES["gemini-2.5-flash"]
    # 1,000 input tokens fit the dollar; 1,024 answer + 1,024 thinking tokens at $2.50 a
    # million do not fit a budget of $0.005.
    meter = LocalMeter(Budget(10**9, usd=0.005, price=price), rpm=6000)

    with pytest.raises(BudgetSpent, match=r"output and thinking tokens"):
        await make_client(thinking_budget=1_024).generate(
            agent="bugs",
            system=SYSTEM,
            prompt=PROMPT,
            schema=Findings,
            meter=meter,
            tokens=1_000,
            answer_tokens=ANSWER_TOKENS,
        )

    assert fake_gemini.requests == []
    assert meter.budget.reserved_usd == 0


def test_the_answers_json_schema_is_made_once_and_is_a_plain_tree():
    from bot.review.agents import MAX_FINDINGS, AgentAnswer
    from bot.review.gemini import json_schema

    made = json_schema(AgentAnswer)

    assert json_schema(AgentAnswer) is made  # not made again for each request
    assert "$ref" not in json.dumps(made) and "$defs" not in made
    findings = made["properties"]["findings"]
    assert findings["maxItems"] == MAX_FINDINGS
    assert findings["items"]["properties"]["severity"]["enum"][0] == "critical"


@pytest.mark.parametrize("cached", [False, True], ids=["whole", "cached"])
@pytest.mark.parametrize("budget", [None, 0, 512])
def test_the_request_body_is_what_the_sdk_would_build(cached, budget):
    """generateContent's body is built by us (the SDK's pydantic building cost 0.58 ms a
    call, and the SDK 28 MiB of the App's memory): it must stay what google-genai itself
    sends for the same call."""
    from google import genai
    from google.genai import _common, models, types

    from bot.review.agents import AgentAnswer
    from bot.review.caching import Cached

    client = GeminiClient(API_KEY, MODEL, base_url=BASE)
    schema = gemini.json_schema(AgentAnswer)
    generation = {
        "temperature": 0.2,
        "maxOutputTokens": 2_000,
        "responseMimeType": "application/json",
        "responseJsonSchema": schema,
    }
    if budget is not None:
        generation["thinkingConfig"] = {"thinkingBudget": budget}
    cache = Cached("cachedContents/000001", PROMPT[:20], 10) if cached else None
    ours = gemini._Request(SYSTEM, generation).body(PROMPT, cache)

    config = types.GenerateContentConfig(
        system_instruction=None if cached else SYSTEM,
        cached_content=cache.name if cache else None,
        response_mime_type="application/json",
        response_json_schema=schema,
        temperature=0.2,
        max_output_tokens=2_000,
        thinking_config=None if budget is None else types.ThinkingConfig(thinking_budget=budget),
    )
    contents = PROMPT[len(cache.prefix) :] if cache else PROMPT
    params = types._GenerateContentParameters(model=MODEL, contents=contents, config=config)
    api = genai.Client(api_key=API_KEY, http_options=types.HttpOptions(base_url=BASE))._api_client
    sdk = models._GenerateContentParameters_to_mldev(api, params, None, params)
    assert sdk.pop("_url") == {"model": f"models/{MODEL}"}
    sdk.pop("config", None)
    sdk = _common.encode_unserializable_types(_common.convert_to_dict(sdk))
    # This SDK passes thinkingConfig's fields in snake_case; the REST API reads both (proto
    # JSON) and documents camelCase, which we send.
    thinking = sdk["generationConfig"].get("thinkingConfig")
    if thinking is not None:
        sdk["generationConfig"]["thinkingConfig"] = {"thinkingBudget": thinking["thinking_budget"]}

    assert ours == sdk
    assert client._model_path == f"models/{MODEL}"


def test_a_reply_is_read_without_thoughts_and_says_why_it_stopped():
    body = {
        "candidates": [
            {
                "content": {
                    "role": "model",
                    "parts": [
                        {"text": "I think", "thought": True},
                        {"text": '{"a":'},
                        {"text": " 1}"},
                    ],
                },
                "finishReason": "STOP",
            }
        ],
        "usageMetadata": {
            "promptTokenCount": 10,
            "cachedContentTokenCount": 4,
            "candidatesTokenCount": 3,
            "thoughtsTokenCount": 2,
        },
    }
    reply = gemini.reply_of(body)
    assert reply.text == '{"a": 1}'
    assert reply.finish == "STOP"
    assert reply.usage == Usage(prompt=10, cached=4, output=3, thinking=2)

    blocked = gemini.reply_of({"promptFeedback": {"blockReason": "SAFETY"}})
    assert (blocked.text, blocked.finish) == (None, "prompt blocked (SAFETY)")
    assert blocked.usage.estimated


def test_the_cache_and_count_requests_are_what_the_sdk_would_build():
    from google import genai
    from google.genai import _common, caches, models, types

    from bot.review.gemini_api import model_path, text_content

    api = genai.Client(api_key=API_KEY, http_options=types.HttpOptions(base_url=BASE))._api_client

    def sdk(request):
        request.pop("_url", None)
        request.pop("config", None)
        return _common.encode_unserializable_types(_common.convert_to_dict(request))

    config = types.CreateCachedContentConfig(
        system_instruction=SYSTEM, contents=[PROMPT], ttl="300s", display_name="second-look part 1"
    )
    params = types._CreateCachedContentParameters(model=MODEL, config=config)
    made = sdk(caches._CreateCachedContentParameters_to_mldev(api, params, None))
    ours = {
        "model": model_path(MODEL),
        "contents": [text_content(PROMPT)],
        "systemInstruction": text_content(SYSTEM),
        "ttl": "300s",
        "displayName": "second-look part 1",
    }
    assert ours == made

    params = types._CountTokensParameters(model=MODEL, contents=PROMPT)
    assert sdk(models._CountTokensParameters_to_mldev(api, params, None)) == {
        "contents": [text_content(PROMPT)]
    }


async def test_a_200_whose_body_is_not_a_json_object_is_retried_as_malformed(
    fake_gemini: FakeGemini, make_client: Callable[..., GeminiClient]
) -> None:
    fake_gemini.broken_body_next("<html>502 from the proxy</html>")
    fake_gemini.broken_body_next("[1, 2]")
    meter = unmetered()

    with pytest.raises(AgentCallError) as caught:
        await review(make_client(max_attempts=2), meter=meter)

    assert "malformed output" in str(caught.value) and caught.value.attempts == 2
    assert [c.status for c in meter.calls] == ["failed", "failed"]
