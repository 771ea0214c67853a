"""GitHub's answers kept on disk for `eval --suite martian`: a loopback HTTP server in front of
GITHUB_API_URL that the unchanged PR reader (`review OWNER/REPO#N --dry-run`'s) is pointed at.

A read (a GET, a GraphQL query) is asked of GitHub once; its answer (`KEPT`) is written to disk
under the digest of its method, path, Accept header and body (never the token) and served from
there ever after, so a rerun reads nothing twice. Anything else (a token exchange, an error
answer) passes through unkept.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

# The answers kept: a read's, and GitHub's 406 for a diff too large to give (the reader then
# pages the files API, whose pages are kept too). An error may mend: never kept.
KEPT = (200, 406)
# What is passed on of a request, and kept and served of an answer.
ASKED = ("Authorization", "Accept", "Content-Type", "User-Agent", "X-GitHub-Api-Version")
ANSWERED = ("Content-Type", "Link", "Retry-After", "X-RateLimit-Remaining", "X-RateLimit-Reset")


def _is_read(method: str, path: str, body: bytes) -> bool:
    if method == "GET":
        return True
    if method != "POST" or not path.endswith("/graphql"):
        return False
    try:
        query = json.loads(body).get("query", "")
    except (ValueError, AttributeError):
        return False
    return isinstance(query, str) and not query.lstrip().startswith("mutation")


class ReadCache:
    """`async with ReadCache(api_url, folder, http) as cache:` then use `cache.url` as the API's
    URL. `fetched` counts the requests GitHub answered, `served` those answered from disk."""

    def __init__(self, upstream: str, folder: Path, http: aiohttp.ClientSession) -> None:
        parts = urlsplit(upstream.rstrip("/"))
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.base_path = parts.path
        self.folder = folder
        self.http = http
        self.url = ""
        self.fetched = 0
        self.served = 0
        self._runner: web.AppRunner | None = None

    async def __aenter__(self) -> ReadCache:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._answer)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        await web.SockSite(self._runner, sock).start()
        port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}{self.base_path}"
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def _key(self, request: web.Request, body: bytes) -> str:
        hasher = hashlib.sha256()
        for text in (request.method, request.path_qs, request.headers.get("Accept", "")):
            hasher.update(text.encode() + b"\0")
        hasher.update(body)
        return hasher.hexdigest()

    async def _answer(self, request: web.Request) -> web.Response:
        body = await request.read()
        read = _is_read(request.method, request.path, body)
        key = self._key(request, body)
        if read:
            kept = self._load(key)
            if kept is not None:
                self.served += 1
                return kept
        headers = {name: request.headers[name] for name in ASKED if name in request.headers}
        async with self.http.request(
            request.method, self.origin + request.path_qs, headers=headers, data=body or None
        ) as answer:
            data = await answer.read()
            status = answer.status
            said = {name: answer.headers[name] for name in ANSWERED if name in answer.headers}
        self.fetched += 1
        if "Link" in said:  # the next page through us too
            said["Link"] = said["Link"].replace(self.origin, self.url.removesuffix(self.base_path))
        if read and status in KEPT:
            self._store(key, status, said, data)
        return web.Response(status=status, body=data, headers=said)

    def _paths(self, key: str) -> tuple[Path, Path]:
        return self.folder / f"{key}.json", self.folder / f"{key}.body"

    def _load(self, key: str) -> web.Response | None:
        head, body = self._paths(key)
        try:
            kept = json.loads(head.read_text(encoding="utf-8"))
            status, headers = int(kept["status"]), dict(kept["headers"])
            data = body.read_bytes()
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return web.Response(status=status, body=data, headers=headers)

    def _store(self, key: str, status: int, headers: dict[str, str], data: bytes) -> None:
        head, body = self._paths(key)
        self.folder.mkdir(parents=True, exist_ok=True)
        said = json.dumps({"status": status, "headers": headers}).encode()
        for path, content in ((body, data), (head, said)):
            partial = path.with_suffix(path.suffix + ".part")
            partial.write_bytes(content)
            os.replace(partial, path)  # the head last: a crash leaves no half answer
