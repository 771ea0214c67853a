"""A 👎 on a finding that fails the check, taken at once: GitHub sends no webhook for
reactions, so one replica looks every REACTION_POLL_SECONDS at the open PRs whose latest review
failed its check (`reviews.failing`, one GraphQL query each); a 👎
from someone with write access dismisses the finding there and then (conversation/dismissal).
Other 👎 are read at the PR's next review."""

from __future__ import annotations

import logging
from datetime import timedelta

import gidgethub

from bot.app import app_identity
from bot.app.conversation import dismissal, thread_sync
from bot.app.services import Services
from bot.errors import describe
from bot.store import db, reviews
from bot.store.redeliveries import exclusive

log = logging.getLogger(__name__)

POLL_LOCK_KEY = 0x5EC0_0DE2  # pg_try_advisory_lock key: one replica looks at a time
LOOK_BACK = timedelta(days=7)  # a check red for longer is left to the next review


async def look_once(services: Services) -> int | None:
    """Look at every failing PR once; the dismissals it made (None: another replica looks)."""
    off = app_identity.off(services.github.identity)
    if off is not None:  # which threads are ours is not known
        log.warning("reactions: not looked at: %s", off)
        return 0
    since = services.clock() - LOOK_BACK
    async with exclusive(services.pool, POLL_LOCK_KEY) as conn:
        if conn is None:
            return None
        failing = await reviews.failing(services.pool, since)
        made = 0
        for pull in failing:
            try:
                gh = await services.github.api(pull.installation_id)
                synced = await thread_sync.sync(gh, services, pull)
                for fingerprint, login in synced.dismissed:
                    await dismissal.republish(services, gh, pull, fingerprint, login)
                    made += 1
            except gidgethub.GitHubException as exc:
                log.warning("%s: reactions not read: %s", pull, describe(exc))
    return made


async def run_forever(services: Services) -> None:
    """Look every REACTION_POLL_SECONDS (0: never); never raises (but cancellation)."""
    interval = services.settings.reaction_poll_seconds
    if interval <= 0:
        return
    while True:
        await services.sleep(interval)
        try:
            await look_once(services)
        except db.UNREACHABLE as exc:
            log.warning("reactions: the database is unreachable (%s)", type(exc).__name__)
        except Exception:
            log.exception("reactions: the look failed; trying again")
