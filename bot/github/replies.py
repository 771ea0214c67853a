"""Talking back on a PR: reactions, replies to a comment or in a review thread, and the
commenter's permission on the repository."""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus

import gidgethub

from bot.github.client import RetryingGitHubAPI, has_status

# Who may give commands: GitHub's author association says so for these; for the others
# (a private org member reads as CONTRIBUTOR or NONE) the permission API is asked.
WRITERS = frozenset({"OWNER", "MEMBER", "COLLABORATOR"})
WRITE_PERMISSIONS = frozenset({"admin", "write"})  # "maintain" reads as "write" here


async def react(
    gh: RetryingGitHubAPI, owner: str, repo: str, comment_id: int, content: str,
    *, review_comment: bool = False,
) -> None:  # fmt: skip
    """Add our reaction (`eyes`, `+1` ...) to an issue comment or a review comment.

    Retried like any request: GitHub answers 200 for a reaction that exists already."""
    kind = "pulls" if review_comment else "issues"
    await gh.post(
        f"/repos/{{owner}}/{{repo}}/{kind}/comments/{{id}}/reactions",
        url_vars={"owner": owner, "repo": repo, "id": str(comment_id)},
        data={"content": content},
    )


async def comment(gh: RetryingGitHubAPI, owner: str, repo: str, number: int, body: str) -> int:
    """A new comment in the PR's conversation (where commands are answered); its id.

    Not tried again after a failure that may have posted it: a reply is better missing (the
    summary comment says it all) than twice."""
    created = await gh.create(
        "/repos/{owner}/{repo}/issues/{number}/comments",
        url_vars={"owner": owner, "repo": repo, "number": str(number)},
        data={"body": body}, find=None,
    )  # fmt: skip
    return int(created["id"])


async def reply_in_thread(
    gh: RetryingGitHubAPI, owner: str, repo: str, number: int, root_id: int, body: str
) -> int:
    """A reply in the review thread that starts with comment `root_id`; its id.

    Not tried again after a failure that may have posted it, as `comment`."""
    created = await gh.create(
        "/repos/{owner}/{repo}/pulls/{number}/comments/{id}/replies",
        url_vars={"owner": owner, "repo": repo, "number": str(number), "id": str(root_id)},
        data={"body": body}, find=None,
    )  # fmt: skip
    return int(created["id"])


async def may_write(
    gh: RetryingGitHubAPI, owner: str, repo: str, login: str, association: str
) -> bool:
    """Whether `login` has write access: by association when it says so, else by asking."""
    if association in WRITERS:
        return True
    try:
        answer = await gh.getitem(
            "/repos/{owner}/{repo}/collaborators/{username}/permission",
            url_vars={"owner": owner, "repo": repo, "username": login},
        )
    except gidgethub.BadRequest as exc:
        if has_status(exc, HTTPStatus.NOT_FOUND):  # not a collaborator, or no such user
            return False
        raise
    return isinstance(answer, dict) and answer.get("permission") in WRITE_PERMISSIONS


@dataclass(frozen=True)
class OpenPull:
    """The PR as it is now, for a review someone asked for."""

    head_sha: str
    base_ref: str
    open: bool
    draft: bool


async def pull(gh: RetryingGitHubAPI, owner: str, repo: str, number: int) -> OpenPull:
    answer = await gh.getitem(
        "/repos/{owner}/{repo}/pulls/{number}",
        url_vars={"owner": owner, "repo": repo, "number": str(number)},
    )
    return OpenPull(
        head_sha=answer["head"]["sha"],
        base_ref=answer["base"]["ref"],
        open=answer.get("state") == "open",
        draft=bool(answer.get("draft")),
    )
