"""Asking GitHub again for the deliveries that failed to reach us (the App was down, a proxy
answered 502, we answered 503 while shutting down): GitHub never retries a webhook by itself.

Once the App accepts connections after start-up, and every REDELIVER_INTERVAL, one replica (an
advisory lock, held for the pass) lists the App's deliveries, newest first, back to the
checkpoint (the newest delivery a pass handled) and at most three days (GitHub redelivers
nothing older). A delivery is asked for again (`redelivery_requests`) when it failed, is of an
event and action we act on (`events.MODELS`), its guid was never recorded in
webhook_deliveries, and no other attempt of it succeeded. The list is handled oldest first, so
the checkpoint moves past what was handled and no further: a GitHub call that fails ends the
pass there, with a warning, and the next pass starts from it.

GitHub sends a redelivery at once and lists its outcome as a new attempt. One that failed too
is asked for again after a backoff (retry.backoff: RETRY_FIRST, doubling, to RETRY_CAP), at
most MAX_ASKS times in all, each ask and each failure logged; after the last, an error says it
is given up. The pass after an ask comes within RETRY_FIRST, to see how it went, and a pass
comes when an ask is due, whatever REDELIVER_INTERVAL says.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any

import gidgethub

from bot.app import events
from bot.app.services import Services
from bot.errors import describe
from bot.github.client import RetryingGitHubAPI, has_status
from bot.retry import backoff
from bot.store import db, redeliveries
from bot.store.db import Conn
from bot.store.redeliveries import Checkpoint

log = logging.getLogger(__name__)

# The (event, action) pairs a handler acts on (events.py: a review or a job, `installation`
# and the access events among them); a lost `ping`, `push` or `pull_request.labeled` is not ours.
EVENTS: frozenset[tuple[str, str]] = frozenset(events.MODELS)
LOOKBACK = timedelta(days=3)  # GitHub redelivers deliveries of the past three days only
LIST = "/app/hook/deliveries?per_page=100"
REDELIVER = "/app/hook/deliveries/{delivery_id}/attempts"
# GitHub's answers to a redelivery that will not change by asking again: that delivery is
# passed over (the pass goes on), not a reason to stop every later one for three days.
_PASSED_OVER = (HTTPStatus.NOT_FOUND, HTTPStatus.UNPROCESSABLE_ENTITY)
MAX_ASKS = 5  # a delivery is asked for at most this often, the first ask included
RETRY_FIRST = 60.0  # seconds after a failed redelivery before asking again, then doubling
RETRY_CAP = 1800.0
MIN_WAIT = 1.0  # between two passes, whatever is due


@dataclass(frozen=True)
class Attempt:
    """One item of GitHub's delivery list: one attempt to deliver an event (its guid)."""

    id: int
    guid: str
    delivered_at: datetime
    redelivery: bool
    status: str
    status_code: int
    event: str
    action: str | None

    @property
    def failed(self) -> bool:
        return not 200 <= self.status_code < 300 or self.status != "OK"

    @classmethod
    def parse(cls, item: Any) -> Attempt | None:
        """The attempt, or None for an item without the fields we need."""
        if not isinstance(item, dict):
            return None
        id_, guid, at, event = (item.get(k) for k in ("id", "guid", "delivered_at", "event"))
        code, status, action = item.get("status_code"), item.get("status"), item.get("action")
        if not (isinstance(id_, int) and isinstance(guid, str) and guid):
            return None
        if not (isinstance(at, str) and isinstance(event, str)):
            return None
        try:
            delivered_at = datetime.fromisoformat(at)
        except ValueError:
            return None
        if delivered_at.tzinfo is None:  # GitHub writes UTC with a Z; without one, UTC still
            delivered_at = delivered_at.replace(tzinfo=UTC)
        return cls(
            id_,
            guid,
            delivered_at,
            item.get("redelivery") is True,
            status if isinstance(status, str) else "",
            code if isinstance(code, int) else 0,
            event,
            action if isinstance(action, str) else None,
        )


@dataclass
class Counts:
    """What one pass did; `ran` is False when another replica was making it."""

    ran: bool = True
    listed: int = 0  # attempts listed back to the checkpoint (or three days)
    failed: int = 0  # guids of our events with a failed attempt among them
    redelivered: int = 0
    recorded: int = 0  # failed, but recorded: another attempt reached us
    succeeded_later: int = 0  # another attempt succeeded (GitHub says), though not recorded
    asked_before: int = 0  # asked for by an earlier pass already, and no new failure
    failed_again: int = 0  # GitHub's redelivery failed too: asked again later
    asked_again: int = 0  # asked again now (their time had come)
    gave_up: int = 0  # GitHub's redelivery failed after the last ask
    passed_over: int = 0  # GitHub will not redeliver it (404, 422)
    other_events: int = 0  # failed guids of events we do not act on
    error: str | None = None  # the GitHub call that ended the pass early
    next_look: datetime | None = None  # when a pass is wanted before REDELIVER_INTERVAL


async def redeliver_pass(services: Services) -> Counts:
    """One pass, unless another replica is making it (then `ran` is False)."""
    async with redeliveries.exclusive(services.pool, redeliveries.REDELIVERY_LOCK_KEY) as conn:
        if conn is None:
            log.debug("redelivery: another replica is making the pass")
            return Counts(ran=False)
        counts = await _pass(services, conn)
    done = (counts.redelivered, counts.asked_again, counts.failed_again, counts.gave_up)
    if any(done) or counts.passed_over or counts.error:
        log.info(
            "redelivery: %d redelivered of %d failed (%d recorded, %d succeeded later, "
            "%d asked before, %d passed over), %d asked again, %d to ask again later, "
            "%d given up, %d listed",
            counts.redelivered,
            counts.failed,
            counts.recorded,
            counts.succeeded_later,
            counts.asked_before,
            counts.passed_over,
            counts.asked_again,
            counts.failed_again,
            counts.gave_up,
            counts.listed,
        )
    return counts


async def _pass(services: Services, conn: Conn) -> Counts:
    counts = Counts()
    since = await redeliveries.checkpoint(conn)
    horizon = services.clock() - LOOKBACK
    api = services.github.app_api()
    try:
        listed = await _list(api, since, horizon)
    except gidgethub.GitHubException as exc:
        counts.error = describe(exc)
        log.warning(
            "redelivery: cannot list the App's deliveries (%s); trying again in %ds",
            counts.error,
            services.settings.redeliver_interval,
        )
        return counts
    counts.listed = len(listed)
    chosen, again = await _choose(conn, listed, counts)
    now = services.clock()
    for attempt, request in again:
        await _failed_again(conn, attempt, request, now, counts)

    handled: Attempt | None = None
    for attempt in listed:  # oldest first
        if chosen.get(attempt.guid) is attempt:
            asked = await _ask(services, api, attempt.id, attempt.guid, attempt.event, counts)
            if asked is None:
                break
            if asked:
                await redeliveries.record_asked(
                    conn, attempt.guid, attempt.id, attempt.event, attempt.action
                )
                counts.redelivered += 1
                log.info(
                    "redelivery: asked GitHub to redeliver %s (%s %s): ask 1 of %d",
                    attempt.guid,
                    attempt.event,
                    attempt.action or "-",
                    MAX_ASKS,
                )
        handled = attempt
    if handled is not None:
        await redeliveries.advance(conn, Checkpoint(handled.id, handled.delivered_at))
    if counts.error is None:
        await _ask_due(services, api, conn, now, counts)
    await redeliveries.forget_old(conn)
    looks = [await redeliveries.next_due(conn)]
    if counts.redelivered or counts.asked_again:  # come back to see whether they arrived
        looks.append(now + timedelta(seconds=RETRY_FIRST))
    counts.next_look = min((at for at in looks if at is not None), default=None)
    return counts


async def _ask(
    services: Services,
    api: RetryingGitHubAPI,
    delivery_id: int,
    guid: str,
    event: str,
    counts: Counts,
) -> bool | None:
    """Ask GitHub to redeliver attempt `delivery_id`: True when it took the ask, False when it
    never will (passed over), None when it failed (the pass stops: `counts.error`)."""
    try:
        await api.post(REDELIVER, {"delivery_id": delivery_id}, data=b"")
    except gidgethub.GitHubException as exc:
        if not any(has_status(exc, status) for status in _PASSED_OVER):
            counts.error = describe(exc)
            log.warning(
                "redelivery: cannot redeliver %s (%s); the pass stops here", guid, counts.error
            )
            return None
        counts.passed_over += 1
        log.warning("redelivery: GitHub will not redeliver %s (%s): %s", guid, event, describe(exc))
        return False
    if services.metrics is not None:
        services.metrics.redelivered(event)
    return True


async def _failed_again(
    conn: Conn, attempt: Attempt, request: redeliveries.Asked, now: datetime, counts: Counts
) -> None:
    """GitHub's redelivery of a guid we asked for failed too: ask again after a backoff, or,
    after the last ask, give it up."""
    what = f"{attempt.guid} ({attempt.event} {attempt.action or '-'})"
    if request.asks >= MAX_ASKS:
        await redeliveries.ask_later(conn, attempt.guid, attempt.id, None)
        counts.gave_up += 1
        log.error(
            "redelivery: GitHub could not deliver %s after %d asks (the last: %s); given up",
            what,
            request.asks,
            attempt.status or attempt.status_code,
        )
        return
    wait = backoff(request.asks, RETRY_CAP, first=RETRY_FIRST)
    await redeliveries.ask_later(conn, attempt.guid, attempt.id, now + timedelta(seconds=wait))
    counts.failed_again += 1
    log.warning(
        "redelivery: GitHub's redelivery of %s failed too (%s); asking again in %.0f s "
        "(ask %d of %d)",
        what,
        attempt.status or attempt.status_code,
        wait,
        request.asks + 1,
        MAX_ASKS,
    )


async def _ask_due(
    services: Services, api: RetryingGitHubAPI, conn: Conn, now: datetime, counts: Counts
) -> None:
    """Ask again for the guids whose time has come, until one fails."""
    for request in await redeliveries.due(conn, now):
        asked = await _ask(services, api, request.delivery_id, request.guid, request.event, counts)
        if asked is None:
            return
        if not asked:
            await redeliveries.not_due(conn, request.guid)
            continue
        asks = await redeliveries.asked_again(conn, request.guid)
        counts.asked_again += 1
        log.info(
            "redelivery: asked GitHub again to redeliver %s (%s %s): ask %d of %d",
            request.guid,
            request.event,
            request.action or "-",
            asks,
            MAX_ASKS,
        )


async def _list(
    api: RetryingGitHubAPI, since: Checkpoint | None, horizon: datetime
) -> list[Attempt]:
    """The attempts after the checkpoint and the horizon, oldest first."""
    listed: list[Attempt] = []
    async with contextlib.aclosing(api.getiter(LIST)) as items:
        async for item in items:
            attempt = Attempt.parse(item)
            if attempt is None:
                continue
            if since is not None and attempt.id <= since.delivery_id:
                break
            if attempt.delivered_at < horizon:
                break
            listed.append(attempt)
    listed.reverse()
    return listed


async def _choose(
    conn: Conn, listed: list[Attempt], counts: Counts
) -> tuple[dict[str, Attempt], list[tuple[Attempt, redeliveries.Asked]]]:
    """Per guid to redeliver, the attempt asked for (its newest failed one); and the guids
    asked for before whose newest failed attempt came after the ask (GitHub's redelivery
    failed too), with what was asked."""
    failed: dict[str, Attempt] = {}
    succeeded: set[str] = set()
    others: set[str] = set()
    for attempt in listed:  # oldest first: a newer failed attempt replaces an older
        if not attempt.failed:
            succeeded.add(attempt.guid)
        elif (attempt.event, attempt.action) in EVENTS:
            failed[attempt.guid] = attempt
        else:
            others.add(attempt.guid)
    counts.failed, counts.other_events = len(failed), len(others)
    if not failed:
        return {}, []
    recorded = await redeliveries.recorded(conn, failed)
    asked = await redeliveries.asked(conn, failed)
    chosen: dict[str, Attempt] = {}
    again: list[tuple[Attempt, redeliveries.Asked]] = []
    for guid, attempt in failed.items():
        request = asked.get(guid)
        if guid in recorded:
            counts.recorded += 1
        elif guid in succeeded:
            counts.succeeded_later += 1
        elif request is None:
            chosen[guid] = attempt
        elif attempt.id > request.delivery_id and request.due_at is None:
            again.append((attempt, request))
        else:
            counts.asked_before += 1
    return chosen, again


async def pass_once(services: Services) -> Counts | None:
    """One pass; never raises (but cancellation): a failure is logged (None), the next pass
    retries."""
    try:
        return await redeliver_pass(services)
    except db.UNREACHABLE as exc:
        log.warning(
            "redelivery: the database is unreachable (%s); trying again in %ds",
            type(exc).__name__,
            services.settings.redeliver_interval,
        )
    except Exception:
        log.exception("redelivery: the pass failed")
    return None


async def run_forever(
    services: Services, listening: Callable[[], Awaitable[object]] | None = None
) -> None:
    """Once `listening` is done (every socket of the App accepts connections: GitHub sends a
    redelivery at once, and one refused is lost), a pass, then one every REDELIVER_INTERVAL;
    never raises (but cancellation)."""
    if listening is not None:
        await listening()
    while True:
        counts = await pass_once(services)
        wait = services.settings.redeliver_interval
        if counts is not None and counts.next_look is not None:
            until = (counts.next_look - services.clock()).total_seconds()
            wait = min(wait, max(MIN_WAIT, until))
        await services.sleep(wait)
