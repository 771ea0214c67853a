"""The asyncpg pool, the migrations, and what it means that the database is unreachable."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.resources.abc import Traversable
from typing import TYPE_CHECKING, TypeAlias

import asyncpg

from bot import resources

if TYPE_CHECKING:
    from asyncpg.pool import PoolConnectionProxy

log = logging.getLogger(__name__)

# Any constant shared by every process of this App; pg_advisory_lock takes a bigint.
MIGRATION_LOCK_KEY = 0x5EC0_D100C
_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")

# The database is away (down, restarting, out of connections or disk): try again later.
# Anything else it raises is about the statement or its values, not about reaching it.
UNREACHABLE: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.OperatorInterventionError,
    asyncpg.InsufficientResourcesError,
)

# A connection of its own, or one borrowed from the pool; and either, or the pool itself.
Conn: TypeAlias = "asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]"
Db: TypeAlias = "Conn | asyncpg.Pool[asyncpg.Record]"


async def create_pool(dsn: str, *, min_size: int = 2, max_size: int = 10) -> asyncpg.Pool:
    """Open the pool; UUIDs come back as uuid.UUID and jsonb as Python objects."""

    async def init(conn: asyncpg.Connection) -> None:
        await conn.set_type_codec(
            "jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )

    async def keep_session(conn: asyncpg.Connection) -> None:
        """A connection goes back to the pool as it is: asyncpg still rolls back a transaction
        left open, and nothing of ours leaves session state behind (no SET, LISTEN or cursor;
        the one advisory lock taken on a pooled connection, `redeliveries.exclusive`, is
        released by its own block). The default reset (`SELECT pg_advisory_unlock_all();
        CLOSE ALL; UNLISTEN *; RESET ALL`) was a round trip on every release: measured, 50
        of the 129 statements of one review."""

    # A generic plan for the intake statement (reused after five runs) gets slower as the
    # reviews table grows (measured: 1.8 ms a batch at 2,000 rows, 3.6 ms at 16,000); a
    # plan made for each batch's own arguments does not.
    settings = {"plan_cache_mode": "force_custom_plan"}
    return await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        init=init,
        server_settings=settings,
        reset=keep_session,
    )


@asynccontextmanager
async def open_pool(dsn: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(dsn)
    try:
        yield pool
    finally:
        await pool.close()


def migration_files(directory: Traversable | None = None) -> list[Traversable]:
    """The migration files in the order they apply (the package's unless `directory` is
    given); a misnamed file is an error."""
    folder = resources.migrations() if directory is None else directory
    files = sorted((p for p in folder.iterdir() if p.name.endswith(".sql")), key=lambda p: p.name)
    for path in files:
        if not _MIGRATION_NAME.match(path.name):
            raise ValueError(f"migration {path.name} is not named NNNN_name.sql")
    return files


async def migrate(
    dsn_or_conn: str | asyncpg.Connection, directory: Traversable | None = None
) -> list[str]:
    """Apply the files not yet recorded, each in its own transaction; return their names.

    An advisory lock makes processes that start together take turns, so each file applies once.
    """
    files = migration_files(directory)
    own = isinstance(dsn_or_conn, str)
    conn = await asyncpg.connect(dsn_or_conn) if isinstance(dsn_or_conn, str) else dsn_or_conn
    applied: list[str] = []
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
        try:
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " name text PRIMARY KEY,"
                " applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = {r["name"] for r in await conn.fetch("SELECT name FROM schema_migrations")}
            for path in files:
                if path.name in done:
                    continue
                async with conn.transaction():
                    await conn.execute(path.read_text(encoding="utf-8"))
                    await conn.execute(
                        "INSERT INTO schema_migrations (name) VALUES ($1)", path.name
                    )
                log.info("applied migration %s", path.name)
                applied.append(path.name)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_KEY)
    finally:
        if own:
            await conn.close()
    return applied
