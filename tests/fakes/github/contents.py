"""Repository contents: GET /contents/{path} at a ref, as base64 JSON or raw."""

from __future__ import annotations

import base64

from aiohttp import web

from tests.fakes.diffs import Content, blob_sha
from tests.fakes.github.auth import Auth
from tests.fakes.github.errors import DOCS, _not_found
from tests.fakes.github.state import _Repo


class Contents(Auth):
    """Files at a ref: set with set_content, else read from the commit graph."""

    def set_content(
        self, owner: str, repo: str, ref: str, path: str, text: Content, *, installation_id: int = 1
    ) -> None:
        """Make `path` read `text` at `ref` (a branch or a sha); None removes it again."""
        state = self._repo(owner, repo, installation_id)
        with self._lock:
            if text is None:
                state.contents.pop((ref, path), None)
            else:
                state.contents[(ref, path)] = text

    def _resolve_refs(self, state: _Repo, ref: str) -> list[str]:
        refs = [ref]
        if ref in state.branches:
            refs.append(state.branches[ref])
        refs += [name for name, sha in state.branches.items() if sha == ref]
        return refs

    async def _get_contents(self, request: web.Request) -> web.Response:
        state = self._authed(request)
        path = request.match_info["path"].strip("/")
        docs = f"{DOCS}/repos/contents#get-repository-content"
        with self._lock:
            ref = request.query.get("ref") or state.default_branch
            content: Content = None
            for candidate in self._resolve_refs(state, ref):
                if (candidate, path) in state.contents:
                    content = state.contents[(candidate, path)]
                    break
                commit = state.commits.get(candidate)
                if commit is not None and path in commit.files:
                    content = commit.files[path]
                    break
        if content is None:
            raise _not_found(docs)
        data = content.encode() if isinstance(content, str) else content
        if ".raw" in request.headers.get("Accept", ""):
            return web.Response(
                body=data,
                content_type="application/vnd.github.raw",
                charset="utf-8",
                headers={"X-GitHub-Media-Type": "github.v3; param=raw"},
            )
        encoded = base64.b64encode(data).decode()
        # GitHub wraps the base64 at 60 characters, with a trailing newline.
        wrapped = "".join(encoded[i : i + 60] + "\n" for i in range(0, len(encoded), 60))
        full = f"{state.owner}/{state.name}"
        sha = blob_sha(data)
        api = f"{self._base_url(request)}/repos/{full}/contents/{path}?ref={ref}"
        return self._json(
            {
                "type": "file",
                "encoding": "base64",
                "size": len(data),
                "name": path.rsplit("/", 1)[-1],
                "path": path,
                "content": wrapped,
                "sha": sha,
                "url": api,
                "git_url": f"{self._base_url(request)}/repos/{full}/git/blobs/{sha}",
                "html_url": f"https://github.com/{full}/blob/{ref}/{path}",
                "download_url": f"https://raw.githubusercontent.com/{full}/{ref}/{path}",
                "_links": {"self": api, "html": f"https://github.com/{full}/blob/{ref}/{path}"},
            }
        )
