"""The findings table: FindingRepo stores and reads a review's findings."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, Protocol

from bot.pull import Pull
from bot.store.db import Db
from bot.store.publications import Publication, recording, values
from bot.store.pulls import columns

_FIELDS = (
    "agent_type", "severity", "file_path", "line_start", "line_end",
    "title", "description", "suggestion", "fingerprint", "carried_from",
    "verdict", "confidence", "verify_reason", "withheld", "dismissed_by",
    "evidence", "model_confidence", "suggestion_kept", "offered",
)  # fmt: skip
_TYPES = ("text", "text", "text", "int", "int", "text", "text", "text", "text", "uuid",
          "text", "float8", "text", "bool", "text",
          "text", "float8", "bool", "bool")  # fmt: skip


class FindingLike(Protocol):
    """What create_many stores of a finding (bot.review.findings.Finding has it all)."""

    @property
    def agent_type(self) -> str: ...
    @property
    def severity(self) -> str: ...
    @property
    def file_path(self) -> str: ...
    @property
    def line_start(self) -> int | None: ...
    @property
    def line_end(self) -> int | None: ...
    @property
    def title(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def suggestion(self) -> str | None: ...
    @property
    def fingerprint(self) -> str: ...
    @property
    def carried_from(self) -> uuid.UUID | None: ...
    @property
    def verdict(self) -> str | None: ...
    @property
    def confidence(self) -> float | None: ...
    @property
    def verify_reason(self) -> str | None: ...
    @property
    def withheld(self) -> bool: ...
    @property
    def dismissed_by(self) -> str | None: ...
    @property
    def evidence(self) -> str: ...
    @property
    def model_confidence(self) -> float | None: ...
    @property
    def suggestion_kept(self) -> bool | None: ...
    @property
    def offered(self) -> bool: ...


class FindingRepo:
    def __init__(self, db: Db) -> None:
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
            f"SELECT {', '.join(_FIELDS)}, posted_inline FROM findings WHERE review_id = $1"
            " ORDER BY id",
            review_id,
        )
        return [dict(row) for row in rows]

    async def mark_inline(
        self,
        review_id: uuid.UUID,
        fingerprints: Sequence[str],
        published: Sequence[Publication] = (),
    ) -> None:
        """Record which of the review's findings were posted as inline comments (and the
        inline review's `published`, in the same statement)."""
        await self.db.execute(
            f"{recording(published, 3)}UPDATE findings SET posted_inline = true"
            " WHERE review_id = $1 AND fingerprint = ANY($2::text[])",
            review_id,
            list(fingerprints),
            *values(published),
        )

    async def dismiss(self, review_id: uuid.UUID, fingerprint: str, login: str) -> None:
        """The review's finding was dismissed after it was stored."""
        await self.db.execute(
            "UPDATE findings SET dismissed_by = $3 WHERE review_id = $1 AND fingerprint = $2",
            review_id,
            fingerprint,
            login,
        )

    async def posted_inline(self, pull: Pull) -> set[str]:
        """Fingerprints already posted inline by any review of this PR."""
        rows = await self.db.fetch(
            "SELECT DISTINCT f.fingerprint FROM findings f JOIN reviews r ON r.id = f.review_id"
            " WHERE r.owner = $1 AND r.repo = $2 AND r.pr_number = $3 AND f.posted_inline",
            *columns(pull),
        )
        return {row["fingerprint"] for row in rows}

    async def latest(self, pull: Pull, fingerprint: str) -> dict[str, Any] | None:
        """The PR's most recent finding with this fingerprint (what a thread is about)."""
        row = await self.db.fetchrow(
            f"SELECT {', '.join('f.' + n for n in _FIELDS)}, f.posted_inline, f.review_id"
            " FROM findings f JOIN reviews r ON r.id = f.review_id"
            " WHERE r.owner = $1 AND r.repo = $2 AND r.pr_number = $3 AND f.fingerprint = $4"
            " ORDER BY r.seq DESC, f.id DESC LIMIT 1",
            *columns(pull),
            fingerprint,
        )
        return dict(row) if row else None

    async def agents_of(self, pull: Pull, fingerprints: Sequence[str]) -> dict[str, str]:
        """The agent of each fingerprint found on this PR (those never found are left out)."""
        rows = await self.db.fetch(
            "SELECT DISTINCT ON (f.fingerprint) f.fingerprint, f.agent_type FROM findings f"
            " JOIN reviews r ON r.id = f.review_id WHERE r.owner = $1 AND r.repo = $2"
            " AND r.pr_number = $3 AND f.fingerprint = ANY($4::text[])"
            " ORDER BY f.fingerprint, r.seq DESC",
            *columns(pull),
            list(fingerprints),
        )
        return {row["fingerprint"]: row["agent_type"] for row in rows}

    async def delete_for_review(self, review_id: uuid.UUID) -> None:
        """Forget a review's findings (a resumed review stores them again)."""
        await self.db.execute("DELETE FROM findings WHERE review_id = $1", review_id)
