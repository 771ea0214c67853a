"""Deleting what is older than the retention limit, in batches: no statement deletes more than
`batch` rows of its table, so none holds its locks (or bloats a transaction) for long.

A review goes when it is finished (completed, failed, superseded, skipped) before the
cutoff, with its findings, Gemini calls, events and publications (deleted first, explicitly,
in batches of their own; the foreign keys' ON DELETE CASCADE then finds nothing left). Each
PR keeps, whatever their age, its latest review (by arrival, seq) and its latest completed
review, which incremental review reads, unless the PR is known closed: its latest review was
stopped because the PR closed, or a `closed` job of the PR arrived after that review. A
delivery goes when no remaining review points at it; a finished job when its PR has no review
left or it is not the job saying the PR closed; the shared quota's row and the spend per day
by their dates.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime

from bot.store.db import Conn

RETENTION_LOCK_KEY = 0x5EC0_0DE1  # pg_try_advisory_lock key of the retention pass
BATCH = 1000
# conversation/lifecycle.CLOSED, the reason its reviews were stopped with (store/ imports no
# other part of bot/; a test compares the two).
CLOSED = "the pull request was closed"


@dataclass
class Deleted:
    """Rows deleted per table by one pass; `ran` is False when another replica made it."""

    ran: bool = True
    reviews: int = 0
    findings: int = 0
    gemini_calls: int = 0
    review_events: int = 0
    publications: int = 0
    webhook_deliveries: int = 0
    jobs: int = 0
    gemini_quota: int = 0
    gemini_spend: int = 0

    def tables(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "ran"}


_SAME_PR = "{a}.owner = {b}.owner AND {a}.repo = {b}.repo AND {a}.pr_number = {b}.pr_number"

# $1 the cutoff, $2 the batch size: ids of reviews that retention deletes, oldest first.
_DOOMED_REVIEWS = f"""
SELECT r.id FROM reviews r
 CROSS JOIN LATERAL (
     SELECT l.seq, l.error, l.created_at FROM reviews l
      WHERE {_SAME_PR.format(a="l", b="r")} ORDER BY l.seq DESC LIMIT 1) latest
 WHERE r.status IN ('completed', 'failed', 'superseded', 'skipped') AND r.finished_at < $1
   AND (
       -- neither the PR's latest review nor its latest completed one
       (r.seq < latest.seq
        AND (r.status <> 'completed'
             OR EXISTS (SELECT 1 FROM reviews c
                         WHERE {_SAME_PR.format(a="c", b="r")}
                           AND c.status = 'completed' AND c.seq > r.seq)))
       -- or the PR is closed
       OR latest.error = '{CLOSED}'
       OR EXISTS (SELECT 1 FROM jobs j
                   WHERE j.kind = 'closed' AND {_SAME_PR.format(a="j", b="r")}
                     AND j.created_at >= latest.created_at))
 ORDER BY r.finished_at
 LIMIT $2
"""

# $1 the review ids, $2 the batch size.
_CHILDREN = """
DELETE FROM {table} WHERE id IN (
    SELECT id FROM {table} WHERE review_id = ANY($1::uuid[]) LIMIT $2)
"""

# $1 the cutoff, $2 the batch size, for the rest.
_DELIVERIES = """
DELETE FROM webhook_deliveries WHERE delivery_id IN (
    SELECT d.delivery_id FROM webhook_deliveries d
     WHERE d.received_at < $1
       AND NOT EXISTS (SELECT 1 FROM reviews r WHERE r.delivery_id = d.delivery_id)
     LIMIT $2)
"""
_JOBS = f"""
DELETE FROM jobs WHERE id IN (
    SELECT j.id FROM jobs j
     WHERE j.status IN ('done', 'failed') AND j.finished_at < $1
       AND (j.kind <> 'closed'
            OR NOT EXISTS (SELECT 1 FROM reviews r WHERE {_SAME_PR.format(a="r", b="j")}))
     LIMIT $2)
"""
_SPEND = """
DELETE FROM gemini_spend WHERE (installation_id, day) IN (
    SELECT installation_id, day FROM gemini_spend
     WHERE day < ($1::timestamptz AT TIME ZONE 'America/Los_Angeles')::date
     LIMIT $2)
"""


async def _count(conn: Conn, sql: str, *args: object) -> int:
    status = await conn.execute(sql, *args)
    return int(status.split()[-1])


async def _batches(conn: Conn, sql: str, first: object, batch: int) -> int:
    """Run a DELETE of at most `batch` rows until one deletes fewer; the rows deleted."""
    total = 0
    while True:
        deleted = await _count(conn, sql, first, batch)
        total += deleted
        if deleted < batch:
            return total


async def purge(conn: Conn, cutoff: datetime, batch: int = BATCH) -> Deleted:
    """Delete what is older than `cutoff`; the rows deleted per table."""
    if batch < 1:
        raise ValueError(f"batch must be positive, got {batch}")
    done = Deleted()
    while True:
        ids = [row["id"] for row in await conn.fetch(_DOOMED_REVIEWS, cutoff, batch)]
        if not ids:
            break
        done.findings += await _batches(conn, _CHILDREN.format(table="findings"), ids, batch)
        done.gemini_calls += await _batches(
            conn, _CHILDREN.format(table="gemini_calls"), ids, batch
        )
        done.review_events += await _batches(
            conn, _CHILDREN.format(table="review_events"), ids, batch
        )
        done.publications += await _batches(
            conn, _CHILDREN.format(table="publications"), ids, batch
        )
        done.reviews += await _count(conn, "DELETE FROM reviews WHERE id = ANY($1::uuid[])", ids)
        if len(ids) < batch:
            break
    done.webhook_deliveries = await _batches(conn, _DELIVERIES, cutoff, batch)
    done.jobs = await _batches(conn, _JOBS, cutoff, batch)
    done.gemini_quota = await _count(conn, "DELETE FROM gemini_quota WHERE last_at < $1", cutoff)
    done.gemini_spend = await _batches(conn, _SPEND, cutoff, batch)
    return done
