"""Persistence for user accounts."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class User:
    id: int
    email: str
    display_name: str
    created_at: datetime
    is_active: bool


def _row_to_user(row: sqlite3.Row) -> User:
    return User(
        id=row["id"],
        email=row["email"],
        display_name=row["display_name"],
        created_at=datetime.fromisoformat(row["created_at"]),
        is_active=bool(row["is_active"]),
    )


class UserRepository:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._conn.row_factory = sqlite3.Row

    def get(self, user_id: int) -> User | None:
        row = self._conn.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()
        return _row_to_user(row) if row else None

    def get_by_email(self, email: str) -> User | None:
        row = self._conn.execute(
            "SELECT * FROM users WHERE lower(email) = lower(?)", (email,)
        ).fetchone()
        return _row_to_user(row) if row else None

    def list_active(self, limit: int = 50, offset: int = 0) -> list[User]:
        rows = self._conn.execute(
            "SELECT * FROM users WHERE is_active = 1 ORDER BY id LIMIT ? OFFSET ?",
            (limit, offset),
        ).fetchall()
        return [_row_to_user(r) for r in rows]

    def deactivate(self, user_id: int) -> bool:
        cur = self._conn.execute("UPDATE users SET is_active = 0 WHERE id = ?", (user_id,))
        self._conn.commit()
        return cur.rowcount == 1
