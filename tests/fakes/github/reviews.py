"""Pull request reviews and their inline comments, which must land on lines of the diff."""

from __future__ import annotations

import copy
import json
from typing import Any

from aiohttp import web

from tests.fakes.diffs import FileDiff
from tests.fakes.github.comments import MAX_COMMENT_BODY
from tests.fakes.github.errors import DOCS, GitHubError, _invalid
from tests.fakes.github.pulls import Pulls
from tests.fakes.github.shapes import _now_iso

REVIEW_EVENTS = {
    "COMMENT": "COMMENTED",
    "APPROVE": "APPROVED",
    "REQUEST_CHANGES": "CHANGES_REQUESTED",
}


def _rails_join(messages: list[str]) -> str:
    # GitHub joins validation messages the way Rails' to_sentence does.
    if len(messages) <= 1:
        return "".join(messages)
    if len(messages) == 2:
        return f"{messages[0]} and {messages[1]}"
    return ", ".join(messages[:-1]) + f", and {messages[-1]}"


class Reviews(Pulls):
    """Create and list reviews; a comment off the diff fails the whole review with 422."""

    def reviews(self, owner: str, repo: str, number: int) -> list[dict[str, Any]]:
        """Return the stored reviews of a PR, each with its "comments" list."""
        with self._lock:
            state = self._peek(owner, repo)
            out = copy.deepcopy(state.reviews.get(number, []))
            by_review: dict[int, list[dict[str, Any]]] = {}
            for comment in state.review_comments.get(number, []):
                by_review.setdefault(comment["pull_request_review_id"], []).append(comment)
            for review in out:
                review["comments"] = copy.deepcopy(by_review.get(review["id"], []))
            return out

    def review_comments(self, owner: str, repo: str, number: int) -> list[dict[str, Any]]:
        """Return every inline review comment of a PR."""
        with self._lock:
            return copy.deepcopy(self._peek(owner, repo).review_comments.get(number, []))

    def _review_comment_errors(
        self, files: dict[str, FileDiff], comment: Any, docs: str
    ) -> list[str]:
        if not isinstance(comment, dict):
            raise _invalid(f"For 'items', {json.dumps(comment)} is not an object.", docs)
        for key in ("path", "body"):
            if key not in comment:
                raise _invalid(f'"{key}" wasn\'t supplied.', docs)
        fd = files.get(comment["path"])
        if fd is None:
            return [
                "Pull request review thread path is invalid",
                "Pull request review thread diff hunk can't be blank",
            ]
        off_diff = [
            "Pull request review thread line must be part of the diff",
            "Pull request review thread diff hunk can't be blank",
        ]
        if "line" not in comment:
            position = comment.get("position")
            if position is None:
                raise _invalid('"line" wasn\'t supplied.', docs)
            return [] if position in fd.positions else off_diff
        line, side = comment["line"], comment.get("side", "RIGHT")
        if side not in ("LEFT", "RIGHT") or not isinstance(line, int):
            return off_diff
        hunk = fd.hunk_of(side, line)
        if hunk is None:
            return off_diff
        start_line = comment.get("start_line")
        if start_line is None:
            return []
        start_side = comment.get("start_side", side)
        start_hunk = fd.hunk_of(start_side, start_line) if isinstance(start_line, int) else None
        if start_hunk is None:
            return ["Pull request review thread start line must be part of the diff"]
        if start_hunk.index != hunk.index:
            return [
                "Pull request review thread start line must be part of the same hunk as the line."
            ]
        if start_side == side and start_line > line:
            return ["Pull request review thread start line must precede the end line"]
        return []

    async def _create_review(self, request: web.Request) -> web.Response:
        docs = f"{DOCS}/pulls/reviews#create-a-review-for-a-pull-request"
        state = self._authed(request, ("pull_requests",), docs)
        pull = self._pull_of(state, request)
        author = self._author(request)
        data = await self._body(request)
        commit_id = data.get("commit_id") or pull.head_sha
        event = data.get("event")
        if event is not None and event not in REVIEW_EVENTS:
            raise _invalid(
                f"For 'properties/event', {json.dumps(event)} is not one of "
                f"{json.dumps(list(REVIEW_EVENTS))}.",
                docs,
            )
        body = data.get("body") or ""
        comments = data.get("comments") or []
        if not isinstance(comments, list):
            raise _invalid("For 'properties/comments', it is not an array.", docs)
        with self._lock:
            if commit_id not in state.commits:
                raise GitHubError(
                    422, "Unprocessable Entity", errors=["Commit could not be resolved"], docs=docs
                )
        _text, parsed = self._diff(state.owner, state.name, pull.base_sha, commit_id)
        files = {fd.path: fd for fd in parsed}
        messages: list[str] = []
        bad = 0
        for comment in comments:
            errors = self._review_comment_errors(files, comment, docs)
            bad += bool(errors)
            messages += [m for m in errors if m not in messages]
        too_long = [c for c in comments if len(str(c.get("body", ""))) > MAX_COMMENT_BODY]
        if len(body) > MAX_COMMENT_BODY or too_long:
            messages.append("Body is too long (maximum is 65536 characters)")
        if messages:
            with self._lock:
                self.rejected_comments += bad
                self.rejected_reviews += 1
            # One string for the whole review, joined like Rails; nothing is stored.
            raise GitHubError(
                422, "Unprocessable Entity", errors=[_rails_join(messages)], docs=docs
            )
        full = f"{state.owner}/{state.name}"
        api = f"{self._base_url(request)}/repos/{full}/pulls/{pull.number}"
        html = f"https://github.com/{full}/pull/{pull.number}"
        with self._lock:
            review_id = self.next_id()
            now = _now_iso()
            review = {
                "id": review_id,
                "node_id": f"PRR_{review_id}",
                "user": author,
                "body": body,
                "state": REVIEW_EVENTS.get(event, "PENDING"),
                "html_url": f"{html}#pullrequestreview-{review_id}",
                "pull_request_url": api,
                "commit_id": commit_id,
                "author_association": "NONE",
            }
            if event is not None:
                review["submitted_at"] = now
            stored = state.review_comments.setdefault(pull.number, [])
            for comment in comments:
                fd = files[comment["path"]]
                if "line" in comment:
                    side, line = comment.get("side", "RIGHT"), comment["line"]
                    position = fd.position_of(side, line)
                else:
                    position = comment["position"]
                    side, line, _h = fd.positions[position]
                comment_id = self.next_id()
                stored.append(
                    {
                        "id": comment_id,
                        "node_id": f"PRRC_{comment_id}",
                        "pull_request_review_id": review_id,
                        "url": f"{self._base_url(request)}/repos/{full}/pulls/comments/"
                        f"{comment_id}",
                        "html_url": f"{html}#discussion_r{comment_id}",
                        "pull_request_url": api,
                        "path": fd.path,
                        "commit_id": commit_id,
                        "original_commit_id": commit_id,
                        "diff_hunk": fd.diff_hunk(side, line),
                        "position": position,
                        "original_position": position,
                        "line": line,
                        "original_line": line,
                        "side": side,
                        "start_line": comment.get("start_line"),
                        "original_start_line": comment.get("start_line"),
                        "start_side": (
                            comment.get("start_side", side)
                            if comment.get("start_line") is not None
                            else None
                        ),
                        "subject_type": "line",
                        "body": comment["body"],
                        "user": copy.deepcopy(author),
                        "created_at": now,
                        "updated_at": now,
                        "author_association": "NONE",
                    }
                )
            state.reviews.setdefault(pull.number, []).append(review)
            # GitHub answers 200 (not 201) to "Create a review for a pull request".
            return self._json(copy.deepcopy(review), 200)

    async def _list_reviews(self, request: web.Request) -> web.Response:
        state = self._authed(request)
        pull = self._pull_of(state, request)
        with self._lock:
            items = copy.deepcopy(state.reviews.get(pull.number, []))
        return self._paginated(request, items)

    async def _list_review_comments(self, request: web.Request) -> web.Response:
        state = self._authed(request)
        pull = self._pull_of(state, request)
        with self._lock:
            items = copy.deepcopy(state.review_comments.get(pull.number, []))
        return self._paginated(request, items)
