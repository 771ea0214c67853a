"""The Gemini quota shared by the replicas: spacing, tokens, requests a day, budget, refusals."""

from __future__ import annotations

import asyncio
import heapq
from datetime import UTC, datetime, timedelta

import pytest

from bot.store import db, quota
from bot.store.quota import Limits, Refused, Slot

T0 = datetime(2026, 5, 4, 17, 0, tzinfo=UTC)  # 10:00 in Los Angeles
RPM20 = Limits(rpm=20)  # a slot every 3 s


@pytest.fixture(autouse=True)
async def empty_quota(pool):
    await pool.execute("TRUNCATE gemini_quota, gemini_spend")


def at(seconds: float, start: datetime = T0) -> datetime:
    return start + timedelta(seconds=seconds)


async def ask(
    pool,
    limits: Limits,
    now: datetime,
    *,
    tokens: int = 100,
    cost: float = 0.0,
    installation: int = 1,
    max_wait: float = 3600.0,
) -> Slot | Refused:
    return await quota.admit(
        pool,
        limits,
        installation_id=installation,
        tokens=tokens,
        cost_usd=cost,
        now=now,
        max_wait=max_wait,
    )


async def granted(pool, limits: Limits, now: datetime, **kw) -> datetime:
    answer = await ask(pool, limits, now, **kw)
    assert isinstance(answer, Slot), answer
    return answer.at


def most_in_a_minute(slots: list[datetime]) -> int:
    """The most slots in any closed 60 s window."""
    slots = sorted(slots)
    return max(sum(s <= t <= s + timedelta(seconds=60) for t in slots) for s in slots)


def gaps(slots: list[datetime]) -> set[float]:
    slots = sorted(slots)
    return {(b - a).total_seconds() for a, b in zip(slots, slots[1:], strict=False)}


async def quota_rows(pool) -> list[tuple]:
    rows = await pool.fetch("SELECT * FROM gemini_quota")
    spend = await pool.fetch("SELECT * FROM gemini_spend ORDER BY installation_id, day")
    return [tuple(r) for r in rows] + [tuple(r) for r in spend]


async def test_slots_are_60_over_rpm_apart_and_idle_time_earns_no_burst(pool):
    assert await granted(pool, RPM20, T0) == T0
    assert await granted(pool, RPM20, T0) == at(3)
    assert await granted(pool, RPM20, at(1)) == at(6)

    assert await granted(pool, RPM20, at(100)) == at(100), "never a slot in the past"
    assert await granted(pool, RPM20, at(100)) == at(103), "100 s idle are no credit"


async def test_under_demand_slots_are_back_to_back_and_use_the_quota(pool):
    # One caller a second for 3 minutes (three times the quota); a refused caller comes
    # back at the time it was given, as the queue does.
    callers = [(at(i), i) for i in range(180)]
    heapq.heapify(callers)
    slots: list[datetime] = []
    while callers[0][0] < at(180):
        now, caller = heapq.heappop(callers)
        answer = await ask(pool, RPM20, now, max_wait=60)
        if isinstance(answer, Refused):
            assert answer.until > now
            heapq.heappush(callers, (answer.until, caller))
        else:
            assert now <= answer.at <= now + timedelta(seconds=60)
            slots.append(answer.at)

    in_window = [s for s in slots if s < at(180)]
    assert len(in_window) >= 0.95 * 60
    assert gaps(slots) == {3.0}, "no slot is skipped, none is closer"
    assert most_in_a_minute(slots) <= 21


async def test_two_replicas_asking_at_once_never_get_slots_closer_than_the_spacing(
    pool, database_url
):
    replicas = [await db.create_pool(database_url, min_size=5, max_size=5) for _ in range(2)]
    try:
        answers = await asyncio.gather(*(ask(replicas[i % 2], RPM20, T0) for i in range(40)))
    finally:
        for replica in replicas:
            await replica.close()

    slots = [a.at for a in answers if isinstance(a, Slot)]
    assert sorted(slots) == [at(3 * k) for k in range(40)]
    assert most_in_a_minute(slots) <= 21


async def test_tokens_space_the_next_slot_by_tokens_times_60_over_tpm(pool):
    limits = Limits(rpm=600, tpm=1000)  # requests 0.1 s apart; 1,000 tokens a minute

    assert await granted(pool, limits, T0, tokens=500) == T0
    refused = await ask(pool, limits, T0, tokens=100, max_wait=10)
    assert refused == Refused(at(30), "GEMINI_TPM: no slot for 100 input tokens within 10 s")
    assert await granted(pool, limits, T0, tokens=100) == at(30), "500 tokens: 30 s"
    assert await granted(pool, limits, T0, tokens=1) == at(36), "100 tokens: 6 s"
    assert await granted(pool, limits, T0, tokens=1) == at(36.1), "rpm binds, not 60 ms"


# The Pacific day is not the UTC day, and on a DST change it has 23 or 25 hours.
DAYS = {
    "summer": (T0, datetime(2026, 5, 5, 7, tzinfo=UTC)),
    "evening, UTC day already next": (
        datetime(2026, 5, 5, 3, tzinfo=UTC),
        datetime(2026, 5, 5, 7, tzinfo=UTC),
    ),
    "2026-11-01 before falling back": (
        datetime(2026, 11, 1, 7, 30, tzinfo=UTC),
        datetime(2026, 11, 2, 8, tzinfo=UTC),
    ),
    "2026-11-01 after falling back": (
        datetime(2026, 11, 1, 12, tzinfo=UTC),
        datetime(2026, 11, 2, 8, tzinfo=UTC),
    ),
    "2026-03-08 springing forward": (
        datetime(2026, 3, 8, 12, tzinfo=UTC),
        datetime(2026, 3, 9, 7, tzinfo=UTC),
    ),
}


@pytest.mark.parametrize(("now", "midnight"), DAYS.values(), ids=DAYS.keys())
async def test_rpd_refuses_until_the_next_pacific_midnight_and_grants_after_it(pool, now, midnight):
    limits = Limits(rpm=60, rpd=2)
    assert quota.next_pacific_midnight(now) == midnight
    await granted(pool, limits, now)
    await granted(pool, limits, now)

    reached = Refused(midnight, "GEMINI_RPD (2 requests a day) is reached")
    assert await ask(pool, limits, now) == reached
    assert await ask(pool, limits, midnight - timedelta(microseconds=1)) == reached

    assert await granted(pool, limits, midnight) == midnight
    assert await granted(pool, limits, midnight) == at(1, midnight)
    following = await ask(pool, limits, midnight)
    assert isinstance(following, Refused)
    assert following.until == quota.next_pacific_midnight(midnight)
    assert following.until > midnight + timedelta(hours=22)


async def test_daily_budget_refuses_one_installation_and_settle_spend_corrects_it(pool):
    limits = Limits(rpm=600, daily_budget_usd=1.0)
    await granted(pool, limits, T0, cost=0.4)
    await granted(pool, limits, T0, cost=0.4)

    over = await ask(pool, limits, T0, cost=0.4)
    assert over == Refused(
        quota.next_pacific_midnight(T0), "DAILY_BUDGET_USD ($1.00) is reached for this installation"
    )
    assert await quota.spent_today(pool, 1, T0) == pytest.approx(0.8)
    await granted(pool, limits, T0, cost=0.4, installation=2)
    assert await quota.spent_today(pool, 2, T0) == pytest.approx(0.4)

    await quota.settle_spend(pool, installation_id=1, now=T0, delta_usd=-0.3)  # cost 0.1
    await granted(pool, limits, T0, cost=0.4)
    await quota.settle_spend(pool, installation_id=1, now=T0, delta_usd=0.1)
    assert await quota.spent_today(pool, 1, T0) == pytest.approx(1.0)
    await granted(pool, limits, T0, cost=0.0)  # reaching the cap exactly is allowed
    assert isinstance(await ask(pool, limits, T0, cost=0.01), Refused)

    tomorrow = quota.next_pacific_midnight(T0)
    await granted(pool, limits, tomorrow, cost=0.4)
    assert await quota.spent_today(pool, 1, tomorrow) == pytest.approx(0.4)


async def test_a_refusal_reserves_nothing(pool):
    limits = Limits(rpm=20, rpd=2, daily_budget_usd=1.0)
    await granted(pool, limits, T0, cost=0.5)
    before = await quota_rows(pool)

    assert isinstance(await ask(pool, limits, T0, max_wait=1), Refused)
    assert isinstance(await ask(pool, limits, T0, cost=0.6), Refused)

    assert await quota_rows(pool) == before
    assert await granted(pool, limits, T0, cost=0.5) == at(3), "the slot was not taken"
    assert await quota.spent_today(pool, 1, T0) == pytest.approx(1.0)
    assert (await ask(pool, limits, T0)).reason.startswith("GEMINI_RPD"), "2 counted, not 4"


async def test_a_slot_beyond_max_wait_is_refused_with_the_slot_time(pool):
    for _ in range(3):
        await granted(pool, RPM20, T0)

    refused = await ask(pool, RPM20, T0, max_wait=5)

    assert refused == Refused(at(9), "GEMINI_RPM: no request slot within 5 s")
    assert await granted(pool, RPM20, T0, max_wait=9) == at(9), "max_wait itself is allowed"


def test_a_naive_time_is_an_error():
    with pytest.raises(ValueError, match="naive"):
        quota.pacific_day(datetime(2026, 5, 4, 12))
