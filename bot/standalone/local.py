"""A review run in this process with no database: Gemini metered here, the result kept for
printing (the command line) or publishing (the Action) by the caller."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import aiohttp
from aiolimiter import AsyncLimiter

from bot import incremental, pipeline
from bot.config import GeminiSettings
from bot.github import repo_config, sources
from bot.retry import Sleep
from bot.review.findings import Finding, reaches
from bot.review.gemini import GeminiClient
from bot.review.metering import Budget, Call, LocalMeter, Worst
from bot.review.pricing import Price, budget_price, price_of
from bot.review.prompt import Brief
from bot.review.render import Summary
from bot.review.supervisor import ReviewSupervisor
from bot.store.calls import Totals

# Exit codes of `review` and `action`.
CLEAN, FOUND, USAGE, COULD_NOT_RUN = 0, 1, 2, 3


class CountingMeter(LocalMeter):
    """A LocalMeter that tells `on_call` of each call as it ends (for the progress line)."""

    def __init__(
        self,
        budget: Budget,
        rpm: int,
        on_call: Callable[[Call], None],
        limiter: AsyncLimiter | None = None,
    ) -> None:
        super().__init__(budget, rpm, limiter)
        self.on_call = on_call

    def abandon(self, call: Call, reserved: Worst) -> None:
        super().abandon(call, reserved)
        self.on_call(call)


@dataclass
class Kept:
    """The publisher of a review whose result the caller prints or posts itself."""

    meter: LocalMeter
    price: Price | None
    earlier: incremental.Prior = field(default_factory=incremental.Prior)
    reviewed: pipeline.Reviewed | None = None

    async def prior(self) -> incremental.Prior:
        return self.earlier

    async def ready(self) -> None:
        return None

    async def dismissed(self) -> Mapping[str, str]:
        return {}

    async def usage(self) -> Totals:
        return pipeline.totals_of(self.meter.calls, self.price)

    async def publish(self, reviewed: pipeline.Reviewed) -> None:
        self.reviewed = reviewed


async def review(
    source: pipeline.Source,
    base: sources.Base,
    settings: GeminiSettings,
    head_sha: str,
    *,
    label: str,
    on_call: Callable[[Call], None] = lambda call: None,
    prior: incremental.Prior | None = None,
    publisher: Callable[[Kept], pipeline.Publisher] | None = None,
    limiter: AsyncLimiter | None = None,
    fail_on: str | None = None,
    verdict_by: str = "the check",
    sleep: Sleep = asyncio.sleep,
    without_model: str | None = None,
) -> pipeline.Reviewed:
    """The pipeline with Gemini as `settings` say, metered in this process.

    `publisher` wraps the kept result when the caller posts it (the Action); else it is
    only kept, and returned. `fail_on` and `verdict_by` go to the pipeline (`pipeline.review`).
    `sleep` waits between Gemini's retries. `without_model` (why): the analyzers alone, no
    Gemini call.
    """
    deployment = repo_config.Ceilings(settings.max_review_tokens, settings.max_review_usd)
    repo_config.clip(base.config, deployment)
    config = base.config.config
    limits = deployment.of(config)
    price = price_of(settings.prices, settings.model)
    budget = Budget(
        limits.max_review_tokens,
        usd=limits.max_review_usd,
        price=budget_price(settings.prices, settings.model),
    )
    meter = CountingMeter(budget, settings.rpm, on_call, limiter)
    kept = Kept(meter, price, prior or incremental.Prior())
    out = publisher(kept) if publisher else kept
    if without_model is not None:
        return await pipeline.review(
            source,
            out,
            base,
            None,
            head_sha,
            label=label,
            fail_on=fail_on,
            verdict_by=verdict_by,
            without_model=without_model,
        )
    async with aiohttp.ClientSession() as http:
        gemini = GeminiClient(
            settings.api_key,
            settings.model,
            settings.base_url,
            http=http,
            thinking_budget=settings.thinking_budget,
            sleep=sleep,
        )
        try:
            supervisor = ReviewSupervisor(
                gemini,
                meter,
                agents=config.agents,
                brief=Brief(base.intent, base.guidance),
                verify=config.verify,
                walk=config.walkthrough,
                max_in_flight=settings.max_in_flight,
                price=price,
            )
            return await pipeline.review(
                source,
                out,
                base,
                supervisor,
                head_sha,
                label=label,
                fail_on=fail_on,
                verdict_by=verdict_by,
            )
        finally:
            await gemini.aclose()


def exit_code(findings: Iterable[Finding], fail_on: str, *, failed: bool = False) -> int:
    """FOUND when a finding reaches `fail_on`; else COULD_NOT_RUN when the review failed
    (nothing could be reviewed); else CLEAN. A partial review (the budget, a size cap or some
    agent calls left parts out) is judged by what it reviewed, as the App's check run is
    (`neutral`, not `failure`); its output names what was not reviewed."""
    if any(reaches(finding, fail_on) for finding in findings):
        return FOUND
    return COULD_NOT_RUN if failed else CLEAN


def exit_code_of(summary: Summary) -> int:
    """The exit status of a review by its summary (its findings shown, its fail_on)."""
    return exit_code(summary.findings, summary.fail_on, failed=summary.status == "failed")
