"""The Gemini client: one process-wide rate limit, our own retries, structured answers."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import aiohttp
from aiolimiter import AsyncLimiter
from google import genai
from google.genai import errors, types
from pydantic import BaseModel

from bot.retry import Policy, Sleep, Transient, retry_info

log = logging.getLogger(__name__)

RETRYABLE_CODES = frozenset({429, 500, 502, 503, 504})


class AgentCallError(Exception):
    """An agent's Gemini call failed for good."""

    def __init__(self, agent: str, status: str, attempts: int, message: str) -> None:
        self.agent = agent
        self.status = status
        self.attempts = attempts
        self.message = message
        noun = "attempt" if attempts == 1 else "attempts"
        super().__init__(f"agent {agent} failed after {attempts} {noun}: {status} {message}")


@dataclass(frozen=True)
class GeminiResult:
    """A parsed answer and what the call cost, summed over all its attempts."""

    parsed: BaseModel
    input_chars: int
    prompt_tokens: int
    output_tokens: int
    attempts: int


class _Failure(Exception):
    """One failed attempt: its status and a message."""

    def __init__(self, status: str, message: str) -> None:
        super().__init__(f"{status} {message}")
        self.status = status
        self.message = message


class _Retry(_Failure, Transient):
    """A failed attempt worth another; `delay`: the wait Gemini's RetryInfo asked for."""

    def __init__(self, status: str, message: str, delay: float | None = None) -> None:
        _Failure.__init__(self, status, message)
        self.delay = delay


class GeminiClient:
    """Call Gemini for the agents; one per process, so its limiter is the process's."""

    def __init__(
        self,
        api_key: str,
        model: str,
        rpm: int,
        base_url: str | None = None,
        http: aiohttp.ClientSession | None = None,
        max_attempts: int = 3,
        timeout: float = 120,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if rpm < 1 or max_attempts < 1:
            raise ValueError("rpm and max_attempts must be at least 1")
        self.model = model
        # A RetryInfo delay is waited out up to five minutes; backoff doubles up to 30 s.
        self.policy = Policy(attempts=max_attempts, backoff_cap=30.0, max_wait=300.0, sleep=sleep)
        self.timeout = timeout
        self._api_key = api_key
        # Measured: AsyncLimiter(rpm, 60) lets almost 2 * rpm through in the first minute
        # (its initial burst); one slot every 60 / rpm seconds never exceeds rpm.
        self._limiter = AsyncLimiter(1, 60 / rpm)
        options = types.HttpOptions(
            base_url=base_url,  # None: the SDK reads GOOGLE_GEMINI_BASE_URL itself
            timeout=int(timeout * 1000),
            aiohttp_client=http,
            # Without retry_options the SDK still retries a failed connection once, after
            # sleeping 1 to 10 s; one attempt here turns that off too.
            retry_options=types.HttpRetryOptions(attempts=1),
        )
        self._client = genai.Client(api_key=api_key, http_options=options)
        self.calls = 0
        self.retries = 0
        self.input_chars = 0
        self.prompt_tokens = 0
        self.output_tokens = 0

    async def aclose(self) -> None:
        """Close the SDK's own transports (never a session passed in as `http`)."""
        await self._client.aio.aclose()

    async def generate(
        self, *, agent: str, system: str, prompt: str, schema: type[BaseModel]
    ) -> GeminiResult:
        """Ask Gemini for a `schema` answer, retrying what is worth retrying."""
        config = types.GenerateContentConfig(
            system_instruction=system,
            response_mime_type="application/json",
            response_schema=schema,
            temperature=0.2,
            # A continuation would be a second request that skipped the limiter.
            automatic_continuation=False,
            # No tools: with function calling off the SDK also stops logging "AFC is enabled"
            # at INFO on every call.
            automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
        )
        chars = len(system) + len(prompt)
        prompt_tokens = output_tokens = attempts = 0
        try:
            async for attempt in self.policy.retrying(f"agent {agent}"):
                with attempt:
                    attempts = attempt.retry_state.attempt_number
                    response = await self._send(attempts, prompt, config, chars)
                    used_in, used_out = tokens(response)
                    prompt_tokens += used_in
                    output_tokens += used_out
                    self.prompt_tokens += used_in
                    self.output_tokens += used_out
                    if not isinstance(response.parsed, schema):
                        reason = f"finish reason {finish_reason(response)}"
                        raise _Retry("malformed output", reason)
                    return GeminiResult(
                        response.parsed, chars * attempts, prompt_tokens, output_tokens, attempts
                    )
        except _Failure as failure:
            raise AgentCallError(
                agent, failure.status, attempts, failure.message
            ) from failure.__cause__
        raise AssertionError("unreachable: the policy stops with the last error")

    async def _send(
        self, attempt: int, prompt: str, config: types.GenerateContentConfig, chars: int
    ) -> types.GenerateContentResponse:
        """Wait for the limiter and send one request; raise _Failure when it fails."""
        await self._limiter.acquire()
        self.calls += 1
        if attempt > 1:
            self.retries += 1
        self.input_chars += chars
        try:
            return await self._client.aio.models.generate_content(
                model=self.model, contents=prompt, config=config
            )
        except errors.APIError as exc:
            status = f"{exc.code} {exc.status or ''}".rstrip()
            message = self._redact(exc.message or "")
            # Not chained: the SDK's error prints the raw body and holds the request headers.
            if exc.code not in RETRYABLE_CODES:
                raise _Failure(status, message) from None
            raise _Retry(status, message, delay=retry_info(exc.details)) from None
        except errors.UnknownApiResponseError as exc:
            raise _Retry("malformed output", "the response body is not JSON") from exc
        except TimeoutError as exc:  # asyncio's and aiohttp's timeouts both subclass it
            raise _Retry("timeout", f"no answer within {self.timeout:g} s") from exc
        except aiohttp.ClientError as exc:
            raise _Retry("connection error", self._redact(str(exc))) from exc

    def _redact(self, text: str) -> str:
        return text.replace(self._api_key, "***") if self._api_key else text


def tokens(response: types.GenerateContentResponse) -> tuple[int, int]:
    """The prompt and output tokens an answer was billed for."""
    usage = response.usage_metadata
    if usage is None:
        return 0, 0
    # Thinking tokens are billed as output.
    output = (usage.candidates_token_count or 0) + (usage.thoughts_token_count or 0)
    return usage.prompt_token_count or 0, output


def finish_reason(response: types.GenerateContentResponse) -> str:
    """Why the model stopped, or why the prompt was blocked."""
    if response.candidates and response.candidates[0].finish_reason:
        return str(response.candidates[0].finish_reason.value)
    feedback = response.prompt_feedback
    if feedback is not None and feedback.block_reason:
        return f"prompt blocked ({feedback.block_reason.value})"
    return "unknown"
