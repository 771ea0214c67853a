"""Whether a review is still ours to publish: checked before each publishing step.

A review is ours while it is processing under our lease and no newer review of its PR
replaces it. A newer review (other than an edit's, which replaces nothing until it runs) may
have arrived through another process or intake batch at the same moment as this one, so that
neither superseded the other: then this one is REPLACED.

The check is read alone (`standing`) or with a statement the step makes anyway (`columns`
in its SELECT or RETURNING, `of_row` on the row): one round trip, not two.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import asyncpg

    from bot.store.db import Db


class Standing(Enum):
    OURS = "ours"  # processing under our lease, and nothing newer replaces it
    LOST = "lost"  # finished, superseded, or leased to another process
    REPLACED = "replaced"  # ours, but a newer review of the PR arrived: supersede it


@dataclass(frozen=True)
class Check:
    standing: Standing
    newer: uuid.UUID | None = None  # the newest review that replaces this one


def columns(me: str, lease_owner: str) -> str:
    """SQL: the columns `standing_ours` and `standing_newer` of review row `me`, for the
    lease owner given by the parameter `lease_owner` (such as "$2")."""
    return f"""{me}.status = 'processing' AND {me}.lease_owner = {lease_owner} AS standing_ours,
        (SELECT n.id FROM reviews n
          WHERE n.owner = {me}.owner AND n.repo = {me}.repo AND n.pr_number = {me}.pr_number
            AND n.seq > {me}.seq AND n.trigger <> 'edited'
          ORDER BY n.seq DESC LIMIT 1) AS standing_newer"""


def of_row(row: asyncpg.Record | None) -> Check:
    """The Check in a row with `columns`; no row: the review is gone, so not ours."""
    if row is None or not row["standing_ours"]:
        return Check(Standing.LOST)
    if row["standing_newer"] is not None:
        return Check(Standing.REPLACED, row["standing_newer"])
    return Check(Standing.OURS)


async def standing(conn: Db, review_id: uuid.UUID, lease_owner: str) -> Check:
    """The review's standing, read alone."""
    row = await conn.fetchrow(
        f"SELECT {columns('me', '$2')} FROM reviews me WHERE me.id = $1", review_id, lease_owner
    )
    return of_row(row)
