"""The reviews table's rows: what a review knows, and what publishing stores on it.

Every status change is bot/store/queue.py's; this module reads rows and records results.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from bot.pull import Pull, Repo
from bot.store import standing
from bot.store.db import Db
from bot.store.publications import Publication, recording, values
from bot.store.pulls import columns


@dataclass(frozen=True)
class Review:
    id: uuid.UUID
    installation_id: int
    owner: str
    repo: str
    pr_number: int
    head_sha: str
    base_ref: str
    trigger: str
    draft: bool
    status: str
    error: str | None
    comment_id: int | None
    check_run_id: int | None
    lease_owner: str | None
    attempts: int
    stats: dict[str, Any]
    created_at: datetime
    superseded_by: uuid.UUID | None = None
    requested_by: str | None = None
    reply_to: int | None = None
    outage_since: datetime | None = None  # deferred on an outage since (bot/app/outage.py)
    outage_retries: int = 0

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> Review:
        return cls(**{name: row[name] for name in cls.__dataclass_fields__})

    @property
    def pull(self) -> Pull:
        """The pull request reviewed."""
        return Pull(self.installation_id, self.owner, self.repo, self.pr_number)


COLUMNS = ", ".join(Review.__dataclass_fields__)


async def get(conn: Db, review_id: uuid.UUID) -> Review | None:
    row = await conn.fetchrow(f"SELECT {COLUMNS} FROM reviews WHERE id = $1", review_id)
    return Review.from_row(row) if row else None


_LAST_COMMENT = (
    "SELECT comment_id FROM reviews WHERE owner = $1 AND repo = $2 AND pr_number = $3"
    " AND comment_id IS NOT NULL ORDER BY created_at DESC LIMIT 1"
)


async def last_comment_id(conn: Db, pull: Pull) -> int | None:
    """The summary comment an earlier review of this PR posted, if any."""
    comment_id: int | None = await conn.fetchval(_LAST_COMMENT, *columns(pull))
    return comment_id


async def last_comment_standing(
    conn: Db, review: Review, lease_owner: str
) -> tuple[int | None, standing.Check]:
    """`last_comment_id` of the review's PR, and the review's standing, in one statement."""
    row = await conn.fetchrow(
        f"SELECT ({_LAST_COMMENT}) AS comment_id, {standing.columns('me', '$5')}"
        " FROM reviews me WHERE me.id = $4",
        *columns(review.pull),
        review.id,
        lease_owner,
    )
    return (row["comment_id"] if row else None), standing.of_row(row)


async def last_completed(conn: Db, pull: Pull, before: uuid.UUID) -> Review | None:
    """The PR's most recent completed review other than `before` (for incremental reviews)."""
    row = await conn.fetchrow(
        f"SELECT {COLUMNS} FROM reviews WHERE owner = $1 AND repo = $2 AND pr_number = $3"
        " AND status = 'completed' AND id <> $4 ORDER BY finished_at DESC LIMIT 1",
        *columns(pull),
        before,
    )
    return Review.from_row(row) if row else None


async def latest(conn: Db, pull: Pull) -> Review | None:
    """The PR's most recent review, whatever its status."""
    row = await conn.fetchrow(
        f"SELECT {COLUMNS} FROM reviews WHERE owner = $1 AND repo = $2 AND pr_number = $3"
        " ORDER BY seq DESC LIMIT 1",
        *columns(pull),
    )
    return Review.from_row(row) if row else None


async def of_head(
    conn: Db, repository: Repo, head_sha: str, review_id: uuid.UUID | None = None
) -> list[Review]:
    """One review per PR that reviewed `head_sha` (or review `review_id`), the latest each."""
    rows = await conn.fetch(
        f"SELECT DISTINCT ON (pr_number) {COLUMNS} FROM reviews"
        " WHERE owner = $1 AND repo = $2 AND (head_sha = $3 OR id = $4)"
        " ORDER BY pr_number, seq DESC",
        repository.owner,
        repository.repo,
        head_sha,
        review_id,
    )
    return [Review.from_row(row) for row in rows]


@dataclass(frozen=True)
class OpenCheck:
    """A stopped review's check run that nobody completed (superseded: and the head that
    replaced it; skipped: the PR closed or is ignored)."""

    review_id: uuid.UUID
    check_run_id: int
    head_sha: str
    newer_head_sha: str | None
    stopped: str | None = None  # why a skipped review stopped


def open_check(alias: str) -> str:
    """SQL: review `alias` stopped (superseded or skipped) with its check run still open."""
    return (
        f"{alias}.status IN ('superseded', 'skipped')"
        f" AND {alias}.check_run_id IS NOT NULL AND NOT {alias}.check_run_done"
    )


async def open_checks(conn: Db, pull: Pull) -> list[OpenCheck]:
    """The check runs of this PR's superseded or stopped reviews that are still in progress."""
    rows = await conn.fetch(
        "SELECT r.id, r.check_run_id, r.head_sha, n.head_sha AS newer,"
        " CASE WHEN r.status = 'skipped' THEN r.error END AS stopped FROM reviews r"
        " LEFT JOIN reviews n ON n.id = r.superseded_by"
        f" WHERE r.owner = $1 AND r.repo = $2 AND r.pr_number = $3 AND {open_check('r')}",
        *columns(pull),
    )
    return [
        OpenCheck(r["id"], r["check_run_id"], r["head_sha"], r["newer"], r["stopped"]) for r in rows
    ]


_SETTABLE = frozenset({"comment_id", "check_run_id", "check_run_done", "summary"})


async def set_fields(
    conn: Db, review_id: uuid.UUID, published: Sequence[Publication] = (), **fields: Any
) -> None:
    """Store publishing results (comment_id, check_run_id, check_run_done, the summary as
    published) on the row, and what reached GitHub (`published`), in one statement."""
    await conn.execute(
        _set(fields, published, len(fields) + 2), review_id, *_values(fields), *values(published)
    )


async def set_fields_standing(
    conn: Db,
    review_id: uuid.UUID,
    lease_owner: str,
    published: Sequence[Publication] = (),
    **fields: Any,
) -> standing.Check:
    """`set_fields`, and the review's standing after it (for the next publishing step, when
    nothing but our own work comes between)."""
    owner = len(fields) + 2
    returning = f" RETURNING {standing.columns('me', f'${owner}')}"
    row = await conn.fetchrow(
        _set(fields, published, owner + 1) + returning,
        review_id,
        *_values(fields),
        lease_owner,
        *values(published),
    )
    return standing.of_row(row)


def _set(fields: dict[str, Any], published: Sequence[Publication], first: int) -> str:
    """The UPDATE of review $1's `fields` ($2 on), after recording `published` (their values
    from parameter `first` on)."""
    unknown = set(fields) - _SETTABLE
    if unknown:
        raise ValueError(f"cannot set {sorted(unknown)}")
    names = sorted(fields)
    assignments = "".join(f"{name} = ${i}, " for i, name in enumerate(names, start=2))
    return (
        f"{recording(published, first)}"
        f"UPDATE reviews me SET {assignments}updated_at = now() WHERE me.id = $1"  # noqa: S608
    )


def _values(fields: dict[str, Any]) -> list[Any]:
    return [fields[name] for name in sorted(fields)]


async def failing(conn: Db, since: datetime) -> list[Pull]:
    """The open PRs whose latest review completed after `since` with its check run concluded
    `failure` (`stats.conclusion`, as github/checks decided it) on a finding it published:
    not closed since."""
    rows = await conn.fetch(
        """
        SELECT r.installation_id, r.owner, r.repo, r.pr_number FROM reviews r
         WHERE r.status = 'completed' AND r.finished_at >= $1
           AND r.stats ->> 'conclusion' = 'failure'
           AND NOT EXISTS (
               SELECT 1 FROM reviews n WHERE n.owner = r.owner AND n.repo = r.repo
                  AND n.pr_number = r.pr_number AND n.seq > r.seq)
           AND NOT EXISTS (
               SELECT 1 FROM jobs j WHERE j.kind = 'closed' AND j.owner = r.owner
                  AND j.repo = r.repo AND j.pr_number = r.pr_number
                  AND j.created_at > r.finished_at)
        """,
        since,
    )
    return [Pull(*row) for row in rows]


async def published_summary(conn: Db, review_id: uuid.UUID) -> dict[str, Any] | None:
    """The summary the review last published, as stored (JSON), if any."""
    found: dict[str, Any] | None = await conn.fetchval(
        "SELECT summary FROM reviews WHERE id = $1", review_id
    )
    return found


async def add_stats(conn: Db, review_id: uuid.UUID, stats: dict[str, Any]) -> None:
    """Merge figures into the review's stats (calls, characters, tokens, files)."""
    await conn.execute(
        "UPDATE reviews SET stats = stats || $2::jsonb, updated_at = now() WHERE id = $1",
        review_id,
        stats,
    )


@dataclass(frozen=True)
class Timing:
    """How long a review took, for the metrics: its status, whether it was ever claimed,
    seconds from creation to its final status (None: not final) and its age now."""

    status: str
    ran: bool
    took: float | None
    age: float


TIMING = (
    "status, attempts > 0 AS ran, extract(epoch FROM finished_at - created_at) AS took,"
    " extract(epoch FROM now() - created_at) AS age"
)


def timing_of(row: asyncpg.Record) -> Timing:
    took = row["took"]
    return Timing(
        row["status"], row["ran"], None if took is None else float(took), float(row["age"])
    )


async def timings(conn: Db, review_ids: list[uuid.UUID]) -> list[Timing]:
    rows = await conn.fetch(f"SELECT {TIMING} FROM reviews WHERE id = ANY($1::uuid[])", review_ids)
    return [timing_of(row) for row in rows]
