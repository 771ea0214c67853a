"""What the dashboard's trends page reads: per UTC day over a period, for every repository or
one, reviews by status, Gemini usage, review latency, findings first raised, and acceptance.

A review counts on the day it was created; a Gemini call on the day it was made (as `usage`
counts them); a finding on the day of the review that first raised it on its PR (a finding
carried or found again by a later review of the PR is not counted twice); acceptance by the
day of a finding's latest signal (store/feedback.py decides what accepted means).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from bot.store import feedback
from bot.store.db import Db
from bot.store.feedback import Acceptance


@dataclass(frozen=True)
class Period:
    """The UTC days `first` to `last`, both included; one repository (owner, name) or all."""

    first: date
    last: date
    repository: tuple[str, str] | None = None

    @property
    def since(self) -> datetime:
        return datetime.combine(self.first, time.min, tzinfo=UTC)

    @property
    def until(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time.min, tzinfo=UTC)

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]

    def arguments(self) -> tuple[datetime, datetime, str | None, str | None]:
        owner, repo = self.repository or (None, None)
        return self.since, self.until, owner, repo


@dataclass(frozen=True)
class Usage:
    """One day's Gemini calls."""

    calls: int = 0
    input_tokens: int = 0  # cached tokens included
    cached_tokens: int = 0
    output_tokens: int = 0  # thinking not included
    thinking_tokens: int = 0
    cost_usd: Decimal = Decimal(0)


@dataclass(frozen=True)
class Latency:
    """Creation to finish of one day's completed reviews, in seconds (interpolated)."""

    reviews: int
    p50: float
    p95: float


@dataclass(frozen=True)
class Trends:
    period: Period
    outcomes: dict[date, dict[str, int]] = field(default_factory=dict)  # day -> status -> n
    usage: dict[date, Usage] = field(default_factory=dict)
    latency: dict[date, Latency] = field(default_factory=dict)
    # day -> (severity, agent) -> findings first raised
    findings: dict[date, dict[tuple[str, str], int]] = field(default_factory=dict)
    acceptance: list[Acceptance] = field(default_factory=list)  # per agent


_REPOSITORY = "($3::text IS NULL OR (lower({t}owner) = lower($3) AND lower({t}repo) = lower($4)))"
_DAY = "(created_at AT TIME ZONE 'UTC')::date"

_OUTCOMES = f"""
SELECT {_DAY} AS day, status, count(*) AS n
  FROM reviews
 WHERE created_at >= $1 AND created_at < $2 AND {_REPOSITORY.format(t="")}
 GROUP BY day, status
"""

_USAGE = f"""
SELECT {_DAY} AS day, count(*) AS calls,
       sum(prompt_tokens)::bigint AS input_tokens, sum(cached_tokens)::bigint AS cached_tokens,
       sum(output_tokens)::bigint AS output_tokens,
       sum(thinking_tokens)::bigint AS thinking_tokens, sum(cost_usd) AS cost_usd
  FROM gemini_calls
 WHERE created_at >= $1 AND created_at < $2 AND {_REPOSITORY.format(t="")}
 GROUP BY day
"""

_LATENCY = f"""
SELECT day, count(*) AS reviews,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds) AS p50,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY seconds) AS p95
  FROM (SELECT {_DAY} AS day, extract(epoch FROM finished_at - created_at)::float8 AS seconds
          FROM reviews
         WHERE status = 'completed' AND finished_at IS NOT NULL
           AND created_at >= $1 AND created_at < $2 AND {_REPOSITORY.format(t="")}) done
 GROUP BY day
"""

# A finding posted (not withheld) by a review created in the period, counted once per PR and
# fingerprint: on its first review, and not at all when a review before the period raised it.
_FINDINGS = f"""
WITH raised AS (
    SELECT f.id, f.severity, f.agent_type, f.fingerprint, r.owner, r.repo, r.pr_number,
           r.created_at, (r.created_at AT TIME ZONE 'UTC')::date AS day
      FROM reviews r JOIN findings f ON f.review_id = r.id
     WHERE r.created_at >= $1 AND r.created_at < $2 AND NOT f.withheld
       AND {_REPOSITORY.format(t="r.")}
), first AS (
    SELECT DISTINCT ON (owner, repo, pr_number,
                        CASE WHEN fingerprint = '' THEN id::text ELSE fingerprint END)
           day, severity, agent_type
      FROM raised
     WHERE fingerprint = '' OR NOT EXISTS (
           SELECT 1 FROM findings e JOIN reviews er ON er.id = e.review_id
            WHERE e.fingerprint = raised.fingerprint AND NOT e.withheld
              AND er.owner = raised.owner AND er.repo = raised.repo
              AND er.pr_number = raised.pr_number AND er.created_at < $1)
     ORDER BY owner, repo, pr_number,
              CASE WHEN fingerprint = '' THEN id::text ELSE fingerprint END, created_at, id
)
SELECT day, severity, agent_type, count(*) AS n FROM first GROUP BY day, severity, agent_type
"""

_REPOSITORIES = """
SELECT owner, repo FROM reviews GROUP BY owner, repo ORDER BY lower(owner), lower(repo)
"""


async def read(db: Db, period: Period) -> Trends:
    """Every figure of the trends page for `period`; days without any are left out."""
    args = period.arguments()
    outcomes: dict[date, dict[str, int]] = {}
    for row in await db.fetch(_OUTCOMES, *args):
        outcomes.setdefault(row["day"], {})[row["status"]] = row["n"]
    usage = {
        row["day"]: Usage(**{name: row[name] for name in Usage.__dataclass_fields__})
        for row in await db.fetch(_USAGE, *args)
    }
    latency = {
        row["day"]: Latency(row["reviews"], row["p50"], row["p95"])
        for row in await db.fetch(_LATENCY, *args)
    }
    findings: dict[date, dict[tuple[str, str], int]] = {}
    for row in await db.fetch(_FINDINGS, *args):
        findings.setdefault(row["day"], {})[(row["severity"], row["agent_type"])] = row["n"]
    accepted = await feedback.acceptance(
        db, period.since, period.repository, until=period.until, groups=("agents",)
    )
    return Trends(period, outcomes, usage, latency, findings, accepted["agents"])


async def repositories(db: Db) -> list[tuple[str, str]]:
    """Every repository with a review, by name: the page's choices."""
    return [(row["owner"], row["repo"]) for row in await db.fetch(_REPOSITORIES)]
