"""Results on the PR: the one summary comment, found again by its marker and edited in place."""

from __future__ import annotations

import logging

from bot.github.client import GitHubError, RetryingGitHubAPI

log = logging.getLogger(__name__)


async def find_comment(
    gh: RetryingGitHubAPI, owner: str, repo: str, number: int, marker: str
) -> int | None:
    """Our summary comment's id: every page is read, a busy PR has more than one."""
    found = None
    async for comment in gh.getiter(
        "/repos/{owner}/{repo}/issues/{number}/comments{?per_page}",
        url_vars={"owner": owner, "repo": repo, "number": str(number), "per_page": "100"},
    ):
        if (
            marker in (comment.get("body") or "")
            and (comment.get("user") or {}).get("type") == "Bot"
        ):
            found = comment["id"]  # the oldest one wins; it is the one people have seen
            break
    return found


async def upsert_comment(
    gh: RetryingGitHubAPI,
    owner: str,
    repo: str,
    number: int,
    body: str,
    marker: str,
    known_id: int | None = None,
) -> int:
    """Edit our summary comment (known id first, else found by marker), or create it."""
    comment_id = known_id
    if comment_id is None:
        comment_id = await find_comment(gh, owner, repo, number, marker)
    if comment_id is not None:
        try:
            await gh.patch(
                "/repos/{owner}/{repo}/issues/comments/{id}",
                url_vars={"owner": owner, "repo": repo, "id": str(comment_id)},
                data={"body": body},
            )
            return comment_id
        except GitHubError as exc:
            if exc.status != 404 or known_id is None:
                raise
            log.info("summary comment %s is gone; looking again", comment_id)
            return await upsert_comment(gh, owner, repo, number, body, marker)
    created = await gh.post(
        "/repos/{owner}/{repo}/issues/{number}/comments",
        url_vars={"owner": owner, "repo": repo, "number": str(number)},
        data={"body": body},
    )
    return int(created["id"])
