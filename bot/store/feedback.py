"""The 👍 and 👎 on our inline comments, per finding, and the acceptance rates they give."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.pull import Pull
from bot.store.db import Db
from bot.store.pulls import columns


@dataclass(frozen=True)
class Reactions:
    """The reactions on one finding's inline comment, as GitHub lists them now."""

    fingerprint: str
    agent_type: str
    thumbs_up: int
    thumbs_down: int


async def store(db: Db, pull: Pull, found: Sequence[Reactions]) -> None:
    """Record the counts read now (they replace what was read before)."""
    if not found:
        return
    await db.execute(
        "INSERT INTO feedback (owner, repo, pr_number, fingerprint, agent_type, thumbs_up,"
        " thumbs_down) SELECT $1, $2, $3, * FROM unnest($4::text[], $5::text[], $6::int[],"
        " $7::int[]) ON CONFLICT (owner, repo, pr_number, fingerprint) DO UPDATE"
        " SET thumbs_up = EXCLUDED.thumbs_up, thumbs_down = EXCLUDED.thumbs_down,"
        " agent_type = EXCLUDED.agent_type, updated_at = now()",
        *columns(pull),
        [r.fingerprint for r in found],
        [r.agent_type for r in found],
        [r.thumbs_up for r in found],
        [r.thumbs_down for r in found],
    )


async def said_wrong(db: Db, pull: Pull, fingerprint: str, agent_type: str) -> None:
    """Count a reply that says the finding is wrong from someone who may not dismiss it:
    taken as a 👎 in the acceptance figures, the finding itself left as it is."""
    await db.execute(
        "INSERT INTO feedback (owner, repo, pr_number, fingerprint, agent_type, wrong_replies)"
        " VALUES ($1, $2, $3, $4, $5, 1) ON CONFLICT (owner, repo, pr_number, fingerprint)"
        " DO UPDATE SET wrong_replies = feedback.wrong_replies + 1, updated_at = now()",
        *columns(pull),
        fingerprint,
        agent_type,
    )


@dataclass(frozen=True)
class Acceptance:
    """Of the findings people judged in one group (an agent, a repository): how many they took.

    A finding is judged by its latest signals: rejected when a maintainer dismissed it or it
    has more 👎 than 👍; else accepted when it has more 👍 than 👎 or its thread was resolved
    because the code it flagged changed and the finding is gone (a fix); else not judged.
    """

    group: str  # an agent, or OWNER/REPO
    accepted: int
    rejected: int
    thumbs_up: int
    thumbs_down: int  # a reply saying "wrong" from someone who may not dismiss counts as one
    dismissed: int = 0  # of rejected, the findings a maintainer dismissed
    fixed: int = 0  # of accepted, the findings whose thread we resolved because they were fixed

    @property
    def rate(self) -> float | None:
        judged = self.accepted + self.rejected
        return self.accepted / judged if judged else None


# One row per signal, then one per finding (a PR's fingerprint): the reactions read back, a
# dismissal, a thread a review resolved (reviews.summary's threads_resolved: fixed findings'
# threads, and dismissed ones', which the dismissal decides). The agent is the one the
# reactions were stored with, else the finding's own.
_ACCEPTANCE = """
WITH signals AS (
    SELECT owner, repo, pr_number, fingerprint, agent_type AS agent, thumbs_up AS up,
           thumbs_down + wrong_replies AS down, false AS dismissed, false AS fixed,
           updated_at AS at
      FROM feedback
    UNION ALL
    SELECT owner, repo, pr_number, fingerprint, NULL, 0, 0, true, false, created_at
      FROM dismissals
    UNION ALL
    SELECT r.owner, r.repo, r.pr_number, t.fingerprint, NULL, 0, 0, false, true,
           coalesce(r.finished_at, r.updated_at)
      FROM reviews r
     CROSS JOIN LATERAL jsonb_array_elements_text(r.summary -> 'threads_resolved') t(fingerprint)
     WHERE jsonb_typeof(r.summary -> 'threads_resolved') = 'array'
), judged AS (
    SELECT owner, repo,
           coalesce(max(agent), (
               SELECT agent_type FROM findings x JOIN reviews r ON r.id = x.review_id
                WHERE r.owner = s.owner AND r.repo = s.repo AND r.pr_number = s.pr_number
                  AND x.fingerprint = s.fingerprint LIMIT 1), 'unknown') AS agent,
           sum(up) AS up, sum(down) AS down, bool_or(dismissed) AS dismissed,
           bool_or(fixed) AS fixed, max(at) AS at
      FROM signals s
     GROUP BY owner, repo, pr_number, fingerprint
), verdicts AS (
    SELECT *, dismissed OR down > up AS rejected,
           NOT dismissed AND NOT down > up AND (up > down OR fixed) AS accepted
      FROM judged
     WHERE at >= $1 AND ($2::timestamptz IS NULL OR at < $2)
       AND ($3::text IS NULL OR (lower(owner) = lower($3) AND lower(repo) = lower($4)))
)
SELECT {group} AS grp,
       count(*) FILTER (WHERE accepted) AS accepted,
       count(*) FILTER (WHERE rejected) AS rejected,
       sum(up)::int AS up, sum(down)::int AS down,
       count(*) FILTER (WHERE dismissed) AS dismissed,
       count(*) FILTER (WHERE accepted AND fixed) AS fixed
  FROM verdicts
 GROUP BY grp ORDER BY grp
"""

GROUPS = {"agents": "agent", "repositories": "owner || '/' || repo"}


async def acceptance(
    db: Db,
    since: datetime,
    repository: tuple[str, str] | None = None,
    *,
    until: datetime | None = None,
    groups: Sequence[str] = tuple(GROUPS),
) -> dict[str, list[Acceptance]]:
    """Acceptance per agent and per repository (or only `groups`), of the findings whose
    latest signal came at or after `since` (and before `until`)."""
    owner, repo = repository or (None, None)
    out: dict[str, list[Acceptance]] = {}
    for name in groups:
        rows = await db.fetch(_ACCEPTANCE.format(group=GROUPS[name]), since, until, owner, repo)
        out[name] = [
            Acceptance(
                r["grp"],
                r["accepted"],
                r["rejected"],
                r["up"],
                r["down"],
                r["dismissed"],
                r["fixed"],
            )
            for r in rows
        ]
    return out
