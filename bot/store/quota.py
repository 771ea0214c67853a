"""The Gemini quota of the whole deployment, shared through the database by every replica."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import asyncpg

from bot.store.db import Conn, Db

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
    transaction ends, so replicas take turns; a refusal writes nothing.
    """
    now = now.astimezone(UTC)
    cost = _usd(cost_usd)
    async with pool.acquire() as conn, conn.transaction():
        row = await _locked_quota(conn)
        last_at: datetime | None = row["last_at"]
        slot, by_tokens = now, False
        if last_at is not None:
            slot = max(now, last_at + _spacing(1, limits.rpm))
            if limits.tpm is not None:
                token_slot = last_at + _spacing(row["last_tokens"], limits.tpm)
                by_tokens = token_slot > slot
                slot = max(slot, token_slot)
        day = pacific_day(slot)
        same_day = last_at is not None and pacific_day(last_at) == day
        requests = row["day_requests"] if same_day else 0

        if limits.rpd is not None and requests >= limits.rpd:
            reason = f"GEMINI_RPD ({limits.rpd} requests a day) is reached"
            return Refused(next_pacific_midnight(slot), reason)
        budget = limits.daily_budget_usd
        if budget is not None and await _spent(conn, installation_id, day) + cost > _usd(budget):
            reason = f"DAILY_BUDGET_USD (${budget:.2f}) is reached for this installation"
            return Refused(next_pacific_midnight(slot), reason)
        if slot - now > timedelta(seconds=max_wait):
            if by_tokens:
                reason = f"GEMINI_TPM: no slot for {tokens} input tokens within {max_wait:g} s"
            else:
                reason = f"GEMINI_RPM: no request slot within {max_wait:g} s"
            return Refused(slot, reason)

        await conn.execute(
            "UPDATE gemini_quota SET last_at = $1, last_tokens = $2, day_requests = $3",
            slot,
            tokens,
            requests + 1,
        )
        await _add_spend(conn, installation_id, day, cost)
        return Slot(slot)


async def settle_spend(
    pool: asyncpg.Pool, *, installation_id: int, now: datetime, delta_usd: float
) -> None:
    """Correct a reservation by delta_usd (actual cost - estimated), on the Pacific day of now.

    The reservation was made on the day of its Slot's `at`: pass that to correct that day.
    """
    await _add_spend(pool, installation_id, pacific_day(now), _usd(delta_usd))


async def spent_today(pool: Db, installation_id: int, now: datetime) -> float:
    """What the installation spent (or reserved) on the Pacific day of `now`, in USD."""
    return float(await _spent(pool, installation_id, pacific_day(now)))


def _spacing(units: int, per_minute: int) -> timedelta:
    # Rounded up to the microsecond, so that no two slots are closer than the limit allows.
    return timedelta(microseconds=math.ceil(units * 60_000_000 / per_minute))


def _usd(amount: float) -> Decimal:
    return Decimal(str(amount))  # the decimal the float was written as, not its binary value


async def _locked_quota(conn: Conn) -> asyncpg.Record:
    """The quota row, locked until the transaction ends; created by the first caller."""
    select = "SELECT last_at, last_tokens, day_requests FROM gemini_quota FOR UPDATE"
    row = await conn.fetchrow(select)
    if row is None:
        # Of callers racing here, one inserts; the others wait for its commit and then lock.
        await conn.execute("INSERT INTO gemini_quota DEFAULT VALUES ON CONFLICT DO NOTHING")
        row = await conn.fetchrow(select)
    assert row is not None
    return row


async def _spent(conn: Db, installation_id: int, day: date) -> Decimal:
    spent: Decimal | None = await conn.fetchval(
        "SELECT spent_usd FROM gemini_spend WHERE installation_id = $1 AND day = $2",
        installation_id,
        day,
    )
    return spent if spent is not None else Decimal(0)


async def _add_spend(conn: Db, installation_id: int, day: date, amount: Decimal) -> None:
    await conn.execute(
        "INSERT INTO gemini_spend (installation_id, day, spent_usd) VALUES ($1, $2, $3)"
        " ON CONFLICT (installation_id, day)"
        " DO UPDATE SET spent_usd = gemini_spend.spent_usd + EXCLUDED.spent_usd",
        installation_id,
        day,
        amount,
    )
