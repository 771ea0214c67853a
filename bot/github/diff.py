"""Stream a PR's diff one file at a time, with a per-file byte cap; page the files API on 406."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import aiohttp
from gidgethub import sansio

from bot.github.client import GitHubClient, naming
from bot.review.changes import (
    Diff,
    Skipped,
    from_patch,
    parse_file,
    path_from_header,
    too_large,
)

log = logging.getLogger(__name__)

FILE_BOUNDARY = b"\ndiff --git "
CHUNK = 64 * 1024
DIFF_MEDIA_TYPE = "application/vnd.github.v3.diff"
FILES_API_CAP = 3000  # GitHub lists at most this many files of a PR


class DiffTooLarge(Exception):
    """GitHub refused the diff (406: over 300 files or 20,000 lines)."""


async def fetch_diff(
    github: GitHubClient,
    installation_id: int,
    owner: str,
    repo: str,
    number: int,
    *,
    max_file_bytes: int,
    ignore: tuple[str, ...] = (),
) -> Diff:
    """The PR's reviewable files and the skipped ones; the files API when the diff is too large."""
    diff = Diff()
    try:
        async for section, oversized in _sections(
            github, installation_id, f"/repos/{owner}/{repo}/pulls/{number}", max_file_bytes
        ):
            _add(diff, section, oversized, ignore, max_file_bytes)
        return diff
    except DiffTooLarge:
        log.info("%s/%s#%d: diff too large for GitHub; paging the files API", owner, repo, number)
    return await _from_files_api(
        github, installation_id, owner, repo, number, ignore, max_file_bytes
    )


def _add(diff: Diff, section: bytes, oversized: bool, ignore: tuple[str, ...], cap: int) -> None:
    text = section.decode("utf-8", errors="replace")
    if oversized:
        diff.add(too_large(path_from_header(text) or "(unnamed file)", cap))
    else:
        diff.add(parse_file(text, ignore))


async def _sections(
    github: GitHubClient, installation_id: int, path: str, cap: int
) -> AsyncIterator[tuple[bytes, bool]]:
    """Yield (file section, oversized) as the diff streams in; an oversized one is cut at `cap`.

    Read in fixed chunks, never by line: one minified line can be megabytes long.
    """
    response = await _open(github, installation_id, path)
    try:
        current = bytearray()
        oversized = False
        tail = b""
        async for chunk in response.content.iter_chunked(CHUNK):
            data = tail + chunk
            tail = b""
            while True:
                cut = data.find(FILE_BOUNDARY)
                if cut < 0:
                    break
                current, oversized = _append(current, oversized, data[: cut + 1], cap)
                if current or oversized:
                    yield bytes(current), oversized
                current, oversized = bytearray(), False
                data = data[cut + 1 :]
            # Keep back what could be the start of a boundary split across chunks.
            keep = len(FILE_BOUNDARY) - 1
            current, oversized = _append(current, oversized, data[:-keep], cap)
            tail = data[-keep:]
        current, oversized = _append(current, oversized, tail, cap)
        if current.strip() or oversized:
            yield bytes(current), oversized
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


def _append(current: bytearray, oversized: bool, data: bytes, cap: int) -> tuple[bytearray, bool]:
    if oversized:
        return current, True
    if len(current) + len(data) > cap:
        # Keep only the header line, so the file can still be named as skipped.
        header = bytes(current + data).split(b"\n", 1)[0]
        return bytearray(header), True
    current += data
    return current, False


async def _from_files_api(
    github: GitHubClient,
    installation_id: int,
    owner: str,
    repo: str,
    number: int,
    ignore: tuple[str, ...],
    cap: int,
) -> Diff:
    diff = Diff()
    gh = await github.api(installation_id)
    count = 0
    async for item in gh.getiter(
        "/repos/{owner}/{repo}/pulls/{number}/files{?per_page}",
        url_vars={"owner": owner, "repo": repo, "number": str(number), "per_page": "100"},
    ):
        count += 1
        patch = item.get("patch")
        if patch is not None and len(patch.encode()) > cap:
            diff.add(too_large(item["filename"], cap))
        else:
            diff.add(from_patch(item["filename"], item["status"], patch, ignore))
    if count >= FILES_API_CAP:
        diff.skipped.append(
            Skipped("(files after the first 3,000)", "GitHub lists at most 3,000 files of a PR")
        )
    return diff
