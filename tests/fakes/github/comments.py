"""Issue comments: seeding and reading them, and the list/create/get/edit/delete endpoints."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable
from typing import Any

from aiohttp import web

from tests.fakes.github.auth import Auth
from tests.fakes.github.errors import DOCS, GitHubError, _invalid, _not_found
from tests.fakes.github.shapes import _now_iso, _user_id
from tests.fakes.github.state import _Repo

MAX_COMMENT_BODY = 65536
# A PR's conversation comments: GitHub takes issues: write or pull-requests: write for them.
COMMENT_WRITE = ("issues", "pull_requests")


class Comments(Auth):
    """The conversation comments of issues and pull requests."""

    def seed_comments(
        self,
        owner: str,
        repo: str,
        number: int,
        bodies: Iterable[str] | int,
        *,
        login: str = "octocat",
        user_type: str = "User",
        installation_id: int = 1,
    ) -> list[dict[str, Any]]:
        """Add issue comments by someone else (`bodies`, or that many numbered ones)."""
        if isinstance(bodies, int):
            bodies = [f"Comment {i + 1} by {login}" for i in range(bodies)]
        state = self._repo(owner, repo, installation_id)
        user = {"login": login, "id": _user_id(login), "type": user_type}
        with self._lock:
            state.issues.add(number)
            return [
                copy.deepcopy(self._store_comment(state, number, body, user)) for body in bodies
            ]

    def comments(self, owner: str, repo: str, number: int) -> list[dict[str, Any]]:
        """Return the issue comments of a PR (everyone's, oldest first)."""
        with self._lock:
            return copy.deepcopy(self._peek(owner, repo).issue_comments.get(number, []))

    def _store_comment(
        self, state: _Repo, number: int, body: str, user: dict[str, Any]
    ) -> dict[str, Any]:
        comment_id = self.next_id()
        now = _now_iso()
        full = f"{state.owner}/{state.name}"
        api = self.url or "http://127.0.0.1"
        comment = {
            "id": comment_id,
            "node_id": f"IC_{comment_id}",
            "url": f"{api}/repos/{full}/issues/comments/{comment_id}",
            "html_url": f"https://github.com/{full}/pull/{number}#issuecomment-{comment_id}",
            "issue_url": f"{api}/repos/{full}/issues/{number}",
            "body": body,
            "user": user,
            "created_at": now,
            "updated_at": now,
            "author_association": "NONE",
        }
        state.issue_comments.setdefault(number, []).append(comment)
        self._comment_index[comment_id] = ((state.owner.lower(), state.name.lower()), number)
        return comment

    def _comment_body(self, data: dict[str, Any], docs: str) -> str:
        body = data.get("body")
        if body is None:
            raise _invalid('"body" wasn\'t supplied.', docs)
        if not isinstance(body, str):
            raise _invalid(f"For 'properties/body', {json.dumps(body)} is not a string.", docs)
        if len(body) > MAX_COMMENT_BODY:
            raise GitHubError(
                422,
                "Validation Failed",
                errors=[
                    {
                        "resource": "IssueComment",
                        "code": "unprocessable",
                        "field": "data",
                        "message": "Body is too long (maximum is 65536 characters)",
                    }
                ],
                docs=docs,
            )
        return body

    def _find_comment(self, state: _Repo, request: web.Request) -> dict[str, Any]:
        comment_id = int(request.match_info["cid"])
        where = self._comment_index.get(comment_id)
        if where is None or where[0] != (state.owner.lower(), state.name.lower()):
            raise _not_found()
        for comment in state.issue_comments.get(where[1], []):
            if comment["id"] == comment_id:
                return comment
        raise _not_found()

    async def _list_comments(self, request: web.Request) -> web.Response:
        state = self._authed(request)
        number = int(request.match_info["number"])
        with self._lock:
            if number not in state.issues:
                raise _not_found()
            items = copy.deepcopy(state.issue_comments.get(number, []))
        return self._paginated(request, items)

    async def _create_comment(self, request: web.Request) -> web.Response:
        docs = f"{DOCS}/issues/comments#create-an-issue-comment"
        state = self._authed(request, COMMENT_WRITE, docs)
        number = int(request.match_info["number"])
        body = self._comment_body(await self._body(request), docs)
        with self._lock:
            if number not in state.issues:
                raise _not_found()
            comment = copy.deepcopy(self._store_comment(state, number, body, self._author(request)))
        return self._json(comment, 201, {"Location": comment["url"]})

    async def _get_comment(self, request: web.Request) -> web.Response:
        state = self._authed(request)
        with self._lock:
            return self._json(copy.deepcopy(self._find_comment(state, request)))

    async def _edit_comment(self, request: web.Request) -> web.Response:
        docs = f"{DOCS}/issues/comments#update-an-issue-comment"
        state = self._authed(request, COMMENT_WRITE, docs)
        body = self._comment_body(await self._body(request), docs)
        with self._lock:
            comment = self._find_comment(state, request)
            comment["body"] = body
            comment["updated_at"] = _now_iso()
            return self._json(copy.deepcopy(comment))

    async def _delete_comment(self, request: web.Request) -> web.Response:
        docs = f"{DOCS}/issues/comments#delete-an-issue-comment"
        state = self._authed(request, COMMENT_WRITE, docs)
        with self._lock:
            comment = self._find_comment(state, request)
            number = self._comment_index.pop(comment["id"])[1]
            state.issue_comments[number].remove(comment)
        return web.Response(status=204)
