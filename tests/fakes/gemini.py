"""A fake Gemini API (generativelanguage generateContent) served over HTTP on loopback."""

from __future__ import annotations

import asyncio
import json
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from tests.fakes.loop import BackgroundLoop

AGENT_LINE = re.compile(r"^Second Look agent: (\w+)", re.MULTILINE)
FILE_LINE = re.compile(r"^=== File: (.+?) ===$", re.MULTILINE)

# The status names and messages Google answers with, by HTTP code.
GOOGLE_ERRORS: dict[int, tuple[str, str]] = {
    400: ("INVALID_ARGUMENT", "Request contains an invalid argument."),
    403: ("PERMISSION_DENIED", "The caller does not have permission"),
    404: ("NOT_FOUND", "models/unknown is not found for API version v1."),
    429: ("RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota)."),
    500: ("INTERNAL", "An internal error has occurred. Please retry or report it."),
    503: ("UNAVAILABLE", "The model is overloaded. Please try again later."),
    504: ("DEADLINE_EXCEEDED", "Deadline expired before operation could complete."),
}
RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo"
MALFORMED_TEXT = '{"findings": [{"file_path": "'  # cut short, as at MAX_TOKENS


@dataclass(frozen=True)
class GeminiRequest:
    """One generateContent request as the fake saw it, and the status it answered."""

    time: float  # time.monotonic() on arrival
    path: str
    model: str
    agent: str | None
    files: list[str]
    system: str
    prompt: str
    chars: int
    response_schema: bool
    status: int


@dataclass
class _Fault:
    kind: str  # "error", "malformed" or "blocked"
    agent: str | None = None
    status: int = 0
    retry_delay: str | None = None
    message: str | None = None


class FakeGemini:
    """Answers like Gemini; tests script findings, faults and latency, then read `.requests`.

    Handlers run on a `BackgroundLoop` thread; tests set attributes and read `requests`
    from their own thread, so state is only appended to or replaced whole.
    """

    def __init__(self) -> None:
        self.app = web.Application()
        route = "/{version:v1|v1beta}/models/{model}:generateContent"
        self.app.router.add_post(route, self._generate_content)
        self.url = ""
        self.requests: list[GeminiRequest] = []
        self.findings: dict[str, list[dict[str, Any]]] = {}
        self.responder: Callable[[GeminiRequest], dict[str, Any] | str] | None = None
        self.latency = 0.0
        self.rpm_limit: int | None = None
        self.api_key: str | None = None  # when set, any other key is refused as invalid
        self._faults: list[_Fault] = []

    def start(self, bg: BackgroundLoop) -> str:
        """Serve on `bg`; remember and return the base URL."""
        self.url = bg.serve(self.app)
        return self.url

    def reset(self) -> None:
        """Forget requests, scripted findings, faults, latency and limits."""
        self.requests = []
        self.findings = {}
        self.responder = None
        self.latency = 0.0
        self.rpm_limit = None
        self.api_key = None
        self._faults = []

    def fail_next(
        self,
        status: int,
        times: int = 1,
        retry_delay: str | None = None,
        agent: str | None = None,
        message: str | None = None,
    ) -> None:
        """Answer the next `times` requests (of `agent`, if given) with Google's error JSON."""
        fault = _Fault("error", agent, status, retry_delay, message)
        self._faults = self._faults + [fault] * times

    def malformed_next(self, times: int = 1, agent: str | None = None) -> None:
        """Answer the next `times` requests with text that is not valid JSON."""
        self._faults = self._faults + [_Fault("malformed", agent)] * times

    def blocked_next(self, times: int = 1, agent: str | None = None) -> None:
        """Answer the next `times` requests with a SAFETY-blocked candidate and no content."""
        self._faults = self._faults + [_Fault("blocked", agent)] * times

    def requests_of(self, agent: str) -> list[GeminiRequest]:
        """The recorded requests of one agent."""
        return [r for r in self.requests if r.agent == agent]

    async def _generate_content(self, request: web.Request) -> web.Response:
        arrived = time.monotonic()
        model = request.match_info["model"]
        key = request.headers.get("x-goog-api-key")
        try:
            body = await request.json()
        except ValueError:
            body = None
        valid = isinstance(body, dict)
        if not valid:
            body = {}
        system = _texts(body.get("systemInstruction"))
        prompt = "\n".join(_texts(content) for content in body.get("contents") or [])
        agent_match = AGENT_LINE.search(system)
        agent = agent_match.group(1) if agent_match else None
        config = body.get("generationConfig") or {}

        def record(status: int) -> GeminiRequest:
            seen = GeminiRequest(
                time=arrived,
                path=request.path,
                model=model,
                agent=agent,
                files=FILE_LINE.findall(prompt),
                system=system,
                prompt=prompt,
                chars=len(system) + len(prompt),
                response_schema="responseSchema" in config or "responseJsonSchema" in config,
                status=status,
            )
            self.requests.append(seen)
            return seen

        if not key or (self.api_key is not None and key != self.api_key):
            record(400)
            await asyncio.sleep(self.latency)
            return _error(400, "API key not valid. Please pass a valid API key.")
        if not valid:
            record(400)
            await asyncio.sleep(self.latency)
            return _error(400, "Invalid JSON payload received.")

        wait = self._quota_wait(arrived)
        if wait is not None:
            record(429)
            await asyncio.sleep(self.latency)
            return _error(429, retry_delay=f"{math.ceil(wait)}s")

        fault = self._take_fault(agent)
        seen = record(fault.status if fault and fault.kind == "error" else 200)
        await asyncio.sleep(self.latency)
        if fault and fault.kind == "error":
            return _error(fault.status, fault.message, fault.retry_delay)
        if fault and fault.kind == "blocked":
            return _blocked(seen)
        if fault:
            return _answer(seen, MALFORMED_TEXT, finish_reason="MAX_TOKENS")
        if self.responder is not None:
            answer = self.responder(seen)
            return _answer(seen, answer if isinstance(answer, str) else json.dumps(answer))
        kept = [
            f for f in self.findings.get(seen.agent or "", []) if f.get("file_path") in seen.files
        ]
        return _answer(seen, json.dumps({"findings": kept}))

    def _quota_wait(self, now: float) -> float | None:
        """Seconds until a slot frees when `rpm_limit` is spent in the last 60 s, else None."""
        if self.rpm_limit is None:
            return None
        window = [r.time for r in self.requests if r.status != 429 and now - r.time < 60]
        if len(window) < self.rpm_limit:
            return None
        return max(60 - (now - min(window)), 0.001)

    def _take_fault(self, agent: str | None) -> _Fault | None:
        faults = self._faults
        for index, fault in enumerate(faults):
            if fault.agent is None or fault.agent == agent:
                self._faults = faults[:index] + faults[index + 1 :]
                return fault
        return None


def _texts(content: Any) -> str:
    """The text parts of one Content object, joined."""
    if not isinstance(content, dict):
        return ""
    return "\n".join(p["text"] for p in content.get("parts") or [] if "text" in p)


def _error(status: int, message: str | None = None, retry_delay: str | None = None) -> web.Response:
    name, default = GOOGLE_ERRORS.get(status, ("UNKNOWN", "Unknown error."))
    error: dict[str, Any] = {"code": status, "message": message or default, "status": name}
    if retry_delay is not None:
        error["details"] = [{"@type": RETRY_INFO, "retryDelay": retry_delay}]
    return web.json_response({"error": error}, status=status)


def _usage(seen: GeminiRequest, output_chars: int) -> dict[str, int]:
    prompt_tokens = max(seen.chars // 4, 1)
    output_tokens = output_chars // 4
    return {
        "promptTokenCount": prompt_tokens,
        "candidatesTokenCount": output_tokens,
        "totalTokenCount": prompt_tokens + output_tokens,
    }


def _answer(seen: GeminiRequest, text: str, finish_reason: str = "STOP") -> web.Response:
    candidate = {
        "content": {"role": "model", "parts": [{"text": text}]},
        "finishReason": finish_reason,
        "index": 0,
    }
    return web.json_response(
        {
            "candidates": [candidate],
            "usageMetadata": _usage(seen, len(text)),
            "modelVersion": seen.model,
        }
    )


def _blocked(seen: GeminiRequest) -> web.Response:
    rating = {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": True}
    return web.json_response(
        {
            "candidates": [{"finishReason": "SAFETY", "index": 0, "safetyRatings": [rating]}],
            "usageMetadata": _usage(seen, 0),
            "modelVersion": seen.model,
        }
    )
