"""The gemini_calls table: every Gemini attempt of a review, and what they add up to."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.store import quota

if TYPE_CHECKING:  # the command line and the Action use Totals without asyncpg installed
    import asyncpg

    from bot.store.db import Db


@dataclass(frozen=True)
class CallRow:
    """One attempt, as stored."""

    review_id: uuid.UUID
    installation_id: int
    owner: str
    repo: str
    model: str
    agent: str
    chunk: int
    chunk_digest: str
    attempt: int
    status: str  # ok | failed | cancelled
    error: str | None
    latency_ms: int
    prompt_tokens: int
    cached_tokens: int
    output_tokens: int
    thinking_tokens: int
    estimated: bool
    cost_usd: float
    answer: dict[str, Any] | None
    created_at: datetime
    output_cost_usd: float = 0.0  # of cost_usd, what its output and thinking tokens cost


_FIELDS = tuple(CallRow.__dataclass_fields__)
_INSERT = (
    f"INSERT INTO gemini_calls ({', '.join(_FIELDS)}) VALUES "
    f"({', '.join(f'${i}' for i in range(1, len(_FIELDS) + 1))})"
)


async def add(conn: Db, rows: list[CallRow]) -> None:
    if not rows:
        return
    await conn.executemany(_INSERT, [_values(row) for row in rows])


async def add_settled(conn: Db, row: CallRow, settle: quota.Settle | None) -> None:
    """Store one call and correct its reservation of the day's spend, in one round trip."""
    if settle is None or not settle.delta_usd:
        await conn.execute(_INSERT, *_values(row))
        return
    first = len(_FIELDS) + 1
    await conn.execute(
        f"WITH call AS ({_INSERT}) {quota.settle_statement(first)}",
        *_values(row),
        *quota.settle_args(settle),
    )


def _values(row: CallRow) -> tuple[Any, ...]:
    return tuple(
        json.dumps(v) if name == "answer" and v is not None else v
        for name, v in zip(_FIELDS, row.__dict__.values(), strict=True)
    )


@dataclass(frozen=True)
class Totals:
    """A review's usage: the sums of its calls."""

    calls: int = 0
    prompt_tokens: int = 0
    cached_tokens: int = 0
    output_tokens: int = 0  # the answers, thinking not included
    cost_usd: float = 0.0  # everything
    unpriced: bool = False  # a call's model had no price
    thinking_tokens: int = 0
    output_cost_usd: float = 0.0  # of cost_usd, the output and thinking tokens'
    # Of `calls`, those that never reached Gemini (no connection), which cost nothing. Counted
    # by a meter in this process (`pipeline.totals_of`); gemini_calls has no column for it.
    unreached_calls: int = 0

    @classmethod
    def of(cls, row: CallRow) -> Totals:
        """One call's totals, its costs at the column's 8 decimals as review_usage sums them."""
        return cls(
            1, row.prompt_tokens, row.cached_tokens, row.output_tokens, round(row.cost_usd, 8),
            thinking_tokens=row.thinking_tokens, output_cost_usd=round(row.output_cost_usd, 8),
        )  # fmt: skip

    def and_(self, more: Totals) -> Totals:
        return Totals(
            self.calls + more.calls,
            self.prompt_tokens + more.prompt_tokens,
            self.cached_tokens + more.cached_tokens,
            self.output_tokens + more.output_tokens,
            round(self.cost_usd + more.cost_usd, 8),
            self.unpriced or more.unpriced,
            self.thinking_tokens + more.thinking_tokens,
            round(self.output_cost_usd + more.output_cost_usd, 8),
            self.unreached_calls + more.unreached_calls,
        )


_USAGE = (
    "u.calls, u.prompt_tokens, u.cached_tokens, u.output_tokens, u.thinking_tokens, u.cost_usd,"
    " u.output_cost_usd"
)  # the view review_usage (migration 0013) owns how a review's calls are summed


def _totals(row: asyncpg.Record) -> Totals:
    """The `_USAGE` columns; none (a review with no call) is zero."""
    if row["calls"] is None:
        return Totals()
    return Totals(
        row["calls"],
        row["prompt_tokens"],
        row["cached_tokens"],
        row["output_tokens"],
        float(row["cost_usd"]),
        thinking_tokens=row["thinking_tokens"],
        output_cost_usd=float(row["output_cost_usd"]),
    )


async def totals(conn: Db, review_id: uuid.UUID) -> Totals:
    row = await conn.fetchrow(
        f"SELECT {_USAGE} FROM review_usage u WHERE u.review_id = $1", review_id
    )
    return Totals() if row is None else _totals(row)


@dataclass(frozen=True)
class Spent:
    """What a review's earlier attempts spent: it counts against its budget."""

    tokens: int  # input
    usd: float


async def spent(conn: Db, review_id: uuid.UUID) -> Spent:
    row = await conn.fetchrow(
        "SELECT coalesce(sum(prompt_tokens), 0) AS tokens, coalesce(sum(cost_usd), 0) AS usd"
        " FROM gemini_calls WHERE review_id = $1",
        review_id,
    )
    assert row is not None
    return Spent(int(row["tokens"]), float(row["usd"]))


Answers = dict[tuple[str, str], dict[str, Any]]  # (agent, prompt digest) -> parsed answer


async def earlier(conn: Db, review_id: uuid.UUID) -> tuple[Totals, Answers]:
    """What the review's earlier attempts spent (their Totals: the budget counts them, and
    the summary's usage adds this attempt's calls to them) and the answers they got, in one
    query."""
    row = await conn.fetchrow(
        f"SELECT {_USAGE}, (SELECT coalesce(jsonb_agg(jsonb_build_array(c.agent,"
        " c.chunk_digest, c.answer)) FILTER (WHERE c.status = 'ok' AND c.answer IS NOT NULL),"
        " '[]') FROM gemini_calls c WHERE c.review_id = $1) AS answers"
        " FROM (SELECT) AS one LEFT JOIN review_usage u ON u.review_id = $1",
        review_id,
    )
    assert row is not None
    got = {(agent, digest): _answer(answer) for agent, digest, answer in row["answers"]}
    return _totals(row), got


def _answer(stored: Any) -> dict[str, Any]:
    parsed = json.loads(stored) if isinstance(stored, str) else stored
    assert isinstance(parsed, dict)
    return parsed
