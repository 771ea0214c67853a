"""`migrate`: apply the database migrations and exit (the embedded PostgreSQL when no
DATABASE_URL is set)."""

from __future__ import annotations

import asyncio

from bot.config import database_location
from bot.logs import setup_logging
from bot.store import connect, db, embedded


def run() -> int:
    setup_logging([])
    database_url, data_dir = database_location()
    dsn = database_url or embedded.start_embedded(data_dir)
    applied = asyncio.run(_migrate(dsn))
    print(f"applied {len(applied)} migration(s)" + (": " + ", ".join(applied) if applied else ""))
    return 0


async def _migrate(dsn: str) -> list[str]:
    conn = await connect.connect(dsn)  # a database away or refusing us: one line, exit 1
    try:
        return await db.migrate(conn)
    finally:
        await conn.close()
