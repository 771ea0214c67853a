"""Migrations: applied in order, once each, even when two processes start together, and
each keeping the release before it working (a rolling upgrade runs both at once)."""

from __future__ import annotations

import asyncio
import re

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


# README, "Kubernetes": during a rollout the old pods run against the new schema. The last
# migration written before that held: it drops a function the releases before it call.
LAST_BEFORE_ROLLING_UPGRADES = "0015_quota_admit_many.sql"
# What takes away something a running release may use; `-- contract: ...` in the file says
# why none does any more (a later release than the one that stopped using it).
CONTRACTING = re.compile(
    r"\b(DROP\s+(TABLE|COLUMN|FUNCTION|VIEW|TYPE)|RENAME|ALTER\s+COLUMN\s+\S+\s+"
    r"(TYPE|SET\s+NOT\s+NULL|SET\s+DATA\s+TYPE))\b",
    re.IGNORECASE,
)


def contracting(sql: str) -> list[str]:
    code = re.sub(r"--[^\n]*", "", sql)
    return [found.group(0) for found in CONTRACTING.finditer(code)]


def test_every_migration_since_rolling_upgrades_keeps_the_previous_release_working():
    files = {path.name: path.read_text(encoding="utf-8") for path in db.migration_files()}
    assert contracting(files[LAST_BEFORE_ROLLING_UPGRADES]) == ["DROP FUNCTION"]
    for name, sql in files.items():
        if name > LAST_BEFORE_ROLLING_UPGRADES and "-- contract:" not in sql:
            assert contracting(sql) == [], f"{name} removes what the previous release may use"


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
