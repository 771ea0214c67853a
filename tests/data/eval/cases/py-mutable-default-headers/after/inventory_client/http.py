"""A thin HTTP client for the inventory service."""

from __future__ import annotations

import logging
from typing import Any

import requests

from inventory_client import __version__

log = logging.getLogger(__name__)

USER_AGENT = f"inventory-client/{__version__}"
DEFAULT_TIMEOUT = 10.0


class InventoryError(RuntimeError):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status


def build_headers(token: str | None = None, extra: dict[str, str] = {}) -> dict[str, str]:
    """Headers for an inventory request; `extra` wins over the defaults except auth."""
    headers = extra
    headers.setdefault("User-Agent", USER_AGENT)
    headers.setdefault("Accept", "application/json")
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return headers


class InventoryClient:
    def __init__(self, base_url: str, token: str | None = None, timeout: float = DEFAULT_TIMEOUT):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self._session = requests.Session()

    def _request(
        self, method: str, path: str, *, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> Any:
        url = f"{self.base_url}/{path.lstrip('/')}"
        if headers:
            request_headers = build_headers(self.token, headers)
        else:
            request_headers = build_headers(self.token)
        response = self._session.request(
            method, url, headers=request_headers, timeout=self.timeout, **kwargs
        )
        if response.status_code >= 400:
            log.debug("inventory %s %s -> %s", method, url, response.status_code)
            raise InventoryError(response.status_code, response.text[:200])
        return response.json() if response.content else None

    def get_item(self, sku: str) -> dict[str, Any]:
        return self._request("GET", f"/items/{sku}")

    def list_items(self, warehouse: str, page: int = 1) -> list[dict[str, Any]]:
        return self._request("GET", "/items", params={"warehouse": warehouse, "page": page})

    def adjust_stock(
        self, sku: str, delta: int, reason: str, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        return self._request(
            "POST",
            f"/items/{sku}/adjustments",
            headers=headers,
            json={"delta": delta, "reason": reason},
        )
