"""The Gemini API's REST transport: the key, the base URL, the timeout, and its errors.

Four requests are all the review sends (generateContent, countTokens, and a cachedContents
create and delete), in the JSON the REST reference documents. google-genai built and read
them through pydantic models: 0.75 ms of CPU a generateContent call, and importing it and
making its client cost the App 28 MiB of its memory (README, Benchmarks). The tests hold our
request bodies against the SDK's own (tests/test_gemini.py) and FakeGemini against the SDK.
"""

from __future__ import annotations

import json
import os
from typing import Any

import aiohttp

DEFAULT_BASE_URL = "https://generativelanguage.googleapis.com"
VERSION = "v1"  # what google-genai 3 sends to the Gemini API by default


class ApiError(Exception):
    """Gemini answered with an error: its HTTP `code`, the google.rpc `status` ("RESOURCE_
    EXHAUSTED"), its `message`, and the error's whole body (`details`, for RetryInfo)."""

    def __init__(self, code: int, status: str | None, message: str, details: Any) -> None:
        super().__init__(f"{code} {status or ''}".rstrip() + (f": {message}" if message else ""))
        self.code = code
        self.status = status
        self.message = message
        self.details = details


class MalformedResponse(Exception):
    """A 2xx answer whose body is not a JSON object."""


def base_url_of(base_url: str | None) -> str:
    """The API's root: the setting, else GOOGLE_GEMINI_BASE_URL, else Google's."""
    chosen = base_url or os.environ.get("GOOGLE_GEMINI_BASE_URL") or DEFAULT_BASE_URL
    return chosen.rstrip("/")


def model_path(model: str) -> str:
    """`models/<model>` (a tuned model's name is kept as it is)."""
    return model if model.startswith(("models/", "tunedModels/")) else f"models/{model}"


def text_content(text: str) -> dict[str, Any]:
    """One user turn of text, as the API reads `contents[]` and `systemInstruction`."""
    return {"parts": [{"text": text}], "role": "user"}


class GeminiApi:
    """Send requests to `<base>/v1beta/<path>` with the key in `x-goog-api-key`, each within
    `timeout` seconds, on `http` (a session of the caller's) or a session of its own."""

    def __init__(
        self,
        api_key: str,
        base_url: str | None,
        timeout: float,
        http: aiohttp.ClientSession | None = None,
    ) -> None:
        self._root = f"{base_url_of(base_url)}/{VERSION}/"
        self._headers = {"x-goog-api-key": api_key, "Content-Type": "application/json"}
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._http = http
        self._own: aiohttp.ClientSession | None = None

    def _session(self) -> aiohttp.ClientSession:
        if self._http is not None:
            return self._http
        if self._own is None or self._own.closed:
            self._own = aiohttp.ClientSession()
        return self._own

    async def aclose(self) -> None:
        """Close the session this made (never one passed in)."""
        if self._own is not None:
            await self._own.close()

    async def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        return await self._request("POST", path, json.dumps(body))

    async def delete(self, path: str) -> None:
        await self._request("DELETE", path, None)

    async def _request(self, method: str, path: str, data: str | None) -> dict[str, Any]:
        """The answer's JSON object; ApiError for an error status, MalformedResponse for a
        2xx body that is not a JSON object (an empty body is an empty object)."""
        async with self._session().request(
            method, self._root + path, data=data, headers=self._headers, timeout=self._timeout
        ) as response:
            text = await response.text(errors="replace")
            status = response.status
        try:
            answer = json.loads(text) if text else {}
        except ValueError:
            answer = None
        if status >= 400:
            raise _error(status, answer, text)
        if not isinstance(answer, dict):
            raise MalformedResponse("the response body is not a JSON object")
        return answer


def _error(code: int, answer: Any, text: str) -> ApiError:
    error = answer.get("error") if isinstance(answer, dict) else None
    if not isinstance(error, dict):
        return ApiError(code, None, text[:200], answer)
    status, message = error.get("status"), error.get("message")
    return ApiError(
        code,
        status if isinstance(status, str) else None,
        message if isinstance(message, str) else "",
        answer,
    )
