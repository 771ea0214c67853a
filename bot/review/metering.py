"""What a Gemini call may spend and what it did: the review's budget, and the meter.

Every attempt of every call asks its meter first (`admit`: the budget, then the quota) and
reports back after (`record`). The meter the App uses also stores each call and shares the
quota across replicas (bot/app/review_meter.py); `LocalMeter` keeps both in this process.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from aiolimiter import AsyncLimiter

from bot.review.pricing import Price, cost


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
    """The call would take the review over its budget (MAX_REVIEW_USD, max_review_tokens)."""


@dataclass(frozen=True)
class Worst:
    """The most one attempt can be billed: its input, its output with thinking (the request's
    maxOutputTokens, which bounds both), and an explicit cache's storage it creates."""

    prompt: int
    output: int = 0
    stored: float = 0.0  # token-hours


class Budget:
    """What one review may spend, over all its calls, agents and retries: input tokens
    (`limit`, max_review_tokens) and money (`usd`, MAX_REVIEW_USD, at `price`).

    A call reserves its worst case before it is sent (its counted input, its maxOutputTokens
    at the output rate) and settles with what the model reported, so neither total is ever
    exceeded as long as the reservation is not below the bill. `usd` None: no money limit.
    """

    def __init__(
        self,
        limit: int,
        spent: int = 0,
        *,
        usd: float | None = None,
        price: Price | None = None,
        spent_usd: float = 0.0,
    ) -> None:
        self.limit = limit
        self.spent = spent  # input tokens, settled
        self.reserved = 0  # input tokens sent or about to be, not settled yet
        self.usd = usd
        self.price = price
        self.spent_usd = spent_usd
        self.reserved_usd = 0.0

    @property
    def left(self) -> int:
        """Input tokens left."""
        return self.limit - self.spent - self.reserved

    @property
    def left_usd(self) -> float | None:
        """Dollars left; None: no money limit."""
        if self.usd is None:
            return None
        return self.usd - self.spent_usd - self.reserved_usd

    def cost(self, worst: Worst) -> float:
        return worst_bill(self.price, worst)

    def reserve(self, worst: Worst) -> None:
        if worst.prompt > self.left:
            raise BudgetSpent(
                f"{worst.prompt:,} more input tokens would take the review over its budget of "
                f"{self.limit:,} ({self.spent + self.reserved:,} spent)"
            )
        usd, left = self.cost(worst), self.left_usd
        if left is not None and usd > left + 1e-12:
            raise BudgetSpent(
                f"a call that may cost ${usd:.4f} (input and up to {worst.output:,} output and "
                f"thinking tokens) would take the review over its budget of ${self.usd:.2f} "
                f"(${self.spent_usd + self.reserved_usd:.4f} spent)"
            )
        self.reserved += worst.prompt
        self.reserved_usd += usd

    def release(self, worst: Worst) -> None:
        """A reservation that was not sent."""
        self.reserved -= worst.prompt
        self.reserved_usd -= self.cost(worst)

    def settle(self, worst: Worst, usage: Usage) -> None:
        """The reservation replaced by what the attempt was billed."""
        self.release(worst)
        self.spent += usage.prompt
        self.spent_usd += bill(self.price, usage)


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
    # False: the request never reached Gemini (no connection was made), so it cost nothing.
    reached: bool = True


class Meter(Protocol):
    budget: Budget

    async def admit(self, worst: Worst) -> None:
        """Reserve the attempt's worst case and wait for a request slot; BudgetSpent or
        QuotaReached."""

    async def record(self, call: Call, reserved: Worst) -> None:
        """Settle the reservation with the call's usage, and keep the call."""

    def abandon(self, call: Call, reserved: Worst) -> None:
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

    async def admit(self, worst: Worst) -> None:
        self.budget.reserve(worst)
        try:
            await self._limiter.acquire()
        except asyncio.CancelledError:
            self.budget.release(worst)
            raise

    async def record(self, call: Call, reserved: Worst) -> None:
        self.abandon(call, reserved)

    def abandon(self, call: Call, reserved: Worst) -> None:
        self.budget.settle(reserved, call.usage)
        self.calls.append(call)


def bill(price: Price | None, usage: Usage) -> float:
    """USD for one attempt's usage (thinking billed as output)."""
    return cost(
        price, usage.prompt, usage.cached, usage.output + usage.thinking, stored=usage.stored
    )


def unanswered(worst: Worst, *, reached: bool, refused: bool = False) -> Usage:
    """What an attempt that got no usable answer is billed, before any price: nothing when it
    never reached Gemini (`reached` False: no connection was made, `retry.never_sent`) or
    Gemini refused it unread (`refused`: a 4xx or 429); else the input it was sent (`worst`'s
    prompt), as an estimate, since Gemini may have read it (a 5xx, a timeout or a connection
    dropped after it was sent, a call cut off in flight)."""
    if not reached or refused:
        return Usage(estimated=True)
    return Usage(prompt=worst.prompt, estimated=True)


def worst_bill(price: Price | None, worst: Worst) -> float:
    """USD the most an attempt can be billed: its input, all its maxOutputTokens at the
    output rate, and the storage of a cache it creates."""
    return cost(price, worst.prompt, 0, worst.output, stored=worst.stored)


def output_bill(price: Price | None, usage: Usage) -> float:
    """Of `bill`, what the output and thinking tokens cost."""
    return cost(price, 0, 0, usage.output + usage.thinking)
