"""The review lifecycle: the reviews table as a queue. Every change of a review's status is here.

    create ──> pending ──claim──> processing ──finish──> completed | failed | skipped
                  ▲                 │
                  └──── defer ──────┘  (a quota or cap is reached: not claimed before then)
                  │                 │   ▲  renew (the lease, every third of it)
                  │                 │   └── release (shutdown), or abandoned: lease expired or
                  │                 │       its process gone (no liveness lock) ── claim again
                  └── supersede ────┴──> superseded (by a newer review of the same PR)

The claim, the lease, the attempts (MAX_ATTEMPTS) and giving up are leased work's, shared
with the jobs (bot/store/lease.py); what is the reviews' own is here: create, supersede, when a
review is due (defer), the gate read as it is claimed, its Timing read as it finishes.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import asyncpg

from bot.pull import Pull
from bot.store import jobs, lease
from bot.store.db import Conn, Db
from bot.store.deliveries import Delivery
from bot.store.installations import InstallationStatus
from bot.store.jobs import NewJob
from bot.store.pulls import PullState, columns
from bot.store.reviews import COLUMNS, TIMING, Review, Timing, open_check, timing_of
from bot.store.standing import Check as Check
from bot.store.standing import Standing as Standing
from bot.store.standing import standing as standing


class Status(StrEnum):
    """A review's status, as the migration's CHECK allows."""

    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    SUPERSEDED = "superseded"
    SKIPPED = "skipped"


FINISHED = frozenset({Status.COMPLETED, Status.FAILED, Status.SUPERSEDED, Status.SKIPPED})


class Trigger(StrEnum):
    """What asked for a review, as the migration's CHECK allows."""

    OPENED = "opened"
    REOPENED = "reopened"
    SYNCHRONIZE = "synchronize"
    READY_FOR_REVIEW = "ready_for_review"
    EDITED = "edited"  # replaces the PR's other reviews only once it knows it runs
    MANUAL = "manual"  # python -m bot review
    COMMAND = "command"  # `/second-look review` in a PR comment, by a maintainer
    RERUN = "rerun"  # the Re-run button of our check run or check suite


# The triggers a person asked for: they run while the PR's automatic reviews are paused.
ASKED = frozenset({Trigger.MANUAL, Trigger.COMMAND, Trigger.RERUN})


_random = bytearray()


def new_id() -> uuid.UUID:
    """A random (version 4) UUID for a review or a job; the random bytes are read 4 KiB at a
    time, not per id (intake makes one per delivery)."""
    if not _random:
        _random.extend(os.urandom(4096))
    raw = bytes(_random[:16])
    del _random[:16]
    return uuid.UUID(bytes=raw, version=4)


MAX_ATTEMPTS = 5  # claims of one review; each earlier one ended with its process gone

PullKey = tuple[str, str, int]  # owner, repo, PR number


@dataclass(slots=True)
class NewReview:
    """A review to create; `supersede`: it replaces the PR's earlier reviews at once."""

    id: uuid.UUID
    installation_id: int
    owner: str
    repo: str
    pr_number: int
    head_sha: str
    base_ref: str
    trigger: Trigger
    draft: bool
    supersede: bool = True
    requested_by: str | None = None  # who asked, for a command
    reply_to: int | None = None  # the command's comment, answered when the review is done


@dataclass
class Created:
    fresh: set[str]  # delivery ids recorded now; the others were recorded before
    # per PR, the reviews recorded before that the new ones replaced (theirs to cancel)
    superseded: dict[PullKey, list[uuid.UUID]]


# --------------------------------------------------------------------------------- supersede

# The one supersede: the waiting or running reviews of a PR that arrived before `newer`, a
# review of the same PR. Written once; `newer` is a query for (id, owner, repo, pr_number, seq).
_SUPERSEDE = """
UPDATE reviews r
   SET status = 'superseded', superseded_by = n.id, lease_owner = NULL,
       lease_expires_at = NULL, updated_at = now(), finished_at = now()
  FROM ({newer}) n
 WHERE r.owner = n.owner AND r.repo = n.repo AND r.pr_number = n.pr_number AND r.seq < n.seq
   AND r.status IN ('pending', 'processing')
RETURNING r.id, r.owner, r.repo, r.pr_number
"""


async def supersede(conn: Db, newer: Sequence[uuid.UUID]) -> list[tuple[PullKey, uuid.UUID]]:
    """Mark the waiting or running reviews that arrived before each of `newer` (same PR)
    superseded by it; return them, so that their tasks can be cancelled."""
    if not newer:
        return []
    query = "SELECT id, owner, repo, pr_number, seq FROM reviews WHERE id = ANY($1::uuid[])"
    rows = await conn.fetch(_SUPERSEDE.format(newer=query), list(newer))
    return [((row["owner"], row["repo"], row["pr_number"]), row["id"]) for row in rows]


async def stop_pull(conn: Db, pull: Pull, reason: str) -> list[uuid.UUID]:
    """Skip the PR's waiting and running reviews, with `reason` (the PR closed, or is
    ignored); return them, so that their tasks can be cancelled."""
    rows = await conn.fetch(
        "UPDATE reviews SET status = 'skipped', error = $4, lease_owner = NULL,"
        " lease_expires_at = NULL, updated_at = now(), finished_at = now()"
        " WHERE owner = $1 AND repo = $2 AND pr_number = $3"
        " AND status IN ('pending', 'processing') RETURNING id",
        *columns(pull),
        reason,
    )
    return [row["id"] for row in rows]


# ------------------------------------------------------------------------------------ create

_FRESH = """
fresh AS (
    -- A delivery id seen before is not taken again, unless we refused it then.
    INSERT INTO webhook_deliveries (delivery_id, event, action, installation_id, repository,
                                    refused)
    SELECT d, e, a, i, r, rf
      FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[])
           WITH ORDINALITY AS x(d, e, a, i, r, rf, n)
     ORDER BY n
    ON CONFLICT (delivery_id) DO UPDATE
       SET event = EXCLUDED.event, action = EXCLUDED.action,
           installation_id = EXCLUDED.installation_id, repository = EXCLUDED.repository,
           refused = EXCLUDED.refused, received_at = now()
     WHERE webhook_deliveries.refused IS NOT NULL
    RETURNING delivery_id
)"""

# A batch that asks for no review and no job (most deliveries: an event or action no handler
# takes) records its deliveries alone: 6 parameters, not 27.
_RECORD = f"WITH {_FRESH.strip()} SELECT delivery_id FROM fresh"

_CREATE = """
WITH {fresh}, kept AS (
    SELECT * FROM unnest($7::uuid[], $8::text[], $9::bigint[], $10::text[], $11::text[],
                         $12::int[], $13::text[], $14::text[], $15::text[], $16::bool[],
                         $17::bool[], $18::text[], $19::bigint[])
           WITH ORDINALITY AS y(id, d, i, o, r, p, h, b, t, dr, s, rb, rt, n)
     WHERE d IS NULL OR d IN (SELECT delivery_id FROM fresh)
), created AS (
    -- A review followed in the batch by a superseding one of its PR is inserted superseded
    -- by the last of those: the UPDATE below cannot see the rows this statement inserts.
    INSERT INTO reviews (id, delivery_id, installation_id, owner, repo, pr_number, head_sha,
                         base_ref, trigger, draft, requested_by, reply_to, status,
                         superseded_by, finished_at)
    SELECT k.id, k.d, k.i, k.o, k.r, k.p, k.h, k.b, k.t, k.dr, k.rb, k.rt,
           CASE WHEN later.id IS NULL THEN 'pending' ELSE 'superseded' END, later.id,
           CASE WHEN later.id IS NOT NULL THEN now() END
      FROM kept k
      LEFT JOIN LATERAL (
          SELECT l.id FROM kept l
           WHERE l.s AND l.o = k.o AND l.r = k.r AND l.p = k.p AND l.n > k.n
           ORDER BY l.n DESC LIMIT 1
      ) later ON true
     ORDER BY k.n  -- seq follows arrival, even within the batch
    RETURNING id, owner, repo, pr_number, seq, status
), superseded AS (
    {supersede}
), jobs_created AS (
    {jobs}
)
SELECT delivery_id, NULL::uuid AS review, NULL AS owner, NULL AS repo, NULL::int AS pr
  FROM fresh
UNION ALL
SELECT NULL, id, owner, repo, pr_number FROM superseded
""".format(
    fresh=_FRESH.strip(),
    supersede=_SUPERSEDE.format(
        # The batch's newest superseding review of each PR: the ones left pending.
        newer="SELECT c.id, c.owner, c.repo, c.pr_number, c.seq FROM created c"
        " JOIN kept k ON k.id = c.id WHERE k.s AND c.status = 'pending'"
    ).strip(),
    jobs=jobs.INSERT.format(*range(20, 28)).strip(),
)


async def create(conn: Conn, batch: Sequence[Delivery | NewReview | NewJob]) -> Created:
    """Record deliveries, create the reviews and jobs they ask for, and supersede what those
    reviews replace.

    The only way a review or job row is inserted: webhook intake (a batch of deliveries, the
    group commit), the command line, a job (a NewReview of its own) and the tests.
    One statement, one round trip. A delivery id seen before, or twice in the batch, creates
    nothing the second time. Per PR, the batch's last review that supersedes replaces the
    PR's earlier ones: those recorded before, by `_SUPERSEDE`; those earlier in this batch,
    which that UPDATE cannot see (the rows of a statement are not visible to itself), are
    inserted superseded already. Only reviews that are created count: a redelivery's does not.
    """
    seen: dict[str, Delivery] = {}
    asked: list[tuple[str | None, NewReview]] = []
    jobs_asked: list[tuple[str | None, NewJob]] = []
    for item in batch:
        if isinstance(item, NewReview):
            asked.append((None, item))
        elif isinstance(item, NewJob):
            jobs_asked.append((None, item))
        elif item.delivery_id not in seen:
            seen[item.delivery_id] = item
            if item.review is not None:
                asked.append((item.delivery_id, item.review))
            if item.job is not None:
                jobs_asked.append((item.delivery_id, item.job))
    firsts = list(seen.values())
    recorded = (
        [d.delivery_id for d in firsts],
        [d.event for d in firsts],
        [d.action for d in firsts],
        [d.installation_id for d in firsts],
        [d.repository for d in firsts],
        [d.refused for d in firsts],
    )
    if not asked and not jobs_asked:
        rows = await conn.fetch(_RECORD, *recorded)
        return Created({row["delivery_id"] for row in rows}, {})
    reviews = [r for _, r in asked]
    rows = await conn.fetch(
        _CREATE,
        *recorded,
        [r.id for r in reviews],
        [d for d, _ in asked],
        [r.installation_id for r in reviews],
        [r.owner for r in reviews],
        [r.repo for r in reviews],
        [r.pr_number for r in reviews],
        [r.head_sha for r in reviews],
        [r.base_ref for r in reviews],
        [str(r.trigger) for r in reviews],
        [r.draft for r in reviews],
        [r.supersede for r in reviews],
        [r.requested_by for r in reviews],
        [r.reply_to for r in reviews],
        *jobs.insert_arguments(jobs_asked),
    )
    fresh = {row["delivery_id"] for row in rows if row["delivery_id"] is not None}
    superseded: dict[PullKey, list[uuid.UUID]] = {}
    for row in rows:
        if row["review"] is not None:
            key = (row["owner"], row["repo"], row["pr"])
            superseded.setdefault(key, []).append(row["review"])
    return Created(fresh, superseded)


# ---------------------------------------------------------------------- claim and the lease

hold_liveness = lease.hold_liveness  # the process's liveness lock (bot/store/lease.py)

# The reviews as leased work (bot/store/lease.py). A pending review put back for a quota is
# not claimed before its not_before, in the App's clock.
REVIEWS = lease.Leased(
    "reviews",
    MAX_ATTEMPTS,
    pending="t.status = 'pending'"
    " AND (t.not_before IS NULL OR t.not_before <= coalesce($NOW, now()))",
    touched=True,
)
GIVE_UP = REVIEWS.gave_up
renew = REVIEWS.renew
release = REVIEWS.release


@dataclass(frozen=True)
class Gate:
    """What decides, as a review is claimed, whether it may run and what it must tidy first:
    read by the claiming statement itself, not three more round trips a review."""

    installation: InstallationStatus  # one we never heard of is active
    pull: PullState  # paused or ignored, and by whom
    open_checks: bool  # the PR's superseded or stopped reviews left a check run in progress


_GATE = f"""
    (SELECT i.status FROM installations i
      WHERE i.id = reviews.installation_id) AS gate_installation,
    (SELECT p.paused_by FROM pull_states p WHERE p.owner = reviews.owner
        AND p.repo = reviews.repo AND p.pr_number = reviews.pr_number) AS gate_paused_by,
    (SELECT p.ignored_by FROM pull_states p WHERE p.owner = reviews.owner
        AND p.repo = reviews.repo AND p.pr_number = reviews.pr_number) AS gate_ignored_by,
    EXISTS (SELECT 1 FROM reviews o
             WHERE o.owner = reviews.owner AND o.repo = reviews.repo
               AND o.pr_number = reviews.pr_number AND {open_check("o")}
           ) AS gate_open_checks"""


async def claim(
    pool: asyncpg.Pool,
    review_id: uuid.UUID,
    lease_owner: str,
    lease_seconds: float,
    now: datetime | None = None,
) -> Review | None:
    """Take a pending review that is due, or an abandoned one, and lease it to lease_owner.

    None when another process holds it or it is not waiting (or not due yet).
    """
    claimed = await claim_gated(pool, review_id, lease_owner, lease_seconds, now)
    return claimed[0] if claimed else None


async def claim_gated(
    pool: asyncpg.Pool,
    review_id: uuid.UUID,
    lease_owner: str,
    lease_seconds: float,
    now: datetime | None = None,
) -> tuple[Review, Gate] | None:
    """`claim`, and the review's Gate read in the same statement."""
    row = await REVIEWS.claim(
        pool,
        review_id,
        lease_owner,
        lease_seconds,
        now,
        returning=f"{COLUMNS}, {_GATE}",
        also=", not_before = NULL",
    )
    if row is None:
        return None
    installation = row["gate_installation"]
    gate = Gate(
        InstallationStatus(installation) if installation else InstallationStatus.ACTIVE,
        PullState(row["gate_paused_by"], row["gate_ignored_by"]),
        row["gate_open_checks"],
    )
    return Review.from_row(row), gate


async def waiting(pool: asyncpg.Pool, limit: int, now: datetime | None = None) -> list[uuid.UUID]:
    """Ids of reviews no process is working on: pending and due, or abandoned."""
    return await REVIEWS.waiting(pool, limit, now)


async def defer(
    pool: asyncpg.Pool, review_id: uuid.UUID, lease_owner: str, until: datetime
) -> bool:
    """Put our review back to pending until `until` (a quota or cap is reached).

    The claim that led here is not counted as an attempt: waiting for a quota is not
    failing. False when the lease was lost meanwhile.
    """
    return await REVIEWS.hand_back(pool, review_id, lease_owner, not_before=until)


async def follows_running(conn: Db, review_id: uuid.UUID) -> bool:
    """Whether this review superseded one that had started: a burst of pushes."""
    found: bool = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM reviews WHERE superseded_by = $1 AND attempts > 0)",
        review_id,
    )
    return found


# ---------------------------------------------------------------------------------- finish


async def finish(
    pool: asyncpg.Pool,
    review_id: uuid.UUID,
    lease_owner: str,
    status: Status,
    error: str | None = None,
) -> Timing | None:
    """Move our processing review to a final status; refused (None) if we lost the lease.
    Its Timing, for the metrics, comes back from the same statement."""
    if status not in FINISHED or status is Status.SUPERSEDED:
        raise ValueError(f"not a status a review finishes with: {status}")
    row = await REVIEWS.finish(
        pool, review_id, lease_owner, str(status), returning=TIMING, error=error
    )
    return timing_of(row) if row is not None else None


def exhausted(review: Review) -> bool:
    """True when the review has been claimed too often to try again: it is given up."""
    return REVIEWS.exhausted(review.attempts)


async def give_up(pool: asyncpg.Pool, review: Review, lease_owner: str) -> bool:
    """Fail an exhausted review for good (its check run is the caller's to complete)."""
    return await REVIEWS.give_up(pool, review.id, lease_owner) is not None
