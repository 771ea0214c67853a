"""process_job(job_id): claim a job, run its kind's handler under the lease, record how it
ended. KINDS is where every kind of job is registered."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic

from bot import logs
from bot.app import leased_runner
from bot.app.conversation import answers, commands, lifecycle
from bot.app.conversation.context import Context, Hooks, P
from bot.app.services import Services
from bot.store import jobs
from bot.store.jobs import Job, JobStatus, Kind

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobKind(Generic[P]):
    """A kind of job: what it holds, and what runs it (the outcome in a few words)."""

    payload: type[P]
    run: Callable[[Context[P]], Awaitable[str]]


def _by_kind(*kinds: JobKind[Any]) -> dict[Kind, JobKind[Any]]:
    registered = {kind.payload.kind: kind for kind in kinds}
    if set(registered) != set(Kind) or len(registered) != len(kinds):
        raise RuntimeError("each job kind must be registered exactly once")
    return registered


# A new kind of job: its payload model and handler (in bot/app/conversation/), its line here,
# the function in app/events.py that asks for it; its name in store/jobs.Kind and in the
# jobs table's CHECK.
KINDS = _by_kind(
    JobKind(commands.CommandJob, commands.run),
    JobKind(commands.RerunJob, commands.rerun),
    JobKind(answers.AnswerJob, answers.run),
    JobKind(lifecycle.ClosedJob, lifecycle.closed),
    JobKind(lifecycle.InstallationJob, lifecycle.installation),
    JobKind(lifecycle.AccessJob, lifecycle.access_changed),
)


@dataclass(frozen=True)
class Ended:
    status: JobStatus
    outcome: str
    error: str | None = None


@dataclass
class JobRun(leased_runner.Work[Ended, None]):
    """One claimed job, as leased work (bot/app/leased_runner.py)."""

    leased = jobs.JOBS

    services: Services
    hooks: Hooks
    job: Job

    @property
    def row_id(self) -> uuid.UUID:
        return self.job.id

    @property
    def attempts(self) -> int:
        return self.job.attempts

    @property
    def label(self) -> str:
        job = self.job
        on = f" on {job.pull}" if job.pull else ""
        return f"job {job.id} ({job.kind}{on})"

    @property
    def lease_seconds(self) -> float:
        return jobs.LEASE_SECONDS

    @property
    def outage_since(self) -> datetime | None:
        return self.job.outage_since

    @property
    def outage_retries(self) -> int:
        return self.job.outage_retries

    async def give_up(self, reason: str) -> None:
        services = self.services
        await jobs.JOBS.give_up(services.pool, self.job.id, services.lease_owner, outcome="gave up")

    async def execute(self) -> Ended:
        kind = KINDS[self.job.kind]
        context = Context(self.services, self.hooks, self.job, kind.payload)
        return Ended(JobStatus.DONE, await kind.run(context))

    async def failed(self, error: str) -> Ended:
        return Ended(JobStatus.FAILED, "failed", error)

    async def finish(self, ended: Ended) -> None:
        pool, owner = self.services.pool, self.services.lease_owner
        if await jobs.finish(pool, self.job.id, owner, ended.status, ended.outcome, ended.error):
            log.info("%s: %s", self.label, ended.outcome)
        else:
            log.warning("%s finished after losing its lease; result not recorded", self.label)


async def process_job(job_id: uuid.UUID, services: Services, hooks: Hooks) -> None:
    """Run the job if it may run now; never raises for the job's own failure."""
    with logs.bound(job_id=job_id):
        await leased_runner.run(claim(job_id, services, hooks))


async def claim(job_id: uuid.UUID, services: Services, hooks: Hooks) -> JobRun | None:
    """The job, leased to us, if it may run now."""
    job = await jobs.claim(services.pool, job_id, services.lease_owner, services.clock())
    if job is None:
        return None
    if job.repository is not None:
        logs.bind(repository=job.repository.full_name, pr=job.pr_number)
    return JobRun(services, hooks, job)
