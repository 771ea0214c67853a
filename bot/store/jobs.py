"""The jobs table: work on a PR that is not a review (a command, a Re-run, an answer in a
thread, a closed PR, an installation event), each run once under a lease.

    created with its delivery ──> pending ──claim──> processing ──finish──> done | failed
                                                        └── abandoned (lease expired or its
                                                            process gone) ── claim again

A PR's jobs run one at a time, in the order they arrived: a job is not claimed while an
earlier one of its PR is unfinished, so `pause` then `resume` end resumed. The claim, the lease
and the attempts (MAX_ATTEMPTS, then it fails) are leased work's, shared with the reviews
(bot/store/lease.py).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

import asyncpg

from bot.pull import Pull, Repo
from bot.store import lease
from bot.store.db import Db
from bot.store.pulls import columns


class Kind(StrEnum):
    """What a job does, as the migration's CHECK allows."""

    COMMAND = "command"  # a command in a PR comment
    RERUN = "rerun"  # the Re-run button of our check run or suite
    ANSWER = "answer"  # a reply in one of our inline threads
    CLOSED = "closed"  # a PR closed: stop its review, read its reactions
    INSTALLATION = "installation"  # installed, removed, suspended, repositories changed
    ACCESS = "access"  # a member, team or organization event: forget what we knew of access


class JobStatus(StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    DONE = "done"
    FAILED = "failed"


LEASE_SECONDS = 300.0  # a job makes a few GitHub calls and at most one Gemini call
MAX_ATTEMPTS = 3


@dataclass(slots=True)
class NewJob:
    """A job to create; `payload` holds ids and decisions, never a person's free text."""

    id: uuid.UUID
    kind: Kind
    installation_id: int
    owner: str | None = None
    repo: str | None = None
    pr_number: int | None = None
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Job:
    id: uuid.UUID
    kind: Kind
    installation_id: int
    owner: str | None
    repo: str | None
    pr_number: int | None
    payload: dict[str, Any]
    attempts: int
    created_at: datetime
    outage_since: datetime | None = None  # deferred on an outage since (bot/app/outage.py)
    outage_retries: int = 0

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> Job:
        values = {name: row[name] for name in cls.__dataclass_fields__}
        values["kind"] = Kind(values["kind"])
        return cls(**values)

    @property
    def repository(self) -> Repo | None:
        """The repository the job is about, if any."""
        if self.owner is None or self.repo is None:
            return None
        return Repo(self.installation_id, self.owner, self.repo)

    @property
    def pull(self) -> Pull | None:
        """The pull request the job is about, if any."""
        repository = self.repository
        if repository is None or self.pr_number is None:
            return None
        return repository.pull(self.pr_number)


_COLUMNS = ", ".join(Job.__dataclass_fields__)

# The jobs as leased work (bot/store/lease.py): a job's turn comes when no earlier job of its
# PR is unfinished.
JOBS = lease.Leased(
    "jobs",
    MAX_ATTEMPTS,
    pending="t.status = 'pending'"
    " AND (t.not_before IS NULL OR t.not_before <= coalesce($NOW, now()))",
    turn="""(t.pr_number IS NULL OR NOT EXISTS (
        SELECT 1 FROM jobs e
         WHERE e.owner = t.owner AND e.repo = t.repo AND e.pr_number = t.pr_number
           AND e.seq < t.seq AND e.status IN ('pending', 'processing')))""",
    order="seq",
)
release = JOBS.release

# The statement queue.create runs inserts them with `fresh` deliveries; written once, here.
INSERT = """
    INSERT INTO jobs (id, delivery_id, kind, installation_id, owner, repo, pr_number, payload)
    SELECT j.id, j.d, j.k, j.i, j.o, j.r, j.p, j.pl
      FROM unnest(${0}::uuid[], ${1}::text[], ${2}::text[], ${3}::bigint[], ${4}::text[],
                  ${5}::text[], ${6}::int[], ${7}::jsonb[]) AS j(id, d, k, i, o, r, p, pl)
     WHERE j.d IS NULL OR j.d IN (SELECT delivery_id FROM fresh)
    RETURNING id
"""


def insert_arguments(asked: list[tuple[str | None, NewJob]]) -> list[list[Any]]:
    """The eight arrays INSERT takes, for (delivery id, job) pairs."""
    jobs = [job for _, job in asked]
    return [
        [job.id for job in jobs],
        [delivery for delivery, _ in asked],
        [str(job.kind) for job in jobs],
        [job.installation_id for job in jobs],
        [job.owner for job in jobs],
        [job.repo for job in jobs],
        [job.pr_number for job in jobs],
        [job.payload for job in jobs],
    ]


async def claim(
    pool: asyncpg.Pool, job_id: uuid.UUID, lease_owner: str, now: datetime | None = None
) -> Job | None:
    """Take the job if it may run now (`now`: the App's clock), leased to lease_owner; None
    otherwise."""
    row = await JOBS.claim(pool, job_id, lease_owner, LEASE_SECONDS, now, returning=_COLUMNS)
    return Job.from_row(row) if row else None


async def waiting(pool: asyncpg.Pool, limit: int) -> list[uuid.UUID]:
    """Ids of jobs that may run now, oldest first."""
    return await JOBS.waiting(pool, limit)


async def finish(
    pool: asyncpg.Pool,
    job_id: uuid.UUID,
    lease_owner: str,
    status: JobStatus,
    outcome: str,
    error: str | None = None,
) -> bool:
    """Record how our job ended; refused (False) if the lease was lost meanwhile."""
    if status not in (JobStatus.DONE, JobStatus.FAILED):
        raise ValueError(f"not a status a job finishes with: {status}")
    ended = await JOBS.finish(pool, job_id, lease_owner, str(status), outcome=outcome, error=error)
    return ended is not None


async def answers_since(db: Db, pull: Pull, since: datetime) -> int:
    """How many answers were given in the PR's threads since `since`."""
    count: int = await db.fetchval(
        "SELECT count(*) FROM jobs WHERE kind = 'answer' AND outcome = 'answered'"
        " AND owner = $1 AND repo = $2 AND pr_number = $3 AND finished_at >= $4",
        *columns(pull),
        since,
    )
    return count


async def told_since(db: Db, pull: Pull, login: str, since: datetime) -> bool:
    """Whether `login` was refused, or given the help text, on the PR since `since`."""
    found: bool = await db.fetchval(
        "SELECT EXISTS (SELECT 1 FROM jobs WHERE owner = $1 AND repo = $2 AND pr_number = $3"
        " AND payload ->> 'login' = $4 AND finished_at >= $5"
        " AND outcome IN ('refused', 'help', 'unknown command'))",  # migration 0011's index
        *columns(pull),
        login,
        since,
    )
    return found


async def get(db: Db, job_id: uuid.UUID) -> asyncpg.Record | None:
    """The job's row as stored (status, outcome and error included), for tests and tools."""
    return await db.fetchrow("SELECT * FROM jobs WHERE id = $1", job_id)
