"""What a Gemini call may spend and what it did: the review's token budget, and the meter.

Every attempt of every call asks its meter first (`admit`: the budget, then the quota) and
reports back after (`record`). The meter the App uses also stores each call and shares the
quota across replicas (bot/metering.py); `LocalMeter` keeps both in this process.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from aiolimiter import AsyncLimiter


class QuotaReached(Exception):
    """A quota or spending cap is reached: the review waits in the queue, `after` seconds or
    until `until` (a datetime), rather than failing or holding its task."""

    def __init__(
        self, reason: str, *, until: datetime | None = None, after: float | None = None
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.until = until
        self.after = after


class BudgetSpent(Exception):
    """The call would take the review over its max_review_tokens."""


class Budget:
    """Input tokens one review may spend, over all its calls, agents and retries.

    A call reserves its tokens before it is sent and settles with what the model reported,
    so the total is never exceeded as long as the reservation is not below the real count
    (the supervisor reserves counted tokens, plus a margin).
    """

    def __init__(self, limit: int, spent: int = 0) -> None:
        self.limit = limit
        self.spent = spent  # settled
        self.reserved = 0  # sent or about to be, not settled yet

    @property
    def left(self) -> int:
        return self.limit - self.spent - self.reserved

    def reserve(self, tokens: int) -> None:
        if tokens > self.left:
            raise BudgetSpent(
                f"{tokens:,} more input tokens would take the review over its budget of "
                f"{self.limit:,} ({self.spent + self.reserved:,} spent)"
            )
        self.reserved += tokens

    def release(self, tokens: int) -> None:
        """A reservation that was not sent."""
        self.reserved -= tokens

    def settle(self, reserved: int, spent: int) -> None:
        self.reserved -= reserved
        self.spent += spent


@dataclass(frozen=True)
class Usage:
    """Tokens of one attempt: as `usage_metadata` reported them, or our count (`estimated`)."""

    prompt: int = 0  # cached tokens included
    cached: int = 0
    output: int = 0  # thinking tokens not included
    thinking: int = 0
    estimated: bool = False
    stored: float = 0.0  # token-hours of the explicit cache the call created


@dataclass(frozen=True)
class Call:
    """One attempt of one agent on one chunk, as it ended."""

    agent: str
    chunk: int
    digest: str  # of the prompt; an ok answer is reused for the same agent and digest
    attempt: int
    status: str  # ok | failed | cancelled
    latency_ms: int
    usage: Usage
    error: str | None = None
    answer: dict[str, Any] | None = None


class Meter(Protocol):
    budget: Budget

    async def admit(self, tokens: int) -> None:
        """Reserve `tokens` and wait for a request slot; BudgetSpent or QuotaReached."""

    async def record(self, call: Call, reserved: int) -> None:
        """Settle the reservation with the call's usage, and keep the call."""

    def abandon(self, call: Call, reserved: int) -> None:
        """A call cut off in flight (cancelled): count it, without awaiting anything."""


def rate_limiter(rpm: int) -> AsyncLimiter:
    """One slot every 60 / rpm seconds."""
    return AsyncLimiter(1, 60 / rpm)


class LocalMeter:
    """A budget and a rate for this process only (tests, and reviews without a database)."""

    def __init__(self, budget: Budget, rpm: int, limiter: AsyncLimiter | None = None) -> None:
        if rpm < 1:
            raise ValueError("rpm must be at least 1")
        self.budget = budget
        # Measured: AsyncLimiter(rpm, 60) lets almost 2 * rpm through in the first minute
        # (its initial burst); one slot every 60 / rpm seconds never exceeds rpm. Meters of
        # reviews run side by side share one (`limiter`), so that their sum keeps to rpm.
        self._limiter = limiter or rate_limiter(rpm)
        self.calls: list[Call] = []

    async def admit(self, tokens: int) -> None:
        self.budget.reserve(tokens)
        try:
            await self._limiter.acquire()
        except asyncio.CancelledError:
            self.budget.release(tokens)
            raise

    async def record(self, call: Call, reserved: int) -> None:
        self.abandon(call, reserved)

    def abandon(self, call: Call, reserved: int) -> None:
        self.budget.settle(reserved, call.usage.prompt)
        self.calls.append(call)
