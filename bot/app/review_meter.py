"""The App's meter for one review: its budget, the deployment's quota, every call stored."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.app.services import Services
from bot.config import Settings
from bot.github.repo_config import Ceilings, RepoConfig
from bot.review.metering import (
    Budget,
    Call,
    QuotaReached,
    Worst,
    bill,
    output_bill,
    worst_bill,
)
from bot.review.pricing import budget_price, price_of
from bot.store import calls, quota
from bot.store.calls import CallRow
from bot.store.reviews import Review

if TYPE_CHECKING:
    from bot.app.metrics import Metrics


class ReviewMeter:
    """Admits a review's calls (its budget, then the shared quota) and records each one."""

    def __init__(self, services: Services, review: Review, budget: Budget, model: str) -> None:
        self.services = services
        self.review = review
        self.budget = budget
        self.model = model
        self.price = price_of(services.settings.gemini_prices, model)  # what calls are stored at
        # What the daily cap reserves and settles at (an unpriced model: the dearest).
        self.cap_price = budget_price(services.settings.gemini_prices, model)
        settings = services.settings
        self.limits = quota.Limits(
            rpm=settings.gemini_rpm,
            tpm=settings.gemini_tpm,
            rpd=settings.gemini_rpd,
            daily_budget_usd=settings.daily_budget_usd,
        )
        self.abandoned: list[tuple[CallRow, Worst, Call]] = []
        self.recorded = calls.Totals()  # the calls this meter stored, summed
        self.metrics: Metrics | None = services.metrics
        self._asked: list[tuple[Worst, asyncio.Future[quota.Slot | quota.Refused]]] = []
        self._admitting: set[asyncio.Task[None]] = set()

    def _worst_usd(self, worst: Worst) -> float:
        """The most an attempt can cost: what the daily cap reserves before it is sent."""
        return worst_bill(self.cap_price, worst)

    async def admit(self, worst: Worst) -> None:
        """Reserve the attempt's worst case (the review's budget, then the installation's
        day), then wait for the deployment's next slot (QuotaReached when it is further away
        than QUOTA_MAX_WAIT, or a daily limit is reached)."""
        self.budget.reserve(worst)
        services = self.services
        try:
            answer = await self._ask(worst)
        except BaseException:
            self.budget.release(worst)
            raise
        if isinstance(answer, quota.Refused):
            self.budget.release(worst)
            raise QuotaReached(answer.reason, until=answer.until)
        wait = (answer.at - services.clock()).total_seconds()
        if self.metrics is not None:
            self.metrics.limiter_waited(wait)
        if wait > 0:
            try:
                await services.sleep(wait)
            except BaseException:  # cancelled while waiting: nothing was sent
                self.budget.release(worst)
                raise

    def _ask(self, worst: Worst) -> asyncio.Future[quota.Slot | quota.Refused]:
        """The quota's answer for one attempt. The agents of a part start in the same turn of
        the event loop: what they ask is admitted in one statement, sent once every task of
        that turn has asked (`quota.admit_many`, in the order asked)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[quota.Slot | quota.Refused] = loop.create_future()
        self._asked.append((worst, future))
        if len(self._asked) == 1:
            loop.call_soon(self._admit_asked)
        return future

    def _admit_asked(self) -> None:
        asked, self._asked = self._asked, []
        task = asyncio.create_task(self._admit(asked), name=f"admit-{self.review.id}")
        self._admitting.add(task)
        task.add_done_callback(self._admitting.discard)

    async def _admit(
        self, asked: list[tuple[Worst, asyncio.Future[quota.Slot | quota.Refused]]]
    ) -> None:
        services = self.services
        costs = [self._worst_usd(worst) for worst, _ in asked]
        requests = [(worst.prompt, cost) for (worst, _), cost in zip(asked, costs, strict=True)]
        try:
            answers = await quota.admit_many(
                services.pool,
                self.limits,
                installation_id=self.review.installation_id,
                requests=requests,
                now=services.clock(),
                max_wait=services.settings.quota_max_wait,
            )
        except Exception as exc:
            for _, future in asked:
                if not future.done():
                    future.set_exception(exc)
            return
        for (_, future), answer, cost in zip(asked, answers, costs, strict=True):
            if not future.done():
                future.set_result(answer)
            elif isinstance(answer, quota.Slot):  # its attempt was cancelled meanwhile
                await quota.settle_spend(
                    services.pool,
                    installation_id=self.review.installation_id,
                    now=answer.at,
                    delta_usd=-cost,
                )

    async def record(self, call: Call, reserved: Worst) -> None:
        row = self._row(call, reserved)
        self._count(row)
        await calls.add_settled(self.services.pool, row, self._settle(row, call, reserved))
        self.recorded = self.recorded.and_(calls.Totals.of(row))

    def abandon(self, call: Call, reserved: Worst) -> None:
        """Kept for `flush`: a cancelled task must not await before it stops."""
        row = self._row(call, reserved)
        self._count(row)
        self.abandoned.append((row, reserved, call))

    def _count(self, row: CallRow) -> None:
        if self.metrics is None:
            return
        rate_limited = row.status == "failed" and (row.error or "").startswith("429")
        self.metrics.gemini_call(
            row.agent,
            "rate_limited" if rate_limited else row.status,
            prompt=row.prompt_tokens,
            cached=row.cached_tokens,
            output=row.output_tokens,
            thinking=row.thinking_tokens,
            cost_usd=row.cost_usd,
        )

    async def flush(self) -> None:
        """Store the calls cut off in flight: Gemini bills them all the same."""
        kept, self.abandoned = self.abandoned, []
        for row, reserved, call in kept:
            await calls.add_settled(self.services.pool, row, self._settle(row, call, reserved))
            self.recorded = self.recorded.and_(calls.Totals.of(row))

    def _row(self, call: Call, reserved: Worst) -> CallRow:
        self.budget.settle(reserved, call.usage)
        usage, review = call.usage, self.review
        return CallRow(
            review_id=review.id,
            installation_id=review.installation_id,
            owner=review.owner,
            repo=review.repo,
            model=self.model,
            agent=call.agent,
            chunk=call.chunk,
            chunk_digest=call.digest,
            attempt=call.attempt,
            status=call.status,
            error=call.error,
            latency_ms=call.latency_ms,
            prompt_tokens=usage.prompt,
            cached_tokens=usage.cached,
            output_tokens=usage.output,
            thinking_tokens=usage.thinking,
            estimated=usage.estimated,
            cost_usd=bill(self.price, usage),
            answer=call.answer,
            created_at=self.services.clock(),
            output_cost_usd=output_bill(self.price, usage),
        )

    def _settle(self, row: CallRow, call: Call, reserved: Worst) -> quota.Settle:
        """The installation's day: the worst case reserved replaced by the bill."""
        delta = bill(self.cap_price, call.usage) - self._worst_usd(reserved)
        return quota.Settle(row.installation_id, quota.pacific_day(row.created_at), delta)


async def budget_of(
    services: Services,
    review_id: uuid.UUID,
    tokens: int,
    usd: float,
    model: str,
    spent: calls.Spent | None = None,
) -> Budget:
    """The review's budget (`tokens` of input, `usd` in all), less what its earlier attempts
    spent (`spent` when the caller read it already)."""
    if spent is None:
        spent = await calls.spent(services.pool, review_id)
    price = budget_price(services.settings.gemini_prices, model)
    return Budget(tokens, spent.tokens, usd=usd, price=price, spent_usd=spent.usd)


def ceilings_of(settings: Settings) -> Ceilings:
    """The deployment's limits of a review, which a repository may lower, never raise."""
    return Ceilings(settings.max_review_tokens, settings.max_review_usd)


async def for_review(
    services: Services, review: Review, config: RepoConfig, model: str
) -> tuple[ReviewMeter, calls.Totals, calls.Answers]:
    """The review's meter, its budget the repository's limits under the deployment's, less
    what its earlier attempts spent; what those attempts used, and their answers to reuse."""
    earlier, reused = await calls.earlier(services.pool, review.id)
    limits = ceilings_of(services.settings).of(config)
    spent = calls.Spent(earlier.prompt_tokens, earlier.cost_usd)
    budget = await budget_of(
        services, review.id, limits.max_review_tokens, limits.max_review_usd, model, spent=spent
    )
    return ReviewMeter(services, review, budget, model), earlier, reused


def until_of(reached: QuotaReached, now: datetime) -> datetime:
    """When a review put back in the queue may be claimed again."""
    if reached.until is not None:
        return reached.until
    return now + timedelta(seconds=reached.after or 60.0)
