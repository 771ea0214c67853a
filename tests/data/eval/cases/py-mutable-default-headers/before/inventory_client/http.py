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


class InventoryClient:
    def __init__(self, base_url: str, token: str | None = None, timeout: float = DEFAULT_TIMEOUT):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self._session = requests.Session()

    def _headers(self) -> dict[str, str]:
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        url = f"{self.base_url}/{path.lstrip('/')}"
        response = self._session.request(
            method, url, headers=self._headers(), timeout=self.timeout, **kwargs
        )
        if response.status_code >= 400:
            log.debug("inventory %s %s -> %s", method, url, response.status_code)
            raise InventoryError(response.status_code, response.text[:200])
        return response.json() if response.content else None

    def get_item(self, sku: str) -> dict[str, Any]:
        return self._request("GET", f"/items/{sku}")

    def list_items(self, warehouse: str, page: int = 1) -> list[dict[str, Any]]:
        return self._request("GET", "/items", params={"warehouse": warehouse, "page": page})

    def adjust_stock(self, sku: str, delta: int, reason: str) -> dict[str, Any]:
        return self._request(
            "POST", f"/items/{sku}/adjustments", json={"delta": delta, "reason": reason}
        )
