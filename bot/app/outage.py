"""An outage defers, it does not fail. A review or job that meets GitHub or Gemini away
(unreachable, timing out, 5xx, a rate limit) after its in-place retries (bot/retry.py) goes
back to the queue until `not_before`, as a quota deferral does, with exponential backoff and
jitter: 30 s, 1 min, 2 min ... up to 15 min between tries. It fails only once the outage has
lasted OUTAGE_HORIZON_SECONDS (6 hours unless set), counted from its first deferral. What no
wait mends (a 404 for a deleted PR, a revoked installation, a 4xx from Gemini) fails at once.

leased_runner.run asks `deferral` when work raised; the work says where it is seen that it
will retry (a review: its check run stays in progress, with when).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot import retry

FIRST_WAIT = 30.0  # seconds before the first try again
MAX_WAIT = 900.0  # the longest wait between two tries


@dataclass(frozen=True)
class Deferral:
    """The work goes back to the queue: until when, since when the outage lasts, how many
    times it was deferred for it (this one included), and why."""

    until: datetime
    since: datetime
    retries: int
    reason: str
    horizon: datetime  # when it fails if the outage has not ended

    def says(self) -> str:
        """One sentence for the people waiting: what happened and what comes next."""
        return (
            f"{self.reason.rstrip('.')}; Second Look tries again then (try {self.retries + 1}), "
            f"until {self.horizon:%H:%M} UTC ({self.horizon:%Y-%m-%d}) at the latest"
        )


def deferral(
    exc: BaseException,
    reason: str,
    *,
    since: datetime | None,
    retries: int,
    now: datetime,
    horizon_seconds: float,
) -> Deferral | None:
    """The deferral for work that raised `exc` (described as `reason`), or None when it must
    fail now: `exc` is no outage, or the outage outlasted the horizon."""
    if not retry.outage(exc):
        return None
    since = since or now
    horizon = since + timedelta(seconds=horizon_seconds)
    if now >= horizon:
        return None
    wait = timedelta(seconds=retry.backoff(retries + 1, MAX_WAIT, first=FIRST_WAIT))
    return Deferral(min(now + wait, horizon), since, retries + 1, reason, horizon)


def gave_up(reason: str, since: datetime | None, now: datetime) -> str:
    """The error of work that failed on an outage it waited out too long."""
    if since is None:
        return reason
    hours = (now - since).total_seconds() / 3600
    return f"{reason.rstrip('.')} (still, after {hours:.1f} h of tries since {since:%H:%M} UTC)"
