"""Pull requests: opening and pushing to them, GET /pulls/{n} (JSON or .diff) and its files."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping

from aiohttp import web

from tests.fakes.diffs import Content, FileDiff
from tests.fakes.github.compare import Compare
from tests.fakes.github.errors import DOCS, GitHubError, _not_found
from tests.fakes.github.shapes import _now_iso
from tests.fakes.github.state import Commit, PullState, _Repo

MAX_FILES_LISTED = 3000


class Pulls(Compare):
    """Pull requests, their heads and their diffs."""

    def add_pull(
        self,
        owner: str,
        repo: str,
        number: int,
        *,
        files: Mapping[str, tuple[Content, Content]],
        head_sha: str | None = None,
        base_ref: str = "main",
        base_sha: str | None = None,
        head_ref: str | None = None,
        draft: bool = False,
        title: str = "Add a feature",
        body: str = "",
        user: str = "octocat",
        installation_id: int = 1,
        raw_diff: str | None = None,
    ) -> PullState:
        """Open a PR whose files change path -> (old, new); None = absent, bytes = binary.

        The base commit holds every `old`, the head (a child of the base) every `new`; the
        diff is computed from them unless `raw_diff` gives the exact text to serve instead.
        """
        state = self._repo(owner, repo, installation_id)
        with self._lock:
            base_sha = base_sha or self.new_sha()
            if base_sha not in state.commits:
                old = {p: o for p, (o, _n) in files.items() if o is not None}
                state.commits[base_sha] = Commit(base_sha, None, old)
            base_files = state.commits[base_sha].files
            new = dict(base_files)
            for path, (_old, content) in files.items():
                if content is None:
                    new.pop(path, None)
                else:
                    new[path] = content
            head_sha = head_sha or self.new_sha()
            state.commits[head_sha] = Commit(head_sha, base_sha, new)
            head_ref = head_ref or f"feature-{number}"
            state.branches[base_ref] = base_sha
            state.branches[head_ref] = head_sha
            if raw_diff is not None:
                state.raw_diffs[(base_sha, head_sha)] = raw_diff
            pull = PullState(
                owner=owner,
                repo=repo,
                number=number,
                id=self.next_id(),
                title=title,
                body=body,
                draft=draft,
                base_ref=base_ref,
                base_sha=base_sha,
                head_ref=head_ref,
                head_sha=head_sha,
                installation_id=state.installation_id,
                user=user,
                created_at=_now_iso(),
                history=[head_sha],
                _fake=self,
            )
            state.pulls[number] = pull
            state.issues.add(number)
            return pull

    def _push(
        self,
        pull: PullState,
        files: Mapping[str, Content | tuple[Content, Content]],
        head_sha: str | None,
        force: bool,
        raw_diff: str | None,
    ) -> str:
        state = self._repo(pull.owner, pull.repo)
        with self._lock:
            parent = pull.base_sha if force else pull.head_sha
            snapshot = dict(state.commits[pull.head_sha].files)
            for path, value in files.items():
                content = value[1] if isinstance(value, tuple) else value
                if content is None:
                    snapshot.pop(path, None)
                else:
                    snapshot[path] = content
            sha = head_sha or self.new_sha()
            state.commits[sha] = Commit(sha, parent, snapshot)
            if raw_diff is not None:
                state.raw_diffs[(pull.base_sha, sha)] = raw_diff
            state.branches[pull.head_ref] = sha
            pull.head_sha = sha
            pull.history.append(sha)
            return sha

    def pull(self, owner: str, repo: str, number: int) -> PullState:
        """Return the PullState of a PR added with add_pull."""
        return self._repo(owner, repo).pulls[number]

    def _pull_of(self, state: _Repo, request: web.Request) -> PullState:
        pull = state.pulls.get(int(request.match_info["number"]))
        if pull is None:
            raise _not_found()
        return pull

    async def _get_pull(self, request: web.Request) -> web.StreamResponse:
        state = self._authed(request)
        pull = self._pull_of(state, request)
        text, files = self._diff(state.owner, state.name, pull.base_sha, pull.head_sha)
        if ".diff" in request.headers.get("Accept", ""):
            return await self._stream_diff(request, text, files)
        full = f"{state.owner}/{state.name}"
        api = f"{self._base_url(request)}/repos/{full}"
        html = f"https://github.com/{full}/pull/{pull.number}"
        repo_json = self._repo_json(request, state)
        with self._lock:
            n_comments = len(state.issue_comments.get(pull.number, []))
            n_review_comments = len(state.review_comments.get(pull.number, []))
            commits = len(self._chain(state, pull.head_sha)) - len(
                self._chain(state, pull.base_sha)
            )
        return self._json(
            {
                "url": f"{api}/pulls/{pull.number}",
                "id": pull.id,
                "node_id": f"PR_{pull.id}",
                "html_url": html,
                "diff_url": f"{html}.diff",
                "patch_url": f"{html}.patch",
                "issue_url": f"{api}/issues/{pull.number}",
                "number": pull.number,
                "state": pull.state,
                "locked": False,
                "title": pull.title,
                "user": self._user(pull.user),
                "body": pull.body,
                "created_at": pull.created_at,
                "updated_at": pull.created_at,
                "closed_at": None,
                "merged_at": None,
                "merge_commit_sha": None,
                "draft": pull.draft,
                "head": {
                    "label": f"{state.owner}:{pull.head_ref}",
                    "ref": pull.head_ref,
                    "sha": pull.head_sha,
                    "user": self._user(pull.user),
                    "repo": repo_json,
                },
                "base": {
                    "label": f"{state.owner}:{pull.base_ref}",
                    "ref": pull.base_ref,
                    "sha": pull.base_sha,
                    "user": self._user(state.owner),
                    "repo": repo_json,
                },
                "author_association": "CONTRIBUTOR",
                "merged": False,
                "mergeable": None,
                "comments": n_comments,
                "review_comments": n_review_comments,
                "commits": max(commits, 1),
                "additions": sum(f.additions for f in files),
                "deletions": sum(f.deletions for f in files),
                "changed_files": len(files),
            }
        )

    async def _stream_diff(
        self, request: web.Request, text: str, files: list[FileDiff]
    ) -> web.StreamResponse:
        docs = f"{DOCS}/pulls/pulls#list-pull-requests-files"
        if len(files) > self.max_diff_files:
            raise GitHubError(
                406,
                f"Sorry, the diff exceeded the maximum number of files ({self.max_diff_files}). "
                "Consider using 'List pull requests files' API or locally cloning the "
                "repository instead.",
                errors=[{"resource": "PullRequest", "field": "diff", "code": "too_large"}],
                docs=docs,
            )
        if text.count("\n") > self.max_diff_lines:
            raise GitHubError(
                406,
                f"Sorry, the diff exceeded the maximum number of lines ({self.max_diff_lines}). "
                "Consider using 'List pull requests files' API or locally cloning the "
                "repository instead.",
                errors=[{"resource": "PullRequest", "field": "diff", "code": "too_large"}],
                docs=docs,
            )
        response = web.StreamResponse(status=200)
        response.content_type = "application/vnd.github.diff"
        response.charset = "utf-8"
        response.headers["X-GitHub-Media-Type"] = "github.v3; param=diff"
        response.enable_chunked_encoding()
        await response.prepare(request)
        data = text.encode()
        # Several pieces, cut at byte offsets (so a piece may end inside a UTF-8 character).
        step = max(1, min(self.diff_chunk_size, math.ceil(len(data) / 3) or 1))
        for start in range(0, len(data), step):
            await response.write(data[start : start + step])
            await asyncio.sleep(0)
        await response.write_eof()
        return response

    async def _pull_files(self, request: web.Request) -> web.Response:
        state = self._authed(request)
        pull = self._pull_of(state, request)
        _text, files = self._diff(state.owner, state.name, pull.base_sha, pull.head_sha)
        items = [
            self._file_json(request, state, pull.head_sha, fd) for fd in files[:MAX_FILES_LISTED]
        ]
        return self._paginated(request, items)
