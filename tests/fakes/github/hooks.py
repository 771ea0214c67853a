"""The App's webhook deliveries: GET /app/hook/deliveries and POST
/app/hook/deliveries/{delivery_id}/attempts (docs.github.com/rest/apps/webhooks).

GitHub: both need the App's JWT. The list is newest first (by id), `per_page` at most 100
(default 30), paginated by cursor: the Link header's rel="next" carries `cursor=`, "the
starting delivery from which the page of deliveries is fetched"; `redelivery=true|false`
filters. Each item (hook-delivery-item) has id, guid (X-GitHub-Delivery, shared by every
attempt of one event), delivered_at, redelivery, duration, status ("OK", or what went wrong:
"Invalid HTTP Response: 502"), status_code, event, action, installation_id, repository_id,
throttled_at. A redelivery is asked with an empty POST and answered 202; an unknown id 404.
Then GitHub POSTs the delivery again, at once and on its own time (the 202 does not wait for
it): the same payload and guid (X-GitHub-Delivery), signed anew with the webhook secret
(X-Hub-Signature-256), within its 10 s timeout; the outcome is a new attempt in the list
(redelivery true, the App's status code, or 0 and "failed to connect" / "timed out").

A test records the attempts GitHub made with record_delivery() (with the `payload` GitHub
would send again) or deliveries_failed_while_down(), and reads the redeliveries asked for in
`hook_redeliveries`. Redeliveries are sent only once the webhook has a URL (set_hook(url,
secret), as the App's settings page has it); without one nothing is sent, as for an App whose
webhook is inactive.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from aiohttp import web

from tests.fakes.github.auth import Auth
from tests.fakes.github.errors import DOCS, GitHubError, _not_found
from tests.fakes.github.http import _page_args

HOOK_DOCS = f"{DOCS}/apps/webhooks"
_CURSOR = "v1_"
FIRST_DELIVERY_ID = 12_077_215_967  # GitHub's ids are large and increase
HOOK_TIMEOUT = 10.0  # GitHub gives up on a delivery not answered within 10 s


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Hooks(Auth):
    """The deliveries of the App's webhook, and the redeliveries asked for."""

    def __init__(self, app_id: str, public_key_pem: str) -> None:
        super().__init__(app_id, public_key_pem)
        self._hook_deliveries: dict[int, dict[str, Any]] = {}
        self._hook_payloads: dict[str, Any] = {}  # guid -> what GitHub sends for it
        self._delivery_ids = itertools.count(FIRST_DELIVERY_ID)
        self.hook_redeliveries: list[int] = []  # delivery ids asked for, in order
        self._hook: tuple[str, str] | None = None  # the webhook's URL and secret
        self._hook_era = 0  # a reset ends every send of the era before it
        self._sending: set[asyncio.Task[None]] = set()

    def reset(self) -> None:
        super().reset()
        with self._lock:
            self._hook_deliveries.clear()
            self._hook_payloads.clear()
            self.hook_redeliveries.clear()
            self._hook = None
            self._hook_era += 1

    def set_hook(self, url: str, secret: str) -> None:
        """The App's webhook URL and secret: redeliveries are POSTed there from now on."""
        with self._lock:
            self._hook = (url, secret)

    def record_delivery(
        self,
        guid: str,
        event: str,
        action: str | None = None,
        status_code: int = 202,
        *,
        delivered_at: datetime | None = None,
        redelivery: bool = False,
        status: str | None = None,
        installation_id: int | None = 1,
        repository_id: int | None = None,
        payload: Any = None,
    ) -> dict[str, Any]:
        """Record one attempt GitHub made (newest so far, whatever its delivered_at) and return
        it as the list shows it. `status` defaults to "OK" for a 2xx, else GitHub's wording
        ("Invalid HTTP Response: 502"; "failed to connect" for status_code 0). `payload` is
        what a redelivery of the guid sends (`{}` unless given)."""
        if status is None:
            status = (
                "OK"
                if 200 <= status_code < 300
                else "failed to connect"
                if status_code == 0
                else f"Invalid HTTP Response: {status_code}"
            )
        with self._lock:
            delivery_id = next(self._delivery_ids)
            item = {
                "id": delivery_id,
                "guid": guid,
                "delivered_at": _iso(delivered_at or datetime.now(UTC)),
                "redelivery": redelivery,
                "duration": 0.05 if status_code else 10.0,
                "status": status,
                "status_code": status_code,
                "event": event,
                "action": action,
                "installation_id": installation_id,
                "repository_id": repository_id,
                "throttled_at": None,
            }
            self._hook_deliveries[delivery_id] = item
            if payload is not None or guid not in self._hook_payloads:
                self._hook_payloads[guid] = payload if payload is not None else {}
            return dict(item)

    def deliveries_failed_while_down(
        self,
        count: int,
        *,
        event: str = "pull_request",
        action: str | None = "synchronize",
        until: datetime | None = None,
        every: timedelta = timedelta(seconds=30),
        installation_id: int | None = 1,
        repository_id: int | None = None,
    ) -> list[dict[str, Any]]:
        """Record `count` deliveries of fresh guids that failed because the App was down (a
        proxy answered 502), `every` apart, the last at `until` (now); oldest first."""
        end = until or datetime.now(UTC)
        return [
            self.record_delivery(
                str(uuid.uuid4()),
                event,
                action,
                502,
                delivered_at=end - every * (count - 1 - n),
                installation_id=installation_id,
                repository_id=repository_id,
            )
            for n in range(count)
        ]

    def hook_deliveries(self) -> list[dict[str, Any]]:
        """Every attempt recorded, newest first (as the list gives them)."""
        with self._lock:
            return [dict(self._hook_deliveries[i]) for i in sorted(self._hook_deliveries)[::-1]]

    async def _list_hook_deliveries(self, request: web.Request) -> web.Response:
        self._check_jwt(request)
        per_page, _ = _page_args(request)
        cursor = request.query.get("cursor")
        start: int | None = None
        if cursor is not None:
            number = cursor.removeprefix(_CURSOR)
            if not cursor.startswith(_CURSOR) or not number.isdigit():
                raise GitHubError(400, "Bad Request", docs=HOOK_DOCS)
            start = int(number)
        redelivery = request.query.get("redelivery")
        with self._lock:
            items = [
                dict(item)
                for _, item in sorted(self._hook_deliveries.items(), reverse=True)
                if (start is None or item["id"] <= start)
                and (redelivery is None or str(item["redelivery"]).lower() == redelivery)
            ]
        page, rest = items[:per_page], items[per_page:]
        headers = {}
        if rest:
            query = f"per_page={per_page}&cursor={_CURSOR}{rest[0]['id']}"
            if redelivery is not None:
                query += f"&redelivery={redelivery}"
            url = f"{self._base_url(request)}{request.path}?{query}"
            headers["Link"] = f'<{url}>; rel="next"'
        return self._json(page, 200, headers)

    async def _redeliver_hook_delivery(self, request: web.Request) -> web.Response:
        self._check_jwt(request)
        delivery_id = int(request.match_info["delivery_id"])
        with self._lock:
            if delivery_id not in self._hook_deliveries:
                raise _not_found(f"{HOOK_DOCS}#redeliver-a-delivery-for-an-app-webhook")
            self.hook_redeliveries.append(delivery_id)
            item = dict(self._hook_deliveries[delivery_id])
            payload = self._hook_payloads.get(item["guid"], {})
            hook, era = self._hook, self._hook_era
        if hook is not None:
            task = asyncio.get_running_loop().create_task(self._send(item, payload, hook, era))
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)
        return self._json({}, 202)

    async def _send(
        self, item: dict[str, Any], payload: Any, hook: tuple[str, str], era: int
    ) -> None:
        """POST one redelivery to the webhook, as GitHub does, and record how it went."""
        url, secret = hook
        body = json.dumps(payload).encode()
        signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "GitHub-Hookshot/fake",
            "X-GitHub-Event": item["event"],
            "X-GitHub-Delivery": item["guid"],
            "X-GitHub-Hook-ID": "1",
            "X-Hub-Signature-256": f"sha256={signature}",
        }
        status: str | None = None
        try:
            timeout = aiohttp.ClientTimeout(total=HOOK_TIMEOUT)
            async with (
                aiohttp.ClientSession(timeout=timeout) as http,
                http.post(url, data=body, headers=headers) as answer,
            ):
                code = answer.status
        except TimeoutError:
            code, status = 0, "timed out"
        except aiohttp.ClientError:
            code = 0  # "failed to connect"
        with self._lock:
            if era != self._hook_era:
                return  # the test that asked is over
        self.record_delivery(
            item["guid"],
            item["event"],
            item["action"],
            code,
            redelivery=True,
            status=status,
            installation_id=item["installation_id"],
            repository_id=item["repository_id"],
        )
