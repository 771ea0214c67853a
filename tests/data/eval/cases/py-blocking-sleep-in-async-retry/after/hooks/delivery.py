"""Outgoing webhook delivery."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import random
import time
from dataclasses import dataclass

import aiohttp

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Hook-Signature-256"
BASE_DELAY = 0.5
MAX_DELAY = 30.0


@dataclass(frozen=True)
class Subscription:
    id: int
    url: str
    secret: str


def sign(secret: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


async def deliver(
    session: aiohttp.ClientSession,
    subscription: Subscription,
    event: str,
    payload: dict,
    *,
    attempts: int = 5,
) -> int | None:
    """POST one event to a subscriber; the final status code, or None if it never answered."""
    body = json.dumps({"event": event, "data": payload}, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Hook-Event": event,
        SIGNATURE_HEADER: sign(subscription.secret, body),
    }
    status = None
    delay = BASE_DELAY
    for attempt in range(1, attempts + 1):
        try:
            async with session.post(
                subscription.url,
                data=body,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=10),
            ) as response:
                status = response.status
                if status < 500:
                    return status
                log.warning(
                    "hook %s answered %s (attempt %d/%d)", subscription.id, status, attempt, attempts
                )
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("hook %s failed: %s (attempt %d/%d)", subscription.id, exc, attempt, attempts)
        if attempt < attempts:
            # Full jitter so a flapping subscriber doesn't get hit in lockstep by every worker.
            time.sleep(random.uniform(0, delay))
            delay = min(delay * 2, MAX_DELAY)
    return status


async def fan_out(
    session: aiohttp.ClientSession, subscriptions: list[Subscription], event: str, payload: dict
) -> dict[int, int | None]:
    results = {}
    for subscription in subscriptions:
        results[subscription.id] = await deliver(session, subscription, event, payload)
    return results
