"""Talking back on a PR: reactions, replies to a comment or in a review thread, the PR now.
(Who may steer the reviewer is bot/app/conversation/access.py's.)"""

from __future__ import annotations

from dataclasses import dataclass

from bot.github.client import RetryingGitHubAPI, url_vars
from bot.pull import Pull, Repo

REPLY_MARKER = "<!-- second-look:reply -->"  # starts every reply of ours to a command


async def react(
    gh: RetryingGitHubAPI,
    repository: Repo,
    comment_id: int,
    content: str,
    *,
    review_comment: bool = False,
) -> None:
    """Add our reaction (`eyes`, `+1` ...) to an issue comment or a review comment.

    Retried like any request: GitHub answers 200 for a reaction that exists already."""
    kind = "pulls" if review_comment else "issues"
    await gh.post(
        f"/repos/{{owner}}/{{repo}}/{kind}/comments/{{id}}/reactions",
        url_vars=url_vars(repository, id=str(comment_id)),
        data={"content": content},
    )


async def comment(gh: RetryingGitHubAPI, pull: Pull, body: str) -> int:
    """A new comment in the PR's conversation (where commands are answered); its id.

    Not tried again after a failure that may have posted it: a reply is better missing (the
    summary comment says it all) than twice."""
    created = await gh.create(
        "/repos/{owner}/{repo}/issues/{number}/comments",
        url_vars=url_vars(pull),
        data={"body": body},
        find=None,
    )
    return int(created["id"])


async def reply_in_thread(gh: RetryingGitHubAPI, pull: Pull, root_id: int, body: str) -> int:
    """A reply in the review thread that starts with comment `root_id`; its id.

    Not tried again after a failure that may have posted it, as `comment`."""
    created = await gh.create(
        "/repos/{owner}/{repo}/pulls/{number}/comments/{id}/replies",
        url_vars=url_vars(pull, id=str(root_id)),
        data={"body": body},
        find=None,
    )
    return int(created["id"])


@dataclass(frozen=True)
class OpenPull:
    """The PR as it is now, for a review someone asked for."""

    head_sha: str
    base_ref: str
    open: bool
    draft: bool


async def pull(gh: RetryingGitHubAPI, pull: Pull) -> OpenPull:
    answer = await gh.getitem("/repos/{owner}/{repo}/pulls/{number}", url_vars=url_vars(pull))
    return OpenPull(
        head_sha=answer["head"]["sha"],
        base_ref=answer["base"]["ref"],
        open=answer.get("state") == "open",
        draft=bool(answer.get("draft")),
    )
