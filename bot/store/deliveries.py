"""The webhook_deliveries table: every delivery id is recorded once, with its review."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import asyncpg

from bot.store.values import INT4_MAX, INT8_MAX, first_problem


@dataclass(slots=True)
class NewReview:
    """A review a delivery asks for; `supersede`: it replaces the PR's earlier reviews."""

    id: uuid.UUID
    installation_id: int
    owner: str
    repo: str
    pr_number: int
    head_sha: str
    base_ref: str
    trigger: str
    draft: bool
    supersede: bool = True


@dataclass(slots=True)
class Delivery:
    delivery_id: str
    event: str
    action: str | None
    installation_id: int | None
    repository: str | None
    review: NewReview | None = None
    refused: str | None = None  # why we answered 400; such a delivery creates no review

    def problem(self) -> str | None:
        """The first value PostgreSQL would refuse, named as in the delivery, or None."""
        fields: list[tuple[str, object, int | None]] = [
            ("X-GitHub-Delivery", self.delivery_id, None),
            ("X-GitHub-Event", self.event, None),
            ("action", self.action, None),
            ("installation.id", self.installation_id, INT8_MAX),
            ("repository.full_name", self.repository, None),
        ]
        if self.review is not None:
            r = self.review
            fields += [
                ("repository.owner.login", r.owner, None),
                ("repository.name", r.repo, None),
                ("pull_request.number", r.pr_number, INT4_MAX),
                ("pull_request.head.sha", r.head_sha, None),
                ("pull_request.base.ref", r.base_ref, None),
            ]
        return first_problem(fields)


def refused_row(exc: BaseException) -> bool:
    """True when PostgreSQL refused a value of a row (not the statement, not the connection)."""
    return isinstance(exc, (asyncpg.DataError, asyncpg.IntegrityConstraintViolationError))


PullKey = tuple[str, str, int]  # owner, repo, PR number


@dataclass
class Recorded:
    fresh: set[str]  # delivery ids recorded now; the others were recorded before
    superseded: dict[PullKey, list[uuid.UUID]]  # per PR, earlier reviews the new ones replace


_RECORD = """
WITH fresh AS (
    -- A delivery id seen before is not taken again, unless we refused it then.
    INSERT INTO webhook_deliveries (delivery_id, event, action, installation_id, repository,
                                    refused)
    SELECT d, e, a, i, r, rf
      FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $18::text[])
           WITH ORDINALITY AS x(d, e, a, i, r, rf, n)
     ORDER BY n
    ON CONFLICT (delivery_id) DO UPDATE
       SET event = EXCLUDED.event, action = EXCLUDED.action,
           installation_id = EXCLUDED.installation_id, repository = EXCLUDED.repository,
           refused = EXCLUDED.refused, received_at = now()
     WHERE webhook_deliveries.refused IS NOT NULL
    RETURNING delivery_id
), created AS (
    INSERT INTO reviews (id, delivery_id, installation_id, owner, repo, pr_number, head_sha,
                         base_ref, trigger, draft, status, finished_at)
    SELECT id, d, i, o, r, p, h, b, t, dr, st, CASE WHEN st = 'superseded' THEN now() END
      FROM unnest($6::uuid[], $7::text[], $8::bigint[], $9::text[], $10::text[], $11::int[],
                  $12::text[], $13::text[], $14::text[], $15::bool[], $16::text[])
           WITH ORDINALITY AS y(id, d, i, o, r, p, h, b, t, dr, st, n)
     WHERE d IN (SELECT delivery_id FROM fresh)
     ORDER BY n
    RETURNING id, owner, repo, pr_number
), superseded AS (
    -- Reviews from before this batch; those within it were marked superseded on the way in.
    UPDATE reviews r
       SET status = 'superseded', lease_owner = NULL, lease_expires_at = NULL,
           updated_at = now(), finished_at = now()
      FROM created c
     WHERE c.id = ANY($17::uuid[]) AND r.owner = c.owner AND r.repo = c.repo
       AND r.pr_number = c.pr_number AND r.status IN ('pending', 'processing')
    RETURNING r.id, r.owner, r.repo, r.pr_number
)
SELECT delivery_id, NULL::uuid AS superseded, NULL AS owner, NULL AS repo, NULL::int AS pr
  FROM fresh
UNION ALL
SELECT NULL, id, owner, repo, pr_number FROM superseded
"""


async def record_many(conn: asyncpg.Connection, batch: list[Delivery]) -> Recorded:
    """Record deliveries and create their reviews in one statement (a group commit).

    A delivery id seen before, or twice in the batch, creates nothing the second time (one
    we refused before is recorded afresh: GitHub redelivers with the same id). Per
    PR, the batch's last review that supersedes replaces the PR's earlier reviews, including
    earlier ones of the same batch.
    """
    firsts = list({d.delivery_id: d for d in reversed(batch)}.values())[::-1]
    asked = [(d.delivery_id, d.review) for d in firsts if d.review is not None]
    last_superseding: dict[PullKey, int] = {}
    for index, (_, r) in enumerate(asked):
        if r.supersede:
            last_superseding[(r.owner, r.repo, r.pr_number)] = index
    # A review followed in the batch by a superseding one of the same PR starts superseded.
    status = [
        "superseded" if last_superseding.get((r.owner, r.repo, r.pr_number), -1) > index
        else "pending"
        for index, (_, r) in enumerate(asked)
    ]  # fmt: skip
    newest = [asked[index][1].id for index in last_superseding.values()]
    reviews = [r for _, r in asked]
    rows = await conn.fetch(
        _RECORD,
        [d.delivery_id for d in firsts],
        [d.event for d in firsts],
        [d.action for d in firsts],
        [d.installation_id for d in firsts],
        [d.repository for d in firsts],
        [r.id for r in reviews],
        [d for d, _ in asked],
        [r.installation_id for r in reviews],
        [r.owner for r in reviews],
        [r.repo for r in reviews],
        [r.pr_number for r in reviews],
        [r.head_sha for r in reviews],
        [r.base_ref for r in reviews],
        [r.trigger for r in reviews],
        [r.draft for r in reviews],
        status,
        newest,
        [d.refused for d in firsts],
    )
    fresh = {row["delivery_id"] for row in rows if row["delivery_id"] is not None}
    superseded: dict[PullKey, list[uuid.UUID]] = {}
    for row in rows:
        if row["superseded"] is not None:
            key = (row["owner"], row["repo"], row["pr"])
            superseded.setdefault(key, []).append(row["superseded"])
    return Recorded(fresh, superseded)
