"""The reviews table: it is also the queue that review tasks claim from."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

FINISHED = ("completed", "failed", "superseded", "skipped")

# Every process holds pg_advisory_lock(LIVENESS_CLASS, hashtext(lease_owner)) on a connection
# of its own while it runs. When it dies, PostgreSQL drops the lock with the connection, so
# its reviews can be taken at once instead of when the lease expires.
LIVENESS_CLASS = 0x5EC1
_ABANDONED = f"""
    (status = 'processing' AND (
        lease_expires_at < now()
        OR NOT EXISTS (
            SELECT 1 FROM pg_locks
             WHERE locktype = 'advisory' AND objsubid = 2 AND granted
               AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
               AND classid = {LIVENESS_CLASS}
               AND objid = (hashtext(reviews.lease_owner)::bigint & 4294967295)::text::oid)))
"""


async def hold_liveness(conn: asyncpg.Connection, lease_owner: str) -> None:
    """Take this process's liveness lock on `conn`, which must stay open while we run."""
    await conn.execute("SELECT pg_advisory_lock($1, hashtext($2))", LIVENESS_CLASS, lease_owner)


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

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> Review:
        return cls(**{name: row[name] for name in cls.__dataclass_fields__})


_COLUMNS = ", ".join(Review.__dataclass_fields__)


async def create(
    conn: asyncpg.Connection,
    *,
    delivery_id: str | None,
    installation_id: int,
    owner: str,
    repo: str,
    pr_number: int,
    head_sha: str,
    base_ref: str,
    trigger: str,
    draft: bool = False,
) -> uuid.UUID:
    """Insert a pending review and return its id."""
    return await conn.fetchval(
        "INSERT INTO reviews (delivery_id, installation_id, owner, repo, pr_number, head_sha,"
        " base_ref, trigger, draft) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        delivery_id,
        installation_id,
        owner,
        repo,
        pr_number,
        head_sha,
        base_ref,
        trigger,
        draft,
    )


async def get(conn: asyncpg.Connection | asyncpg.Pool, review_id: uuid.UUID) -> Review | None:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM reviews WHERE id = $1", review_id)
    return Review.from_row(row) if row else None


async def last_comment_id(
    conn: asyncpg.Connection | asyncpg.Pool, owner: str, repo: str, pr_number: int
) -> int | None:
    """The summary comment an earlier review of this PR posted, if any."""
    return await conn.fetchval(
        "SELECT comment_id FROM reviews WHERE owner = $1 AND repo = $2 AND pr_number = $3"
        " AND comment_id IS NOT NULL ORDER BY created_at DESC LIMIT 1",
        owner,
        repo,
        pr_number,
    )


async def last_completed(
    conn: asyncpg.Connection | asyncpg.Pool,
    owner: str,
    repo: str,
    pr_number: int,
    before: uuid.UUID,
) -> Review | None:
    """The PR's most recent completed review other than `before` (for incremental reviews)."""
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM reviews WHERE owner = $1 AND repo = $2 AND pr_number = $3"
        " AND status = 'completed' AND id <> $4 ORDER BY finished_at DESC LIMIT 1",
        owner, repo, pr_number, before,
    )  # fmt: skip
    return Review.from_row(row) if row else None


async def claim(
    pool: asyncpg.Pool, review_id: uuid.UUID, lease_owner: str, lease_seconds: float
) -> Review | None:
    """Take a pending review, or an abandoned one, and lease it to lease_owner.

    Abandoned: its lease expired, or the process holding it is gone (no liveness lock).

    None when another process holds it or it is no longer waiting.
    """
    row = await pool.fetchrow(
        f"""
        UPDATE reviews SET status = 'processing', lease_owner = $2,
               lease_expires_at = now() + make_interval(secs => $3),
               attempts = attempts + 1, updated_at = now()
         WHERE id = (SELECT id FROM reviews
                      WHERE id = $1 AND (status = 'pending' OR {_ABANDONED})
                      FOR UPDATE SKIP LOCKED)
        RETURNING {_COLUMNS}
        """,
        review_id,
        lease_owner,
        float(lease_seconds),
    )
    return Review.from_row(row) if row else None


async def waiting(pool: asyncpg.Pool, limit: int) -> list[uuid.UUID]:
    """Ids of reviews no process is working on: pending, or abandoned by their process."""
    rows = await pool.fetch(
        f"""
        (SELECT id, created_at FROM reviews WHERE status = 'pending')
        UNION ALL
        (SELECT id, created_at FROM reviews WHERE {_ABANDONED})
        ORDER BY created_at LIMIT $1
        """,
        limit,
    )
    return [r["id"] for r in rows]


async def renew_lease(
    pool: asyncpg.Pool, review_id: uuid.UUID, lease_owner: str, lease_seconds: float
) -> bool:
    """Extend our lease; False when the review is no longer ours to run."""
    row = await pool.fetchval(
        "UPDATE reviews SET lease_expires_at = now() + make_interval(secs => $3)"
        " WHERE id = $1 AND status = 'processing' AND lease_owner = $2 RETURNING 1",
        review_id,
        lease_owner,
        float(lease_seconds),
    )
    return row is not None


async def still_ours(pool: asyncpg.Pool, review_id: uuid.UUID, lease_owner: str) -> bool:
    """True while the review is processing under our lease and no later one replaces it.

    Checked before each publishing step. A later review of the PR (other than an edit's,
    which replaces nothing until it runs) that arrived through another process or intake
    batch at the same moment may not have superseded this one: it is superseded here.
    """
    return await pool.fetchval(
        """
        WITH me AS (
            SELECT id, owner, repo, pr_number, seq FROM reviews
             WHERE id = $1 AND status = 'processing' AND lease_owner = $2
        ), newer AS (
            SELECT 1 FROM reviews n JOIN me ON n.owner = me.owner AND n.repo = me.repo
               AND n.pr_number = me.pr_number
             WHERE n.seq > me.seq AND n.trigger <> 'edited'
             LIMIT 1
        ), replaced AS (
            UPDATE reviews SET status = 'superseded', lease_owner = NULL,
                   lease_expires_at = NULL, updated_at = now(), finished_at = now()
             WHERE id IN (SELECT id FROM me) AND EXISTS (SELECT 1 FROM newer)
            RETURNING id
        )
        SELECT EXISTS (SELECT 1 FROM me) AND NOT EXISTS (SELECT 1 FROM newer)
        """,
        review_id,
        lease_owner,
    )


async def finish(
    pool: asyncpg.Pool,
    review_id: uuid.UUID,
    lease_owner: str,
    status: str,
    error: str | None = None,
) -> bool:
    """Move our processing review to a final status; refused (False) if we lost the lease."""
    if status not in FINISHED:
        raise ValueError(f"not a final status: {status}")
    row = await pool.fetchval(
        "UPDATE reviews SET status = $3, error = $4, lease_owner = NULL, lease_expires_at = NULL,"
        " updated_at = now(), finished_at = now()"
        " WHERE id = $1 AND status = 'processing' AND lease_owner = $2 RETURNING 1",
        review_id,
        lease_owner,
        status,
        error,
    )
    return row is not None


async def set_fields(pool: asyncpg.Pool, review_id: uuid.UUID, **fields: Any) -> None:
    """Store publishing results (comment_id, check_run_id) on the row."""
    allowed = {"comment_id", "check_run_id"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"cannot set {sorted(unknown)}")
    names = sorted(fields)
    assignments = ", ".join(f"{name} = ${i}" for i, name in enumerate(names, start=2))
    await pool.execute(
        f"UPDATE reviews SET {assignments}, updated_at = now() WHERE id = $1",  # noqa: S608
        review_id,
        *(fields[name] for name in names),
    )


async def add_stats(pool: asyncpg.Pool, review_id: uuid.UUID, stats: dict[str, Any]) -> None:
    """Merge figures into the review's stats (calls, characters, tokens, files)."""
    await pool.execute(
        "UPDATE reviews SET stats = stats || $2::jsonb, updated_at = now() WHERE id = $1",
        review_id,
        stats,
    )


async def supersede_before(conn: asyncpg.Connection, newer: list[uuid.UUID]) -> list[uuid.UUID]:
    """Mark the pending or processing reviews of each PR that arrived before `newer` superseded."""
    if not newer:
        return []
    rows = await conn.fetch(
        "UPDATE reviews r SET status = 'superseded', lease_owner = NULL,"
        " lease_expires_at = NULL, updated_at = now(), finished_at = now()"
        " FROM unnest($1::uuid[]) AS n(id) JOIN reviews nr ON nr.id = n.id"
        " WHERE r.owner = nr.owner AND r.repo = nr.repo AND r.pr_number = nr.pr_number"
        " AND r.seq < nr.seq AND r.status IN ('pending', 'processing') RETURNING r.id",
        newer,
    )
    return [row["id"] for row in rows]


async def release(pool: asyncpg.Pool, lease_owner: str) -> int:
    """Put every review we still hold back to pending, so another process claims it at once."""
    result = await pool.execute(
        "UPDATE reviews SET status = 'pending', lease_owner = NULL, lease_expires_at = NULL,"
        " updated_at = now() WHERE status = 'processing' AND lease_owner = $1",
        lease_owner,
    )
    return int(result.split()[-1])
