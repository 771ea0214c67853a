"""The trends page's figures (bot/store/trends.py) against rows in the real PostgreSQL: per UTC
day, the period's edges, one repository or all, and acceptance from reactions, dismissals and
resolved threads."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from bot.pull import Pull
from bot.review.render import Summary, summary_json
from bot.store import feedback, pulls, trends
from bot.store.findings_table import FindingRepo
from bot.store.trends import Latency, Period
from tests.test_dashboard import StoredFinding, add_call, add_review

FIRST, LAST = date(2024, 5, 8), date(2024, 5, 10)
PERIOD = Period(FIRST, LAST)


def at(day: date, hour: int = 12, second: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, 0, second, tzinfo=UTC)


async def review(
    pool,
    when: datetime,
    status: str = "completed",
    seconds: float = 60,
    repo: str = "widgets",
    number: int = 7,
) -> uuid.UUID:
    """A review created at `when` that ended `status` `seconds` later."""
    review_id = await add_review(pool, repo=repo, number=number, at=when, status=status)
    if status not in ("pending", "processing"):
        await pool.execute(
            "UPDATE reviews SET finished_at = $2 WHERE id = $1",
            review_id,
            when + timedelta(seconds=seconds),
        )
    return review_id


async def test_reviews_per_day_by_status_within_the_period_and_repository(pool):
    day, before = LAST, LAST - timedelta(days=1)
    for status in ("completed", "completed", "completed", "failed", "superseded", "pending"):
        await review(pool, at(day), status)
    await review(pool, at(before), "completed")
    await review(pool, at(before), "skipped")
    # The period's edges: the second before its first day, the first second after its last.
    await review(pool, datetime(2024, 5, 7, 23, 59, 59, tzinfo=UTC))
    await review(pool, datetime(2024, 5, 11, 0, 0, 0, tzinfo=UTC))
    await review(pool, datetime(2024, 5, 8, 0, 0, 0, tzinfo=UTC))  # the first second: in
    await review(pool, at(day), "failed", repo="gadgets")

    found = await trends.read(pool, PERIOD)

    assert found.outcomes == {
        day: {"completed": 3, "failed": 2, "superseded": 1, "pending": 1},
        before: {"completed": 1, "skipped": 1},
        FIRST: {"completed": 1},
    }
    one = await trends.read(pool, Period(FIRST, LAST, ("OCTO", "Widgets")))  # without case
    assert one.outcomes[day] == {"completed": 3, "failed": 1, "superseded": 1, "pending": 1}
    other = await trends.read(pool, Period(FIRST, LAST, ("octo", "gadgets")))
    assert other.outcomes == {day: {"failed": 1}}
    assert await trends.repositories(pool) == [("octo", "gadgets"), ("octo", "widgets")]


def percentile(values: list[float], share: float) -> float:
    """PostgreSQL's percentile_cont: linear between the two nearest ranks."""
    ordered = sorted(values)
    rank = share * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


async def test_latency_is_p50_and_p95_of_completed_reviews_per_day(pool):
    seconds = [10.0, 20.0, 60.0, 45.5, 300.0]
    for s in seconds:
        await review(pool, at(LAST), "completed", s)
    await review(pool, at(LAST), "failed", 9999)  # not completed: not a latency
    await review(pool, at(LAST), "processing")
    await review(pool, at(FIRST), "completed", 30)

    found = await trends.read(pool, PERIOD)

    assert set(found.latency) == {FIRST, LAST}
    last = found.latency[LAST]
    assert last.reviews == 5
    assert last.p50 == percentile(seconds, 0.5) == 45.5
    assert abs(last.p95 - percentile(seconds, 0.95)) < 1e-6
    assert abs(last.p95 - 252.0) < 1e-6  # 60 + 0.8 x (300 - 60)
    assert found.latency[FIRST] == Latency(1, 30.0, 30.0)


async def test_gemini_usage_per_day_of_the_call(pool):
    review_id = await review(pool, at(LAST))
    await add_call(pool, review_id, created_at=at(LAST, 1))
    await add_call(
        pool,
        review_id,
        created_at=at(LAST, 23),
        prompt_tokens=1000,
        cached_tokens=0,
        output_tokens=50,
        thinking_tokens=10,
        cost_usd=0.0005,
    )
    await add_call(pool, review_id, created_at=at(FIRST), cost_usd=0.25)
    await add_call(pool, review_id, created_at=at(LAST + timedelta(days=1), 0))  # after
    other = await review(pool, at(LAST), repo="gadgets")
    await add_call(pool, other, repo="gadgets", created_at=at(LAST), cost_usd=1)

    found = await trends.read(pool, Period(FIRST, LAST, ("octo", "widgets")))

    assert set(found.usage) == {FIRST, LAST}
    last = found.usage[LAST]
    assert (last.calls, last.input_tokens, last.cached_tokens) == (2, 13_000, 4_000)
    assert (last.output_tokens, last.thinking_tokens) == (350, 210)
    assert last.cost_usd == Decimal("0.0130")
    assert found.usage[FIRST].cost_usd == Decimal("0.25")
    everything = await trends.read(pool, PERIOD)
    assert everything.usage[LAST].cost_usd == Decimal("1.0130")


async def test_findings_are_counted_once_per_pr_on_the_day_first_raised(pool):
    repo = FindingRepo(pool)
    early = await review(pool, at(FIRST - timedelta(days=3)), number=8)  # before the period
    await repo.create_many(early, [StoredFinding(fingerprint="old", severity="low")])
    first = await review(pool, at(FIRST + timedelta(days=1)))
    await repo.create_many(
        first,
        [
            StoredFinding(fingerprint="f1", severity="critical", agent_type="security"),
            StoredFinding(fingerprint="f2", severity="medium", agent_type="bugs"),
            StoredFinding(fingerprint="f3", severity="low", withheld=True),  # not posted
        ],
    )
    second = await review(pool, at(LAST))
    await repo.create_many(
        second,
        [
            StoredFinding(fingerprint="f1", severity="critical", agent_type="security"),  # again
            StoredFinding(fingerprint="f4", severity="high", agent_type="security"),
            StoredFinding(fingerprint="f3", severity="low", agent_type="style"),  # posted now
        ],
    )
    later = await review(pool, at(LAST), number=8)
    await repo.create_many(
        later,
        [
            StoredFinding(fingerprint="old", severity="low"),  # raised before the period
            StoredFinding(fingerprint="f1", severity="critical"),  # another PR: counts
            StoredFinding(fingerprint="", severity="info", agent_type="style"),
            StoredFinding(fingerprint="", severity="info", agent_type="style"),
        ],
    )

    found = await trends.read(pool, PERIOD)

    assert found.findings == {
        FIRST + timedelta(days=1): {("critical", "security"): 1, ("medium", "bugs"): 1},
        LAST: {
            ("high", "security"): 1,
            ("low", "style"): 1,
            ("critical", "security"): 1,
            ("info", "style"): 2,  # no fingerprint: each is its own
        },
    }


async def resolved_threads(pool, review_id: uuid.UUID, *fingerprints: str) -> None:
    """The summary a review published, saying it resolved these findings' threads."""
    summary = Summary(
        head_sha="a" * 40, status="completed", threads_resolved=frozenset(fingerprints)
    )
    await pool.execute(
        "UPDATE reviews SET summary = $2 WHERE id = $1", review_id, summary_json(summary)
    )


async def test_acceptance_from_reactions_dismissals_and_resolved_threads(pool):
    pull = Pull(1, "octo", "widgets", 7)
    reviewed = await review(pool, at(LAST))
    await FindingRepo(pool).create_many(
        reviewed,
        [
            StoredFinding(fingerprint=name, agent_type=agent)
            for name, agent in (
                ("up", "security"),
                ("fixed", "security"),
                ("gone", "bugs"),
                ("down", "bugs"),
                ("fixed-down", "style"),
                ("tie", "style"),
            )
        ],
    )
    found = [
        feedback.Reactions("up", "security", 2, 0),  # accepted
        feedback.Reactions("down", "bugs", 0, 1),  # rejected
        feedback.Reactions("fixed-down", "style", 0, 2),  # fixed, but 👎: rejected
        feedback.Reactions("tie", "style", 1, 1),  # not judged
    ]
    await feedback.store(pool, pull, found)
    await pulls.dismiss(pool, pull, "gone", "lead", "reply")  # rejected (its thread resolved too)
    await resolved_threads(pool, reviewed, "fixed", "gone", "fixed-down")
    # The signals' time: now for feedback and dismissals, the review's finish for threads.
    today = datetime.now(UTC).date()

    found_now = await trends.read(pool, Period(today - timedelta(days=6), today))

    by_agent = {a.group: a for a in found_now.acceptance}
    security, bugs, style = by_agent["security"], by_agent["bugs"], by_agent["style"]
    # "fixed" counts by the review's finish, May 2024: outside this week.
    assert (security.accepted, security.rejected, security.fixed) == (1, 0, 0)
    assert (bugs.accepted, bugs.rejected, bugs.dismissed) == (0, 2, 1)
    assert (style.accepted, style.rejected, style.thumbs_down) == (0, 1, 3)  # the tie too

    may = await trends.read(pool, PERIOD)
    assert [(a.group, a.accepted, a.rejected, a.fixed) for a in may.acceptance] == [
        ("security", 1, 0, 1)  # only the resolved thread is that old; the rest came later
    ]
    assert may.acceptance[0].rate == 1.0

    everything = await feedback.acceptance(pool, datetime(2024, 1, 1, tzinfo=UTC))
    totals = {a.group: (a.accepted, a.rejected, a.fixed, a.dismissed) for a in everything["agents"]}
    assert totals == {"security": (2, 0, 1, 0), "bugs": (0, 2, 0, 1), "style": (0, 1, 0, 0)}
