"""The permissions table: GitHub's answer about a person's access to a repository, kept for a
few minutes and dropped when an event says it changed (bot/app/conversation/access.py decides)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.pull import Repo
from bot.store.db import Db


@dataclass(frozen=True)
class Permission:
    """`permission`: admin | write | read | none (GitHub reports maintain as write and triage
    as read); `role_name`: the role itself, custom roles included."""

    permission: str
    role_name: str


async def cached(db: Db, repository: Repo, login: str, since: datetime) -> Permission | None:
    """What GitHub said of `login` on OWNER/REPO, if it said it at or after `since`."""
    row = await db.fetchrow(
        "SELECT permission, role_name FROM permissions WHERE installation_id = $1"
        " AND owner = lower($2) AND repo = lower($3) AND login = lower($4) AND checked_at >= $5",
        *_columns(repository),
        login,
        since,
    )
    return Permission(row["permission"], row["role_name"]) if row else None


async def keep(db: Db, repository: Repo, login: str, found: Permission, at: datetime) -> None:
    await db.execute(
        "INSERT INTO permissions (installation_id, owner, repo, login, permission, role_name,"
        " checked_at) VALUES ($1, lower($2), lower($3), lower($4), $5, $6, $7)"
        " ON CONFLICT (installation_id, owner, repo, login) DO UPDATE"
        " SET permission = EXCLUDED.permission, role_name = EXCLUDED.role_name,"
        " checked_at = EXCLUDED.checked_at",
        *_columns(repository),
        login,
        found.permission,
        found.role_name,
        at,
    )


def _columns(repository: Repo) -> tuple[int, str, str]:
    return repository.installation_id, repository.owner, repository.repo


async def forget(
    db: Db,
    installation_id: int,
    repository: tuple[str, str] | None = None,
    login: str | None = None,
) -> int:
    """Drop what is known of the installation, narrowed to a repository and/or a login;
    how many answers were dropped."""
    owner, repo = repository or (None, None)
    status: str = await db.execute(
        "DELETE FROM permissions WHERE installation_id = $1"
        " AND ($2::text IS NULL OR (owner = lower($2) AND repo = lower($3)))"
        " AND ($4::text IS NULL OR login = lower($4))",
        installation_id,
        owner,
        repo,
        login,
    )
    return int(status.split()[-1])
