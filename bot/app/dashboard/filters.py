"""The list's query string: filters and page, checked; a malformed value is a FilterError."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from multidict import MultiMapping

from bot.store.dashboard import STATUSES, Filters
from bot.store.trends import Period

PAGE_SIZE = 50
FIELDS = ("repo", "status", "since", "until")
PERIODS = (7, 30, 90)  # the trends page's choices of days
TREND_FIELDS = ("days", "until", "repo")

# GitHub's rules: an owner is alphanumerics and single hyphens, a repository name also . and _.
_REPOSITORY = re.compile(r"([A-Za-z0-9][A-Za-z0-9-]{0,38})(?:/([A-Za-z0-9._-]{1,100}))?")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_PAGE = re.compile(r"[1-9][0-9]{0,5}")


class FilterError(ValueError):
    """A query string value the list cannot use; the message is ours, fit for the page."""


@dataclass(frozen=True)
class Query:
    filters: Filters = Filters()
    page: int = 1
    values: dict[str, str] = field(default_factory=dict)  # as given, to fill the form again

    @property
    def offset(self) -> int:
        return (self.page - 1) * PAGE_SIZE


def given(query: MultiMapping[str], fields: tuple[str, ...] = FIELDS) -> dict[str, str]:
    """The filter values as typed (cut short), for the form; empty ones left out."""
    return {name: query.get(name, "").strip()[:200] for name in fields if query.get(name)}


def parse(query: MultiMapping[str]) -> Query:
    """The filters and page of a query string; unknown parameters are ignored."""
    for name in (*FIELDS, "page"):
        if len(query.getall(name, [])) > 1:
            raise FilterError(f"{name} is given more than once")
    values = given(query)
    owner, repo = _repository(values.get("repo", ""))
    status = values.get("status") or None
    if status is not None and status not in STATUSES:
        raise FilterError(f"status must be one of {', '.join(STATUSES)}")
    since = _day(values.get("since", ""), "since")
    until = _day(values.get("until", ""), "until")
    if since and until and since > until:
        raise FilterError("since is after until")
    page_text = query.get("page", "").strip()
    if page_text and not _PAGE.fullmatch(page_text):
        raise FilterError("page must be a whole number from 1 to 999999")
    filters = Filters(
        owner=owner,
        repo=repo,
        status=status,
        since=_start(since) if since else None,
        until=_start(until + timedelta(days=1)) if until and until < date.max else None,
    )
    return Query(filters, int(page_text or 1), values)


def _repository(value: str) -> tuple[str | None, str | None]:
    if not value:
        return None, None
    found = _REPOSITORY.fullmatch(value)
    if found is None:
        raise FilterError("repo must be OWNER or OWNER/REPO, as GitHub spells them")
    return found[1], found[2]


def _day(value: str, name: str) -> date | None:
    if not value:
        return None
    try:
        if not _DATE.fullmatch(value):
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise FilterError(f"{name} must be a date, YYYY-MM-DD (UTC)") from None


def _start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def period(query: MultiMapping[str], today: date) -> tuple[Period, dict[str, str]]:
    """The trends page's period: `days` (one of PERIODS, 30 unless given) ending on `until`
    (a UTC day, today unless given), over one repository (`repo`, OWNER/REPO) or all; and
    the values as given, to fill the form again."""
    for name in TREND_FIELDS:
        if len(query.getall(name, [])) > 1:
            raise FilterError(f"{name} is given more than once")
    values = given(query, TREND_FIELDS)
    days_text = values.get("days") or "30"
    if days_text not in {str(n) for n in PERIODS}:
        raise FilterError(f"days must be one of {', '.join(map(str, PERIODS))}")
    last = _day(values.get("until", ""), "until") or today
    if last > today:
        raise FilterError("until is after today (UTC)")
    if last < date.min + timedelta(days=max(PERIODS)):
        raise FilterError("until is too early")
    owner, repo = _repository(values.get("repo", ""))
    if owner is not None and repo is None:
        raise FilterError("repo must be OWNER/REPO, as GitHub spells them")
    days = int(days_text)
    repository = (owner, repo) if owner is not None and repo is not None else None
    first = last - timedelta(days=days - 1)
    return Period(first, last, repository), {**values, "days": days_text}
