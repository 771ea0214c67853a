"""Comparing two commits: ancestry, the (cached) diff between them, and GET /compare."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from tests.fakes.diffs import FileDiff, blob_sha, make_diff, parse_diff
from tests.fakes.github.auth import Auth
from tests.fakes.github.errors import DOCS, GitHubError, _not_found
from tests.fakes.github.state import _Repo


class Compare(Auth):
    """The commit graph's diffs, as the pull and compare endpoints serve them."""

    @staticmethod
    def _chain(state: _Repo, sha: str) -> list[str]:
        out: list[str] = []
        current: str | None = sha
        while current is not None and current not in out:
            out.append(current)
            commit = state.commits.get(current)
            current = commit.parent if commit else None
        return out

    def _diff(self, owner: str, repo: str, base: str, head: str) -> tuple[str, list[FileDiff]]:
        state = self._repo(owner, repo)
        with self._lock:
            cached = state.diff_cache.get((base, head))
            if cached is not None:
                return cached
            raw = state.raw_diffs.get((base, head))
            old, new = state.commits[base].files, state.commits[head].files
        text = raw if raw is not None else make_diff(old, new)
        files = parse_diff(text)
        for fd in files:  # the files API shows full blob ids; the diff only abbreviates them
            content = new.get(fd.path) if fd.status != "removed" else old.get(fd.path)
            if content is not None:
                fd.blob_sha = blob_sha(content)
        with self._lock:
            state.diff_cache[(base, head)] = (text, files)
        return text, files

    def _file_json(
        self, request: web.Request, state: _Repo, ref: str, fd: FileDiff
    ) -> dict[str, Any]:
        full = f"{state.owner}/{state.name}"
        item: dict[str, Any] = {
            "sha": fd.blob_sha,
            "filename": fd.path,
            "status": fd.status,
            "additions": fd.additions,
            "deletions": fd.deletions,
            "changes": fd.additions + fd.deletions,
            "blob_url": f"https://github.com/{full}/blob/{ref}/{fd.path}",
            "raw_url": f"https://github.com/{full}/raw/{ref}/{fd.path}",
            "contents_url": f"{self._base_url(request)}/repos/{full}/contents/{fd.path}?ref={ref}",
        }
        if fd.previous_path:
            item["previous_filename"] = fd.previous_path
        if fd.patch is not None and not fd.binary:
            item["patch"] = fd.patch
        return item

    async def _compare(self, request: web.Request) -> web.Response:
        state = self._authed(request)
        basehead = request.match_info["basehead"]
        base_ref, sep, head_ref = basehead.partition("...")
        if not sep:
            base_ref, sep, head_ref = basehead.partition("..")
        if not sep:
            raise _not_found()
        with self._lock:
            base = state.branches.get(base_ref, base_ref)
            head = state.branches.get(head_ref, head_ref)
            if base not in state.commits or head not in state.commits:
                raise _not_found(f"{DOCS}/commits/commits#compare-two-commits")
            head_chain, base_chain = self._chain(state, head), self._chain(state, base)
        merge_base = next((sha for sha in head_chain if sha in base_chain), None)
        if merge_base is None:
            raise GitHubError(404, f"No common ancestor between {base_ref} and {head_ref}.")
        ahead_by, behind_by = head_chain.index(merge_base), base_chain.index(merge_base)
        if ahead_by == behind_by == 0:
            status = "identical"
        elif behind_by == 0:
            status = "ahead"
        elif ahead_by == 0:
            status = "behind"
        else:
            status = "diverged"
        _text, files = self._diff(state.owner, state.name, merge_base, head)
        full = f"{state.owner}/{state.name}"
        commits = [
            {"sha": sha, "parents": [{"sha": state.commits[sha].parent}]}
            for sha in reversed(head_chain[:ahead_by])
        ]
        return self._json(
            {
                "url": f"{self._base_url(request)}/repos/{full}/compare/{basehead}",
                "html_url": f"https://github.com/{full}/compare/{basehead}",
                "status": status,
                "ahead_by": ahead_by,
                "behind_by": behind_by,
                "total_commits": ahead_by,
                "base_commit": {"sha": base},
                "merge_base_commit": {"sha": merge_base},
                "commits": commits[:250],
                "files": [self._file_json(request, state, head, fd) for fd in files[:300]],
            }
        )
