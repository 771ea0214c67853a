"""What the dashboard reads: reviews with their findings and Gemini usage, timelines, totals.

Only reads. The list is one statement: the page of reviews first (newest first, by the
reviews_created index), then the findings and calls of those rows only.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import asyncpg

from bot.pull import Pull
from bot.store.db import Db
from bot.store.queue import Status

SEVERITIES = ("critical", "high", "medium", "low", "info")
STATUSES = tuple(s.value for s in Status)  # pending, processing, completed, failed, ...


@dataclass(frozen=True)
class Filters:
    """Which reviews the list shows; None: any. Names compare without case, as GitHub's."""

    owner: str | None = None
    repo: str | None = None  # only with owner
    status: str | None = None
    since: datetime | None = None  # created at or after
    until: datetime | None = None  # created before


@dataclass(frozen=True)
class Usage:
    """The sums of a review's (or a repository's) Gemini calls."""

    calls: int = 0
    prompt_tokens: int = 0  # input, cached tokens included
    cached_tokens: int = 0
    output_tokens: int = 0  # thinking tokens included, as they are billed
    cost_usd: Decimal = Decimal(0)


@dataclass(frozen=True)
class ReviewSummary:
    """One review as the list and the review page show it."""

    id: uuid.UUID
    installation_id: int
    owner: str
    repo: str
    pr_number: int
    head_sha: str
    base_ref: str
    trigger: str
    status: str
    attempts: int
    error: str | None
    superseded_by: uuid.UUID | None
    created_at: datetime
    finished_at: datetime | None
    not_before: datetime | None = None  # pending: not taken before (a quota, an outage)
    outage_since: datetime | None = None  # deferred on an outage since (bot/app/outage.py)
    outage_retries: int = 0
    severities: dict[str, int] = field(default_factory=dict)  # posted findings, by severity
    withheld: int = 0  # findings the verifier withheld
    usage: Usage = Usage()

    @property
    def pull(self) -> Pull:
        return Pull(self.installation_id, self.owner, self.repo, self.pr_number)


@dataclass(frozen=True)
class Event:
    """One row of review_events: a status or an attempt the review reached, and when."""

    at: datetime
    status: str
    attempt: int
    error: str | None
    superseded_by: uuid.UUID | None


@dataclass(frozen=True)
class Finding:
    severity: str
    agent_type: str
    file_path: str
    line_start: int | None
    line_end: int | None
    title: str
    withheld: bool
    dismissed_by: str | None


@dataclass(frozen=True)
class Call:
    agent: str
    chunk: int
    attempt: int
    model: str
    status: str
    error: str | None
    latency_ms: int
    prompt_tokens: int
    cached_tokens: int
    output_tokens: int
    thinking_tokens: int
    cost_usd: Decimal
    created_at: datetime


@dataclass(frozen=True)
class RepositoryTotals:
    owner: str
    repo: str
    reviews: int
    by_status: dict[str, int]
    findings: int
    usage: Usage
    last_review_at: datetime


_SEVERITY_COUNTS = ", ".join(
    f"count(*) FILTER (WHERE severity = '{s}' AND NOT withheld) AS findings_{s}" for s in SEVERITIES
)
_STATUS_COUNTS = ", ".join(f"count(*) FILTER (WHERE status = '{s}') AS {s}" for s in STATUSES)

# The review's columns, its findings by severity and its calls' sums, for rows of `page`.
_SUMMARY = f"""
SELECT page.id, page.installation_id, page.owner, page.repo, page.pr_number, page.head_sha,
       page.base_ref,
       page.trigger, page.status, page.attempts, page.error, page.superseded_by,
       page.created_at, page.finished_at, page.not_before, page.outage_since,
       page.outage_retries, f.*, c.*
FROM page
CROSS JOIN LATERAL (
    SELECT {_SEVERITY_COUNTS}, count(*) FILTER (WHERE withheld) AS withheld
    FROM findings WHERE findings.review_id = page.id
) f
CROSS JOIN LATERAL (
    SELECT count(*) AS calls,
           coalesce(sum(prompt_tokens), 0)::bigint AS prompt_tokens,
           coalesce(sum(cached_tokens), 0)::bigint AS cached_tokens,
           coalesce(sum(output_tokens::bigint + thinking_tokens), 0)::bigint AS output_tokens,
           coalesce(sum(cost_usd), 0) AS cost_usd
    FROM gemini_calls WHERE gemini_calls.review_id = page.id
) c
"""

_LIST = f"""
WITH page AS (
    SELECT * FROM reviews
    WHERE ($1::text IS NULL OR lower(owner) = lower($1))
      AND ($2::text IS NULL OR lower(repo) = lower($2))
      AND ($3::text IS NULL OR status = $3)
      AND ($4::timestamptz IS NULL OR created_at >= $4)
      AND ($5::timestamptz IS NULL OR created_at < $5)
    ORDER BY created_at DESC, seq DESC
    LIMIT $6 OFFSET $7
)
{_SUMMARY}
ORDER BY page.created_at DESC, page.seq DESC
"""

_ONE = f"""
WITH page AS (SELECT * FROM reviews WHERE id = $1)
{_SUMMARY}
"""


def _usage(row: asyncpg.Record) -> Usage:
    return Usage(
        calls=row["calls"],
        prompt_tokens=row["prompt_tokens"],
        cached_tokens=row["cached_tokens"],
        output_tokens=row["output_tokens"],
        cost_usd=row["cost_usd"],
    )


def _summary(row: asyncpg.Record) -> ReviewSummary:
    columns: dict[str, Any] = {
        name: row[name]
        for name in ReviewSummary.__dataclass_fields__
        if name not in ("severities", "withheld", "usage")
    }
    severities = {s: row[f"findings_{s}"] for s in SEVERITIES if row[f"findings_{s}"]}
    return ReviewSummary(
        **columns, severities=severities, withheld=row["withheld"], usage=_usage(row)
    )


async def reviews(
    db: Db, filters: Filters, *, limit: int = 50, offset: int = 0
) -> list[ReviewSummary]:
    """The reviews the filters let through, newest first, `limit` of them after `offset`."""
    rows = await db.fetch(
        _LIST,
        filters.owner,
        filters.repo if filters.owner else None,
        filters.status,
        filters.since,
        filters.until,
        limit,
        offset,
    )
    return [_summary(row) for row in rows]


async def review(db: Db, review_id: uuid.UUID) -> ReviewSummary | None:
    row = await db.fetchrow(_ONE, review_id)
    return _summary(row) if row is not None else None


async def events(db: Db, review_id: uuid.UUID) -> list[Event]:
    """The review's timeline, in the order it happened."""
    rows = await db.fetch(
        "SELECT at, status, attempt, error, superseded_by FROM review_events"
        " WHERE review_id = $1 ORDER BY id",
        review_id,
    )
    return [Event(**dict(row)) for row in rows]


async def findings(db: Db, review_id: uuid.UUID) -> list[Finding]:
    """The review's findings, the most severe first."""
    names = ", ".join(Finding.__dataclass_fields__)
    rows = await db.fetch(
        f"SELECT {names} FROM findings WHERE review_id = $1"
        " ORDER BY array_position($2::text[], severity), file_path, line_start NULLS FIRST, id",
        review_id,
        list(SEVERITIES),
    )
    return [Finding(**dict(row)) for row in rows]


async def calls(db: Db, review_id: uuid.UUID) -> list[Call]:
    """The review's Gemini calls, in the order they were made."""
    names = ", ".join(Call.__dataclass_fields__)
    rows = await db.fetch(
        f"SELECT {names} FROM gemini_calls WHERE review_id = $1 ORDER BY id", review_id
    )
    return [Call(**dict(row)) for row in rows]


_REPOSITORIES = f"""
WITH r AS (
    SELECT owner, repo, count(*) AS reviews, {_STATUS_COUNTS}, max(created_at) AS last_review_at
    FROM reviews GROUP BY owner, repo
), f AS (
    SELECT reviews.owner, reviews.repo, count(*) AS findings
    FROM findings JOIN reviews ON reviews.id = findings.review_id
    WHERE NOT findings.withheld
    GROUP BY reviews.owner, reviews.repo
), c AS (
    SELECT owner, repo, count(*) AS calls,
           sum(prompt_tokens)::bigint AS prompt_tokens,
           sum(cached_tokens)::bigint AS cached_tokens,
           sum(output_tokens::bigint + thinking_tokens)::bigint AS output_tokens,
           sum(cost_usd) AS cost_usd
    FROM gemini_calls GROUP BY owner, repo
)
SELECT r.*, coalesce(f.findings, 0) AS findings,
       coalesce(c.calls, 0) AS calls, coalesce(c.prompt_tokens, 0) AS prompt_tokens,
       coalesce(c.cached_tokens, 0) AS cached_tokens,
       coalesce(c.output_tokens, 0) AS output_tokens, coalesce(c.cost_usd, 0) AS cost_usd
FROM r
LEFT JOIN f ON f.owner = r.owner AND f.repo = r.repo
LEFT JOIN c ON c.owner = r.owner AND c.repo = r.repo
ORDER BY lower(r.owner), lower(r.repo), r.owner, r.repo
"""


async def repositories(db: Db) -> list[RepositoryTotals]:
    """Every repository with a review: its reviews by status, findings posted, usage."""
    rows = await db.fetch(_REPOSITORIES)
    return [
        RepositoryTotals(
            owner=row["owner"],
            repo=row["repo"],
            reviews=row["reviews"],
            by_status={s: row[s] for s in STATUSES},
            findings=row["findings"],
            usage=_usage(row),
            last_review_at=row["last_review_at"],
        )
        for row in rows
    ]
