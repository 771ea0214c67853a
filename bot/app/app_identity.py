"""Who the App is on GitHub: its slug (GET /app), asked at start-up and, while GitHub gives
none, again in the background with backoff until it does; no restart needed.

What needs the slug is knowing our own comments: `@<slug>` commands, and our review threads
(thread answers, 👎 dismissals, feedback, thread resolution). Until the slug is known they are
off, and `off` is the one sentence that says so and why: the log, /healthz and the dashboard
(bot/app/health.py), and each feature as it finds itself off.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from bot.app.services import Services
from bot.github.client import Identity
from bot.retry import backoff

log = logging.getLogger(__name__)

FEATURES = "`@<slug>` commands, thread answers, 👎 dismissals, feedback and thread resolution"
# Start-up waits this long for GitHub's first answer, then goes on without it: the port opens
# and the tries go on in the background.
FIRST_WAIT = 3.0
# Between two tries (each one GET /app under the retry policy): 10 s, doubling, to 10 min.
RETRY_FIRST = 10.0
RETRY_CAP = 600.0


def off(identity: Identity) -> str | None:
    """Why the features that need the slug are off, or None: they are on."""
    if identity.slug:
        return None
    why = identity.unknown or "GitHub has not answered GET /app yet"
    return f"{FEATURES} are off: the App's slug is not known ({why})"


async def learn_until_known(services: Services, tried: asyncio.Event | None = None) -> None:
    """Ask GET /app until GitHub gives the slug; each failed try is an error in the log, and
    the next waits longer (retry.backoff). `tried` is set after the first try."""
    github = services.github
    attempt = 0
    while True:
        attempt += 1
        try:
            identity = await github.learn_identity()
        except Exception as exc:  # a bug must not stop the tries for good
            log.exception("asking GitHub who the App is failed")
            identity = Identity(github.app_id, None, f"{type(exc).__name__}: {exc}")
        if tried is not None:
            tried.set()
        if identity.slug:
            if attempt > 1:
                log.info("the App's slug is known after %d tries: %s are on", attempt, FEATURES)
            return
        wait = backoff(attempt, RETRY_CAP, first=RETRY_FIRST)
        log.error("%s; asking GitHub again in %.0f s (try %d failed)", off(identity), wait, attempt)
        await services.sleep(wait)


async def at_start_up(services: Services) -> asyncio.Task[None]:
    """Start asking; wait for the first answer at most FIRST_WAIT s. The task goes on (until
    the slug is known) and is the caller's to cancel at shutdown."""
    tried = asyncio.Event()
    task = asyncio.create_task(learn_until_known(services, tried), name="app-identity")
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(tried.wait(), FIRST_WAIT)
    return task
