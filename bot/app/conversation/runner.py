"""process_job(job_id): claim a job, run what its kind asks, record how it ended."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable

from bot import logs
from bot.app.conversation import answers, commands, lifecycle
from bot.app.conversation.context import Context, Hooks
from bot.app.services import Services
from bot.app.worker import EXPECTED, describe_error
from bot.store import jobs
from bot.store.jobs import JobStatus, Kind

log = logging.getLogger(__name__)

HANDLERS: dict[Kind, Callable[[Context], Awaitable[str]]] = {
    Kind.COMMAND: commands.run,
    Kind.RERUN: commands.rerun,
    Kind.ANSWER: answers.run,
    Kind.CLOSED: lifecycle.closed,
    Kind.INSTALLATION: lifecycle.installation,
    Kind.ACCESS: lifecycle.access_changed,
}


async def process_job(job_id: uuid.UUID, services: Services, hooks: Hooks) -> None:
    """Run the job if it may run now; never raises for the job's own failure."""
    with logs.bound(job_id=job_id):
        await _process_job(job_id, services, hooks)


async def _process_job(job_id: uuid.UUID, services: Services, hooks: Hooks) -> None:
    job = await jobs.claim(services.pool, job_id, services.lease_owner)
    if job is None:
        return
    if job.owner and job.repo:
        logs.bind(repository=f"{job.owner}/{job.repo}", pr=job.pr_number)
    where = f"job {job.id} ({job.kind}" + (
        f" on {job.owner}/{job.repo}#{job.pr_number})" if job.pr_number else ")"
    )
    if job.attempts > jobs.MAX_ATTEMPTS:
        reason = f"gave up after {jobs.MAX_ATTEMPTS} attempts: its process stopped each time"
        log.warning("%s failed: %s", where, reason)
        await jobs.finish(services.pool, job.id, services.lease_owner, JobStatus.FAILED,
                          "gave up", reason)  # fmt: skip
        return
    status, error = JobStatus.DONE, None
    try:
        outcome = await HANDLERS[job.kind](Context(services, hooks, job))
    except Exception as exc:
        status, outcome, error = JobStatus.FAILED, "failed", describe_error(exc)
        if isinstance(exc, EXPECTED):
            log.warning("%s failed: %s", where, error)
        else:
            log.exception("%s failed unexpectedly: %s", where, error)
    if await jobs.finish(services.pool, job.id, services.lease_owner, status, outcome, error):
        log.info("%s: %s", where, outcome)
    else:
        log.warning("%s finished after losing its lease; result not recorded", where)
