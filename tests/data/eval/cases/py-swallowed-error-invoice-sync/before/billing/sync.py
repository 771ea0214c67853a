"""Pull invoices from the payment provider into our ledger."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from decimal import Decimal

import psycopg

from billing.provider import ProviderClient

log = logging.getLogger(__name__)

CURSOR_KEY = "invoices.created_after"


def load_cursor(conn: psycopg.Connection) -> int:
    row = conn.execute("SELECT value FROM sync_state WHERE key = %s", (CURSOR_KEY,)).fetchone()
    return int(row[0]) if row else 0


def save_cursor(conn: psycopg.Connection, value: int) -> None:
    conn.execute(
        "INSERT INTO sync_state (key, value) VALUES (%s, %s) "
        "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
        (CURSOR_KEY, str(value)),
    )


def upsert_invoice(conn: psycopg.Connection, invoice: dict) -> None:
    conn.execute(
        "INSERT INTO invoices (external_id, customer_id, amount, currency, status, created) "
        "VALUES (%s, %s, %s, %s, %s, to_timestamp(%s)) "
        "ON CONFLICT (external_id) DO UPDATE SET status = EXCLUDED.status",
        (
            invoice["id"],
            invoice["customer"],
            Decimal(invoice["amount_due"]) / 100,
            invoice["currency"].upper(),
            invoice["status"],
            invoice["created"],
        ),
    )


def _pages(client: ProviderClient, created_after: int) -> Iterator[dict]:
    starting_after = None
    while True:
        page = client.list_invoices(created_after=created_after, starting_after=starting_after)
        yield from page["data"]
        if not page["has_more"]:
            return
        starting_after = page["data"][-1]["id"]


def sync_invoices(conn: psycopg.Connection, client: ProviderClient) -> int:
    """Copy invoices created since the last run; returns how many were written."""
    cursor = load_cursor(conn)
    count = 0
    with conn.transaction():
        for invoice in _pages(client, cursor):
            upsert_invoice(conn, invoice)
            cursor = max(cursor, invoice["created"])
            count += 1
        save_cursor(conn, cursor)
    log.info("synced %d invoices, cursor now %d", count, cursor)
    return count
