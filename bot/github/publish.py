"""Results on the PR: the one summary comment (found again by its marker and edited in place)
and the one inline review per head; each is created once, a retry finding what it created."""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from http import HTTPStatus
from typing import Any, NamedTuple

import gidgethub

from bot.errors import describe
from bot.github.client import RetryingGitHubAPI, has_status, url_vars
from bot.github.repo_config import RepoConfig
from bot.pull import Pull
from bot.review.changes import Diff
from bot.review.findings import Finding, inline_candidates, suggestion_fits
from bot.review.render import Summary, inline_body, with_state

log = logging.getLogger(__name__)


async def find_comment(
    gh: RetryingGitHubAPI, pull: Pull, marker: str, author: str | None = None
) -> int | None:
    """Our summary comment's id: every page is read, a busy PR has more than one."""
    found = await our_comment(gh, pull, marker, author)
    return int(found["id"]) if found is not None else None


async def our_comment(
    gh: RetryingGitHubAPI, pull: Pull, marker: str, author: str | None = None
) -> dict[str, Any] | None:
    """Our summary comment: by a bot (`author`, when given) and starting with the marker."""
    async for comment in gh.getiter(
        "/repos/{owner}/{repo}/issues/{number}/comments{?per_page}",
        url_vars=url_vars(pull, per_page="100"),
    ):
        # Our comment starts with the marker; text quoted inside another comment does not.
        user = comment.get("user") or {}
        ours = user.get("type") == "Bot" and author in (None, user.get("login"))
        if ours and (comment.get("body") or "").startswith(marker):
            return dict(comment)  # the oldest one wins; it is the one people have seen
    return None


class Upserted(NamedTuple):
    """Our summary comment after `upsert_comment`: its id, and whether it was created."""

    id: int
    created: bool


async def upsert_comment(
    gh: RetryingGitHubAPI,
    pull: Pull,
    body: str,
    marker: str,
    known_id: int | None = None,
    author: str | None = None,
) -> Upserted:
    """Edit our summary comment (known id first, else found by marker and, when given, its
    author: the Action's is not the App's), or create it."""
    comment_id = known_id
    if comment_id is None:
        comment_id = await find_comment(gh, pull, marker, author)
    if comment_id is not None:
        try:
            await gh.patch(
                "/repos/{owner}/{repo}/issues/comments/{id}",
                url_vars=url_vars(pull.repository, id=str(comment_id)),
                data={"body": body},
            )
            return Upserted(comment_id, created=False)
        except gidgethub.BadRequest as exc:
            if not has_status(exc, HTTPStatus.NOT_FOUND) or known_id is None:
                raise
            log.info("summary comment %s is gone; looking again", comment_id)
            return await upsert_comment(gh, pull, body, marker, author=author)
    return Upserted(await create_comment(gh, pull, body, marker, author), created=True)


async def create_comment(
    gh: RetryingGitHubAPI, pull: Pull, body: str, marker: str, author: str | None = None
) -> int:
    """Create our summary comment (`body` starts with `marker`); a retry after a failure that
    may have created it looks for it by its marker first."""

    async def created_before() -> dict[str, Any] | None:
        return await our_comment(gh, pull, marker, author)

    created = await gh.create(
        "/repos/{owner}/{repo}/issues/{number}/comments",
        url_vars=url_vars(pull),
        data={"body": body},
        find=created_before,
    )
    return int(created["id"])


async def set_state(
    gh: RetryingGitHubAPI, pull: Pull, state: str, marker: str, known_id: int | None = None
) -> int:
    """Put the PR's state block into our summary comment (creating a comment of just that
    when the PR has none yet); the comment's id."""
    comment_id = known_id or await find_comment(gh, pull, marker)
    if comment_id is not None:
        try:
            current = await gh.getitem(
                "/repos/{owner}/{repo}/issues/comments/{id}",
                url_vars=url_vars(pull.repository, id=str(comment_id)),
            )
        except gidgethub.BadRequest as exc:
            if not has_status(exc, HTTPStatus.NOT_FOUND) or known_id is None:
                raise
            return await set_state(gh, pull, state, marker)
        body = with_state(current.get("body") or "", state)
        return (await upsert_comment(gh, pull, body, marker, comment_id)).id
    body = f"{marker}\n## Second Look review\n\n{state}\n"
    return await create_comment(gh, pull, body, marker)


@dataclass(frozen=True)
class InlineComment:
    """A comment on lines start_line..line of the new side (RIGHT) of one file."""

    path: str
    start_line: int
    line: int
    body: str

    def as_json(self) -> dict[str, object]:
        data: dict[str, object] = {
            "path": self.path,
            "line": self.line,
            "side": "RIGHT",
            "body": self.body,
        }
        if self.start_line != self.line:
            data.update(start_line=self.start_line, start_side="RIGHT")
        return data


def inline_comments(findings: list[Finding], diff: Diff) -> list[InlineComment]:
    """The findings on lines of the diff as comments, with a one-click suggestion where it
    was offered (findings.offerable) and still fits this diff."""
    return [
        InlineComment(
            f.file_path,
            f.line_start,
            f.line_end or f.line_start,
            inline_body(f, f.offered and suggestion_fits(f, diff)),
        )
        for f in findings
        if f.line_start is not None
    ]


def review_marker(head_sha: str) -> str:
    return f"<!-- second-look:review {head_sha} -->"


async def find_review(gh: RetryingGitHubAPI, pull: Pull, head_sha: str) -> int | None:
    """Our inline review of this head, if it was posted already (marker and commit id)."""
    marker = review_marker(head_sha)
    async for review in gh.getiter(
        "/repos/{owner}/{repo}/pulls/{number}/reviews{?per_page}",
        url_vars=url_vars(pull, per_page="100"),
    ):
        if review.get("commit_id") == head_sha and (review.get("body") or "").startswith(marker):
            return int(review["id"])
    return None


async def post_review(
    gh: RetryingGitHubAPI, pull: Pull, head_sha: str, body: str, comments: list[InlineComment]
) -> int:
    """Post one COMMENT review with the inline comments, unless this head already has ours."""
    existing = await find_review(gh, pull, head_sha)
    if existing is not None:
        log.info("%s: inline review of %s already posted", pull, head_sha[:12])
        return existing

    async def created_before() -> dict[str, Any] | None:
        found = await find_review(gh, pull, head_sha)
        return {"id": found} if found is not None else None

    created = await gh.create(
        "/repos/{owner}/{repo}/pulls/{number}/reviews",
        url_vars=url_vars(pull),
        data={
            "commit_id": head_sha,
            "event": "COMMENT",
            "body": f"{review_marker(head_sha)}\n{body}",
            "comments": [c.as_json() for c in comments],
        },
        find=created_before,
    )
    return int(created["id"])


INLINE_REFUSED = "GitHub refused the inline comments; every finding is listed here instead."


def chosen_inline(
    findings: Sequence[Finding], config: RepoConfig, posted: Collection[str] = ()
) -> list[Finding]:
    """What is shown on a line, as inline comments and as the check run's annotations
    (`posted` empty): the repository's choice (`max_inline_comments`, the severity floor),
    without what is inline already (`posted` fingerprints)."""
    fresh = [f for f in findings if f.fingerprint not in posted]
    return inline_candidates(fresh, config.max_inline_comments, config.min_inline_severity)


@dataclass(frozen=True)
class Inline:
    """What `post_inline` did: the findings posted, the summary saying so, our review's id on
    GitHub, or why GitHub refused it (422)."""

    posted: list[Finding]
    summary: Summary
    review_id: int | None = None
    refused: str | None = None


async def post_inline(
    gh: RetryingGitHubAPI,
    pull: Pull,
    head_sha: str,
    diff: Diff,
    chosen: list[Finding],
    summary: Summary,
) -> Inline:
    """One COMMENT review of the chosen findings (placed on the diff's lines): those posted,
    and the summary counting them, or saying GitHub refused them (422: it lists every
    finding)."""
    if not chosen:
        return Inline([], summary)
    comments = inline_comments(chosen, diff)
    body = f"Second Look: {len(comments)} inline comment(s); the summary has them all."
    try:
        review_id = await post_review(gh, pull, head_sha, body, comments)
    except gidgethub.BadRequest as exc:
        if not has_status(exc, HTTPStatus.UNPROCESSABLE_ENTITY):
            raise
        log.warning("%s: GitHub refused the inline comments: %s", pull, describe(exc))
        return Inline([], summary.noted(INLINE_REFUSED), refused=describe(exc))
    return Inline(chosen, replace(summary, inline=len(chosen)), review_id)
