"""Report endpoints for the analytics dashboard."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query

from analytics.auth import require_user
from analytics.warehouse import Warehouse, get_warehouse

router = APIRouter(prefix="/reports", dependencies=[Depends(require_user)])

REPORTS = {
    "revenue_by_region": "SELECT region, day, revenue, orders FROM daily_revenue",
    "signups": "SELECT day, source, country, signups FROM daily_signups",
}

MAX_ROWS = 5000


def _load(warehouse: Warehouse, name: str) -> list[dict[str, Any]]:
    try:
        sql = REPORTS[name]
    except KeyError:
        raise HTTPException(status_code=404, detail=f"unknown report {name!r}") from None
    return warehouse.fetch_all(sql, limit=MAX_ROWS)


def _matches(row: dict[str, Any], where: str) -> bool:
    """Evaluate a dashboard filter such as `region == 'EU' and revenue > 1000` on a row."""
    try:
        return bool(eval(where, {"__builtins__": {}}, dict(row)))
    except (NameError, SyntaxError, TypeError) as exc:
        raise HTTPException(status_code=400, detail=f"bad filter: {exc}") from None


@router.get("/")
def list_reports() -> list[str]:
    return sorted(REPORTS)


@router.get("/{name}")
def get_report(
    name: str,
    columns: str | None = Query(None, description="Comma-separated column names"),
    where: str | None = Query(None, description="Row filter, e.g. region == 'EU'"),
    warehouse: Warehouse = Depends(get_warehouse),
) -> dict[str, Any]:
    rows = _load(warehouse, name)
    if where:
        rows = [row for row in rows if _matches(row, where)]
    if columns:
        wanted = [c.strip() for c in columns.split(",") if c.strip()]
        rows = [{c: row.get(c) for c in wanted} for row in rows]
    return {"report": name, "count": len(rows), "rows": rows}
