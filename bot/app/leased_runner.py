"""Leased work run to its end, a review or a job: claimed, given up past its attempts, run
under its lease (renewed every third of it; the run is cancelled once the lease is lost),
finished. What each kind does at each step is its `Work`'s; the order and the failures are here.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from abc import ABC, abstractmethod
from collections.abc import Awaitable
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

import gidgethub

from bot import retry
from bot.app import outage
from bot.errors import describe
from bot.review.gemini import AgentCallError
from bot.store import connect, db, lease

if TYPE_CHECKING:
    from bot.app.services import Services

log = logging.getLogger(__name__)


class WorkError(Exception):
    """The work cannot go on; the message is for the people it is done for."""


class NotOurs(Exception):
    """The work is no longer ours (a newer row replaced it, or another process took it):
    it records nothing more."""

    said = "is no longer ours; it records nothing more"


# Failures leased work expects (the message says it all); anything else is a bug: traceback.
EXPECTED = (gidgethub.GitHubException, AgentCallError, WorkError, retry.Outage)

Ended = TypeVar("Ended")  # how the work ended, as its kind records it
Result = TypeVar("Result")  # what finishing it tells the caller (a review: its Timing)


class Work(ABC, Generic[Ended, Result]):
    """One claimed row's work, as `run` drives it."""

    leased: ClassVar[lease.Leased]  # its table
    services: Services

    @property
    @abstractmethod
    def row_id(self) -> uuid.UUID: ...

    @property
    @abstractmethod
    def attempts(self) -> int:
        """Claims of the row, this one included."""

    @property
    @abstractmethod
    def label(self) -> str:
        """How log lines name it: `review <id>`, `job <id> (command on octo/widgets#7)`."""

    @property
    @abstractmethod
    def lease_seconds(self) -> float: ...

    @abstractmethod
    async def give_up(self, reason: str) -> Result | None:
        """Its process kept dying: fail it for good, with `reason`."""

    async def refusal(self) -> Ended | None:
        """How it ends without running at all, if it must not run."""
        return None

    @abstractmethod
    async def execute(self) -> Ended:
        """Do the work."""

    @abstractmethod
    async def failed(self, error: str) -> Ended:
        """It raised: say so where it is seen; how it ends."""

    async def interrupted(self) -> None:
        """It was cancelled (shutdown, superseded, its lease lost): keep what it spent."""
        return None

    @property
    def outage_since(self) -> datetime | None:
        """Since when an outage has deferred it (its row's), if one has."""
        return None

    @property
    def outage_retries(self) -> int:
        """How many times an outage deferred it (its row's)."""
        return 0

    async def deferring(self, deferral: outage.Deferral) -> None:
        """It goes back to the queue on an outage: say so where it is seen, if anywhere."""
        return None

    @abstractmethod
    async def finish(self, ended: Ended) -> Result | None:
        """Record how it ended (under our lease)."""


async def run(claiming: Awaitable[Work[Ended, Result] | None]) -> Result | None:
    """Claim, then run the work to its end; never raises for the work's own failure.
    What its finish returned, or None when this call did not finish it. A database that cannot
    be reached for the claim leaves the row as it was: said in one line, taken up again by the
    reclaimer once the database answers."""
    try:
        work = await claiming
    except Exception as exc:
        if not connect.unreachable(exc):
            raise
        log.warning(
            "not claimed: the database is unreachable (%s); the reclaimer takes it up again",
            describe(exc),
        )
        return None
    if work is None:
        return None
    if work.leased.exhausted(work.attempts):
        log.warning("%s failed: %s", work.label, work.leased.gave_up)
        return await work.give_up(work.leased.gave_up)
    refused = await work.refusal()
    if refused is not None:
        return await work.finish(refused)
    keeper = _Keeper(work, asyncio.current_task())
    try:
        ended = await work.execute()
    except NotOurs as exc:
        log.info("%s %s", work.label, exc.said)
        return None
    except asyncio.CancelledError:
        await work.interrupted()
        if keeper.lost:  # our own keeper cancelled us: the row is someone else's now
            task = asyncio.current_task()
            if task is not None:
                task.uncancel()
            log.info("%s lost its lease; stopped", work.label)
            return None
        raise
    except Exception as exc:
        keeper.stop()
        error = describe(exc)
        services, now = work.services, work.services.clock()
        deferral = outage.deferral(
            exc,
            error,
            since=work.outage_since,
            retries=work.outage_retries,
            now=now,
            horizon_seconds=services.settings.outage_horizon_seconds,
        )
        if deferral is not None:
            await _defer(work, deferral)
            return None
        if retry.outage(exc):
            error = outage.gave_up(error, work.outage_since, now)
        # Not "failed" yet: the finish says how it ended, as the table has it (a newer
        # review may have superseded it meanwhile).
        if isinstance(exc, EXPECTED):
            log.warning("%s ended on an error: %s", work.label, error)
        else:
            log.exception("%s ended on an unexpected error: %s", work.label, error)
        ended = await work.failed(error)
    finally:
        keeper.stop()
    return await work.finish(ended)


async def _defer(work: Work[Any, Any], deferral: outage.Deferral) -> None:
    """Back to the queue until the deferral's time, said where the work is seen first."""
    log.warning(
        "%s deferred until %s: %s (outage since %s, deferral %d)",
        work.label,
        deferral.until.isoformat(timespec="seconds"),
        deferral.reason,
        deferral.since.isoformat(timespec="seconds"),
        deferral.retries,
    )
    await work.deferring(deferral)
    services = work.services
    handed = await work.leased.defer_outage(
        services.pool,
        work.row_id,
        services.lease_owner,
        deferral.until,
        deferral.since,
        deferral.retries,
    )
    if not handed:
        log.warning("%s lost its lease before it was queued again", work.label)


class _Keeper:
    """Renews the work's lease while it runs; cancels the run when the row is not ours."""

    def __init__(self, work: Work[Any, Any], task: asyncio.Task[Any] | None) -> None:
        self.lost = False
        self._work, self._task = work, task
        self._keeping = asyncio.create_task(self._keep())

    def stop(self) -> None:
        self._keeping.cancel()

    async def _keep(self) -> None:
        work, services = self._work, self._work.services
        while True:
            await services.sleep(work.lease_seconds / 3)
            try:
                ours = await work.leased.renew(
                    services.pool, work.row_id, services.lease_owner, work.lease_seconds
                )
            except db.UNREACHABLE as exc:  # away for a moment; the lease has two more chances
                log.warning("%s: lease not renewed: %s", work.label, exc)
                continue
            if not ours and self._task is not None:
                self.lost = True
                self._task.cancel()
                return
