"""What we keep about a pull request besides its reviews: whether its automatic reviews are
paused or the PR is ignored (and by whom), and the findings maintainers dismissed on it."""

from __future__ import annotations

from dataclasses import dataclass

from bot.pull import Pull
from bot.store.db import Db


def columns(pull: Pull) -> tuple[str, str, int]:
    """What a PR is stored under (owner, repo, pr_number: not the installation), in the order
    the statements take them."""
    return pull.owner, pull.repo, pull.number


@dataclass(frozen=True)
class PullState:
    paused_by: str | None = None  # automatic reviews stop; asked-for ones still run
    ignored_by: str | None = None  # nothing runs, nothing is posted


async def state(db: Db, pull: Pull) -> PullState:
    row = await db.fetchrow(
        "SELECT paused_by, ignored_by FROM pull_states"
        " WHERE owner = $1 AND repo = $2 AND pr_number = $3",
        *columns(pull),
    )
    return PullState(row["paused_by"], row["ignored_by"]) if row else PullState()


async def set_state(db: Db, pull: Pull, *, paused_by: str | None, ignored_by: str | None) -> None:
    """Record the PR's state: who paused or ignored it (None: not paused, not ignored)."""
    await db.execute(
        "INSERT INTO pull_states (owner, repo, pr_number, paused_by, ignored_by)"
        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (owner, repo, pr_number) DO UPDATE"
        " SET paused_by = EXCLUDED.paused_by, ignored_by = EXCLUDED.ignored_by,"
        " updated_at = now()",
        *columns(pull),
        paused_by,
        ignored_by,
    )


async def dismiss(db: Db, pull: Pull, fingerprint: str, by: str, how: str) -> bool:
    """Dismiss the finding on this PR; False when it was dismissed already."""
    row = await db.fetchval(
        "INSERT INTO dismissals (owner, repo, pr_number, fingerprint, dismissed_by, how)"
        " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING 1",
        *columns(pull),
        fingerprint,
        by,
        how,
    )
    return row is not None


async def dismissed(db: Db, pull: Pull) -> dict[str, str]:
    """The PR's dismissed fingerprints, and who dismissed each."""
    rows = await db.fetch(
        "SELECT fingerprint, dismissed_by FROM dismissals"
        " WHERE owner = $1 AND repo = $2 AND pr_number = $3",
        *columns(pull),
    )
    return {row["fingerprint"]: row["dismissed_by"] for row in rows}
