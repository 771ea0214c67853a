"""Retention: once a day (and at start-up) one replica deletes what is older than
RETENTION_DAYS (bot/store/retention.py says what goes and what a PR keeps)."""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.app.services import Services
from bot.store import db, retention
from bot.store.redeliveries import exclusive
from bot.store.retention import Deleted

log = logging.getLogger(__name__)

INTERVAL = 24 * 3600.0  # seconds between passes of one process


async def retention_pass(services: Services, batch: int = retention.BATCH) -> Deleted:
    """Delete what is older than the limit, unless another replica is doing it (`ran` False)."""
    days = services.settings.retention_days
    cutoff = services.clock() - timedelta(days=days)
    async with exclusive(services.pool, retention.RETENTION_LOCK_KEY) as conn:
        if conn is None:
            log.info("retention: another replica is making the pass")
            return Deleted(ran=False)
        deleted = await retention.purge(conn, cutoff, batch)
    counted = ", ".join(f"{n} {table}" for table, n in deleted.tables().items() if n)
    log.info("retention: deleted what is older than %d days: %s", days, counted or "nothing")
    return deleted


async def run_forever(services: Services) -> None:
    """A pass at start-up, then one a day; never raises (but cancellation)."""
    while True:
        try:
            await retention_pass(services)
        except db.UNREACHABLE as exc:
            log.warning(
                "retention: the database is unreachable (%s); trying again tomorrow",
                type(exc).__name__,
            )
        except Exception:
            log.exception("retention: the pass failed; trying again tomorrow")
        await services.sleep(INTERVAL)
