"""The App's Prometheus metrics: one registry per App, every series there from the start.

`Metrics` is created by `web.create_app` and handed to what counts: the webhook handler, the
scheduler (reviews that finish), the GitHub client (every answer of the API), and the Gemini
client, through which `metering.ReviewMeter` counts calls, tokens, cost and the quota's wait.
Nothing here is module-level state: two Apps (two tests) never share a series.

The queue gauges are read from the reviews table when `/metrics` is scraped (`read_queue`, one
query), so that every replica reports the same numbers.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import asyncpg
import prometheus_client
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from bot.review.agents import AGENTS
from bot.review.caching import CACHE
from bot.review.verify import VERIFIER
from bot.store.queue import Status

# The `_created` timestamp series are noise in the text format: left out.
prometheus_client.disable_created_metrics()  # type: ignore[no-untyped-call]

CONTENT_TYPE = prometheus_client.CONTENT_TYPE_LATEST

NONE = "-"  # a label whose value is unknown (an unsigned delivery's event)

DELIVERY_OUTCOMES = ("review", "job", "ignored", "duplicate", "refused")
FINAL_STATUSES = (Status.COMPLETED, Status.FAILED, Status.SKIPPED, Status.SUPERSEDED)
GEMINI_AGENTS = (*AGENTS, VERIFIER, CACHE, "answer")
GEMINI_OUTCOMES = ("ok", "failed", "rate_limited", "cancelled")
TOKEN_KINDS = ("input", "cached", "output", "thinking")
GITHUB_OUTCOMES = ("ok", "client_error", "server_error", "unreachable", "rate_limited")

_REVIEW_BUCKETS = (1, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200)
_WAIT_BUCKETS = (0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600)
_LIMITER_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60)


class Metrics:
    """The App's series, in its own registry; `generate` is the body of `GET /metrics`."""

    def __init__(self, deliveries: Iterable[tuple[str, str]] = ()) -> None:
        """`deliveries`: the (event, action) pairs whose series exist from the start."""
        self.registry = registry = CollectorRegistry()
        self.deliveries = Counter(
            "secondlook_deliveries",
            "Webhook deliveries answered, by event, action and outcome.",
            ["event", "action", "outcome"],
            registry=registry,
        )
        self.reviews = Counter(
            "secondlook_reviews",
            "Reviews that reached a final status, by that status.",
            ["status"],
            registry=registry,
        )
        self.reviews_waiting = Gauge(
            "secondlook_reviews_waiting",
            "Reviews pending in the table (every replica's; deferred ones included).",
            registry=registry,
        )
        self.reviews_running = Gauge(
            "secondlook_reviews_running",
            "Reviews processing in the table (every replica's).",
            registry=registry,
        )
        self.review_duration = Histogram(
            "secondlook_review_duration_seconds",
            "Seconds from a review's creation to its final status, by that status.",
            ["status"],
            buckets=_REVIEW_BUCKETS,
            registry=registry,
        )
        self.review_wait = Histogram(
            "secondlook_review_wait_seconds",
            "Seconds from a review's creation to the claim of the task that finished it.",
            buckets=_WAIT_BUCKETS,
            registry=registry,
        )
        self.gemini_calls = Counter(
            "secondlook_gemini_calls",
            "Gemini requests (every attempt), by agent and outcome.",
            ["agent", "outcome"],
            registry=registry,
        )
        self.gemini_tokens = Counter(
            "secondlook_gemini_tokens",
            "Gemini tokens by kind: input (not cached), cached input, output, thinking.",
            ["kind"],
            registry=registry,
        )
        self.gemini_cost = Counter(
            "secondlook_gemini_cost_usd",
            "Estimated cost of the Gemini requests, in USD.",
            registry=registry,
        )
        self.gemini_limiter_wait = Histogram(
            "secondlook_gemini_limiter_wait_seconds",
            "Seconds a Gemini request waited for the deployment's quota slot.",
            buckets=_LIMITER_BUCKETS,
            registry=registry,
        )
        self.github_calls = Counter(
            "secondlook_github_calls",
            "GitHub API requests (every attempt), by outcome.",
            ["outcome"],
            registry=registry,
        )
        self.github_ratelimit_remaining = Gauge(
            "secondlook_github_ratelimit_remaining",
            "x-ratelimit-remaining of GitHub's last answer, by installation ('app': the JWT).",
            ["installation"],
            registry=registry,
        )
        self.redeliveries = Counter(
            "secondlook_redeliveries",
            "Deliveries GitHub failed to make that we asked it to make again, by event.",
            ["event"],
            registry=registry,
        )
        for event, action in deliveries:
            self.redeliveries.labels(event)
            for outcome in DELIVERY_OUTCOMES:
                self.deliveries.labels(event, action, outcome)
        self.deliveries.labels(NONE, NONE, "refused")
        for status in FINAL_STATUSES:
            self.reviews.labels(str(status))
            self.review_duration.labels(str(status))
        for agent in GEMINI_AGENTS:
            for outcome in GEMINI_OUTCOMES:
                self.gemini_calls.labels(agent, outcome)
        for kind in TOKEN_KINDS:
            self.gemini_tokens.labels(kind)
        for outcome in GITHUB_OUTCOMES:
            self.github_calls.labels(outcome)

    def redelivered(self, event: str) -> None:
        self.redeliveries.labels(event).inc()

    def delivery(self, event: str, action: str | None, outcome: str) -> None:
        self.deliveries.labels(event, action or NONE, outcome).inc()

    def review_finished(self, status: str, duration: float | None, waited: float | None) -> None:
        """A review reached `status`; `duration` from its creation, `waited` before its claim."""
        self.reviews.labels(status).inc()
        if duration is not None:
            self.review_duration.labels(status).observe(max(duration, 0.0))
        if waited is not None:
            self.review_wait.observe(max(waited, 0.0))

    def gemini_call(
        self,
        agent: str,
        outcome: str,
        *,
        prompt: int,
        cached: int,
        output: int,
        thinking: int,
        cost_usd: float,
    ) -> None:
        """One Gemini attempt as it ended; `prompt` includes the `cached` tokens."""
        self.gemini_calls.labels(agent, outcome).inc()
        for kind, tokens in (
            ("input", prompt - cached),
            ("cached", cached),
            ("output", output),
            ("thinking", thinking),
        ):
            if tokens > 0:
                self.gemini_tokens.labels(kind).inc(tokens)
        if cost_usd > 0:
            self.gemini_cost.inc(cost_usd)

    def limiter_waited(self, seconds: float) -> None:
        self.gemini_limiter_wait.observe(max(seconds, 0.0))

    def github_answer(self, outcome: str, installation: str, remaining: int | None) -> None:
        """One GitHub request as it ended; `remaining`: its x-ratelimit-remaining, if any."""
        self.github_calls.labels(outcome).inc()
        if remaining is not None:
            self.github_ratelimit_remaining.labels(installation).set(remaining)

    def queue(self, waiting: float, running: float) -> None:
        self.reviews_waiting.set(waiting)
        self.reviews_running.set(running)

    async def read_queue(self, pool: asyncpg.Pool) -> None:
        """Set the queue gauges from the reviews table (one query; NaN when it fails)."""
        try:
            async with pool.acquire(timeout=2) as conn:
                row = await conn.fetchrow(_QUEUE, timeout=2)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError):
            self.queue(math.nan, math.nan)
            raise
        assert row is not None
        self.queue(row["waiting"], row["running"])

    def generate(self) -> bytes:
        return prometheus_client.generate_latest(self.registry)


# Each count reads its partial index (reviews_waiting, reviews_leased).
_QUEUE = (
    "SELECT (SELECT count(*) FROM reviews WHERE status = 'pending') AS waiting,"
    " (SELECT count(*) FROM reviews WHERE status = 'processing') AS running"
)
