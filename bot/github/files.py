"""Files at refs and a PR's title, body and base in one GraphQL query a batch; REST if it fails."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import aiohttp
import gidgethub
from gidgethub import sansio

from bot.errors import describe
from bot.github.client import (
    REQUESTER,
    GitHubClient,
    RetryingGitHubAPI,
    graphql_endpoint,
    naming,
    url_vars,
)
from bot.pull import Repo

CHUNK = 64 * 1024
PULL_FIELDS = "pr: pullRequest(number: $number) { title body baseRefName }"
BLOB_FRAGMENT = (
    "fragment blob on GitObject { __typename ... on Blob { byteSize isBinary isTruncated text } }"
)
Key = tuple[str, str]  # (ref, path)


@dataclass(frozen=True)
class FileText:
    path: str
    ref: str
    text: str | None  # None when absent, binary, too large or unreadable
    problem: str | None = None  # why text is None when the file exists; None when absent


@dataclass(frozen=True)
class PullIntent:
    title: str
    body: str
    base_ref: str


@dataclass
class RepoRead:
    files: dict[Key, FileText]  # keyed (ref, path), one per requested pair
    pull: PullIntent | None = None
    calls: int = 0  # requests to GitHub; the policy's retries of one are not counted
    fallback: str | None = None  # why some or all of it was read by REST, for a log line


class _TooLarge(Exception):
    """The GraphQL answer passed max_response_bytes."""


class _Unusable(Exception):
    """GraphQL answered, but nothing in it can be used (errors and no data)."""


async def read(
    github: GitHubClient,
    repository: Repo,
    wanted: Sequence[Key],
    *,
    pull: int | None = None,
    max_file_bytes: int = 1_000_000,
    max_batch: int = 50,
    max_response_bytes: int = 8 * 1024 * 1024,
) -> RepoRead:
    """Each (ref, path) of `wanted`, and PR `pull`'s intent, in as few requests as can be.

    A GraphQL query per `max_batch` files, the PR in the first. By REST: what GraphQL could
    not read whole (a truncated text, an error on its field) and all after a failed query.
    """
    reader = _Reader(github, repository, max_file_bytes, max_response_bytes)
    keys = list(dict.fromkeys(wanted))
    size = max(max_batch, 1)
    batches = [keys[i : i + size] for i in range(0, len(keys), size)]
    if not batches and pull is not None:
        batches = [[]]  # the PR alone
    try:
        for i, batch in enumerate(batches):
            await reader.query(batch, pull if i == 0 else None)
    except (gidgethub.GitHubException, _Unusable) as exc:
        why = describe(exc)
        reader.result.fallback = reader.line(f"GraphQL failed, read by REST: {why}")
    missing = [key for key in keys if key not in reader.result.files]
    if missing or (pull is not None and reader.result.pull is None):
        gh = await github.api(repository.installation_id)
        for ref, path in missing:
            reader.result.files[(ref, path)] = await reader.rest_file(gh, ref, path)
        if pull is not None and reader.result.pull is None:
            reader.result.pull = await reader.rest_pull(gh, pull)
    reader.result.files = {key: reader.result.files[key] for key in keys}
    return reader.result


graphql_url = graphql_endpoint  # bot/github/client.py owns where GraphQL is


def _payload(repository: Repo, keys: Sequence[Key], number: int | None) -> dict[str, Any]:
    # Every value goes in as a variable: a path is never part of the query's text.
    params, fields = ["$owner: String!", "$name: String!"], []
    variables: dict[str, Any] = {"owner": repository.owner, "name": repository.repo}
    if number is not None:
        params.append("$number: Int!")
        fields.append(PULL_FIELDS)
        variables["number"] = number
    for i, (ref, path) in enumerate(keys):
        params.append(f"$e{i}: String!")
        fields.append(f"f{i}: object(expression: $e{i}) {{ ...blob }}")
        variables[f"e{i}"] = f"{ref}:{path}"
    query = (
        f"query({', '.join(params)}) {{ repository(owner: $owner, name: $name) "
        f"{{ {' '.join(fields)} }} }}" + (f" {BLOB_FRAGMENT}" if keys else "")
    )
    return {"query": query, "variables": variables}


class _Reader:
    def __init__(
        self,
        github: GitHubClient,
        repository: Repo,
        max_file_bytes: int,
        max_response_bytes: int,
    ) -> None:
        self.github, self.repository = github, repository
        self.max_file_bytes, self.max_response_bytes = max_file_bytes, max_response_bytes
        self.result = RepoRead(files={})
        self.token = ""

    async def query(self, keys: list[Key], number: int | None) -> None:
        """Read `keys` (and the PR) in one query; an answer over the bound is asked in halves."""
        bound = self.max_response_bytes
        try:
            answer = await self._post(_payload(self.repository, keys, number))
        except _TooLarge:
            if not keys:
                raise _Unusable(f"answer over {bound:,} bytes") from None
            if len(keys) == 1:
                ref, path = keys[0]
                problem = f"too large to read (over {bound:,} bytes in one answer)"
                self.result.files[keys[0]] = FileText(path, ref, None, problem)
                if number is not None:
                    await self.query([], number)
                return
            await self.query(keys[: len(keys) // 2], number)
            await self.query(keys[len(keys) // 2 :], None)
            return
        errors = [e for e in answer.get("errors") or [] if isinstance(e, dict)]
        repository = (answer.get("data") or {}).get("repository")
        if not isinstance(repository, dict):
            first = errors[0].get("message") if errors else "no errors either"
            raise _Unusable(f"GraphQL answered no data: {first}")
        # An error on a field leaves it null: that file is read by REST, not taken as absent.
        failed = {str(e["path"][1]): e for e in errors if len(e.get("path") or ()) > 1}
        if broken := [failed[f"f{i}"] for i in range(len(keys)) if f"f{i}" in failed]:
            self.result.fallback = self.result.fallback or self.line(
                f"GraphQL failed on {len(broken)} file(s), read by REST: {broken[0].get('message')}"
            )
        pr = repository.get("pr")
        if number is not None and isinstance(pr, dict):
            self.result.pull = PullIntent(pr["title"], pr.get("body") or "", pr["baseRefName"])
        for i, key in enumerate(keys):
            found = None if f"f{i}" in failed else self._blob(key, repository.get(f"f{i}"))
            if found is not None:
                self.result.files[key] = found

    def _blob(self, key: Key, node: Any) -> FileText | None:
        """What GraphQL said of a file; None when REST must read it (truncated, no text)."""
        ref, path = key
        if node is None:
            return FileText(path, ref, None)
        if not isinstance(node, dict) or node.get("__typename") != "Blob":
            return FileText(path, ref, None, "not a file")
        if int(node.get("byteSize") or 0) > self.max_file_bytes:
            return FileText(path, ref, None, f"over {self.max_file_bytes:,} bytes")
        if node.get("isBinary"):
            return FileText(path, ref, None, "binary")
        if node.get("isTruncated") or not isinstance(node.get("text"), str):
            return None
        return FileText(path, ref, node["text"])

    async def _post(self, payload: dict[str, Any]) -> dict[str, Any]:
        request = "POST /graphql"
        self.result.calls += 1
        with naming(request):
            async for attempt in self.github.policy.retrying(f"GitHub {request}"):
                with attempt:
                    token = self.token = await self.github.token(self.repository.installation_id)
                    headers = {"Authorization": f"bearer {token}", "User-Agent": REQUESTER}
                    url = graphql_url(self.github.api_url)
                    async with self.github.http.post(url, json=payload, headers=headers) as got:
                        try:
                            body = await self._bounded(got)
                        except _TooLarge:
                            if got.status == 200:
                                raise
                            body = b""  # an error page past the bound: its status says enough
                        if got.status != 200:
                            # gidgethub's reading of the answer: the same exceptions as REST's.
                            sansio.decipher_response(got.status, got.headers, body)
                            raise AssertionError(f"unexpected status {got.status}")
                    try:
                        answer = json.loads(body)
                    except ValueError:
                        answer = None
                    if not isinstance(answer, dict):
                        raise _Unusable("GraphQL answered what is not a JSON object")
                    return answer
        raise AssertionError("unreachable: the policy stops with the last error")

    async def _bounded(self, answer: aiohttp.ClientResponse) -> bytes:
        # In chunks, so that an answer past the bound is never held whole.
        body = bytearray()
        async for chunk in answer.content.iter_chunked(CHUNK):
            body += chunk
            if len(body) > self.max_response_bytes:
                answer.close()
                raise _TooLarge()
        return bytes(body)

    def line(self, text: str) -> str:
        """`text` on one line, without the token even if an answer had echoed it."""
        text = text.replace(self.token, "[token]") if self.token else text
        return " ".join(text.split())[:300]

    async def rest_file(self, gh: RetryingGitHubAPI, ref: str, path: str) -> FileText:
        # Quoted by hand: a URI template's {+path} would pass "#" and "?" through.
        url = f"/repos/{{owner}}/{{repo}}/contents/{quote(path, safe='/')}{{?ref}}"
        self.result.calls += 1
        try:
            answer = await gh.getitem(url, url_vars=url_vars(self.repository, ref=ref))
        except gidgethub.BadRequest as exc:
            if exc.status_code == HTTPStatus.NOT_FOUND:
                return FileText(path, ref, None)
            raise
        if not isinstance(answer, dict) or answer.get("type") != "file":
            return FileText(path, ref, None, "not a file")
        if int(answer.get("size") or 0) > self.max_file_bytes:
            return FileText(path, ref, None, f"over {self.max_file_bytes:,} bytes")
        try:
            data = base64.b64decode(answer.get("content") or "")
        except binascii.Error:
            return FileText(path, ref, None, "unreadable (bad base64)")
        if b"\0" in data[:8000]:  # git's own test for a binary file
            return FileText(path, ref, None, "binary")
        try:
            return FileText(path, ref, data.decode("utf-8"))
        except UnicodeDecodeError:
            return FileText(path, ref, None, "not UTF-8 text")

    async def rest_pull(self, gh: RetryingGitHubAPI, number: int) -> PullIntent:
        self.result.calls += 1
        answer = await gh.getitem(
            "/repos/{owner}/{repo}/pulls/{number}",
            url_vars=url_vars(self.repository.pull(number)),
        )
        return PullIntent(answer["title"], answer.get("body") or "", answer["base"]["ref"])
