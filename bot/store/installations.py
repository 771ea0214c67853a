"""The App's installations and their repositories, as `installation` and
`installation_repositories` events told us."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from bot.store.db import Db


class InstallationStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    DELETED = "deleted"


async def record(
    db: Db, installation_id: int, status: InstallationStatus, account: str | None = None
) -> None:
    await db.execute(
        "INSERT INTO installations (id, account, status) VALUES ($1, $2, $3)"
        " ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status,"
        " account = coalesce(EXCLUDED.account, installations.account), updated_at = now()",
        installation_id,
        account,
        str(status),
    )


async def status(db: Db, installation_id: int) -> InstallationStatus:
    """The installation's status; one we never heard of is taken as active."""
    found = await db.fetchval("SELECT status FROM installations WHERE id = $1", installation_id)
    return InstallationStatus(found) if found else InstallationStatus.ACTIVE


async def change_repositories(
    db: Db, installation_id: int, added: Sequence[str], removed: Sequence[str]
) -> None:
    """Record repositories added to and removed from the installation."""
    await db.execute(
        "INSERT INTO installation_repositories (installation_id, full_name)"
        " SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING",
        installation_id,
        list(added),
    )
    await db.execute(
        "DELETE FROM installation_repositories"
        " WHERE installation_id = $1 AND full_name = ANY($2::text[])",
        installation_id,
        list(removed),
    )


async def repositories(db: Db, installation_id: int) -> list[str]:
    rows = await db.fetch(
        "SELECT full_name FROM installation_repositories WHERE installation_id = $1"
        " ORDER BY full_name",
        installation_id,
    )
    return [row["full_name"] for row in rows]
