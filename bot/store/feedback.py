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
    """Of the findings people reacted to (or dismissed) in one group: how many they took."""

    group: str  # an agent, or OWNER/REPO
    accepted: int  # more 👍 than 👎, not dismissed
    rejected: int  # more 👎 than 👍, or dismissed
    thumbs_up: int
    thumbs_down: int  # a reply saying "wrong" from someone who may not dismiss counts as one

    @property
    def rate(self) -> float | None:
        judged = self.accepted + self.rejected
        return self.accepted / judged if judged else None


_ACCEPTANCE = """
WITH judged AS (
    SELECT coalesce(f.owner, d.owner) AS owner, coalesce(f.repo, d.repo) AS repo,
           coalesce(f.agent_type, (
               SELECT agent_type FROM findings x JOIN reviews r ON r.id = x.review_id
                WHERE r.owner = d.owner AND r.repo = d.repo AND r.pr_number = d.pr_number
                  AND x.fingerprint = d.fingerprint LIMIT 1), 'unknown') AS agent,
           coalesce(f.thumbs_up, 0) AS up,
           coalesce(f.thumbs_down, 0) + coalesce(f.wrong_replies, 0) AS down,
           d.fingerprint IS NOT NULL AS dismissed,
           greatest(f.updated_at, d.created_at) AS at
      FROM feedback f
      FULL JOIN dismissals d ON (d.owner, d.repo, d.pr_number, d.fingerprint)
                              = (f.owner, f.repo, f.pr_number, f.fingerprint)
)
SELECT {group} AS grp,
       count(*) FILTER (WHERE NOT dismissed AND up > down) AS accepted,
       count(*) FILTER (WHERE dismissed OR down > up) AS rejected,
       sum(up)::int AS up, sum(down)::int AS down
  FROM judged
 WHERE at >= $1 AND ($2::text IS NULL OR (lower(owner) = lower($2) AND lower(repo) = lower($3)))
 GROUP BY grp ORDER BY grp
"""


async def acceptance(
    db: Db, since: datetime, repository: tuple[str, str] | None = None
) -> dict[str, list[Acceptance]]:
    """Acceptance per agent and per repository, from what was read or dismissed since `since`."""
    owner, repo = repository or (None, None)
    out: dict[str, list[Acceptance]] = {}
    for name, group in (("agents", "agent"), ("repositories", "owner || '/' || repo")):
        rows = await db.fetch(_ACCEPTANCE.format(group=group), since, owner, repo)
        out[name] = [
            Acceptance(r["grp"], r["accepted"], r["rejected"], r["up"], r["down"]) for r in rows
        ]
    return out
