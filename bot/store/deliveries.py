"""The webhook_deliveries table: every delivery, recorded once (by queue.create), and why we
refused it if we did."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import asyncpg

from bot.store.values import INT4_MAX, INT8_MAX, first_problem

if TYPE_CHECKING:
    from bot.store.jobs import NewJob
    from bot.store.queue import NewReview


@dataclass(slots=True)
class Delivery:
    delivery_id: str
    event: str
    action: str | None
    installation_id: int | None
    repository: str | None
    review: NewReview | None = None
    job: NewJob | None = None
    refused: str | None = None  # why we answered 400; such a delivery creates no review

    def problem(self) -> str | None:
        """The first value PostgreSQL would refuse, named as in the delivery, or None."""
        fields: list[tuple[str, object, int | None]] = [
            ("X-GitHub-Delivery", self.delivery_id, None),
            ("X-GitHub-Event", self.event, None),
            ("action", self.action, None),
            ("installation.id", self.installation_id, INT8_MAX),
            ("repository.full_name", self.repository, None),
        ]
        if self.review is not None:
            r = self.review
            fields += [
                ("repository.owner.login", r.owner, None),
                ("repository.name", r.repo, None),
                ("pull_request.number", r.pr_number, INT4_MAX),
                ("pull_request.head.sha", r.head_sha, None),
                ("pull_request.base.ref", r.base_ref, None),
            ]
        return first_problem(fields)


def refused_row(exc: BaseException) -> bool:
    """True when PostgreSQL refused a value of a row (not the statement, not the connection)."""
    return isinstance(exc, (asyncpg.DataError, asyncpg.IntegrityConstraintViolationError))
