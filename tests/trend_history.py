"""A month of reviews for the trends page: rows written as the App writes them (reviews, their
Gemini calls, findings, reactions, dismissals, resolved threads), drawn from a seeded random
generator, and the ledger of what was written, for tests to hold the page's numbers to."""

from __future__ import annotations

import itertools
import random
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from bot.pull import Pull
from bot.review.render import Summary, summary_json
from bot.store import calls, feedback, pulls
from bot.store.findings_table import FindingRepo
from tests.test_dashboard import StoredFinding, add_review

AGENTS = ("security", "bugs", "performance", "style")
SEVERITY_WEIGHTS = {"critical": 1, "high": 3, "medium": 5, "low": 4, "info": 2}
STATUS_WEIGHTS = {"completed": 80, "failed": 4, "superseded": 9, "skipped": 7}
REPOSITORIES = ("widgets", "gadgets")
# Gemini 2.5 Flash's list prices, per million tokens.
INPUT, CACHED, OUTPUT = Decimal("0.30"), Decimal("0.03"), Decimal("2.50")


@dataclass
class History:
    """What was written, per UTC day (and per agent for acceptance)."""

    days: list[date]
    outcomes: dict[date, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    cost: dict[date, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    tokens: dict[date, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    latencies: dict[date, list[float]] = field(default_factory=lambda: defaultdict(list))
    severities: dict[date, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    agents: dict[date, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    accepted: Counter[str] = field(default_factory=Counter)
    rejected: Counter[str] = field(default_factory=Counter)


def _at(day: date, rng: random.Random) -> datetime:
    return datetime.combine(day, time(rng.randint(0, 19), rng.randint(0, 59)), tzinfo=UTC)


async def _calls(pool, review_id: uuid.UUID, repo: str, when: datetime, rng, history) -> None:
    rows = []
    for agent in (*AGENTS, "verify"):
        prompt = rng.randint(6_000, 14_000)
        cached = int(prompt * rng.choice((0, 0, 0.5, 0.75)))
        output, thinking = rng.randint(150, 600), rng.randint(0, 800)
        cost = (
            (prompt - cached) * INPUT + cached * CACHED + (output + thinking) * OUTPUT
        ) / 1_000_000
        rows.append(
            calls.CallRow(
                review_id=review_id,
                installation_id=1,
                owner="octo",
                repo=repo,
                model="gemini-2.5-flash",
                agent=agent,
                chunk=1,
                chunk_digest="d" * 64,
                attempt=1,
                status="ok",
                error=None,
                latency_ms=rng.randint(800, 9_000),
                prompt_tokens=prompt,
                cached_tokens=cached,
                output_tokens=output,
                thinking_tokens=thinking,
                estimated=False,
                cost_usd=float(cost),
                answer=None,
                created_at=when,
            )
        )
        day = when.astimezone(UTC).date()
        history.cost[day] += Decimal(f"{float(cost):.8f}")
        history.tokens[day].update(
            {"input": prompt - cached, "cached": cached, "output": output, "thinking": thinking}
        )
    await calls.add(pool, rows)


async def _judge(pool, pull: Pull, review_id, found, finished: datetime, rng, history) -> None:
    """Reactions, dismissals and resolved threads on some of a review's findings."""
    resolved: list[str] = []
    for item in found:
        roll = rng.random()
        if roll < 0.25:
            up, down = rng.randint(1, 3), 0
        elif roll < 0.35:
            up, down = 0, rng.randint(1, 2)
        else:
            up = down = 0
        if up or down:
            reactions = feedback.Reactions(item.fingerprint, item.agent_type, up, down)
            await feedback.store(pool, pull, [reactions])
            (history.accepted if up else history.rejected)[item.agent_type] += 1
        elif roll < 0.42:
            await pulls.dismiss(pool, pull, item.fingerprint, "lead", "reply")
            history.rejected[item.agent_type] += 1
        elif roll < 0.60:
            resolved.append(item.fingerprint)  # fixed: its thread resolved
            history.accepted[item.agent_type] += 1
    # Every signal on the day of the review's finish.
    place = (pull.owner, pull.repo, pull.number)
    await pool.execute(
        "UPDATE feedback SET updated_at = $1 WHERE owner = $2 AND repo = $3 AND pr_number = $4",
        finished,
        *place,
    )
    await pool.execute(
        "UPDATE dismissals SET created_at = $1 WHERE owner = $2 AND repo = $3 AND pr_number = $4",
        finished,
        *place,
    )
    if resolved:
        threads = frozenset(resolved)
        summary = Summary(head_sha="a" * 40, status="completed", threads_resolved=threads)
        await pool.execute(
            "UPDATE reviews SET summary = $2 WHERE id = $1", review_id, summary_json(summary)
        )


async def _review(
    pool, day: date, number: int, rng: random.Random, history: History | None
) -> None:
    """A review of PR `number` (a PR of its own: each finding is new on its PR)."""
    repo = rng.choice(REPOSITORIES)
    status = rng.choices(list(STATUS_WEIGHTS), weights=list(STATUS_WEIGHTS.values()))[0]
    created = _at(day, rng)
    review_id = await add_review(pool, repo=repo, number=number, at=created, status=status)
    scratch = History([]) if history is None else history
    scratch.outcomes[day][status] += 1
    if status in ("skipped", "superseded"):
        return
    seconds = round(min(rng.lognormvariate(4.0, 0.7), 3_000), 3)
    finished = created + timedelta(seconds=seconds)
    await pool.execute("UPDATE reviews SET finished_at = $2 WHERE id = $1", review_id, finished)
    await _calls(pool, review_id, repo, created + timedelta(seconds=2), rng, scratch)
    if status != "completed":
        return
    scratch.latencies[day].append(seconds)
    count = rng.choices((0, 1, 2, 3, 4), weights=(30, 30, 20, 12, 8))[0]
    severities = rng.choices(list(SEVERITY_WEIGHTS), list(SEVERITY_WEIGHTS.values()), k=count)
    found = [
        StoredFinding(
            agent_type=rng.choice(AGENTS),
            severity=severity,
            fingerprint=uuid.UUID(int=rng.getrandbits(128)).hex,
        )
        for severity in severities
    ]
    await FindingRepo(pool).create_many(review_id, found)
    for item in found:
        scratch.severities[day][item.severity] += 1
        scratch.agents[day][item.agent_type] += 1
    await _judge(pool, Pull(1, "octo", repo, number), review_id, found, finished, rng, scratch)


async def seed(pool, last: date, days: int = 30, seed: int = 25) -> History:
    """`days` days of reviews up to `last`, busier as the month goes on; and a few the day
    before, which the period leaves out (not in the ledger)."""
    rng = random.Random(seed)
    history = History([last - timedelta(days=days - 1 - i) for i in range(days)])
    numbers = itertools.count(1)
    for _ in range(3):
        await _review(pool, history.days[0] - timedelta(days=1), next(numbers), rng, None)
    for i, day in enumerate(history.days):
        for _ in range(2 + i * 6 // days + rng.randint(0, 3)):
            await _review(pool, day, next(numbers), rng, history)
    return history
