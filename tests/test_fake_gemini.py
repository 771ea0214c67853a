"""FakeGemini itself, through the real google-genai client: countTokens, usage, long RetryInfo."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator

import aiohttp
import pytest
from google import genai
from google.genai import errors, types

from bot.retry import retry_info
from bot.review.agents import MAX_FINDINGS, AgentAnswer
from tests.fakes.gemini import FakeGemini, billed_tokens, output_tokens, tokens

API_KEY = "AIzaSy-test-key-fake-gemini-0123456789"
MODEL = "gemini-2.5-flash"
SYSTEM = "You review code.\nSecond Look agent: security\n"
PROMPT = "Review these files.\n=== File: app/auth.py ===\n+password = 'hunter2'\n" * 7


@pytest.fixture
async def client(fake_gemini: FakeGemini) -> AsyncIterator[genai.Client]:
    async with aiohttp.ClientSession() as http:
        options = types.HttpOptions(
            base_url=fake_gemini.url,
            aiohttp_client=http,
            retry_options=types.HttpRetryOptions(attempts=1),
        )
        made = genai.Client(api_key=API_KEY, http_options=options)
        yield made
        await made.aio.aclose()


async def generate(client: genai.Client, system: str = SYSTEM, prompt: str = PROMPT):
    config = types.GenerateContentConfig(
        system_instruction=system,
        automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
    )
    return await client.aio.models.generate_content(model=MODEL, contents=prompt, config=config)


def test_tokens_are_a_quarter_of_the_characters_rounded_up():
    assert [tokens(t) for t in ("", "a", "abcd", "abcde", "x" * 4000)] == [0, 1, 1, 2, 1000]


def test_the_prompt_tokens_billed_are_never_above_the_counts():
    samples = ["", "a", "ab", "abc", "abcd", "abcde", SYSTEM, PROMPT, "x" * 4001]
    for system in samples:
        for prompt in samples:
            billed = billed_tokens([system, prompt])
            assert tokens(system) + tokens(prompt) >= billed or not (system or prompt)
            assert billed == max((len(system) + len(prompt)) // 4, 1)  # as test_gemini pins


async def test_count_tokens_answers_the_sdk_with_total_tokens(client, fake_gemini):
    answer = await client.aio.models.count_tokens(model=MODEL, contents=PROMPT)

    assert answer.total_tokens == math.ceil(len(PROMPT) / 4)
    [seen] = fake_gemini.count_requests
    assert (seen.form, seen.model, seen.status) == ("contents", MODEL, 200)
    assert seen.prompt == PROMPT and seen.total_tokens == answer.total_tokens
    assert seen.path.endswith(f"/models/{MODEL}:countTokens")  # v1 or v1beta
    assert fake_gemini.requests == []  # generateContent's record and quota are apart


async def test_count_tokens_sums_over_parts_and_contents(client):
    parts = ["abcde", "x" * 9, "y"]  # 2 + 3 + 1 tokens
    one_content = await client.aio.models.count_tokens(model=MODEL, contents=parts)
    contents = [types.Content(role="user", parts=[types.Part(text=t)]) for t in parts]
    several = await client.aio.models.count_tokens(model=MODEL, contents=contents)

    assert one_content.total_tokens == several.total_tokens == 6


async def test_system_and_prompt_counted_apart_cover_the_usage_reported(client, fake_gemini):
    for system, prompt in [(SYSTEM, PROMPT), ("s" * 5, "p" * 5), ("a", "b" * 4001)]:
        fake_gemini.reset()
        counted_system = await client.aio.models.count_tokens(model=MODEL, contents=system)
        counted_prompt = await client.aio.models.count_tokens(model=MODEL, contents=prompt)
        together = await client.aio.models.count_tokens(model=MODEL, contents=[system, prompt])
        answer = await generate(client, system, prompt)

        reported = answer.usage_metadata.prompt_token_count
        assert counted_system.total_tokens + counted_prompt.total_tokens >= reported
        assert together.total_tokens >= reported
        assert reported == (len(system) + len(prompt)) // 4
        [seen] = fake_gemini.requests
        assert seen.prompt_tokens == reported
        assert fake_gemini.seen_prompt_tokens() == reported


async def test_count_tokens_takes_a_generate_content_request_too(fake_gemini):
    url = f"{fake_gemini.url}/v1beta/models/{MODEL}:countTokens"
    inner = {
        "model": f"models/{MODEL}",
        "systemInstruction": {"parts": [{"text": SYSTEM}]},
        "contents": [{"role": "user", "parts": [{"text": PROMPT}]}],
    }
    headers = {"x-goog-api-key": API_KEY}
    async with aiohttp.ClientSession() as http:
        async with http.post(url, json={"generateContentRequest": inner}, headers=headers) as r:
            assert r.status == 200
            body = await r.json()
        both = {"generateContentRequest": inner, "contents": inner["contents"]}
        async with http.post(url, json=both, headers=headers) as r:
            assert r.status == 400
            assert (await r.json())["error"]["status"] == "INVALID_ARGUMENT"
        no_model = {"generateContentRequest": {"contents": inner["contents"]}}
        async with http.post(url, json=no_model, headers=headers) as r:
            assert r.status == 400
        async with http.post(url, json={"contents": []}, headers=headers) as r:
            assert r.status == 400
        async with http.post(url, json={"contents": inner["contents"]}) as r:
            assert r.status == 400  # no key

    assert body["totalTokens"] == tokens(SYSTEM) + tokens(PROMPT)
    assert fake_gemini.count_requests[0].form == "generateContentRequest"
    assert fake_gemini.count_requests[0].system == SYSTEM
    assert [r.status for r in fake_gemini.count_requests] == [200, 400, 400, 400, 400]


async def test_count_tokens_fails_as_scripted_then_answers(client, fake_gemini):
    fake_gemini.fail_count_tokens_next(503, times=2)
    fake_gemini.fail_next(500)  # generateContent's faults are not countTokens'

    for _ in range(2):
        with pytest.raises(errors.ServerError) as raised:
            await client.aio.models.count_tokens(model=MODEL, contents=PROMPT)
        assert raised.value.code == 503
    answer = await client.aio.models.count_tokens(model=MODEL, contents=PROMPT)

    assert answer.total_tokens == tokens(PROMPT)
    assert [r.status for r in fake_gemini.count_requests] == [503, 503, 200]
    with pytest.raises(errors.ServerError):
        await generate(client)


async def test_count_tokens_429_carries_its_retry_info(client, fake_gemini):
    fake_gemini.fail_count_tokens_next(429, retry_delay="30s")
    with pytest.raises(errors.ClientError) as raised:
        await client.aio.models.count_tokens(model=MODEL, contents=PROMPT)
    assert raised.value.code == 429
    assert retry_info(raised.value.details) == 30.0


async def test_usage_reports_no_cached_or_thinking_tokens_by_default(client):
    answer = await generate(client)
    usage = answer.usage_metadata

    assert usage.prompt_token_count == (len(SYSTEM) + len(PROMPT)) // 4
    assert usage.cached_content_token_count is None
    assert usage.thoughts_token_count is None
    assert usage.total_token_count == usage.prompt_token_count + usage.candidates_token_count
    assert usage.candidates_token_count == output_tokens(answer.text)


async def test_usage_reports_cached_and_thinking_tokens_as_gemini_does(client, fake_gemini):
    fake_gemini.cached_tokens = lambda seen: seen.prompt_tokens // 2
    fake_gemini.thinking_tokens = 321
    answer = await generate(client)
    usage = answer.usage_metadata
    [seen] = fake_gemini.requests

    # Cached tokens are part of the prompt's; thinking tokens are apart from the candidates'.
    assert usage.prompt_token_count == seen.prompt_tokens == (len(SYSTEM) + len(PROMPT)) // 4
    assert usage.cached_content_token_count == seen.prompt_tokens // 2
    assert usage.thoughts_token_count == 321
    assert usage.candidates_token_count == output_tokens(answer.text)
    assert usage.total_token_count == (
        usage.prompt_token_count + usage.candidates_token_count + usage.thoughts_token_count
    )

    fake_gemini.cached_tokens = lambda seen: 10**9  # never more than the prompt
    again = await generate(client)
    assert again.usage_metadata.cached_content_token_count == seen.prompt_tokens


async def test_seen_prompt_tokens_sums_only_the_answered_requests(client, fake_gemini):
    fake_gemini.fail_next(503)
    with pytest.raises(errors.ServerError):
        await generate(client)
    await generate(client)
    await generate(client, prompt="short")

    assert [r.status for r in fake_gemini.requests] == [503, 200, 200]
    assert fake_gemini.requests[0].prompt_tokens == fake_gemini.requests[1].prompt_tokens
    expected = [(len(SYSTEM) + len(p)) // 4 for p in (PROMPT, "short")]
    assert fake_gemini.seen_prompt_tokens() == sum(expected)


async def test_a_long_retry_info_reaches_the_client_whole(client, fake_gemini):
    fake_gemini.fail_next(429, retry_delay="120s")
    with pytest.raises(errors.ClientError) as raised:
        await generate(client)

    assert raised.value.code == 429 and raised.value.status == "RESOURCE_EXHAUSTED"
    assert retry_info(raised.value.details) == 120.0
    kinds = [d["@type"].rsplit(".", 1)[1] for d in raised.value.details["error"]["details"]]
    assert kinds == ["QuotaFailure", "Help", "RetryInfo"]  # RetryInfo is not always first
    assert (await generate(client)).text  # only the next request failed


async def test_the_fake_rpm_limit_asks_for_the_wait_left(client, fake_gemini):
    fake_gemini.rpm_limit = 1
    await generate(client)
    with pytest.raises(errors.ClientError) as raised:
        await generate(client)

    assert 58 <= (retry_info(raised.value.details) or 0) <= 60
    await client.aio.models.count_tokens(model=MODEL, contents=PROMPT)  # its own quota


async def test_an_answer_keeps_to_the_schemas_max_items(client, fake_gemini):
    fake_gemini.findings["security"] = [
        {
            "file_path": "app/auth.py",
            "line_start": 1,
            "line_end": 1,
            "severity": "high",
            "title": f"finding {n}",
            "description": "d",
        }
        for n in range(MAX_FINDINGS + 5)
    ]
    config = types.GenerateContentConfig(
        system_instruction=SYSTEM,
        response_mime_type="application/json",
        response_schema=AgentAnswer,
        automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
    )

    answer = await client.aio.models.generate_content(model=MODEL, contents=PROMPT, config=config)

    assert isinstance(answer.parsed, AgentAnswer)
    titles = [f.title for f in answer.parsed.findings]
    assert titles == [f"finding {n}" for n in range(MAX_FINDINGS)]
