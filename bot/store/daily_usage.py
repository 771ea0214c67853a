"""What the Gemini calls of `gemini_calls` add up to, per repository and UTC day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import asyncpg

from bot.store.db import Db


@dataclass(frozen=True)
class DailyUsage:
    """One repository's Gemini calls on one day (the UTC date of created_at)."""

    owner: str
    repo: str
    day: date
    calls: int
    prompt_tokens: int  # input, cached tokens included
    cached_tokens: int
    output_tokens: int  # the answers, thinking not included
    thinking_tokens: int
    cost_usd: Decimal
    output_cost_usd: Decimal  # of cost_usd, the output and thinking tokens'
    # The models of the calls recorded at no cost: unpriced ones among them cost more than this.
    zero_cost_models: tuple[str, ...]

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> DailyUsage:
        values = {name: row[name] for name in cls.__dataclass_fields__}
        values["zero_cost_models"] = tuple(row["zero_cost_models"])
        return cls(**values)


_DAILY = """
SELECT owner, repo, (created_at AT TIME ZONE 'UTC')::date AS day,
       count(*) AS calls,
       sum(prompt_tokens)::bigint AS prompt_tokens,
       sum(cached_tokens)::bigint AS cached_tokens,
       sum(output_tokens)::bigint AS output_tokens,
       sum(thinking_tokens)::bigint AS thinking_tokens,
       sum(cost_usd) AS cost_usd,
       sum(output_cost_usd) AS output_cost_usd,
       coalesce(array_agg(DISTINCT model ORDER BY model) FILTER (WHERE cost_usd = 0), '{}')
           AS zero_cost_models
FROM gemini_calls
WHERE created_at >= $1
  AND ($2::text IS NULL OR (lower(owner) = lower($2) AND lower(repo) = lower($3)))
GROUP BY owner, repo, day
ORDER BY owner, repo, day
"""


async def daily(
    conn: Db, since: datetime, repository: tuple[str, str] | None = None
) -> list[DailyUsage]:
    """The calls made at or after `since`, per repository and day, in that order.

    With `repository` (owner, name), only its calls; names compare without case, as GitHub's.
    """
    owner, repo = repository or (None, None)
    rows = await conn.fetch(_DAILY, since, owner, repo)
    return [DailyUsage.from_row(row) for row in rows]
