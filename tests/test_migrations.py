"""Migrations: applied in order, once each, even when two processes start together."""

from __future__ import annotations

import asyncio

import asyncpg

from bot.store import db


async def test_concurrent_migrate_runs_apply_each_file_once(make_database):
    url = make_database()

    first, second = await asyncio.gather(db.migrate(url), db.migrate(url))

    files = [path.name for path in db.migration_files()]
    assert sorted(first + second) == files
    conn = await asyncpg.connect(url)
    try:
        recorded = [
            r["name"] for r in await conn.fetch("SELECT name FROM schema_migrations ORDER BY name")
        ]
    finally:
        await conn.close()
    assert recorded == files


async def test_migrate_again_applies_nothing(database_url):
    assert await db.migrate(database_url) == []


async def test_statuses_and_severities_are_constrained(pool):
    review_id = await pool.fetchval(
        "INSERT INTO reviews (installation_id, owner, repo, pr_number, head_sha, trigger)"
        " VALUES (1, 'o', 'r', 1, 'abc', 'opened') RETURNING id"
    )
    for statement, args in (
        ("UPDATE reviews SET status = 'queued' WHERE id = $1", (review_id,)),
        (
            "INSERT INTO findings (review_id, agent_type, severity, file_path, title)"
            " VALUES ($1, 'bugs', 'warning', 'a.py', 't')",
            (review_id,),
        ),
    ):
        try:
            await pool.execute(statement, *args)
        except asyncpg.CheckViolationError:
            continue
        raise AssertionError(f"accepted: {statement}")
