"""Serving the fake over aiohttp: the middleware (latency, injected faults, GitHub-shaped
errors, request recording) and the JSON and paginated answers every endpoint gives.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import secrets
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from aiohttp import web

from tests.fakes.github.errors import DOCS, GitHubError, _not_found
from tests.fakes.github.state import FakeState, Recorded, _Fault

if TYPE_CHECKING:
    from tests.fakes.loop import BackgroundLoop

SECONDARY_RATE_LIMIT = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try "
    "again. If you reach out to GitHub Support for help, please include the request ID "
    "{request_id}."
)
# What the middleware read of each request: (arrival time, body bytes, parsed JSON or None).
_RECORD: Any = (
    web.RequestKey("fake_github_record", tuple)
    if hasattr(web, "RequestKey")
    else "fake_github_record"
)


def _page_args(request: web.Request, default: int = 30) -> tuple[int, int]:
    def number(name: str, fallback: int) -> int:
        try:
            return int(request.query.get(name, fallback))
        except ValueError:
            return fallback

    per_page = min(max(number("per_page", default), 1), 100)  # GitHub clamps to 100
    return per_page, max(number("page", 1), 1)


class Http(FakeState):
    """The HTTP layer under every endpoint."""

    app: web.Application  # built by FakeGitHub._make_app, which routes to the handlers

    def start(self, bg: BackgroundLoop, host: str = "127.0.0.1", name: str | None = None) -> str:
        """Serve the fake on `bg` (see `BackgroundLoop.serve`); set and return `.url`."""
        self.url = bg.serve(self.app, host, name)
        return self.url

    def fail_next(
        self,
        method: str,
        path_pattern: str,
        status: int,
        *,
        times: int = 1,
        headers: Mapping[str, str] | None = None,
        body: dict[str, Any] | None = None,
    ) -> None:
        """Answer the next `times` requests matching (method, re.search on the path) with `status`.

        Faults are consumed in the order added, before authentication. Without `body`,
        403 and 429 answer GitHub's secondary-rate-limit message and (without `headers`)
        `Retry-After: 1`; other statuses answer their usual message. `method` "*" matches all.
        """
        fault = _Fault(
            method.upper(),
            re.compile(path_pattern),
            status,
            times,
            dict(headers) if headers is not None else None,
            body,
        )
        with self._lock:
            self._faults.append(fault)

    def fail_after(
        self, method: str, path_pattern: str, status: int | None = 502, *, times: int = 1
    ) -> None:
        """Do the next `times` requests matching (method, re.search on the path) as usual,
        then lose the answer: `status` (a 5xx, as GitHub's load balancers answer when its
        backend is slow) instead of it, or with `status` None, the connection closed with no
        answer (as a client's timeout sees it). What the request created stays created;
        `.requests` records the answer the client got."""
        fault = _Fault(
            method.upper(), re.compile(path_pattern), status or 0, times, None, None, after=True
        )
        with self._lock:
            self._faults.append(fault)

    def heal(self) -> None:
        """The outage ends: the faults not yet answered are dropped."""
        with self._lock:
            self._faults.clear()

    def find_requests(self, method: str | None = None, path: str | None = None) -> list[Recorded]:
        """Return the recorded requests with this method and a path matching regex `path`."""
        return [
            r
            for r in list(self.requests)
            if (method is None or r.method == method.upper())
            and (path is None or re.search(path, r.path))
        ]

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        body = await request.read()
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = None
        request[_RECORD] = (time.time(), body, parsed)
        if self.latency:
            await asyncio.sleep(self.latency)
        try:
            fault = self._take_fault(request)
            if fault is not None:
                return fault
            response: web.StreamResponse = await handler(request)
            lost = self._match_fault(request, after=True)
            if lost is None:
                return response
            if lost.status == 0:  # done, and no answer: the client sees the connection drop
                if request.transport is not None:
                    request.transport.abort()
                return web.Response(status=504)  # written to nobody
            return self._fault_answer(lost)
        except GitHubError as exc:
            return self._json(exc.body, exc.status, exc.headers)
        except web.HTTPException as exc:  # routing: GitHub answers JSON 404 for unknown paths
            if exc.status in (404, 405):
                return self._json(_not_found().body, 404)
            raise

    async def _on_prepare(self, request: web.Request, response: web.StreamResponse) -> None:
        with self._lock:
            used = len(self.requests) + 1
        for name, value in {
            "X-RateLimit-Limit": "5000",
            "X-RateLimit-Remaining": str(max(5000 - used, 1)),
            "X-RateLimit-Reset": str(int(time.time()) + 3600),
            "X-RateLimit-Used": str(used),
            "X-RateLimit-Resource": "core",
            "X-GitHub-Request-Id": secrets.token_hex(8).upper(),
        }.items():
            response.headers.setdefault(name, value)
        record = request.get(_RECORD)
        if record is None:
            return
        started, body, parsed = record
        self.requests.append(
            Recorded(
                time=started,
                method=request.method,
                path=request.path,
                query=dict(request.query),
                headers={k.lower(): v for k, v in request.headers.items()},
                body=body,
                json=parsed,
                status=response.status,
            )
        )

    def _take_fault(self, request: web.Request) -> web.Response | None:
        fault = self._match_fault(request)
        return self._fault_answer(fault) if fault is not None else None

    def _match_fault(self, request: web.Request, *, after: bool = False) -> _Fault | None:
        """The first fault of its kind (before or after the handler) this request meets."""
        with self._lock:
            for fault in self._faults:
                if fault.after is not after:
                    continue
                if fault.method in ("*", request.method) and fault.pattern.search(request.path):
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    break
            else:
                return None
        return fault

    def _fault_answer(self, fault: _Fault) -> web.Response:
        status = fault.status
        body, headers = fault.body, fault.headers
        if body is None:
            if status in (403, 429):
                message = SECONDARY_RATE_LIMIT.format(request_id=secrets.token_hex(8).upper())
                docs = f"{DOCS}/using-the-rest-api/rate-limits-for-the-rest-api"
                body = {"message": message, "documentation_url": docs}
                if headers is None:
                    headers = {"Retry-After": "1"}
            else:
                messages = {401: "Bad credentials", 404: "Not Found", 422: "Validation Failed"}
                message = messages.get(status, "Server Error" if status >= 500 else "Error")
                body = {"message": message, "documentation_url": DOCS, "status": str(status)}
        return self._json(body, status, headers or {})

    @staticmethod
    def _json(
        data: Any, status: int = 200, headers: Mapping[str, str] | None = None
    ) -> web.Response:
        response = web.Response(
            body=json.dumps(data).encode(),
            status=status,
            content_type="application/json",
            charset="utf-8",
            headers=dict(headers or {}),
        )
        response.headers.setdefault("X-GitHub-Media-Type", "github.v3; format=json")
        return response

    def _base_url(self, request: web.Request) -> str:
        return self.url or str(request.url.origin())

    def _paginated(self, request: web.Request, items: list[Any]) -> web.Response:
        per_page, page = _page_args(request)
        last = max(1, math.ceil(len(items) / per_page))
        chunk = items[(page - 1) * per_page : page * per_page]

        def link(number: int) -> str:
            query = dict(request.query)
            query["page"] = str(number)
            return f"{self._base_url(request)}{request.path}?{urlencode(query)}"

        rels = []
        if page > 1:
            rels.append(f'<{link(min(page - 1, last))}>; rel="prev"')
        if page < last:
            rels += [f'<{link(page + 1)}>; rel="next"', f'<{link(last)}>; rel="last"']
        if page > 1:
            rels.append(f'<{link(1)}>; rel="first"')
        headers = {"Link": ", ".join(rels)} if rels else {}
        return self._json(chunk, 200, headers)

    @staticmethod
    async def _body(request: web.Request) -> dict[str, Any]:
        raw = request[_RECORD][1]
        if not raw.strip():
            return {}
        try:
            data = json.loads(raw)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise GitHubError(400, "Problems parsing JSON")
        return data
