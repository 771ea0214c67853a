"""What a job runs with: the process's services, the scheduler's hooks, its GitHub API, its
payload as its kind's model (`JobPayload`); and starting a review a person asked for
(`start_review`: a command, the Re-run button, the dashboard's Re-run)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import ClassVar, Generic, TypeVar

import asyncpg
from pydantic import BaseModel, ConfigDict

from bot.app.services import Services
from bot.github import replies
from bot.github.client import RetryingGitHubAPI
from bot.github.replies import REPLY_MARKER
from bot.pull import Pull, Repo
from bot.store import queue
from bot.store.jobs import Job, Kind, NewJob
from bot.store.queue import NewReview, Trigger

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Hooks:
    """What the scheduler lets a job do to review tasks."""

    start_review: Callable[[uuid.UUID], bool]
    cancel_reviews: Callable[[Sequence[uuid.UUID]], None]


class JobPayload(BaseModel):
    """What a job of one kind holds (stored as its payload): ids, logins and decisions, never
    a person's free text. Each kind's model sits by its handler; app/events makes them."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    kind: ClassVar[Kind]

    def new_job(
        self, installation_id: int, where: tuple[str, str] | None = None, pr: int | None = None
    ) -> NewJob:
        """A job of this kind holding this payload, about `where` (owner, repository) and PR
        `pr` when it is about one."""
        owner, repo = where or (None, None)
        payload = self.model_dump(mode="json")
        return NewJob(queue.new_id(), self.kind, installation_id, owner, repo, pr, payload)


P = TypeVar("P", bound=JobPayload)


@dataclass
class Context(Generic[P]):
    services: Services
    hooks: Hooks
    job: Job
    model: type[P]  # the payload model of the job's kind
    _gh: RetryingGitHubAPI | None = field(default=None, repr=False)

    @cached_property
    def payload(self) -> P:
        """The job's payload as its kind's model, read when first asked for."""
        return self.model.model_validate(self.job.payload)

    async def gh(self) -> RetryingGitHubAPI:
        """An API object for the job's installation (its token cached as for reviews)."""
        if self._gh is None:
            self._gh = await self.services.github.api(self.job.installation_id)
        return self._gh

    @property
    def repository(self) -> Repo:
        """The repository of a job that is about one."""
        assert self.job.repository is not None, "a job about no repository"
        return self.job.repository

    @property
    def pull(self) -> Pull:
        """The PR of a job that is about one."""
        assert self.job.pull is not None, "a job about no pull request"
        return self.job.pull

    async def reply(self, body: str) -> int:
        """Answer the command in the PR's conversation (issue comments have no threads)."""
        return await replies.comment(await self.gh(), self.pull, f"{REPLY_MARKER}\n{body}")

    async def start_review(
        self,
        head_sha: str,
        base_ref: str,
        trigger: Trigger,
        *,
        number: int | None = None,
        requested_by: str | None = None,
        reply_to: int | None = None,
    ) -> uuid.UUID:
        """Create a full review of `head_sha` that replaces the PR's others, and start it
        (of PR `number` of the job's repository; by default, the job's PR)."""
        pull = self.repository.pull(number) if number else self.pull
        return await start_review(
            self.services.pool,
            self.hooks,
            pull,
            head_sha,
            base_ref,
            trigger,
            asked_by=f"job {self.job.id}",
            requested_by=requested_by,
            reply_to=reply_to,
        )

    async def stop_reviews(self, reason: str) -> int:
        """Stop the PR's waiting and running reviews (skipped, with `reason`); how many."""
        stopped = await queue.stop_pull(self.services.pool, self.pull, reason)
        self.hooks.cancel_reviews(stopped)
        return len(stopped)


async def start_review(
    pool: asyncpg.Pool,
    hooks: Hooks,
    pull: Pull,
    head_sha: str,
    base_ref: str,
    trigger: Trigger,
    *,
    asked_by: str,
    requested_by: str | None = None,
    reply_to: int | None = None,
) -> uuid.UUID:
    """A full review of `head_sha` of `pull` asked for by a person (a command, the Re-run
    button, the dashboard's Re-run): created through the queue, replacing the PR's others,
    whose tasks are stopped, and started. `asked_by` names the asker in the log line."""
    review = NewReview(
        id=queue.new_id(),
        installation_id=pull.installation_id,
        owner=pull.owner,
        repo=pull.repo,
        pr_number=pull.number,
        head_sha=head_sha,
        base_ref=base_ref,
        trigger=trigger,
        draft=False,
        requested_by=requested_by,
        reply_to=reply_to,
    )
    async with pool.acquire() as conn:
        created = await queue.create(conn, [review])
    for replaced in created.superseded.values():
        hooks.cancel_reviews(replaced)
    hooks.start_review(review.id)
    log.info("%s: review %s of %s (%s) started", asked_by, review.id, pull, trigger)
    return review.id
