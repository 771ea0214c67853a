"""What redelivery keeps: the checkpoint of GitHub's delivery list, the guids asked for once,
and the one-replica-at-a-time lock (also retention's) that a pass holds while it runs."""

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


async def asked(conn: Conn, guids: Collection[str]) -> set[str]:
    """The guids already asked for (by any replica)."""
    rows = await conn.fetch(
        "SELECT guid FROM redelivery_requests WHERE guid = ANY($1::text[])", list(guids)
    )
    return {row["guid"] for row in rows}


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


async def forget_old(conn: Conn) -> int:
    """Drop the guids asked for longer ago than GitHub redelivers; how many."""
    result = await conn.execute(
        "DELETE FROM redelivery_requests WHERE asked_at < now() - make_interval(days => $1)",
        ASKED_KEPT_DAYS,
    )
    return int(result.split()[-1])
