"""Who may steer the reviewer: the one place that decides, from GitHub's own answer about a
person's permission on the repository, never from the comment's `author_association`.

`author_association` MEMBER means "a member of the organization that owns the repository" and
COLLABORATOR "invited to the repository": both include people with read or triage access
only. So every command that changes an outcome (review, pause, resume, ignore), every
dismissal (a 👎 or a reply that says "wrong") and, unless the repository opens them, thread
answers need write, maintain or admin, as `GET /repos/{o}/{r}/collaborators/{u}/permission`
says. The answer is kept PERMISSION_TTL and dropped on member, team, organization and
installation events (`forget`). Only the owner of a user-owned repository is known without
asking: no other account can have the owner's login.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from enum import StrEnum
from http import HTTPStatus

import gidgethub

from bot.app.services import Services
from bot.github.client import RetryingGitHubAPI, has_status, url_vars
from bot.pull import Pull, Repo
from bot.store import jobs, permissions
from bot.store.permissions import Permission

log = logging.getLogger(__name__)

PERMISSION_TTL = timedelta(minutes=5)
# GitHub's legacy `permission` reports maintain as write and a custom role as its base role.
WRITE_PERMISSIONS = frozenset({"admin", "write"})
WRITE_ROLES = frozenset({"admin", "maintain", "write"})
# A person without write access hears why at most once per PR in this window (a refusal, the
# help text or an unknown command's answer): after that, nothing, so nobody can make us spam.
TOLD_EVERY = timedelta(hours=1)
NOBODY = Permission("none", "none")


class Act(StrEnum):
    """What a person may ask of the reviewer."""

    REVIEW = "review"
    PAUSE = "pause"
    RESUME = "resume"
    IGNORE = "ignore"
    ANSWER = "answer"  # the one act a repository may open to everyone (thread_answers)


# What each act needs, said in a refusal.
NEEDS = "write access to this repository (the write, maintain or admin role)"


def is_bot(login: str) -> bool:
    """An App's account (ours, Dependabot, ...): never steers, never asked about."""
    return login.lower().endswith("[bot]")


def writes(found: Permission) -> bool:
    return found.permission in WRITE_PERMISSIONS or found.role_name in WRITE_ROLES


async def permission(
    services: Services, gh: RetryingGitHubAPI, repository: Repo, login: str
) -> Permission:
    """What GitHub says `login` may do on the repository (from the cache while it is fresh)."""
    if is_bot(login):
        return NOBODY
    if login.lower() == repository.owner.lower():  # the owner of a user-owned repository
        return Permission("admin", "admin")
    now = services.clock()
    found = await permissions.cached(services.pool, repository, login, now - PERMISSION_TTL)
    if found is None:
        found = await _ask(gh, repository, login)
        await permissions.keep(services.pool, repository, login, found, now)
    return found


def allowed(act: Act, writer: bool, *, answers_open: bool = False) -> bool:
    """The policy: every act needs write access, but an answer in a thread of a repository
    whose config says `thread_answers: everyone` (never a command or a dismissal)."""
    return writer or (act is Act.ANSWER and answers_open)


async def is_writer(
    services: Services, gh: RetryingGitHubAPI, repository: Repo, login: str
) -> bool:
    """Whether `login` has write, maintain or admin on the repository; a bot never has."""
    return writes(await permission(services, gh, repository, login))


async def told_lately(services: Services, pull: Pull, login: str) -> bool:
    """Whether `login` was already refused (or given the help text) on this PR lately."""
    since = services.clock() - TOLD_EVERY
    return await jobs.told_since(services.pool, pull, login, since)


async def forget(
    services: Services,
    installation_id: int,
    repository: tuple[str, str] | None = None,
    login: str | None = None,
) -> int:
    """Drop what is known (an event said access changed); how many answers were dropped."""
    return await permissions.forget(services.pool, installation_id, repository, login)


async def _ask(gh: RetryingGitHubAPI, repository: Repo, login: str) -> Permission:
    try:
        answer = await gh.getitem(
            "/repos/{owner}/{repo}/collaborators/{username}/permission",
            url_vars=url_vars(repository, username=login),
        )
    except gidgethub.BadRequest as exc:
        if has_status(exc, HTTPStatus.NOT_FOUND):  # no such user
            return NOBODY
        raise
    if not isinstance(answer, dict):
        return NOBODY
    found = Permission(
        str(answer.get("permission") or "none"), str(answer.get("role_name") or "none")
    )
    log.debug("%s on %s: %s (%s)", login, repository, found.role_name, found.permission)
    return found
