"""The dashboard's pages, the JSON they poll, and the Re-run a review's page offers."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import asyncpg
from aiohttp import web

from bot.app import remote
from bot.app.conversation.context import start_review
from bot.app.dashboard import auth, present, state, trend_charts
from bot.app.dashboard.filters import (
    PAGE_SIZE,
    PERIODS,
    TREND_FIELDS,
    FilterError,
    Query,
    given,
    parse,
    period,
)
from bot.store import dashboard as store
from bot.store import publications, pulls, reviews, trends
from bot.store.queue import FINISHED, Trigger

log = logging.getLogger(__name__)

POLL_MS = 2000  # how often a page asks for news, unless its data-poll-ms says otherwise


def _now() -> datetime:
    return datetime.now(UTC)


def _link(path: str, values: dict[str, str], **extra: Any) -> str:
    query = {**values, **{k: str(v) for k, v in extra.items()}}
    return f"{path}?{urlencode(query)}" if query else path


async def _page_of(request: web.Request, query: Query) -> tuple[list[dict[str, Any]], bool]:
    """The rows of the query's page, and whether there is a page after it."""
    found = await store.reviews(
        state.pool(request), query.filters, limit=PAGE_SIZE + 1, offset=query.offset
    )
    now, github = _now(), state.of(request).github
    return [present.row(r, now, github) for r in found[:PAGE_SIZE]], len(found) > PAGE_SIZE


async def reviews_page(request: web.Request) -> web.StreamResponse:
    """GET /dashboard: the reviews, newest first, filtered, a page at a time."""
    context: dict[str, Any] = {"statuses": store.STATUSES, "poll_ms": POLL_MS}
    try:
        query = parse(request.query)
    except FilterError as exc:
        context.update(values=given(request.query), error=str(exc), rows=None)
        return state.page(request, "reviews.html", context, status=400)
    rows, more = await _page_of(request, query)
    context.update(
        values=query.values,
        error=None,
        rows=rows,
        page=query.page,
        source=_link("/dashboard/reviews.json", query.values, page=query.page),
        prev=_link("/dashboard", query.values, page=query.page - 1) if query.page > 1 else None,
        next=_link("/dashboard", query.values, page=query.page + 1) if more else None,
    )
    return state.page(request, "reviews.html", context)


async def reviews_json(request: web.Request) -> web.StreamResponse:
    """GET /dashboard/reviews.json: the same rows as the page with the same query string."""
    try:
        query = parse(request.query)
    except FilterError as exc:
        return web.json_response({"error": str(exc)}, status=400)
    rows, more = await _page_of(request, query)
    return web.json_response({"page": query.page, "more": more, "rows": rows})


def _review_id(request: web.Request) -> uuid.UUID | None:
    try:
        return uuid.UUID(request.match_info["id"])
    except ValueError:
        return None


def _not_found(request: web.Request) -> web.Response:
    return state.page(request, "not_found.html", {}, status=404)


def _event(event: store.Event) -> dict[str, Any]:
    newer = event.superseded_by if event.status == "superseded" else None
    return {
        "status": event.status,
        "at": present.when(event.at),
        "at_iso": present.iso(event.at),
        "attempt": event.attempt,
        "error": event.error or "",
        "superseded_by": str(newer) if newer else "",
        "superseded_url": present.review_url(newer) if newer else "",
    }


async def review_page(request: web.Request) -> web.StreamResponse:
    """GET /dashboard/reviews/{id}: the timeline, the findings and the Gemini calls."""
    review_id = _review_id(request)
    pool = state.pool(request)
    review = await store.review(pool, review_id) if review_id else None
    if review is None or review_id is None:
        return _not_found(request)
    events = await store.events(pool, review_id)
    found = await store.findings(pool, review_id)
    calls = await store.calls(pool, review_id)
    published = await publications.of_review(pool, review_id)
    github = state.of(request).github
    context = {
        "review": review,
        "row": present.row(review, _now(), github),
        "reached": present.reached(github, review.pull, published),
        "untold": present.untold(review, published),
        "waiting": present.waiting(review),
        "rerun": await _rerun_form(request, review),
        "finished": review.status in FINISHED,
        "poll_ms": POLL_MS,
        "source": f"{present.review_url(review.id)}/events.json",
        "files_url": present.files_url(github, review.pull),
        "superseded_url": present.review_url(review.superseded_by)
        if review.superseded_by
        else None,
        "events": [_event(e) for e in events],
        "findings": [
            {
                "finding": f,
                "location": present.location(f),
                "url": present.files_url(github, review.pull, f),
            }
            for f in found
        ],
        "calls": [
            {
                "call": c,
                "prompt": present.count(c.prompt_tokens),
                "cached": present.count(c.cached_tokens),
                "output": present.count(c.output_tokens),
                "thinking": present.count(c.thinking_tokens),
                "cost": present.cost(c.cost_usd),
                "at": present.when(c.created_at),
            }
            for c in calls
        ],
    }
    return state.page(request, "review.html", context)


async def _blocked(pool: asyncpg.Pool, review: store.ReviewSummary) -> str | None:
    """Why the review's head cannot be reviewed again from here, or None."""
    pull = review.pull
    if (await pulls.state(pool, pull)).ignored_by:
        return "This pull request is ignored: `/second-look resume` on it first."
    latest = await reviews.latest(pool, pull)
    if latest is not None and latest.head_sha != review.head_sha:
        return (
            f"A newer head of this pull request ({latest.head_sha[:12]}) was reviewed since: "
            "re-run that review instead."
        )
    return None


async def _rerun_form(request: web.Request, review: store.ReviewSummary) -> dict[str, str]:
    """The Re-run form for a signed-in operator (its action and CSRF token), or why there is
    none (`note`); all three empty when this dashboard starts no reviews."""
    form = {"action": "", "csrf": "", "note": ""}
    if state.of(request).hooks is None:
        return form
    csrf = auth.csrf_token(request)
    if csrf is None:
        return form | {"note": auth.NOT_SIGNED_IN}
    blocked = await _blocked(state.pool(request), review)
    if blocked:
        return form | {"note": f"No Re-run: {blocked}"}
    return form | {"action": f"{present.review_url(review.id)}/rerun", "csrf": csrf}


async def rerun(request: web.Request) -> web.StreamResponse:
    """POST /dashboard/reviews/{id}/rerun: a full review of that review's head, queued and
    started as the check run's Re-run button starts one (conversation/context.start_review);
    answered with a redirect to the new review's page."""
    form = await request.post()
    refused = auth.refused_act(request, form.get("csrf"))
    if refused:
        log.warning("dashboard: re-run refused from %s", remote.client_address(request))
        return web.Response(status=403, text=refused + "\n")
    review_id = _review_id(request)
    pool = state.pool(request)
    review = await store.review(pool, review_id) if review_id else None
    if review is None:
        return _not_found(request)
    hooks = state.of(request).hooks
    if hooks is None:
        return web.Response(status=503, text="This dashboard cannot start reviews.\n")
    blocked = await _blocked(pool, review)
    if blocked:
        return web.Response(status=409, text=blocked + "\n")
    asked = f"dashboard (from {remote.client_address(request)}, re-run of review {review.id})"
    started = await start_review(
        pool, hooks(), review.pull, review.head_sha, review.base_ref, Trigger.RERUN, asked_by=asked
    )
    response = web.HTTPSeeOther(present.review_url(started))
    auth.secured(response)
    raise response


async def review_events_json(request: web.Request) -> web.StreamResponse:
    """GET /dashboard/reviews/{id}/events.json: the status and timeline, for the page's poll."""
    review_id = _review_id(request)
    pool = state.pool(request)
    review = await store.review(pool, review_id) if review_id else None
    if review is None or review_id is None:
        return web.json_response({"error": "no such review"}, status=404)
    events = await store.events(pool, review_id)
    return web.json_response(
        {
            "status": review.status,
            "finished": review.status in FINISHED,
            "row": present.row(review, _now(), state.of(request).github),
            "events": [_event(e) for e in events],
        }
    )


async def repositories_page(request: web.Request) -> web.StreamResponse:
    """GET /dashboard/repositories: totals per repository."""
    totals = await store.repositories(state.pool(request))
    rows = [
        {**present.repository(t), "url": _link("/dashboard", {"repo": f"{t.owner}/{t.repo}"})}
        for t in totals
    ]
    context = {"rows": rows, "statuses": store.STATUSES}
    return state.page(request, "repositories.html", context)


async def trends_page(request: web.Request) -> web.StreamResponse:
    """GET /dashboard/trends: charts per UTC day over a period, for all repositories or one."""
    pool = state.pool(request)
    context: dict[str, Any] = {
        "periods": PERIODS,
        "repositories": ["/".join(r) for r in await trends.repositories(pool)],
    }
    try:
        chosen, values = period(request.query, _now().date())
    except FilterError as exc:
        context.update(values=given(request.query, TREND_FIELDS), error=str(exc), charts=None)
        return state.page(request, "trends.html", context, status=400)
    found = await trends.read(pool, chosen)
    context.update(
        values=values,
        error=None,
        period=chosen,
        charts=trend_charts.charts(found),
        glance=trend_charts.glance(found),
    )
    return state.page(request, "trends.html", context)
