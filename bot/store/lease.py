"""The lease a process holds on a row it works on (a review, a job), and how a row whose
process is gone is told apart: the process's liveness lock.

Every process holds pg_advisory_lock(LIVENESS_CLASS, hashtext(lease_owner)) on a connection
of its own while it runs. When it dies, PostgreSQL drops the lock with the connection, so
its rows can be taken at once instead of when the lease expires. The lease still matters
for a process that lives on while a task of its stopped renewing (test_queue).
"""

from __future__ import annotations

import asyncpg

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
