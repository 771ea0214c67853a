"""The findings table: FindingRepo stores and reads a review's findings."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, Protocol

import asyncpg

_FIELDS = (
    "agent_type",
    "severity",
    "file_path",
    "line_start",
    "line_end",
    "title",
    "description",
    "suggestion",
    "fingerprint",
)
_TYPES = ("text", "text", "text", "int", "int", "text", "text", "text", "text")


class FindingLike(Protocol):
    agent_type: str
    severity: str
    file_path: str
    line_start: int | None
    line_end: int | None
    title: str
    description: str
    suggestion: str | None
    fingerprint: str


class FindingRepo:
    def __init__(self, db: asyncpg.Pool | asyncpg.Connection) -> None:
        self.db = db

    async def create_many(self, review_id: uuid.UUID, findings: Sequence[FindingLike]) -> int:
        """Store every finding of a review in one round trip (one INSERT over arrays)."""
        if not findings:
            return 0
        columns = [[getattr(f, name) for f in findings] for name in _FIELDS]
        unnest = ", ".join(f"${i}::{t}[]" for i, t in enumerate(_TYPES, start=2))
        await self.db.execute(
            f"INSERT INTO findings (review_id, {', '.join(_FIELDS)})"
            f" SELECT $1, * FROM unnest({unnest})",
            review_id,
            *columns,
        )
        return len(findings)

    async def for_review(self, review_id: uuid.UUID) -> list[dict[str, Any]]:
        rows = await self.db.fetch(
            f"SELECT {', '.join(_FIELDS)} FROM findings WHERE review_id = $1 ORDER BY id",
            review_id,
        )
        return [dict(row) for row in rows]

    async def delete_for_review(self, review_id: uuid.UUID) -> None:
        """Forget a review's findings (a resumed review stores them again)."""
        await self.db.execute("DELETE FROM findings WHERE review_id = $1", review_id)
