"""The Gemini client: metered attempts, our own retries, structured answers, token counts."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import time
from dataclasses import dataclass
from typing import Any

import aiohttp
from pydantic import BaseModel, ValidationError

from bot import errors
from bot.errors import describe
from bot.retry import Policy, Sleep, Transient, never_sent, retry_info
from bot.review import thinking
from bot.review.caching import CACHE, TTL_SECONDS, Cached
from bot.review.gemini_api import ApiError, GeminiApi, MalformedResponse, model_path, text_content
from bot.review.metering import BudgetSpent, Call, Meter, QuotaReached, Usage, Worst, unanswered

log = logging.getLogger(__name__)

RETRYABLE_CODES = frozenset({429, 500, 502, 503, 504})


class AgentCallError(Exception):
    """An agent's Gemini call failed for good (here: after its retries). `outage`: its last
    attempt met Gemini unreachable, timing out or answering 429/5xx, which a later try may
    not (the App defers such a review: bot/app/outage.py); a 4xx or a malformed answer is not."""

    def __init__(
        self, agent: str, status: str, attempts: int, message: str, *, outage: bool = False
    ) -> None:
        self.agent = agent
        self.status = status
        self.attempts = attempts
        self.message = message
        self.outage = outage
        super().__init__(errors.gemini(status, message, attempts))


@dataclass(frozen=True)
class GeminiResult:
    """A parsed answer and what the call cost, summed over all its attempts."""

    parsed: BaseModel
    prompt_tokens: int
    output_tokens: int
    attempts: int


class _Failure(Exception):
    """One failed attempt: its status and a message; `reached`: False when the request never
    reached Gemini (no connection was made)."""

    def __init__(self, status: str, message: str, *, reached: bool = True) -> None:
        super().__init__(f"{status}: {message}" if message else status)
        self.status = status
        self.message = message
        self.reached = reached


class _Retry(_Failure, Transient):
    """A failed attempt worth another; `delay`: the wait Gemini's RetryInfo asked for;
    `outage`: Gemini was away (unreachable, no answer in time, 429 or 5xx), not its answer bad."""

    def __init__(
        self,
        status: str,
        message: str,
        delay: float | None = None,
        *,
        outage: bool = False,
        reached: bool = True,
    ) -> None:
        _Failure.__init__(self, status, message, reached=reached)
        self.delay = delay
        self.outage = outage


class _CacheGone(_Retry):
    """Gemini refused the request's cache (expired, deleted): send it whole next time."""


@functools.cache
def json_schema(schema: type[BaseModel]) -> dict[str, Any]:
    """The answer's JSON schema (generationConfig.responseJsonSchema), made once per schema:
    made again for every request, as google-genai did with the class as `response_schema`, it
    was 43% of the CPU of sending one (py-spy under `bench_review_load`).

    Its keys keep the order the model declares its fields in, and Gemini 2.5 and later write
    a JSON Schema answer's properties in that order (the "implicit property ordering" of the
    Gemini API, November 2025): a finding's evidence before its severity, its confidence last
    (bot/review/agents.ModelFinding). `propertyOrdering` belongs to the OpenAPI `Schema` of
    `responseSchema`, not to JSON Schema, so it is not sent."""
    made: dict[str, Any] = schema.model_json_schema()
    defs = made.pop("$defs", {})

    def inline(node: Any) -> Any:  # each "$ref" replaced by its definition: a plain tree
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return inline(defs[ref.removeprefix("#/$defs/")])
            return {key: inline(value) for key, value in node.items()}
        if isinstance(node, list):
            return [inline(item) for item in node]
        return node

    inlined: dict[str, Any] = inline(made)
    return inlined


@dataclass(frozen=True)
class Reply:
    """What we read of a generateContent answer: its text (the first candidate's parts that
    are not thoughts), the finish reason (or why the prompt was blocked), and the usage."""

    text: str | None
    finish: str
    usage: Usage


def reply_of(answer: dict[str, Any]) -> Reply:
    """Read a generateContent answer (the response's JSON object)."""
    candidates = answer.get("candidates") or []
    first = candidates[0] if candidates and isinstance(candidates[0], dict) else {}
    parts = (first.get("content") or {}).get("parts") or []
    texts = [
        part["text"]
        for part in parts
        if isinstance(part, dict) and isinstance(part.get("text"), str) and not part.get("thought")
    ]
    text = "".join(texts) if texts else None
    finish = first.get("finishReason")
    if not finish:
        blocked = (answer.get("promptFeedback") or {}).get("blockReason")
        finish = f"prompt blocked ({blocked})" if blocked else "unknown"
    return Reply(text, str(finish), usage_of(answer.get("usageMetadata")))


def parse(reply: Reply, schema: type[BaseModel]) -> BaseModel | None:
    """The answer as `schema`, or None when it is none (no text, not JSON, not that shape)."""
    try:
        return schema.model_validate_json(reply.text) if reply.text else None
    except (ValidationError, ValueError):
        return None


@dataclass(frozen=True)
class _Request:
    """What every attempt of a call sends but the prompt: its system text and generationConfig
    (generateContent's JSON, as the REST API names it)."""

    system: str
    generation: dict[str, Any]

    def body(self, prompt: str, cached: Cached | None) -> dict[str, Any]:
        """The request; with `cached`, the cache holds the system text and the prompt's start."""
        body: dict[str, Any] = {"generationConfig": self.generation}
        if cached is None:
            body["systemInstruction"] = text_content(self.system)
        else:
            prompt = prompt[len(cached.prefix) :]
            body["cachedContent"] = cached.name
        body["contents"] = [text_content(prompt)]
        return body


class GeminiClient:
    """Call Gemini for the agents; one per process. Rate and budget are the caller's `meter`."""

    def __init__(
        self,
        api_key: str,
        model: str,
        base_url: str | None = None,
        http: aiohttp.ClientSession | None = None,
        max_attempts: int = 3,
        timeout: float = 120,
        sleep: Sleep = asyncio.sleep,
        max_retry_wait: float = 60.0,
        thinking_budget: int = thinking.DEFAULT_BUDGET,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.model = model
        self.thinking_budget = thinking_budget  # GEMINI_THINKING_BUDGET: for tasks that think
        # A RetryInfo delay up to `max_retry_wait` is waited out in place; a longer one puts
        # the review back in the queue (QuotaReached). Backoff doubles up to 30 s.
        self.policy = Policy(
            attempts=max_attempts, backoff_cap=30.0, max_wait=max_retry_wait, sleep=sleep
        )
        self.timeout = timeout
        self._api_key = api_key
        self._api = GeminiApi(api_key, base_url, timeout, http)  # None: GOOGLE_GEMINI_BASE_URL
        self._model_path = model_path(model)
        self.calls = 0
        self.retries = 0
        self._counted: dict[str, int] = {}  # digest of a text -> its token count

    async def aclose(self) -> None:
        """Close the transport's own session (never a session passed in as `http`)."""
        await self._api.aclose()

    async def count_tokens(self, text: str) -> int:
        """Gemini's token count for `text` (once per text); its UTF-8 size if counting fails.

        Every token covers at least one byte, so the size is never below the real count.
        """
        key = digest(text)
        if key in self._counted:
            return self._counted[key]
        try:
            counted = await self._api.post(
                f"{self._model_path}:countTokens", {"contents": [text_content(text)]}
            )
            total = counted.get("totalTokens")
            total = total if isinstance(total, int) else None
        except (ApiError, MalformedResponse, aiohttp.ClientError, TimeoutError) as exc:
            log.warning(
                "count_tokens failed, counting bytes instead: %s", self._redact(describe(exc))
            )
            total = None
        if total is None:
            return len(text.encode())
        self._counted[key] = total
        return total

    async def generate(
        self,
        *,
        agent: str,
        system: str,
        prompt: str,
        schema: type[BaseModel],
        meter: Meter,
        answer_tokens: int,
        think: bool = True,
        chunk: int = 1,
        tokens: int | None = None,
        cached: Cached | None = None,
    ) -> GeminiResult:
        """Ask Gemini for a `schema` answer of at most `answer_tokens`, after thinking up to
        GEMINI_THINKING_BUDGET tokens (`think`; else as little as the model allows), retrying
        what is worth retrying.

        Every attempt reserves its worst case with the meter before it is sent: `tokens` (the
        counted prompt; its UTF-8 size when not given) and its maxOutputTokens (the answer and
        the thinking budget, which Gemini counts against it), and reports its usage after. An
        answer cut at maxOutputTokens (finish reason MAX_TOKENS) is a failed attempt. With
        `cached` (a cache of `system` and the start of `prompt`) only the rest of the prompt
        is sent; a cache Gemini no longer has is dropped and the request sent whole.
        """
        if cached is not None and not prompt.startswith(cached.prefix):
            cached = None
        max_output = self.max_output(answer_tokens, think)
        budget = thinking.budget_for(self.model, self.thinking_budget if think else 0)
        generation: dict[str, Any] = {
            "temperature": 0.2,
            "maxOutputTokens": max_output,
            "responseMimeType": "application/json",
            "responseJsonSchema": json_schema(schema),
        }
        if budget is not None:
            generation["thinkingConfig"] = {"thinkingBudget": budget}
        request = _Request(system, generation)
        reserve = tokens if tokens is not None else len(system.encode()) + len(prompt.encode())
        worst = Worst(reserve, max_output)
        call = _Attempt(agent, chunk, prompt_digest(system, prompt), worst, meter)
        prompt_tokens = output_tokens = attempts = 0
        try:
            async for attempt in self.policy.retrying(f"agent {agent}"):
                with attempt:
                    attempts = attempt.retry_state.attempt_number
                    try:
                        reply, parsed = await self._attempt(
                            call, attempts, prompt, request, schema, cached
                        )
                    except _CacheGone:
                        cached = None
                        raise
                    usage = reply.usage
                    prompt_tokens += usage.prompt
                    output_tokens += usage.output + usage.thinking
                    return GeminiResult(parsed, prompt_tokens, output_tokens, attempts)
        except _Retry as failure:
            if failure.delay is not None and failure.delay > self.policy.max_wait:
                raise QuotaReached(
                    f"Gemini answered {failure.status} and asked to wait {failure.delay:g} s",
                    after=failure.delay,
                ) from None
            raise AgentCallError(
                agent, failure.status, attempts, failure.message, outage=failure.outage
            ) from failure.__cause__
        except _Failure as failure:
            raise AgentCallError(
                agent, failure.status, attempts, failure.message
            ) from failure.__cause__
        raise AssertionError("unreachable: the policy stops with the last error")

    def max_output(self, answer_tokens: int, think: bool = True) -> int:
        """A request's maxOutputTokens: its answer and the thinking it may do first (Gemini
        counts thoughts against maxOutputTokens), so the most its output can be billed."""
        budget = thinking.budget_for(self.model, self.thinking_budget if think else 0)
        return answer_tokens + (budget or 0)

    async def _attempt(
        self,
        call: _Attempt,
        number: int,
        prompt: str,
        request: _Request,
        schema: type[BaseModel],
        cached: Cached | None = None,
    ) -> tuple[Reply, BaseModel]:
        """One metered attempt: admitted, sent, recorded; the answer parsed, or _Failure."""
        await call.meter.admit(call.worst)
        started = time.monotonic()
        try:
            reply = await self._send(number, request.body(prompt, cached))
        except asyncio.CancelledError:
            # Cut off in flight (superseded): Gemini bills the prompt all the same.
            usage = unanswered(call.worst, reached=True)
            call.meter.abandon(call.ended(number, "cancelled", started, usage), call.worst)
            raise
        except _Failure as failure:
            # A 4xx or 429 was refused before the model read it; anything else may be billed.
            refused = failure.status.startswith("4")
            usage = unanswered(call.worst, reached=failure.reached, refused=refused)
            ended = call.ended(
                number, "failed", started, usage, error=str(failure), reached=failure.reached
            )
            await call.meter.record(ended, call.worst)
            if cached is not None and failure.status.split()[0] in ("400", "403", "404"):
                raise _CacheGone(failure.status, failure.message) from None
            raise
        usage = reply.usage
        if usage.estimated:  # no usageMetadata: count what we reserved
            usage = unanswered(call.worst, reached=True)
        if reply.finish == "MAX_TOKENS":
            # Never parsed, even when the cut text happens to be valid JSON: the end is lost.
            most = request.generation["maxOutputTokens"]
            cut = f"the answer reached maxOutputTokens ({most:,} tokens)"
            ended = call.ended(number, "failed", started, usage, error=cut)
            await call.meter.record(ended, call.worst)
            raise _Retry("truncated", cut)
        parsed = parse(reply, schema)
        if parsed is None:
            why = f"finish reason {reply.finish}"
            ended = call.ended(number, "failed", started, usage, error=f"malformed output {why}")
            await call.meter.record(ended, call.worst)
            raise _Retry("malformed output", why)
        ended = call.ended(number, "ok", started, usage, answer=parsed.model_dump(mode="json"))
        await call.meter.record(ended, call.worst)
        return reply, parsed

    async def _send(self, attempt: int, body: dict[str, Any]) -> Reply:
        """Send one generateContent request; raise _Failure when it fails."""
        self.calls += 1
        if attempt > 1:
            self.retries += 1
        try:
            answer = await self._api.post(f"{self._model_path}:generateContent", body)
        except ApiError as exc:
            status = f"{exc.code} {exc.status or ''}".rstrip()
            message = self._redact(exc.message or "")
            # Not chained: the error holds the raw body.
            if exc.code not in RETRYABLE_CODES:
                raise _Failure(status, message) from None
            raise _Retry(status, message, delay=retry_info(exc.details), outage=True) from None
        except MalformedResponse as exc:
            raise _Retry("malformed output", "the response body is not JSON") from exc
        except TimeoutError as exc:  # asyncio's and aiohttp's timeouts both subclass it
            if never_sent(exc):
                raise _Retry(
                    "timeout",
                    f"no connection within {self.timeout:g} s",
                    outage=True,
                    reached=False,
                ) from exc
            raise _Retry("timeout", f"no answer within {self.timeout:g} s", outage=True) from exc
        except aiohttp.ClientError as exc:
            message = self._redact(describe(exc))
            raise _Retry(
                "connection error", message, outage=True, reached=not never_sent(exc)
            ) from exc
        return reply_of(answer)

    async def create_cache(
        self, system: str, prefix: str, *, meter: Meter, chunk: int, tokens: int
    ) -> Cached | None:
        """A cache of `system` and `prefix` for TTL_SECONDS, metered as one call (its tokens
        billed as input, plus their storage); None when the budget, the quota or Gemini
        refuses it, and the requests then send the prefix themselves."""
        worst = Worst(tokens, stored=tokens * TTL_SECONDS / 3600)
        call = _Attempt(CACHE, chunk, prompt_digest(system, prefix), worst, meter)
        try:
            await meter.admit(worst)
        except (BudgetSpent, QuotaReached) as exc:
            log.info("no cache for part %d: %s", chunk, exc)
            return None
        started = time.monotonic()
        body = {
            "model": self._model_path,
            "contents": [text_content(prefix)],
            "systemInstruction": text_content(system),
            "ttl": f"{TTL_SECONDS}s",
            "displayName": f"second-look part {chunk}",
        }
        try:
            cache = await self._api.post("cachedContents", body)
        except asyncio.CancelledError:
            meter.abandon(
                call.ended(1, "cancelled", started, unanswered(worst, reached=True)), worst
            )
            raise
        except (ApiError, MalformedResponse, aiohttp.ClientError, TimeoutError) as exc:
            reason = self._redact(getattr(exc, "message", None) or describe(exc))
            log.warning("no cache for part %d: %s", chunk, reason)
            # Billed only when it may have been made: a timeout after it was sent.
            reached = not never_sent(exc)
            usage = unanswered(worst, reached=reached, refused=not isinstance(exc, TimeoutError))
            ended = call.ended(1, "failed", started, usage, error=reason, reached=reached)
            await meter.record(ended, worst)
            return None
        metadata = cache.get("usageMetadata")
        counted = metadata.get("totalTokenCount") if isinstance(metadata, dict) else None
        counted = counted if isinstance(counted, int) and counted else tokens
        usage = Usage(prompt=counted, stored=counted * TTL_SECONDS / 3600)
        await meter.record(call.ended(1, "ok", started, usage), worst)
        name = cache.get("name")
        if not isinstance(name, str) or not name:
            return None
        return Cached(name, prefix, counted)

    async def delete_cache(self, cached: Cached) -> None:
        """Delete a cache no request needs any more (storage is billed for its TTL anyway;
        this keeps the project's cache list short). A failure is only logged."""
        try:
            await self._api.delete(cached.name)
        except (ApiError, MalformedResponse, aiohttp.ClientError, TimeoutError) as exc:
            log.info("cache %s not deleted: %s", cached.name, self._redact(describe(exc)))

    def _redact(self, text: str) -> str:
        return text.replace(self._api_key, "***") if self._api_key else text


def usage_of(metadata: Any) -> Usage:
    """The tokens an answer's usageMetadata reports (prompt includes cached; thinking is billed
    as output); an estimate when it reports none."""
    if not isinstance(metadata, dict):
        return Usage(estimated=True)

    def count(name: str) -> int:
        value = metadata.get(name)
        return value if isinstance(value, int) else 0

    return Usage(
        prompt=count("promptTokenCount"),
        cached=count("cachedContentTokenCount"),
        output=count("candidatesTokenCount"),
        thinking=count("thoughtsTokenCount"),
    )


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def prompt_digest(system: str, prompt: str) -> str:
    """What an answer is stored under (with its agent): the request's system text and prompt."""
    return digest(system + "\0" + prompt)


@dataclass(frozen=True)
class _Attempt:
    """What every attempt of one (agent, chunk) call shares."""

    agent: str
    chunk: int
    digest: str
    worst: Worst  # reserved per attempt
    meter: Meter

    def ended(
        self,
        attempt: int,
        status: str,
        started: float,
        usage: Usage,
        error: str | None = None,
        answer: dict[str, Any] | None = None,
        reached: bool = True,
    ) -> Call:
        latency = int((time.monotonic() - started) * 1000)
        return Call(
            self.agent,
            self.chunk,
            self.digest,
            attempt,
            status,
            latency,
            usage,
            error,
            answer,
            reached,
        )
