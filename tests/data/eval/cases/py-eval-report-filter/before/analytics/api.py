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


@router.get("/")
def list_reports() -> list[str]:
    return sorted(REPORTS)


@router.get("/{name}")
def get_report(
    name: str,
    columns: str | None = Query(None, description="Comma-separated column names"),
    warehouse: Warehouse = Depends(get_warehouse),
) -> dict[str, Any]:
    rows = _load(warehouse, name)
    if columns:
        wanted = [c.strip() for c in columns.split(",") if c.strip()]
        rows = [{c: row.get(c) for c in wanted} for row in rows]
    return {"report": name, "count": len(rows), "rows": rows}
