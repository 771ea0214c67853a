"""Stream a PR's diff one file at a time into a Selection, with a per-file byte cap; page the
files API on 406."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aiohttp
from gidgethub import sansio

from bot.github.client import GitHubClient, naming, url_vars
from bot.pull import Pull
from bot.review.changes import Skipped, path_from_header, section_text, too_large_reason
from bot.review.selection import Selection

log = logging.getLogger(__name__)

FILE_BOUNDARY = b"\ndiff --git "
CHUNK = 64 * 1024
DIFF_MEDIA_TYPE = "application/vnd.github.v3.diff"
FILES_API_CAP = 3000  # GitHub lists at most this many files of a PR


class DiffTooLarge(Exception):
    """GitHub refused the diff (406: over 300 files or 20,000 lines)."""


async def fetch_diff(
    github: GitHubClient, pull: Pull, *, selection: Selection, max_file_bytes: int
) -> None:
    """Offer the PR's files to `selection` as they stream in; the files API on a 406."""
    endpoint = f"/repos/{pull.owner}/{pull.repo}/pulls/{pull.number}"
    try:
        async for section in _sections(github, pull.installation_id, endpoint, max_file_bytes):
            text = section.data.decode("utf-8", errors="replace")
            if section.oversized:
                path = path_from_header(text) or "(unnamed file)"
                selection.too_large(path, section.lines, too_large_reason(max_file_bytes))
            else:
                selection.offer(text)
        return
    except DiffTooLarge:
        log.info("%s: diff too large for GitHub; paging the files API", pull)
    await _from_files_api(github, pull, selection, max_file_bytes)


@dataclass
class _Section:
    """One file's section as it streams in; past the cap only its header line is kept."""

    data: bytearray = field(default_factory=bytearray)
    oversized: bool = False
    lines: int = 0  # changed lines seen in what was dropped

    def append(self, data: bytes, cap: int) -> None:
        if not self.oversized and len(self.data) + len(data) > cap:
            header = bytes(self.data + data).split(b"\n", 1)[0]
            self.lines = self.data.count(b"\n+") + self.data.count(b"\n-")
            self.data = bytearray(header)
            self.oversized = True
        elif not self.oversized:
            self.data += data
            return
        self.lines += data.count(b"\n+") + data.count(b"\n-")


async def _sections(
    github: GitHubClient, installation_id: int, path: str, cap: int
) -> AsyncIterator[_Section]:
    """Yield each file's section as the diff streams in; an oversized one is cut at `cap`.

    Read in fixed chunks, never by line: one minified line can be megabytes long.
    """
    response = await _open(github, installation_id, path)
    try:
        current = _Section()
        tail = b""
        async for chunk in response.content.iter_chunked(CHUNK):
            data = tail + chunk
            tail = b""
            while True:
                cut = data.find(FILE_BOUNDARY)
                if cut < 0:
                    break
                current.append(data[: cut + 1], cap)
                if current.data or current.oversized:
                    yield current
                current = _Section()
                data = data[cut + 1 :]
            # Keep back what could be the start of a boundary split across chunks.
            keep = len(FILE_BOUNDARY) - 1
            current.append(data[:-keep], cap)
            tail = data[-keep:]
        current.append(tail, cap)
        if current.data.strip() or current.oversized:
            yield current
    finally:
        response.release()


async def _open(github: GitHubClient, installation_id: int, path: str) -> aiohttp.ClientResponse:
    """GET the diff, retried by the policy until it answers 200 (406: DiffTooLarge)."""
    request = f"GET {path}"
    with naming(request):
        async for attempt in github.policy.retrying(f"GitHub {request} (diff)"):
            with attempt:
                token = await github.token(installation_id)
                headers = {"Authorization": f"token {token}", "Accept": DIFF_MEDIA_TYPE}
                response = await github.http.get(github.api_url + path, headers=headers)
                if response.status == 200:
                    return response
                body = await response.read()
                response.release()
                if response.status == 406:
                    raise DiffTooLarge()
                # gidgethub's own reading of the answer: the same exceptions as the REST calls.
                sansio.decipher_response(response.status, response.headers, body)
                raise AssertionError(f"unexpected status {response.status}")
    raise AssertionError("unreachable: the policy stops with the last error")


async def _from_files_api(github: GitHubClient, pull: Pull, selection: Selection, cap: int) -> None:
    gh = await github.api(pull.installation_id)
    count = 0
    async for item in gh.getiter(
        "/repos/{owner}/{repo}/pulls/{number}/files{?per_page}",
        url_vars=url_vars(pull, per_page="100"),
    ):
        count += 1
        path, patch = item["filename"], item.get("patch")
        lines = int(item.get("additions") or 0) + int(item.get("deletions") or 0)
        if patch is not None and len(patch.encode()) > cap:
            selection.too_large(path, lines, too_large_reason(cap))
        elif patch is None and item["status"] != "removed" and lines:
            selection.too_large(path, lines, "too large for GitHub to show")
        else:
            selection.offer(section_text(path, item["status"], patch))
    if count >= FILES_API_CAP:
        selection.note(
            Skipped(
                "(files after the first 3,000)",
                "GitHub lists at most 3,000 files of a PR",
                cut=True,
            )
        )
