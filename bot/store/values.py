"""What PostgreSQL can store: text without NUL or lone surrogates, integers in column range."""

from __future__ import annotations

import re
from collections.abc import Iterable

INT4_MAX = 2**31 - 1  # integer columns (pr_number)
INT8_MAX = 2**63 - 1  # bigint columns (installation_id, comment_id, check_run_id)

# PostgreSQL text cannot hold NUL; asyncpg cannot encode a lone surrogate as UTF-8.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def text_problem(value: str) -> str | None:
    """Why PostgreSQL would refuse this text, or None."""
    found = _UNSTORABLE.search(value)
    if found is None:
        return None
    char = found.group()
    return "contains a NUL character" if char == "\x00" else "contains a lone surrogate"


def int_problem(value: int, maximum: int) -> str | None:
    """Why this integer does not fit its column, or None."""
    if not -maximum - 1 <= value <= maximum:
        return f"is out of range (at most {maximum})"
    return None


def first_problem(fields: Iterable[tuple[str, object, int | None]]) -> str | None:
    """`field: reason` for the first (name, value, int maximum) PostgreSQL would refuse."""
    for name, value, maximum in fields:
        if isinstance(value, str):
            problem = text_problem(value)
        elif isinstance(value, int) and maximum is not None:
            problem = int_problem(value, maximum)
        else:
            problem = None
        if problem:
            return f"{name} {problem}"
    return None


def printable(text: str, limit: int = 300) -> str:
    """Text safe to store and to log on one line: no control characters, cut at `limit`."""
    clean = _UNSTORABLE.sub("\ufffd", text)
    clean = "".join(c if c.isprintable() else " " for c in clean)
    return clean if len(clean) <= limit else clean[: limit - 1] + "…"
