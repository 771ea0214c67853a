"""The Gemini quota of the whole deployment, shared through the database by every replica."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:  # store/calls.py imports this module where asyncpg is not installed
    import asyncpg

    from bot.store.db import Db

PACIFIC = ZoneInfo("America/Los_Angeles")  # Gemini's daily quotas reset at midnight here


@dataclass(frozen=True)
class Limits:
    """The deployment's Gemini limits; None: no such limit."""

    rpm: int
    tpm: int | None = None  # input tokens
    rpd: int | None = None
    daily_budget_usd: float | None = None  # per installation


@dataclass(frozen=True)
class Slot:
    """Send at `at` (>= now); the slot is reserved for this request."""

    at: datetime


@dataclass(frozen=True)
class Refused:
    """Nothing can be granted before `until`; `reason` names the setting, for the PR's summary."""

    until: datetime
    reason: str


def pacific_day(now: datetime) -> date:
    """The calendar day in America/Los_Angeles at `now`, which must be aware."""
    if now.utcoffset() is None:
        raise ValueError(f"a naive time: {now.isoformat()}")
    return now.astimezone(PACIFIC).date()


def next_pacific_midnight(now: datetime) -> datetime:
    """The first midnight in America/Los_Angeles after `now`, in UTC."""
    midnight = datetime.combine(pacific_day(now) + timedelta(days=1), time(), PACIFIC)
    return midnight.astimezone(UTC)


async def admit(
    pool: asyncpg.Pool,
    limits: Limits,
    *,
    installation_id: int,
    tokens: int,
    cost_usd: float,
    now: datetime,
    max_wait: float,
) -> Slot | Refused:
    """Reserve the next request slot for one Gemini call, or say until when none can be had.

    The slot is the later of now and both schedules, which run from the last slot granted:
    60/rpm seconds after it, and its tokens * 60/tpm seconds after it (no burst, so idle
    time earns nothing). A grant counts the request on the slot's Pacific day and reserves
    cost_usd of the installation's budget for that day. The quota row stays locked until the
    statement ends, so replicas take turns; a refusal writes nothing.
    """
    (answer,) = await admit_many(
        pool,
        limits,
        installation_id=installation_id,
        requests=[(tokens, cost_usd)],
        now=now,
        max_wait=max_wait,
    )
    return answer


async def admit_many(
    pool: asyncpg.Pool,
    limits: Limits,
    *,
    installation_id: int,
    requests: Sequence[tuple[int, float]],
    now: datetime,
    max_wait: float,
) -> list[Slot | Refused]:
    """`admit` for several calls (their input tokens and worst cost), in order and in one
    statement; after a refusal the rest are refused alike. The decision is the database
    function `gemini_admit_many` (migration 0015): one round trip for the calls a review
    starts together, not one each (and not six each, as it once was)."""
    now = now.astimezone(UTC)
    budget = limits.daily_budget_usd
    rows = await pool.fetch(
        "SELECT granted, slot, refused"
        " FROM gemini_admit_many($1, $2, $3, $4, $5, $6, $7::integer[], $8::numeric[], $9)",
        now,
        limits.rpm,
        limits.tpm,
        limits.rpd,
        None if budget is None else _usd(budget),
        installation_id,
        [tokens for tokens, _ in requests],
        [_usd(cost) for _, cost in requests],
        float(max_wait),
    )
    pairs = zip(rows, requests, strict=True)
    return [_answer(row, limits, tokens, max_wait) for row, (tokens, _) in pairs]


def _answer(row: asyncpg.Record, limits: Limits, tokens: int, max_wait: float) -> Slot | Refused:
    slot: datetime = row["slot"]
    if row["granted"]:
        return Slot(slot)
    refused = row["refused"]
    if refused == "rpd":
        reason = f"GEMINI_RPD ({limits.rpd} requests a day) is reached"
    elif refused == "budget":
        reason = (
            f"DAILY_BUDGET_USD (${limits.daily_budget_usd:.2f}) is reached for this installation"
        )
    elif refused == "tpm":
        return Refused(slot, f"GEMINI_TPM: no slot for {tokens} input tokens within {max_wait:g} s")
    else:
        return Refused(slot, f"GEMINI_RPM: no request slot within {max_wait:g} s")
    return Refused(next_pacific_midnight(slot), reason)


@dataclass(frozen=True)
class Settle:
    """A reservation corrected by `delta_usd` (actual cost - estimated) on the installation's
    Pacific `day` (the day of the Slot's `at` it was reserved on)."""

    installation_id: int
    day: date
    delta_usd: float


def settle_statement(first: int) -> str:
    """The upsert that adds ${first} USD to installation ${first+1}'s day ${first+2}, to run
    alone or after another statement's CTE (the call it settles, stored in the same trip)."""
    return (
        f"INSERT INTO gemini_spend AS s (installation_id, day, spent_usd)"
        f" VALUES (${first + 1}, ${first + 2}, ${first}) ON CONFLICT (installation_id, day)"
        f" DO UPDATE SET spent_usd = s.spent_usd + EXCLUDED.spent_usd"
    )


def settle_args(settle: Settle) -> tuple[Decimal, int, date]:
    return _usd(settle.delta_usd), settle.installation_id, settle.day


async def settle_spend(
    pool: asyncpg.Pool, *, installation_id: int, now: datetime, delta_usd: float
) -> None:
    """Correct a reservation by delta_usd (actual cost - estimated), on the Pacific day of now.

    The reservation was made on the day of its Slot's `at`: pass that to correct that day.
    """
    settle = Settle(installation_id, pacific_day(now), delta_usd)
    await pool.execute(settle_statement(1), *settle_args(settle))


async def spent_today(pool: Db, installation_id: int, now: datetime) -> float:
    """What the installation spent (or reserved) on the Pacific day of `now`, in USD."""
    return float(await _spent(pool, installation_id, pacific_day(now)))


def _usd(amount: float) -> Decimal:
    return Decimal(str(amount))  # the decimal the float was written as, not its binary value


async def _spent(conn: Db, installation_id: int, day: date) -> Decimal:
    spent: Decimal | None = await conn.fetchval(
        "SELECT spent_usd FROM gemini_spend WHERE installation_id = $1 AND day = $2",
        installation_id,
        day,
    )
    return spent if spent is not None else Decimal(0)
