"""Leased work: the rows a process claims and runs under a lease (a review, a job). One
mechanism for both tables: claim, renew, finish, hand back, release, the attempt cap and
giving up; each table says only when a row may be claimed (`Leased`).

    pending ──claim──> processing ──finish──> a final status
       ▲                  │   ▲  renew (the lease, while it runs)
       └─ hand back ──────┤   │  (not counted as an attempt: waiting is not failing)
       └─ release ────────┘   └── abandoned: lease expired or its process gone ── claim again

A row claimed more than its table's `max_attempts` times is given up (failed): each earlier
claim ended with its process gone. Any number of processes share a table: a claim skips rows
another holds, and a finish or renewal by a process that lost the lease is refused.

Every process holds pg_advisory_lock(LIVENESS_CLASS, hashtext(lease_owner)) on a connection
of its own while it runs. When it dies, PostgreSQL drops the lock with the connection, so
its rows can be taken at once instead of when the lease expires. The lease still matters
for a process that lives on while a task of its stopped renewing (test_queue).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from bot.store.db import Db

LIVENESS_CLASS = 0x5EC1


def abandoned(table: str) -> str:
    """SQL true for a `table` row in processing whose lease expired or whose process is gone."""
    return f"""
    ({table}.status = 'processing' AND (
        {table}.lease_expires_at < now()
        OR NOT EXISTS (
            SELECT 1 FROM pg_locks
             WHERE locktype = 'advisory' AND objsubid = 2 AND granted
               AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
               AND classid = {LIVENESS_CLASS}
               AND objid = (hashtext({table}.lease_owner)::bigint & 4294967295)::text::oid)))
"""


async def hold_liveness(conn: asyncpg.Connection, lease_owner: str) -> None:
    """Take this process's liveness lock on `conn`, which must stay open while we run."""
    await conn.execute("SELECT pg_advisory_lock($1, hashtext($2))", LIVENESS_CLASS, lease_owner)


# Held by us: the condition of every statement that changes a row under our lease ($2).
_OURS = "status = 'processing' AND lease_owner = $2"


@dataclass(frozen=True)
class Leased:
    """A table of leased work, and when one of its rows may be claimed.

    `pending`: SQL on the row `t` for a pending row that may start; `$NOW` in it is the App's
    clock (passed in, so tests can move it). `turn`: SQL on `t` for its turn to run (jobs: no
    earlier job of its PR unfinished). `touched`: the table keeps `updated_at`.
    """

    table: str
    max_attempts: int
    pending: str = "t.status = 'pending'"
    turn: str = "true"
    order: str = "created_at"  # the order waiting rows are taken in
    touched: bool = False

    @property
    def gave_up(self) -> str:
        """The error of a row given up."""
        return (
            f"gave up after {self.max_attempts} attempts: the process running it stopped each time"
        )

    def exhausted(self, attempts: int) -> bool:
        """True when a row claimed `attempts` times is not tried again: it is given up."""
        return attempts > self.max_attempts

    def _pending(self, param: int) -> str:
        return self.pending.replace("$NOW", f"${param}::timestamptz")

    def _clock(self, now: datetime | None) -> tuple[datetime | None, ...]:
        return (now,) if "$NOW" in self.pending else ()

    def _set(self, fields: dict[str, Any], first: int) -> str:
        touched = ", updated_at = now()" if self.touched else ""
        return touched + "".join(f", {name} = ${n}" for n, name in enumerate(fields, first))

    async def claim(
        self,
        db: Db,
        row_id: uuid.UUID,
        lease_owner: str,
        lease_seconds: float,
        now: datetime | None = None,
        *,
        returning: str,
        also: str = "",
    ) -> asyncpg.Record | None:
        """Take the row if it may be claimed now (pending and due, or abandoned, and its
        turn), leased to lease_owner, counting an attempt; `also`: more of the SET clause.
        None when another process holds it or it may not run now."""
        return await db.fetchrow(
            f"""
            UPDATE {self.table} SET status = 'processing', lease_owner = $2,
                   lease_expires_at = now() + make_interval(secs => $3),
                   attempts = attempts + 1{self._set({}, 4)}{also}
             WHERE id = (SELECT t.id FROM {self.table} t
                          WHERE t.id = $1 AND ({self._pending(4)} OR {abandoned("t")})
                            AND {self.turn}
                          FOR UPDATE SKIP LOCKED)
            RETURNING {returning}
            """,
            row_id,
            lease_owner,
            float(lease_seconds),
            *self._clock(now),
        )

    async def waiting(self, db: Db, limit: int, now: datetime | None = None) -> list[uuid.UUID]:
        """Ids of rows no process is working on that may run now (pending and due, or
        abandoned), in the table's order."""
        rows = await db.fetch(
            f"""
            (SELECT t.id, t.{self.order} FROM {self.table} t
              WHERE {self._pending(2)} AND {self.turn})
            UNION ALL
            (SELECT t.id, t.{self.order} FROM {self.table} t
              WHERE {abandoned("t")} AND {self.turn})
            ORDER BY {self.order} LIMIT $1
            """,
            limit,
            *self._clock(now),
        )
        return [row["id"] for row in rows]

    async def next_due(self, db: Db, now: datetime) -> datetime | None:
        """The earliest `not_before` still ahead of a row handed back until then (a quota,
        an outage), if any."""
        due: datetime | None = await db.fetchval(
            f"SELECT min(not_before) FROM {self.table}"
            " WHERE status = 'pending' AND not_before > $1",
            now,
        )
        return due

    async def renew(
        self, db: Db, row_id: uuid.UUID, lease_owner: str, lease_seconds: float
    ) -> bool:
        """Extend our lease; False when the row is no longer ours to run."""
        row = await db.fetchval(
            f"UPDATE {self.table} SET lease_expires_at = now() + make_interval(secs => $3)"
            f" WHERE id = $1 AND {_OURS} RETURNING 1",
            row_id,
            lease_owner,
            float(lease_seconds),
        )
        return row is not None

    async def finish(
        self,
        db: Db,
        row_id: uuid.UUID,
        lease_owner: str,
        status: str,
        *,
        returning: str = "1",
        **fields: Any,
    ) -> asyncpg.Record | None:
        """Move our row to a final status, setting `fields` too; refused (None) if we lost
        the lease. Else the row's `returning`, from the same statement."""
        return await db.fetchrow(
            f"UPDATE {self.table} SET status = $3, lease_owner = NULL, lease_expires_at = NULL,"
            f" finished_at = now(){self._set(fields, 4)}"
            f" WHERE id = $1 AND {_OURS} RETURNING {returning}",
            row_id,
            lease_owner,
            status,
            *fields.values(),
        )

    async def give_up(
        self, db: Db, row_id: uuid.UUID, lease_owner: str, **fields: Any
    ) -> asyncpg.Record | None:
        """Fail an exhausted row for good, with `gave_up` as its error."""
        return await self.finish(db, row_id, lease_owner, "failed", error=self.gave_up, **fields)

    async def hand_back(self, db: Db, row_id: uuid.UUID, lease_owner: str, **fields: Any) -> bool:
        """Put our row back to pending, setting `fields` too; its claim is not counted as an
        attempt. False when the lease was lost meanwhile."""
        row = await db.fetchval(
            f"UPDATE {self.table} SET status = 'pending', lease_owner = NULL,"
            f" lease_expires_at = NULL, attempts = greatest(attempts - 1, 0)"
            f"{self._set(fields, 3)} WHERE id = $1 AND {_OURS} RETURNING 1",
            row_id,
            lease_owner,
            *fields.values(),
        )
        return row is not None

    async def defer_outage(
        self, db: Db, row_id: uuid.UUID, lease_owner: str, until: datetime, since: datetime,
        retries: int,
    ) -> bool:  # fmt: skip
        """Hand our row back until `until` after an outage (bot/app/outage.py), noting since
        when the outage has lasted and how many times it was deferred for it."""
        return await self.hand_back(
            db, row_id, lease_owner, not_before=until, outage_since=since, outage_retries=retries
        )

    async def release(self, db: Db, lease_owner: str) -> int:
        """Put every row we still hold back to pending (shutdown), for another process."""
        result = await db.execute(
            f"UPDATE {self.table} SET status = 'pending', lease_owner = NULL,"
            f" lease_expires_at = NULL{self._set({}, 2)}"
            " WHERE status = 'processing' AND lease_owner = $1",
            lease_owner,
        )
        return int(result.split()[-1])
