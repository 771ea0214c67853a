"""What we keep about a pull request besides its reviews: whether its automatic reviews are
paused or the PR is ignored (and by whom), and the findings maintainers dismissed on it."""

from __future__ import annotations

from dataclasses import dataclass

from bot.store.db import Db


@dataclass(frozen=True)
class PullState:
    paused_by: str | None = None  # automatic reviews stop; asked-for ones still run
    ignored_by: str | None = None  # nothing runs, nothing is posted


async def state(db: Db, owner: str, repo: str, pr_number: int) -> PullState:
    row = await db.fetchrow(
        "SELECT paused_by, ignored_by FROM pull_states"
        " WHERE owner = $1 AND repo = $2 AND pr_number = $3",
        owner,
        repo,
        pr_number,
    )
    return PullState(row["paused_by"], row["ignored_by"]) if row else PullState()


async def set_state(
    db: Db, owner: str, repo: str, pr_number: int, *, paused_by: str | None,
    ignored_by: str | None,
) -> None:  # fmt: skip
    """Record the PR's state: who paused or ignored it (None: not paused, not ignored)."""
    await db.execute(
        "INSERT INTO pull_states (owner, repo, pr_number, paused_by, ignored_by)"
        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (owner, repo, pr_number) DO UPDATE"
        " SET paused_by = EXCLUDED.paused_by, ignored_by = EXCLUDED.ignored_by,"
        " updated_at = now()",
        owner, repo, pr_number, paused_by, ignored_by,
    )  # fmt: skip


async def dismiss(
    db: Db, owner: str, repo: str, pr_number: int, fingerprint: str, by: str, how: str
) -> bool:
    """Dismiss the finding on this PR; False when it was dismissed already."""
    row = await db.fetchval(
        "INSERT INTO dismissals (owner, repo, pr_number, fingerprint, dismissed_by, how)"
        " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING 1",
        owner, repo, pr_number, fingerprint, by, how,
    )  # fmt: skip
    return row is not None


async def dismissed(db: Db, owner: str, repo: str, pr_number: int) -> dict[str, str]:
    """The PR's dismissed fingerprints, and who dismissed each."""
    rows = await db.fetch(
        "SELECT fingerprint, dismissed_by FROM dismissals"
        " WHERE owner = $1 AND repo = $2 AND pr_number = $3",
        owner,
        repo,
        pr_number,
    )
    return {row["fingerprint"]: row["dismissed_by"] for row in rows}
