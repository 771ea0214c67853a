"""What redelivery keeps: the checkpoint of GitHub's delivery list, the guids asked for (how
often, and when to ask again), and the one-replica-at-a-time lock (also retention's) that a
pass holds while it runs."""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from bot.store.db import Conn

# pg_try_advisory_lock keys, one per periodic task; any constants shared by every replica
# (db.MIGRATION_LOCK_KEY is 0x5EC0_D100C; lease.py's liveness locks use the two-key form).
REDELIVERY_LOCK_KEY = 0x5EC0_DE11
ASKED_KEPT_DAYS = 4  # GitHub redelivers only the last 3 days: an older guid cannot come back


@asynccontextmanager
async def exclusive(pool: asyncpg.Pool, key: int) -> AsyncIterator[Conn | None]:
    """A connection holding the advisory lock `key` for the block, or None when another
    replica holds it. The lock goes with the connection should the process die."""
    async with pool.acquire() as conn:
        if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", key):
            yield None
            return
        try:
            yield conn
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", key)


@dataclass(frozen=True)
class Checkpoint:
    delivery_id: int  # GitHub's id: its list is newest first by it
    delivered_at: datetime


async def checkpoint(conn: Conn) -> Checkpoint | None:
    """The newest delivery a pass handled (with all before it), or None before the first."""
    row = await conn.fetchrow("SELECT delivery_id, delivered_at FROM redelivery_checkpoint")
    return Checkpoint(row["delivery_id"], row["delivered_at"]) if row else None


async def advance(conn: Conn, to: Checkpoint) -> None:
    """Move the checkpoint to `to`; never back (a slower replica cannot undo a faster one)."""
    await conn.execute(
        "INSERT INTO redelivery_checkpoint (delivery_id, delivered_at) VALUES ($1, $2)"
        " ON CONFLICT (id) DO UPDATE SET delivery_id = EXCLUDED.delivery_id,"
        " delivered_at = EXCLUDED.delivered_at, updated_at = now()"
        " WHERE redelivery_checkpoint.delivery_id < EXCLUDED.delivery_id",
        to.delivery_id,
        to.delivered_at,
    )


async def recorded(conn: Conn, guids: Collection[str]) -> set[str]:
    """The guids we recorded a delivery under (webhook_deliveries), refused ones included."""
    rows = await conn.fetch(
        "SELECT delivery_id FROM webhook_deliveries WHERE delivery_id = ANY($1::text[])",
        list(guids),
    )
    return {row["delivery_id"] for row in rows}


@dataclass(frozen=True)
class Asked:
    """A guid asked for: the attempt last asked for (or the failure of it that the next ask
    will redeliver), how often, and when to ask again (None: not now, or never)."""

    guid: str
    delivery_id: int
    event: str
    action: str | None
    asks: int
    due_at: datetime | None


_ASKED = "SELECT guid, delivery_id, event, action, asks, due_at FROM redelivery_requests"


def _asked(row: asyncpg.Record) -> Asked:
    return Asked(
        row["guid"], row["delivery_id"], row["event"], row["action"], row["asks"], row["due_at"]
    )


async def asked(conn: Conn, guids: Collection[str]) -> dict[str, Asked]:
    """The guids already asked for (by any replica)."""
    rows = await conn.fetch(f"{_ASKED} WHERE guid = ANY($1::text[])", list(guids))
    return {row["guid"]: _asked(row) for row in rows}


async def record_asked(
    conn: Conn, guid: str, delivery_id: int, event: str, action: str | None
) -> None:
    await conn.execute(
        "INSERT INTO redelivery_requests (guid, delivery_id, event, action)"
        " VALUES ($1, $2, $3, $4) ON CONFLICT (guid) DO NOTHING",
        guid,
        delivery_id,
        event,
        action,
    )


async def ask_later(conn: Conn, guid: str, failed_id: int, due_at: datetime | None) -> None:
    """GitHub's redelivery of `guid` failed (attempt `failed_id`): ask for that attempt again
    at `due_at` (None: never). Done once per failed attempt: a newer one only moves it."""
    await conn.execute(
        "UPDATE redelivery_requests SET delivery_id = $2, due_at = $3"
        " WHERE guid = $1 AND delivery_id < $2",
        guid,
        failed_id,
        due_at,
    )


async def due(conn: Conn, now: datetime) -> list[Asked]:
    """The guids to ask for again at `now`, oldest due first; those that reached us meanwhile
    (recorded in webhook_deliveries) are due no more."""
    await conn.execute(
        "UPDATE redelivery_requests r SET due_at = NULL WHERE due_at IS NOT NULL"
        " AND EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.delivery_id = r.guid)"
    )
    rows = await conn.fetch(f"{_ASKED} WHERE due_at <= $1 ORDER BY due_at", now)
    return [_asked(row) for row in rows]


async def asked_again(conn: Conn, guid: str) -> int:
    """GitHub took the ask again: counted, nothing due; how many asks now."""
    asks: int = await conn.fetchval(
        "UPDATE redelivery_requests SET asks = asks + 1, due_at = NULL, asked_at = now()"
        " WHERE guid = $1 RETURNING asks",
        guid,
    )
    return asks


async def not_due(conn: Conn, guid: str) -> None:
    """Ask for `guid` no more (GitHub will not redeliver it)."""
    await conn.execute("UPDATE redelivery_requests SET due_at = NULL WHERE guid = $1", guid)


async def next_due(conn: Conn) -> datetime | None:
    """When the next ask again is due, if any is."""
    found: datetime | None = await conn.fetchval(
        "SELECT min(due_at) FROM redelivery_requests WHERE due_at IS NOT NULL"
    )
    return found


async def forget_old(conn: Conn) -> int:
    """Drop the guids asked for longer ago than GitHub redelivers; how many."""
    result = await conn.execute(
        "DELETE FROM redelivery_requests WHERE asked_at < now() - make_interval(days => $1)",
        ASKED_KEPT_DAYS,
    )
    return int(result.split()[-1])
