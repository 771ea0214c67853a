"""process_review(review_id): the seed's processor, orchestration only."""

from __future__ import annotations

import logging
import uuid

from bot.services import Services
from bot.store import reviews

log = logging.getLogger(__name__)


async def process_review(review_id: uuid.UUID, services: Services) -> None:
    """Claim the review and run it to a final status; never raises for a review failure."""
    settings = services.settings
    review = await reviews.claim(
        services.pool, review_id, services.lease_owner, settings.lease_seconds
    )
    if review is None:
        log.info("review %s not claimed: another process has it or it is finished", review_id)
        return
    log.info("review %s processing (attempt %d)", review_id, review.attempts)
    try:
        pass
    except Exception as exc:
        error = describe_error(exc)
        log.warning("review %s failed: %s", review_id, error)
        await reviews.finish(services.pool, review_id, services.lease_owner, "failed", error)
        return
    if await reviews.finish(services.pool, review_id, services.lease_owner, "completed"):
        log.info("review %s completed", review_id)
    else:
        log.warning("review %s finished after losing its lease; result not recorded", review_id)


def describe_error(exc: BaseException) -> str:
    """A readable one-line reason for a failed review."""
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:1000]
