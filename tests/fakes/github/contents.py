"""Repository contents: GET /contents/{path} at a ref, as base64 JSON or raw, or a directory."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from tests.fakes.diffs import Content, blob_sha
from tests.fakes.github.auth import Auth
from tests.fakes.github.errors import DOCS, _not_found
from tests.fakes.github.state import _Repo


@dataclass(frozen=True)
class Tree:
    """A directory at a ref: its entries' names, each "file" or "dir"."""

    path: str
    entries: dict[str, str]


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

    def _lookup(self, state: _Repo, ref: str, path: str) -> bytes | Tree | None:
        """What `path` is at `ref`, for REST and GraphQL alike: a file's bytes, a Tree, None.

        Each name the ref goes by is tried in turn, set_content's overrides before the commit.
        """
        with self._lock:
            refs = self._resolve_refs(state, ref)
            layers: list[dict[str, Content]] = []
            for candidate in refs:
                layers.append({p: c for (r, p), c in state.contents.items() if r == candidate})
                commit = state.commits.get(candidate)
                layers.append(commit.files if commit is not None else {})
            known = any(layers) or any(r in state.commits for r in refs)  # the root is a Tree
            for layer in layers:
                content = layer.get(path)
                if content is not None:
                    return content.encode() if isinstance(content, str) else content
            prefix = path + "/" if path else ""
            entries: dict[str, str] = {}
            for layer in layers:
                for name in layer:
                    if name.startswith(prefix) and layer[name] is not None:
                        head, sep, _rest = name[len(prefix) :].partition("/")
                        entries.setdefault(head, "dir" if sep else "file")
            return Tree(path, entries) if entries or (not path and known) else None

    async def _get_contents(self, request: web.Request) -> web.Response:
        state = self._authed(request)
        path = request.match_info["path"].strip("/")
        docs = f"{DOCS}/repos/contents#get-repository-content"
        ref = request.query.get("ref") or state.default_branch
        found = self._lookup(state, ref, path)
        if found is None:
            raise _not_found(docs)
        if isinstance(found, Tree):
            return self._json(
                [self._entry(request, state, ref, found, name) for name in sorted(found.entries)]
            )
        if ".raw" in request.headers.get("Accept", ""):
            return web.Response(
                body=found,
                content_type="application/vnd.github.raw",
                charset="utf-8",
                headers={"X-GitHub-Media-Type": "github.v3; param=raw"},
            )
        encoded = base64.b64encode(found).decode()
        # GitHub wraps the base64 at 60 characters, with a trailing newline.
        wrapped = "".join(encoded[i : i + 60] + "\n" for i in range(0, len(encoded), 60))
        return self._json(
            {
                **self._links(request, state, ref, path, blob_sha(found)),
                "type": "file",
                "encoding": "base64",
                "size": len(found),
                "content": wrapped,
            }
        )

    def _entry(
        self, request: web.Request, state: _Repo, ref: str, tree: Tree, name: str
    ) -> dict[str, Any]:
        # One item of a directory listing; GitHub lists files and directories alike this way.
        path = f"{tree.path}/{name}" if tree.path else name
        kind = tree.entries[name]
        data = self._lookup(state, ref, path) if kind == "file" else None
        size = len(data) if isinstance(data, bytes) else 0
        sha = blob_sha(data) if isinstance(data, bytes) else blob_sha(f"tree {path}")
        entry = {**self._links(request, state, ref, path, sha), "type": kind, "size": size}
        if kind == "dir":
            entry["download_url"] = None
        return entry

    def _links(
        self, request: web.Request, state: _Repo, ref: str, path: str, sha: str
    ) -> dict[str, Any]:
        full = f"{state.owner}/{state.name}"
        api = f"{self._base_url(request)}/repos/{full}/contents/{path}?ref={ref}"
        html = f"https://github.com/{full}/blob/{ref}/{path}"
        return {
            "name": path.rsplit("/", 1)[-1],
            "path": path,
            "sha": sha,
            "url": api,
            "git_url": f"{self._base_url(request)}/repos/{full}/git/blobs/{sha}",
            "html_url": html,
            "download_url": f"https://raw.githubusercontent.com/{full}/{ref}/{path}",
            "_links": {"self": api, "html": html},
        }
