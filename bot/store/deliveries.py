"""The webhook_deliveries table: every delivery id is recorded once."""

from __future__ import annotations

import asyncpg


async def record(
    conn: asyncpg.Connection,
    *,
    delivery_id: str,
    event: str,
    action: str | None,
    installation_id: int | None,
    repository: str | None,
) -> bool:
    """Record a delivery; False when its id was recorded before (a redelivery)."""
    row = await conn.fetchval(
        "INSERT INTO webhook_deliveries (delivery_id, event, action, installation_id, repository)"
        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (delivery_id) DO NOTHING RETURNING 1",
        delivery_id,
        event,
        action,
        installation_id,
        repository,
    )
    return row is not None
