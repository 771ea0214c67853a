"""The conversation around review comments: reactions, replies, collaborator permissions, and
the review threads GraphQL serves (PullRequest.reviewThreads, resolveReviewThread).

A review thread is a top-level review comment (one without `in_reply_to_id`) and the replies
to it, oldest first. Its `isOutdated` is the fake's simplification of GitHub's rule (which
follows the thread's diff hunk through later pushes): a thread is outdated when the lines
original_start_line..original_line of its file at the root comment's original commit differ
from the same line numbers of that file at the PR's current head, or the file is gone from the
head. A LEFT-side thread (on the base's lines) is outdated only when its file is gone.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import re
from typing import Any

from aiohttp import web

from tests.fakes.diffs import split_lines
from tests.fakes.github.comments import COMMENT_WRITE, Comments
from tests.fakes.github.errors import DOCS, GitHubError, _invalid, _not_found
from tests.fakes.github.graphql import GraphQL, _NotFound, _Typed
from tests.fakes.github.reviews import Reviews
from tests.fakes.github.shapes import _now_iso, _user_id
from tests.fakes.github.state import IssuedToken, PullState, _Repo

# REST reaction content -> GraphQL ReactionContent, in the order GitHub's docs list them.
REACTIONS = {
    "+1": "THUMBS_UP",
    "-1": "THUMBS_DOWN",
    "laugh": "LAUGH",
    "confused": "CONFUSED",
    "heart": "HEART",
    "hooray": "HOORAY",
    "rocket": "ROCKET",
    "eyes": "EYES",
}
# Repository role -> the legacy base permission GitHub reports in `permission`.
ROLES = {"admin": "admin", "maintain": "write", "write": "write", "triage": "read", "read": "read"}
MAX_CONNECTION_PAGE = 100  # GitHub's `first` / `last` limit on every connection
# A GitHub login: alphanumerics and single hyphens, at most 39; an App's bot ends in "[bot]".
_LOGIN = re.compile(r"^[A-Za-z0-9](?:-?[A-Za-z0-9]){0,38}(?:\[bot\])?$")
_THREAD_PREFIX = "PRRT_"


def _thread_id(root_id: int) -> str:
    raw = f"PullRequestReviewThread:{root_id}".encode()
    return _THREAD_PREFIX + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _thread_root_id(thread_id: str) -> int | None:
    if not thread_id.startswith(_THREAD_PREFIX):
        return None
    encoded = thread_id.removeprefix(_THREAD_PREFIX)
    try:
        raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    kind, _, number = raw.partition(":")
    return int(number) if kind == "PullRequestReviewThread" and number.isdigit() else None


def _cursor(index: int) -> str:
    return base64.b64encode(f"cursor:v2:{index}".encode()).decode()


def _cursor_index(cursor: str) -> int:
    try:
        raw = base64.b64decode(cursor, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raw = ""
    prefix, _, number = raw.rpartition(":")
    if prefix != "cursor:v2" or not number.isdigit():
        raise _Typed(
            f"`{cursor}` does not appear to be a valid cursor.", "INVALID_CURSOR_ARGUMENTS"
        )
    return int(number)


def _connection(
    name: str,
    items: list[dict[str, Any]],
    *,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    skip: int | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Page `items` like a GitHub connection: nodes, edges, pageInfo, totalCount."""
    if first is None and last is None:
        raise _Typed(
            f"You must provide a `first` or `last` value to properly paginate the `{name}` "
            "connection.",
            "MISSING_PAGINATION_BOUNDARIES",
        )
    for arg, value in (("first", first), ("last", last)):
        if value is not None and value > MAX_CONNECTION_PAGE:
            raise _Typed(
                f"Requesting {value} records on the `{name}` connection exceeds the `{arg}` "
                f"limit of {MAX_CONNECTION_PAGE} records.",
                "EXCESSIVE_PAGINATION",
            )
    start = _cursor_index(after) + 1 if after is not None else 0
    end = min(_cursor_index(before), len(items)) if before is not None else len(items)
    start += max(skip or 0, 0)
    chosen = list(range(start, max(start, end)))
    if first is not None:
        chosen = chosen[: max(first, 0)]
    if last is not None:
        chosen = chosen[len(chosen) - max(last, 0) :] if last > 0 else []
    taken_last = chosen[-1] if chosen else start - 1
    taken_first = chosen[0] if chosen else start
    if first is not None:
        has_next = taken_last + 1 < end
    else:
        has_next = before is not None and end < len(items)
    if last is not None:
        has_previous = taken_first > start
    else:
        has_previous = after is not None and start > 0
    return {
        "nodes": [items[i] for i in chosen],
        "edges": [{"cursor": _cursor(i), "node": items[i]} for i in chosen],
        "pageInfo": {
            "hasNextPage": has_next,
            "hasPreviousPage": has_previous,
            "startCursor": _cursor(chosen[0]) if chosen else None,
            "endCursor": _cursor(chosen[-1]) if chosen else None,
        },
        "totalCount": len(items),
        **extra,
    }


def _actor(user: dict[str, Any]) -> dict[str, Any]:
    # GraphQL names an App's bot without the "[bot]" that REST's `user.login` carries.
    login = user["login"]
    if user.get("type") == "Bot":
        slug = login.removesuffix("[bot]")
        node_id = user.get("node_id") or f"BOT_{user['id']}"
        return {
            "__typename": "Bot",
            "login": slug,
            "id": node_id,
            "databaseId": user["id"],
            "url": f"https://github.com/apps/{slug}",
        }
    node_id = user.get("node_id") or f"U_{user['id']}"
    return {
        "__typename": "User",
        "login": login,
        "id": node_id,
        "databaseId": user["id"],
        "url": f"https://github.com/{login}",
    }


class Conversation(Reviews, Comments, GraphQL):
    """Reactions and replies over REST, collaborator permissions, and review threads."""

    # --- test helpers -------------------------------------------------------------------

    def react(
        self, owner: str, repo: str, comment_id: int, content: str, login: str = "octocat"
    ) -> dict[str, Any]:
        """A person reacts to an issue comment or a review comment (by id); return the reaction."""
        if content not in REACTIONS:
            raise ValueError(f"unknown reaction content {content!r}; one of {list(REACTIONS)}")
        with self._lock:
            state = self._peek(owner, repo)
            if self._any_comment(state, comment_id) is None:
                raise KeyError(f"no comment {comment_id} in {owner}/{repo}")
            reaction, _created = self._add_reaction(state, comment_id, content, self._user(login))
            return copy.deepcopy(reaction)

    def reactions(self, owner: str, repo: str, comment_id: int) -> list[dict[str, Any]]:
        """Return the reactions to a comment (issue or review comment), oldest first."""
        with self._lock:
            return copy.deepcopy(self._peek(owner, repo).reactions.get(comment_id, []))

    def reply(
        self,
        owner: str,
        repo: str,
        number: int,
        comment_id: int,
        body: str,
        *,
        login: str = "octocat",
        user_type: str = "User",
        association: str = "CONTRIBUTOR",
    ) -> dict[str, Any]:
        """Store a person's reply to a top-level review comment and return the stored comment."""
        user = {**self._user(login), "type": user_type}
        with self._lock:
            state = self._peek(owner, repo)
            parent = self._reply_parent(state, number, comment_id)
            if parent is None:
                raise KeyError(
                    f"no top-level review comment {comment_id} on {owner}/{repo}#{number}"
                )
            return copy.deepcopy(
                self._store_reply(state, state.pulls[number], parent, body, user, association)
            )

    def set_permission(self, owner: str, repo: str, login: str, role: str) -> None:
        """Make `login` a collaborator with `role` (admin, maintain, write, triage or read)."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}; one of {list(ROLES)}")
        state = self._repo(owner, repo)
        with self._lock:
            state.permissions[login.lower()] = role

    def threads(self, owner: str, repo: str, number: int) -> list[dict[str, Any]]:
        """Return a PR's review threads: id, root_id, path, is_resolved, is_outdated, comments."""
        with self._lock:
            state = self._peek(owner, repo)
            pull = state.pulls.get(number)
            if pull is None:
                return []
            return [
                {
                    "id": t["id"],
                    "root_id": t["root"]["id"],
                    "path": t["root"]["path"],
                    "is_resolved": t["is_resolved"],
                    "is_outdated": t["is_outdated"],
                    "comments": copy.deepcopy(t["comments"]),
                }
                for t in self._threads_of(state, pull)
            ]

    # --- state (call with the lock held) ------------------------------------------------

    def _issue_comment(self, state: _Repo, comment_id: int) -> dict[str, Any] | None:
        where = self._comment_index.get(comment_id)
        if where is None or where[0] != (state.owner.lower(), state.name.lower()):
            return None
        return next(
            (c for c in state.issue_comments.get(where[1], []) if c["id"] == comment_id), None
        )

    @staticmethod
    def _review_comment(state: _Repo, comment_id: int) -> dict[str, Any] | None:
        for comments in state.review_comments.values():
            for comment in comments:
                if comment["id"] == comment_id:
                    return comment
        return None

    def _any_comment(self, state: _Repo, comment_id: int) -> dict[str, Any] | None:
        return self._issue_comment(state, comment_id) or self._review_comment(state, comment_id)

    def _add_reaction(
        self, state: _Repo, comment_id: int, content: str, user: dict[str, Any]
    ) -> tuple[dict[str, Any], bool]:
        existing = state.reactions.setdefault(comment_id, [])
        for reaction in existing:
            if reaction["user"]["id"] == user["id"] and reaction["content"] == content:
                return reaction, False
        reaction_id = self.next_id()
        reaction = {
            "id": reaction_id,
            "node_id": f"REA_{reaction_id}",
            "user": user,
            "content": content,
            "created_at": _now_iso(),
        }
        existing.append(reaction)
        return reaction, True

    @staticmethod
    def _reply_parent(state: _Repo, number: int, comment_id: int) -> dict[str, Any] | None:
        # Only a top-level comment of this PR takes replies ("Replies to replies are not
        # supported"); a reply's id answers as an unknown comment would.
        for comment in state.review_comments.get(number, []):
            if comment["id"] == comment_id:
                return None if "in_reply_to_id" in comment else comment
        return None

    def _store_reply(
        self,
        state: _Repo,
        pull: PullState,
        parent: dict[str, Any],
        body: str,
        user: dict[str, Any],
        association: str,
    ) -> dict[str, Any]:
        # As on GitHub, a reply is the one comment of a new review in state COMMENTED.
        full = f"{state.owner}/{state.name}"
        api = self.url or "http://127.0.0.1"
        html = f"https://github.com/{full}/pull/{pull.number}"
        review_id, comment_id = self.next_id(), self.next_id()
        now = _now_iso()
        state.reviews.setdefault(pull.number, []).append(
            {
                "id": review_id,
                "node_id": f"PRR_{review_id}",
                "user": user,
                "body": "",
                "state": "COMMENTED",
                "html_url": f"{html}#pullrequestreview-{review_id}",
                "pull_request_url": f"{api}/repos/{full}/pulls/{pull.number}",
                "commit_id": parent["commit_id"],
                "author_association": association,
                "submitted_at": now,
            }
        )
        kept = (
            "path",
            "commit_id",
            "original_commit_id",
            "diff_hunk",
            "position",
            "original_position",
            "line",
            "original_line",
            "side",
            "start_line",
            "original_start_line",
            "start_side",
            "subject_type",
        )
        reply = {
            "id": comment_id,
            "node_id": f"PRRC_{comment_id}",
            "pull_request_review_id": review_id,
            "in_reply_to_id": parent["id"],
            "url": f"{api}/repos/{full}/pulls/comments/{comment_id}",
            "html_url": f"{html}#discussion_r{comment_id}",
            "pull_request_url": f"{api}/repos/{full}/pulls/{pull.number}",
            **{key: parent.get(key) for key in kept},
            "body": body,
            "user": user,
            "created_at": now,
            "updated_at": now,
            "author_association": association,
        }
        state.review_comments.setdefault(pull.number, []).append(reply)
        return reply

    def _threads_of(self, state: _Repo, pull: PullState) -> list[dict[str, Any]]:
        comments = state.review_comments.get(pull.number, [])
        threads = []
        for root in comments:
            if "in_reply_to_id" in root:
                continue
            replies = [c for c in comments if c.get("in_reply_to_id") == root["id"]]
            threads.append(
                {
                    "id": _thread_id(root["id"]),
                    "root": root,
                    "comments": [root, *replies],
                    "is_resolved": root["id"] in state.resolved_threads,
                    "is_outdated": self._outdated(state, pull, root),
                }
            )
        return threads

    @staticmethod
    def _outdated(state: _Repo, pull: PullState, root: dict[str, Any]) -> bool:
        # The fake's simplification of GitHub's rule; see the module docstring.
        head = state.commits.get(pull.head_sha)
        origin = state.commits.get(root.get("original_commit_id") or "")
        if head is None or origin is None:
            return False
        path = root["path"]
        if path not in head.files:
            return True
        if root.get("side") == "LEFT":
            return False
        old, new = origin.files.get(path), head.files[path]
        if not isinstance(old, str) or not isinstance(new, str):
            return old != new
        line = root.get("original_line") or root.get("line")
        if line is None:
            return old != new
        start = root.get("original_start_line") or line
        return split_lines(old)[start - 1 : line] != split_lines(new)[start - 1 : line]

    # --- REST ---------------------------------------------------------------------------

    async def _create_issue_comment_reaction(self, request: web.Request) -> web.Response:
        docs = f"{DOCS}/reactions/reactions#create-reaction-for-an-issue-comment"
        return await self._create_reaction(request, self._issue_comment, docs)

    async def _create_review_comment_reaction(self, request: web.Request) -> web.Response:
        docs = f"{DOCS}/reactions/reactions#create-reaction-for-a-pull-request-review-comment"
        return await self._create_reaction(request, self._review_comment, docs)

    async def _list_issue_comment_reactions(self, request: web.Request) -> web.Response:
        return self._list_reactions(request, self._issue_comment)

    async def _list_review_comment_reactions(self, request: web.Request) -> web.Response:
        return self._list_reactions(request, self._review_comment)

    async def _create_reaction(self, request: web.Request, find: Any, docs: str) -> web.Response:
        state = self._authed(request, COMMENT_WRITE, docs)
        comment_id = int(request.match_info["cid"])
        data = await self._body(request)
        with self._lock:
            if find(state, comment_id) is None:
                raise _not_found(docs)
        content = data.get("content")
        if content is None:
            raise _invalid('"content" wasn\'t supplied.', docs)
        if content not in REACTIONS:
            raise _invalid(
                f"For 'properties/content', {json.dumps(content)} is not one of "
                f"{json.dumps(list(REACTIONS))}.",
                docs,
            )
        with self._lock:
            if find(state, comment_id) is None:  # deleted meanwhile
                raise _not_found(docs)
            # The reaction is the authenticated actor's: for an installation token, the bot.
            author = self._author(request)
            reaction, created = self._add_reaction(state, comment_id, content, author)
            # 201 for a new reaction; 200 when this user already reacted with this content.
            return self._json(copy.deepcopy(reaction), 201 if created else 200)

    def _list_reactions(self, request: web.Request, find: Any) -> web.Response:
        state = self._authed(request)
        comment_id = int(request.match_info["cid"])
        content = request.query.get("content")
        with self._lock:
            if find(state, comment_id) is None:
                raise _not_found()
            items = copy.deepcopy(state.reactions.get(comment_id, []))
        if content is not None:
            items = [r for r in items if r["content"] == content]
        return self._paginated(request, items)

    async def _create_reply(self, request: web.Request) -> web.Response:
        docs = f"{DOCS}/pulls/comments#create-a-reply-for-a-review-comment"
        state = self._authed(request, ("pull_requests",), docs)
        pull = self._pull_of(state, request)
        body = self._comment_body(await self._body(request), docs)
        with self._lock:
            parent = self._reply_parent(state, pull.number, int(request.match_info["cid"]))
            if parent is None:
                raise _not_found(docs)
            reply = self._store_reply(state, pull, parent, body, self._author(request), "NONE")
            reply = copy.deepcopy(reply)
        return self._json(reply, 201, {"Location": reply["url"]})

    async def _get_review_comment(self, request: web.Request) -> web.Response:
        state = self._authed(request)
        with self._lock:
            comment = self._review_comment(state, int(request.match_info["cid"]))
            if comment is None:
                raise _not_found(f"{DOCS}/pulls/comments#get-a-review-comment-for-a-pull-request")
            return self._json(copy.deepcopy(comment))

    async def _collaborator_permission(self, request: web.Request) -> web.Response:
        state = self._authed(request)
        login = request.match_info["username"]
        docs = f"{DOCS}/collaborators/collaborators#get-repository-permissions-for-a-user"
        # GitHub answers 404 only for a login that is no user; the fake takes every
        # well-formed login for an existing user.
        if not _LOGIN.match(login):
            raise GitHubError(404, f"{login} is not a user", docs=docs)
        with self._lock:
            role = state.permissions.get(login.lower())
        # A user who is no collaborator of this (private) repository answers 200 "none".
        permission = ROLES.get(role or "", "none")
        role_name = role or "none"
        rank = ["read", "triage", "write", "maintain", "admin"]
        level = rank.index(role) if role else -1
        user = self._bot() if login.lower() == self.bot_login.lower() else self._user(login)
        user = {
            **user,
            "node_id": user.get("node_id") or f"U_{_user_id(login)}",
            "permissions": {
                "admin": level >= 4,
                "maintain": level >= 3,
                "push": level >= 2,
                "triage": level >= 1,
                "pull": level >= 0,
            },
            "role_name": role_name,
        }
        return self._json({"permission": permission, "role_name": role_name, "user": user})

    # --- GraphQL ------------------------------------------------------------------------

    def _gql_pull(self, state: _Repo, number: int) -> dict[str, Any]:
        found = super()._gql_pull(state, number)
        found["reviewThreads"] = lambda _info, **args: self._gql_review_threads(state, number, args)
        return found

    def _gql_review_threads(
        self, state: _Repo, number: int, args: dict[str, Any]
    ) -> dict[str, Any]:
        with self._lock:
            pull = state.pulls[number]
            nodes = [self._gql_thread(state, t) for t in self._threads_of(state, pull)]
        return _connection("reviewThreads", nodes, **args)

    def _gql_thread(self, state: _Repo, thread: dict[str, Any]) -> dict[str, Any]:
        # Call with the lock held: a snapshot of the thread, its comments and their reactions.
        root = copy.deepcopy(thread["root"])
        outdated = thread["is_outdated"]
        by_id: dict[int, dict[str, Any]] = {}
        comments = []
        for comment in thread["comments"]:
            node = self._gql_comment(state, comment, by_id.get(comment.get("in_reply_to_id")))
            by_id[comment["id"]] = node
            comments.append(node)
        return {
            "id": thread["id"],
            "isResolved": thread["is_resolved"],
            "isOutdated": outdated,
            "path": root["path"],
            # GitHub's `line` and `startLine` are null once the thread is outdated.
            "line": None if outdated else root.get("line"),
            "startLine": None if outdated else root.get("start_line"),
            "originalLine": root.get("original_line"),
            "originalStartLine": root.get("original_start_line"),
            "diffSide": root.get("side") or "RIGHT",
            "startDiffSide": root.get("start_side"),
            "comments": lambda _info, **args: _connection("comments", comments, **args),
        }

    def _gql_comment(
        self, state: _Repo, comment: dict[str, Any], parent: dict[str, Any] | None
    ) -> dict[str, Any]:
        reactions = [
            {
                "content": REACTIONS[r["content"]],
                "createdAt": r["created_at"],
                "databaseId": r["id"],
                "id": r["node_id"],
                # Reaction.user is a User: a bot's reaction answers null.
                "user": None if r["user"].get("type") == "Bot" else _actor(r["user"]),
                "_user_id": r["user"]["id"],
            }
            for r in copy.deepcopy(state.reactions.get(comment["id"], []))
        ]

        def reaction_connection(_info: Any, content: str | None = None, **args: Any) -> Any:
            chosen = [r for r in reactions if content is None or r["content"] == content]
            viewer = any(r["_user_id"] == self.bot_id for r in chosen)
            return _connection("reactions", chosen, viewerHasReacted=viewer, **args)

        return {
            "id": comment["node_id"],
            "databaseId": comment["id"],
            "body": comment["body"],
            "createdAt": comment["created_at"],
            "diffHunk": comment.get("diff_hunk") or "",
            "path": comment["path"],
            "url": comment["html_url"],
            "author": _actor(comment["user"]),
            "replyTo": parent,
            "reactions": reaction_connection,
        }

    def _gql_mutations(self, issued: IssuedToken) -> dict[str, Any]:
        return {
            **super()._gql_mutations(issued),
            "resolveReviewThread": lambda _info, input: self._gql_set_resolved(issued, input, True),
            "unresolveReviewThread": lambda _info, input: self._gql_set_resolved(
                issued, input, False
            ),
        }

    def _gql_set_resolved(
        self, issued: IssuedToken, data: dict[str, Any], resolved: bool
    ) -> dict[str, Any]:
        thread_id = data["threadId"]
        root_id = _thread_root_id(thread_id)
        # resolve_forbidden: an App token without Contents: write (github/gh-aw#35726); a
        # workflow token needs pull-requests: write.
        if self.resolve_forbidden or not self._may_write(issued, ("pull_requests",)):
            raise _Typed("Resource not accessible by integration", "FORBIDDEN")
        with self._lock:
            for state in self._repos.values():
                # Another installation's threads are invisible, as its repositories are.
                if root_id is None or not self._sees(issued, state):
                    continue
                for number, comments in state.review_comments.items():
                    if not any(c["id"] == root_id and "in_reply_to_id" not in c for c in comments):
                        continue
                    if resolved:  # resolving twice (or unresolving twice) is fine
                        state.resolved_threads.add(root_id)
                    else:
                        state.resolved_threads.discard(root_id)
                    pull = state.pulls[number]
                    [thread] = [
                        t for t in self._threads_of(state, pull) if t["root"]["id"] == root_id
                    ]
                    return {
                        "clientMutationId": data.get("clientMutationId"),
                        "thread": self._gql_thread(state, thread),
                    }
        raise _NotFound(f"Could not resolve to a node with the global id of '{thread_id}'")
