"""A fake Gemini API (generativelanguage generateContent, countTokens) served on loopback.

Tokens, in one place (`tokens`, `counted_tokens`, `billed_tokens`): countTokens answers
ceil(len / 4) per text part, summed over the parts; a generateContent answer reports as
promptTokenCount a quarter of the characters of all its text parts (system instruction and
contents) rounded down, at least 1 (what tests/test_gemini.py pins: `seen.chars // 4`). Since
ceil(a / 4) + ceil(b / 4) >= ceil((a + b) / 4) >= floor((a + b) / 4), the counts of the
system text and of the prompt, asked apart or together, are never below the promptTokenCount
later reported for a request holding both.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from tests.fakes.loop import BackgroundLoop

AGENT_LINE = re.compile(
    r"^Second Look (?:agent: (\w+)|(verifier)|thread (answer)|(walkthrough)|(judge))$",
    re.MULTILINE,
)
# The judge's request fences the expected issue and the candidate between these lines.
JUDGED = re.compile(
    r"^EXPECTED_ISSUE\n(.*?)\nEXPECTED_ISSUE$.*?^CANDIDATE_COMMENT\n(.*?)\nCANDIDATE_COMMENT$",
    re.MULTILINE | re.DOTALL,
)
FINDINGS_JSON = "Findings (JSON):\n"  # the verifier's task lists the findings after this
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
QUOTA_FAILURE = "type.googleapis.com/google.rpc.QuotaFailure"
HELP = "type.googleapis.com/google.rpc.Help"
RATE_LIMITS_DOCS = "https://ai.google.dev/gemini-api/docs/rate-limits"
MALFORMED_TEXT = '{"findings": [{"file_path": "'  # not JSON: a broken answer
# thinkingConfig.thinkingBudget each model accepts (ai.google.dev/gemini-api/docs/thinking):
# (lowest when on, highest, whether 0 turns thinking off). Older models refuse the field.
THINKING_RANGES = {
    "gemini-2.5-pro": (128, 32_768, False),
    "gemini-2.5-flash-lite": (512, 24_576, True),
    "gemini-2.5-flash": (1, 24_576, True),
}
NOT_THINKING = ("gemini-1.", "gemini-2.0-")


def tokens(text: str) -> int:
    """What countTokens counts for one text part: a quarter of its characters, rounded up."""
    return math.ceil(len(text) / 4)


def counted_tokens(parts: list[str]) -> int:
    """countTokens' totalTokens for these text parts: `tokens` summed over them."""
    return sum(tokens(text) for text in parts)


def billed_tokens(parts: list[str]) -> int:
    """generateContent's promptTokenCount for these text parts; never above `counted_tokens`."""
    return max(sum(len(text) for text in parts) // 4, 1)


def output_tokens(text: str) -> int:
    """candidatesTokenCount for an answer's text."""
    return len(text) // 4


def text_parts(body: dict[str, Any]) -> list[str]:
    """The text parts of a GenerateContentRequest: the system instruction's, then the contents'."""
    contents = body.get("contents")
    found = _parts(body.get("systemInstruction"))
    for content in contents if isinstance(contents, list) else []:
        found += _parts(content)
    return found


def _parts(content: Any) -> list[str]:
    if not isinstance(content, dict):
        return []
    parts = content.get("parts")
    items = parts if isinstance(parts, list) else []
    return [p["text"] for p in items if isinstance(p, dict) and isinstance(p.get("text"), str)]


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
    prompt_tokens: int  # what usageMetadata reported (or would have) as promptTokenCount
    cached_content: str | None = None  # the cache it named; system and prompt include its text
    max_output_tokens: int | None = None  # generationConfig.maxOutputTokens
    thinking_budget: int | None = None  # generationConfig.thinkingConfig.thinkingBudget


@dataclass(frozen=True)
class CountRequest:
    """One countTokens request as the fake saw it, and what it answered."""

    time: float  # time.monotonic() on arrival
    path: str
    model: str
    form: str  # "contents" or "generateContentRequest" (the body's top-level field)
    system: str
    prompt: str
    total_tokens: int  # the totalTokens answered (or that would have been, on an error)
    status: int


@dataclass
class CachedContent:
    """An explicit cache: its text, its tokens, when it expires (time.monotonic())."""

    name: str
    model: str
    system: str
    prompt: str
    tokens: int
    expires: float
    deleted: bool = False


@dataclass
class _Fault:
    kind: str  # "error", "malformed", "blocked" or "body"
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
        count_route = "/{version:v1|v1beta}/models/{model}:countTokens"
        self.app.router.add_post(count_route, self._count_tokens)
        self.app.router.add_post("/{version:v1|v1beta}/cachedContents", self._create_cache)
        cache_route = "/{version:v1|v1beta}/cachedContents/{id}"
        self.app.router.add_delete(cache_route, self._delete_cache)
        self.url = ""
        self.requests: list[GeminiRequest] = []
        self.count_requests: list[CountRequest] = []
        self.findings: dict[str, list[dict[str, Any]]] = {}
        # The verifier's answer for one listed finding (its JSON as the request lists it):
        # (keep, confidence, reason), or the verdict's fields as a dict (`severity`,
        # `suggestion_ok` too). Unset: every finding kept with confidence 0.9, its suggestion
        # (if any) said right.
        self.verdict: (
            Callable[[dict[str, Any]], tuple[bool, float, str] | dict[str, Any]] | None
        ) = None
        self.responder: Callable[[GeminiRequest], dict[str, Any] | str] | None = None
        # What a thread answer's request is answered (its agent is "answer").
        self.thread_answer = "The finding stands: the input reaches eval unchecked."
        # What a walkthrough request is answered (its agent is "walkthrough").
        self.walkthrough: Callable[[GeminiRequest], dict[str, Any]] = default_walkthrough
        # The judge's ruling on (candidate, golden): the same issue or not, or a text to answer
        # as it is (a malformed answer). Unset: never the same.
        self.judge: Callable[[str, str], bool | str] | None = None
        self.latency = 0.0
        self.rpm_limit: int | None = None
        self.api_key: str | None = None  # when set, any other key is refused as invalid
        # usageMetadata: cachedContentTokenCount (part of promptTokenCount, capped at it) for
        # a request, and thoughtsTokenCount (apart from candidatesTokenCount); 0: not reported.
        # `thinking_tokens` is what the model thinks when nothing bounds it: a request's
        # thinkingBudget, then its maxOutputTokens (which thoughts count against), cut it.
        self.cached_tokens: Callable[[GeminiRequest], int] | None = None
        self.thinking_tokens = 0
        self.count_latency = 0.0
        # Explicit caches by name; creating one below this many tokens answers 400, as Gemini.
        self.caches: dict[str, CachedContent] = {}
        self.cache_min_tokens = 1_024
        self.fail_cache_create: int | None = None  # the status the next create answers once
        self.cache_ttl: float | None = None  # set: every cache lives this long, whatever asked
        self._faults: list[_Fault] = []
        self._count_faults: list[_Fault] = []

    def start(self, bg: BackgroundLoop, host: str = "127.0.0.1", name: str | None = None) -> str:
        """Serve on `bg` (see `BackgroundLoop.serve`); remember and return the base URL."""
        self.url = bg.serve(self.app, host, name)
        return self.url

    def reset(self) -> None:
        """Forget requests, scripted findings, faults, latency, limits and usage scripts."""
        self.requests = []
        self.count_requests = []
        self.findings = {}
        self.verdict = None
        self.responder = None
        self.thread_answer = "The finding stands: the input reaches eval unchecked."
        self.walkthrough = default_walkthrough
        self.judge = None
        self.latency = 0.0
        self.rpm_limit = None
        self.api_key = None
        self.cached_tokens = None
        self.thinking_tokens = 0
        self.count_latency = 0.0
        self.caches = {}
        self.cache_min_tokens = 1_024
        self.fail_cache_create = None
        self.cache_ttl = None
        self._faults = []
        self._count_faults = []

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

    def heal(self) -> None:
        """The outage ends: the faults not yet answered are dropped."""
        self._faults = []
        self._count_faults = []

    def fail_count_tokens_next(
        self,
        status: int,
        times: int = 1,
        retry_delay: str | None = None,
        message: str | None = None,
    ) -> None:
        """Answer the next `times` countTokens requests with Google's error JSON."""
        fault = _Fault("error", None, status, retry_delay, message)
        self._count_faults = self._count_faults + [fault] * times

    def malformed_next(self, times: int = 1, agent: str | None = None) -> None:
        """Answer the next `times` requests with text that is not valid JSON."""
        self._faults = self._faults + [_Fault("malformed", agent)] * times

    def broken_body_next(self, body: str, times: int = 1) -> None:
        """Answer the next `times` requests 200 with `body` as it is (a proxy's page, say)."""
        self._faults = self._faults + [_Fault("body", None, message=body)] * times

    def blocked_next(self, times: int = 1, agent: str | None = None) -> None:
        """Answer the next `times` requests with a SAFETY-blocked candidate and no content."""
        self._faults = self._faults + [_Fault("blocked", agent)] * times

    def live_caches(self) -> list[CachedContent]:
        now = time.monotonic()
        return [c for c in self.caches.values() if not c.deleted and c.expires > now]

    def requests_of(self, agent: str) -> list[GeminiRequest]:
        """The recorded requests of one agent."""
        return [r for r in self.requests if r.agent == agent]

    def seen_prompt_tokens(self) -> int:
        """The promptTokenCount summed over the generateContent requests answered 200."""
        return sum(r.prompt_tokens for r in self.requests if r.status == 200)

    async def _generate_content(self, request: web.Request) -> web.Response:
        arrived = time.monotonic()
        model = request.match_info["model"]
        key = request.headers.get("x-goog-api-key")
        body = await _json_object(request)
        valid = body is not None
        if body is None:
            body = {}
        system, prompt = _system_and_prompt(body)
        parts = text_parts(body)
        cache_name = body.get("cachedContent")
        cache = self._live_cache(cache_name) if isinstance(cache_name, str) else None
        if cache is not None:  # the model reads the cache's text, then the request's
            system, prompt = cache.system, cache.prompt + "\n" + prompt
            parts = [cache.system, cache.prompt, *parts]
        prompt_tokens = billed_tokens(parts)
        agent = _agent_of(prompt) or _agent_of(system)
        config = body.get("generationConfig") or {}
        max_output = _field(config, "maxOutputTokens")
        thinking = _field(config, "thinkingConfig") or {}
        budget = _field(thinking, "thinkingBudget") if isinstance(thinking, dict) else None

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
                prompt_tokens=prompt_tokens,
                cached_content=cache_name if isinstance(cache_name, str) else None,
                max_output_tokens=max_output if isinstance(max_output, int) else None,
                thinking_budget=budget if isinstance(budget, int) else None,
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
        if cache_name is not None and cache is None:
            record(403)
            return _error(403, f"CachedContent not found (or permission denied): {cache_name}")
        refused = _config_problem(model, config)
        if refused:
            record(400)
            return _error(400, refused)
        if cache is not None and body.get("systemInstruction"):
            record(400)
            return _error(
                400,
                "CachedContent can not be used with GenerateContent request "
                "setting system_instruction, tools or tool_config.",
            )

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
            return self._blocked(seen)
        if fault and fault.kind == "body":
            return web.Response(text=fault.message or "", content_type="text/html")
        if fault:
            return self._answer(seen, MALFORMED_TEXT)
        if self.responder is not None:
            answer = self.responder(seen)
            return self._answer(seen, answer if isinstance(answer, str) else json.dumps(answer))
        if seen.agent == "verifier":
            return self._answer(seen, json.dumps({"verdicts": self._verdicts(seen)}))
        if seen.agent == "answer":
            return self._answer(seen, json.dumps({"answer": self.thread_answer}))
        if seen.agent == "walkthrough":
            return self._answer(seen, json.dumps(self.walkthrough(seen)))
        if seen.agent == "judge":
            candidate, golden = judged_pair(seen.prompt)
            same = self.judge(candidate, golden) if self.judge else False
            if isinstance(same, str):
                return self._answer(seen, same)
            answer = {"reason": "Scripted by the test.", "same_issue": same}
            return self._answer(seen, json.dumps(answer))
        kept = [
            f for f in self.findings.get(seen.agent or "", []) if f.get("file_path") in seen.files
        ]
        # Constrained decoding keeps to the schema: no more findings than its maxItems.
        most = _max_items(config, "findings")
        return self._answer(seen, json.dumps({"findings": kept[:most]}))

    async def _count_tokens(self, request: web.Request) -> web.Response:
        """countTokens: `{"contents": [...]}` or `{"generateContentRequest": {...}}`."""
        arrived = time.monotonic()
        model = request.match_info["model"]
        key = request.headers.get("x-goog-api-key")
        body = await _json_object(request)
        inner = body.get("generateContentRequest") if body else None
        form = "generateContentRequest" if inner is not None else "contents"
        counted = inner if isinstance(inner, dict) else body or {}
        system, prompt = _system_and_prompt(counted)
        total = counted_tokens(text_parts(counted))

        def record(status: int) -> None:
            seen = CountRequest(arrived, request.path, model, form, system, prompt, total, status)
            self.count_requests.append(seen)

        if not key or (self.api_key is not None and key != self.api_key):
            record(400)
            return _error(400, "API key not valid. Please pass a valid API key.")
        if body is None:
            record(400)
            return _error(400, "Invalid JSON payload received.")
        problem = _count_problem(body, inner)
        if problem:
            record(400)
            return _error(400, problem)
        fault = self._take_count_fault()
        record(fault.status if fault else 200)
        # `latency` stands for the model thinking; counting is quick, as with Google.
        await asyncio.sleep(self.count_latency)
        if fault:
            return _error(fault.status, fault.message, fault.retry_delay)
        return web.json_response(
            {
                "totalTokens": total,
                "promptTokensDetails": [{"modality": "TEXT", "tokenCount": total}],
            }
        )

    def _verdicts(self, seen: GeminiRequest) -> list[dict[str, Any]]:
        verdicts = []
        for item in listed_findings(seen.prompt):
            said = self.verdict(item) if self.verdict is not None else (True, 0.9, "looks right")
            verdict: dict[str, Any] = {"id": item["id"], "keep": True, "confidence": 0.9}
            verdict["reason"] = "looks right"
            verdict["suggestion_ok"] = True if item.get("suggestion") is not None else None
            if isinstance(said, dict):
                verdict.update(said)
            else:
                keep, confidence, reason = said
                verdict.update(keep=keep, confidence=confidence, reason=reason)
            verdicts.append(verdict)
        return verdicts

    def _live_cache(self, name: str) -> CachedContent | None:
        cache = self.caches.get(name)
        if cache is None or cache.deleted or cache.expires <= time.monotonic():
            return None
        return cache

    async def _create_cache(self, request: web.Request) -> web.Response:
        """cachedContents.create: the system instruction and contents, for `ttl`."""
        key = request.headers.get("x-goog-api-key")
        body = await _json_object(request)
        if not key or (self.api_key is not None and key != self.api_key):
            return _error(400, "API key not valid. Please pass a valid API key.")
        if body is None:
            return _error(400, "Invalid JSON payload received.")
        if self.fail_cache_create is not None:
            status, self.fail_cache_create = self.fail_cache_create, None
            return _error(status)
        model = body.get("model")
        ttl = re.fullmatch(r"(\d+(?:\.\d+)?)s", str(body.get("ttl", "3600s")))
        if not isinstance(model, str) or not model.startswith("models/") or ttl is None:
            return _error(400, "* CreateCachedContentRequest: model and ttl are required")
        system, prompt = _system_and_prompt(body)
        tokens = billed_tokens(text_parts(body))
        if tokens < self.cache_min_tokens:
            return _error(
                400,
                f"Cached content is too small. total_token_count={tokens}, "
                f"min_total_token_count={self.cache_min_tokens}",
            )
        name = f"cachedContents/{len(self.caches) + 1:06d}"
        lives = float(ttl.group(1)) if self.cache_ttl is None else self.cache_ttl
        expires = time.monotonic() + lives
        self.caches = {
            **self.caches,
            name: CachedContent(name, model, system, prompt, tokens, expires),
        }
        return web.json_response(
            {
                "name": name,
                "model": model,
                "displayName": body.get("displayName", ""),
                "usageMetadata": {"totalTokenCount": tokens},
            }
        )

    async def _delete_cache(self, request: web.Request) -> web.Response:
        name = f"cachedContents/{request.match_info['id']}"
        cache = self.caches.get(name)
        if cache is None or cache.deleted:
            return _error(404, f"CachedContent not found: {name}")
        cache.deleted = True
        return web.json_response({})

    def _take_count_fault(self) -> _Fault | None:
        faults = self._count_faults
        if not faults:
            return None
        self._count_faults = faults[1:]
        return faults[0]

    def _thoughts(self, seen: GeminiRequest) -> int:
        """The thinking tokens of an answer: what the model would think, within the request's
        thinkingBudget (0: none) and its maxOutputTokens."""
        thinking = max(0, self.thinking_tokens)
        if seen.model.startswith(NOT_THINKING):
            return 0
        if seen.thinking_budget is not None and seen.thinking_budget >= 0:
            thinking = min(thinking, seen.thinking_budget)
        if seen.max_output_tokens is not None:
            thinking = min(thinking, seen.max_output_tokens)
        return thinking

    def _answer(self, seen: GeminiRequest, text: str, finish_reason: str = "STOP") -> web.Response:
        """A candidate with `text`; cut, with finishReason MAX_TOKENS, where the thoughts and
        the text together reach the request's maxOutputTokens, as Gemini 2.5 does."""
        thinking = self._thoughts(seen)
        if seen.max_output_tokens is not None:
            room = seen.max_output_tokens - thinking
            if output_tokens(text) > room:
                text, finish_reason = text[: room * 4], "MAX_TOKENS"
        content: dict[str, Any] = {"role": "model"}
        if text:
            content["parts"] = [{"text": text}]
        candidate = {"content": content, "finishReason": finish_reason, "index": 0}
        return web.json_response(
            {
                "candidates": [candidate],
                "usageMetadata": self._usage(seen, output_tokens(text), thinking),
                "modelVersion": seen.model,
            }
        )

    def _blocked(self, seen: GeminiRequest) -> web.Response:
        rating = {
            "category": "HARM_CATEGORY_DANGEROUS_CONTENT",
            "probability": "HIGH",
            "blocked": True,
        }
        return web.json_response(
            {
                "candidates": [{"finishReason": "SAFETY", "index": 0, "safetyRatings": [rating]}],
                "usageMetadata": self._usage(seen, 0, 0),
                "modelVersion": seen.model,
            }
        )

    def _usage(self, seen: GeminiRequest, output: int, thinking: int) -> dict[str, Any]:
        """usageMetadata as Gemini reports it: zero counts are left out (proto3 JSON)."""
        prompt_tokens = seen.prompt_tokens
        cached = self.cached_tokens(seen) if self.cached_tokens is not None else 0
        if seen.cached_content in self.caches:
            cached = self.caches[seen.cached_content].tokens
        cached = max(0, min(cached, prompt_tokens))
        usage: dict[str, Any] = {"promptTokenCount": prompt_tokens}
        if output:
            usage["candidatesTokenCount"] = output
        if cached:
            usage["cachedContentTokenCount"] = cached
        usage["totalTokenCount"] = prompt_tokens + output + thinking
        usage["promptTokensDetails"] = [{"modality": "TEXT", "tokenCount": prompt_tokens}]
        if cached:
            usage["cacheTokensDetails"] = [{"modality": "TEXT", "tokenCount": cached}]
        if thinking:
            usage["thoughtsTokenCount"] = thinking
        return usage

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


def shared_prefix(requests: list[GeminiRequest]) -> float:
    """Of the longest of these requests (system text, then prompt, as the model reads them),
    the share of bytes that begin every one of them."""
    encoded = [(r.system + "\n" + r.prompt).encode() for r in requests]
    return len(os.path.commonprefix(encoded)) / max(len(e) for e in encoded)


def _agent_of(text: str) -> str | None:
    """The agent a request's task names (its last "Second Look agent: NAME" line)."""
    found = AGENT_LINE.findall(text)
    if not found:
        return None
    name, verifier, answer, walk, judge = found[-1]
    return name or verifier or answer or walk or judge


def judged_pair(prompt: str) -> tuple[str, str]:
    """The (candidate, golden) texts a judge's request puts side by side."""
    found = JUDGED.search(prompt)
    if found is None:
        raise AssertionError("a judge request without its two fenced texts")
    return found.group(2), found.group(1)


def default_walkthrough(seen: GeminiRequest) -> dict[str, Any]:
    """A well-formed walkthrough answer for the files a request's part holds."""
    files = seen.files
    return {
        "summary": f"This part changes {len(files)} file(s). It is a test change.",
        "files": [{"path": p, "group": "Code", "change": f"Changes {p}."} for p in files],
        "effort": min(max(len(files), 1), 5),
        "effort_reason": f"{len(files)} file(s) changed.",
        "focus": [{"path": p, "why": "Read the new code first."} for p in files[:1]],
    }


def listed_findings(prompt: str) -> list[dict[str, Any]]:
    """The findings a verifier's request lists, as the JSON it holds (the analyzers' findings
    may follow it, as evidence)."""
    if FINDINGS_JSON not in prompt:
        return []
    try:
        listed, _ = json.JSONDecoder().raw_decode(prompt.rsplit(FINDINGS_JSON, 1)[1].lstrip())
    except ValueError:
        return []
    return [item for item in listed if isinstance(item, dict)] if isinstance(listed, list) else []


async def _json_object(request: web.Request) -> dict[str, Any] | None:
    """The request's body when it is a JSON object, else None."""
    try:
        body = await request.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _system_and_prompt(body: dict[str, Any]) -> tuple[str, str]:
    """The system instruction's text and the contents' text, each parts joined by lines."""
    contents = body.get("contents")
    if not isinstance(contents, list):
        contents = []
    return _texts(body.get("systemInstruction")), "\n".join(_texts(c) for c in contents)


def _texts(content: Any) -> str:
    """The text parts of one Content object, joined."""
    if not isinstance(content, dict):
        return ""
    return "\n".join(p["text"] for p in content.get("parts") or [] if "text" in p)


def _field(message: dict[str, Any], name: str) -> Any:
    """A field of a JSON request by its lowerCamelCase name or its proto name, as Google's
    proto3 JSON parser takes both (google-genai sends `thinkingConfig.thinking_budget`)."""
    if name in message:
        return message[name]
    return message.get(re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), name))


def _max_items(config: dict[str, Any], name: str) -> int | None:
    """The `maxItems` the request's response schema sets on property `name`, if any."""
    schema = _field(config, "responseJsonSchema") or _field(config, "responseSchema") or {}
    prop = (_field(schema, "properties") or {}).get(name) if isinstance(schema, dict) else None
    most = _field(prop, "maxItems") if isinstance(prop, dict) else None
    return int(most) if isinstance(most, int | str) and str(most).isdigit() else None


def _config_problem(model: str, config: dict[str, Any]) -> str | None:
    """Why Gemini would refuse a generationConfig's maxOutputTokens or thinkingConfig."""
    max_output = _field(config, "maxOutputTokens")
    if max_output is not None and (not isinstance(max_output, int) or max_output < 1):
        return "* GenerateContentRequest.generation_config.max_output_tokens: must be positive"
    thinking = _field(config, "thinkingConfig")
    if thinking is None:
        return None
    if model.startswith(NOT_THINKING):
        return f"Thinking is not enabled for models/{model}"
    budget = _field(thinking, "thinkingBudget") if isinstance(thinking, dict) else None
    family = max((n for n in THINKING_RANGES if model.startswith(n)), key=len, default=None)
    if budget is None or family is None or budget == -1:
        return None
    low, high, can_stop = THINKING_RANGES[family]
    if budget == 0:
        return None if can_stop else "Budget 0 is invalid. This model only works in thinking mode."
    if not low <= budget <= high:
        return (
            f"The thinking budget {budget} is invalid. Please choose a value between {low} "
            f"and {high}."
        )
    return None


def _count_problem(body: dict[str, Any], inner: Any) -> str | None:
    """Why Gemini would refuse a countTokens body with 400, or None."""
    if inner is not None:
        if body.get("contents"):
            return "contents and generate_content_request cannot both be set."
        if not isinstance(inner, dict):
            return 'Invalid JSON payload received. Unknown name "generateContentRequest".'
        if not isinstance(inner.get("model"), str) or not inner["model"].startswith("models/"):
            return "* GenerateContentRequest.model: unexpected model name format\n"
        if not inner.get("contents"):
            return "* GenerateContentRequest.contents: contents is not specified\n"
        return None
    if not body.get("contents"):
        return "* CountTokensRequest.contents: contents is not specified\n"
    return None


def _error(status: int, message: str | None = None, retry_delay: str | None = None) -> web.Response:
    name, default = GOOGLE_ERRORS.get(status, ("UNKNOWN", "Unknown error."))
    error: dict[str, Any] = {"code": status, "message": message or default, "status": name}
    if retry_delay is not None:
        details: list[dict[str, Any]] = []
        if status == 429:  # as Gemini's: which quota, where to read about it, then the delay
            violation = {
                "quotaMetric": "generativelanguage.googleapis.com/generate_content_requests",
                "quotaId": "GenerateRequestsPerMinutePerProjectPerModel",
            }
            details.append({"@type": QUOTA_FAILURE, "violations": [violation]})
            link = {"description": "Learn more about Gemini API quotas", "url": RATE_LIMITS_DOCS}
            details.append({"@type": HELP, "links": [link]})
        details.append({"@type": RETRY_INFO, "retryDelay": retry_delay})
        error["details"] = details
    return web.json_response({"error": error}, status=status)
