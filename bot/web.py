"""The aiohttp app factory: /webhooks, /healthz and /metrics."""

from __future__ import annotations

import json
import logging
import time
import urllib.parse
from collections import Counter
from collections.abc import AsyncIterator

import asyncpg
from aiohttp import web
from gidgethub import ValidationFailure, sansio

from bot import events
from bot.config import Settings
from bot.intake import IntakeWriter
from bot.scheduler import Scheduler
from bot.services import Services
from bot.store.deliveries import Delivery

log = logging.getLogger(__name__)

MAX_BODY = 25 * 1024 * 1024  # GitHub caps payloads at 25 MB

settings_key = web.AppKey("settings", Settings)
services_key = web.AppKey("services", Services)
scheduler_key = web.AppKey("scheduler", Scheduler)
metrics_key = web.AppKey("metrics", Counter)
intake_key = web.AppKey("intake", IntakeWriter)


def create_app(settings: Settings) -> web.Application:
    """Build the app; its database, clients and scheduler live as long as it runs."""
    app = web.Application(client_max_size=MAX_BODY)
    app[settings_key] = settings
    app[metrics_key] = Counter()
    app.cleanup_ctx.append(_resources)
    app.router.add_post("/webhooks", webhook)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    return app


async def _resources(app: web.Application) -> AsyncIterator[None]:
    async with Services.open(app[settings_key]) as services:
        scheduler = Scheduler(services)
        app[services_key] = services
        app[scheduler_key] = scheduler
        app[intake_key] = IntakeWriter(services.pool)
        await scheduler.begin()
        yield
        # aiohttp runs this after closing the listener: no new deliveries arrive now.
        await scheduler.shutdown(app[settings_key].shutdown_timeout)


def _error(status: int, message: str, delivery_id: str = "-") -> web.Response:
    log.warning("delivery %s refused: %d %s", delivery_id, status, message)
    return web.json_response({"error": message}, status=status)


async def webhook(request: web.Request) -> web.Response:
    """Verify, record once, and hand pull_request work to the scheduler."""
    started = time.perf_counter()
    counts = request.app[metrics_key]
    delivery_id = request.headers.get("X-GitHub-Delivery", "-")
    if request.content_length is not None and request.content_length > MAX_BODY:
        counts["deliveries_refused"] += 1
        return _error(413, f"payload over {MAX_BODY} bytes", delivery_id)
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge:
        counts["deliveries_refused"] += 1
        return _error(413, f"payload over {MAX_BODY} bytes", delivery_id)

    event, refusal = _parse(request, body)
    if refusal is not None:
        counts["deliveries_refused"] += 1
        return refusal
    assert event is not None

    scheduler = request.app[scheduler_key]
    if not scheduler.accepting:
        return _error(503, "shutting down; GitHub will redeliver", delivery_id)
    intake = events.Intake()
    try:
        await events.router.dispatch(event, intake=intake)
    except (KeyError, TypeError, ValueError) as exc:
        counts["deliveries_refused"] += 1
        return _error(400, f"malformed {event.event} payload: missing or bad {exc}", delivery_id)
    action = event.data.get("action") if isinstance(event.data.get("action"), str) else None
    record = Delivery(
        delivery_id=event.delivery_id,
        event=event.event,
        action=action,
        installation_id=_installation_id(event.data),
        repository=_repository(event.data),
        review=intake.review,
    )
    try:
        result = await request.app[intake_key].record(record)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        log.error("delivery %s not recorded: %s", delivery_id, type(exc).__name__)
        return _error(503, "database unavailable; redeliver later", delivery_id)

    review = intake.review if result.fresh else None
    outcome = "duplicate" if not result.fresh else ("review" if review else "ignored")
    counts[f"deliveries_{outcome}"] += 1
    for review_id in result.superseded:
        scheduler.cancel(review_id)
    if review is not None:
        scheduler.start(review.id)
    log.info(
        "delivery %s %s.%s -> %s%s in %.1f ms",
        event.delivery_id,
        event.event,
        action or "-",
        outcome,
        f" {review.id}" if review else "",
        (time.perf_counter() - started) * 1000,
    )
    if review is not None:
        return web.json_response({"status": "processing", "review_id": str(review.id)}, status=202)
    return web.json_response({"status": outcome}, status=200)


def _parse(request: web.Request, body: bytes) -> tuple[sansio.Event | None, web.Response | None]:
    """Check the headers and signature; return the event or the refusal."""
    headers = request.headers
    delivery_id = headers.get("X-GitHub-Delivery")
    signature = headers.get("X-Hub-Signature-256")
    if not signature:
        # gidgethub would accept a sha1-only signature; GitHub sends sha256 to every App.
        return None, _error(401, "missing X-Hub-Signature-256", delivery_id or "-")
    event_name = headers.get("X-GitHub-Event")
    if not event_name:
        return None, _error(400, "missing X-GitHub-Event header", delivery_id or "-")
    if not delivery_id:
        return None, _error(400, "missing X-GitHub-Delivery header")
    try:
        sansio.validate_event(
            body, signature=signature, secret=request.app[settings_key].github_webhook_secret
        )
    except ValidationFailure:
        return None, _error(401, "signature does not match", delivery_id)
    try:
        data = _decode(headers.get("Content-Type", "application/json"), body)
    except ValueError:  # not UTF-8, not JSON, or a form without `payload`
        return None, _error(400, "body is not JSON", delivery_id)
    if not isinstance(data, dict):
        return None, _error(400, "body is not a JSON object", delivery_id)
    return sansio.Event(data, event=event_name, delivery_id=delivery_id), None


def _decode(content_type: str, body: bytes) -> object:
    """The payload, sent as JSON or as a form with a `payload` field (both are GitHub options)."""
    if content_type.startswith("application/x-www-form-urlencoded"):
        form = urllib.parse.parse_qs(body.decode("utf-8"), strict_parsing=bool(body))
        if "payload" not in form:
            raise ValueError("no payload field")
        return json.loads(form["payload"][0])
    return json.loads(body)


def _installation_id(data: dict) -> int | None:
    installation = data.get("installation")
    if isinstance(installation, dict) and isinstance(installation.get("id"), int):
        return installation["id"]
    return None


def _repository(data: dict) -> str | None:
    repository = data.get("repository")
    if isinstance(repository, dict) and isinstance(repository.get("full_name"), str):
        return repository["full_name"]
    return None


async def healthz(request: web.Request) -> web.Response:
    """200 while the database answers, 503 otherwise."""
    pool = request.app[services_key].pool
    try:
        async with pool.acquire(timeout=2) as conn:
            await conn.fetchval("SELECT 1", timeout=2)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
        log.warning("health check failed: %s", type(exc).__name__)
        return web.json_response({"status": "unavailable", "database": "down"}, status=503)
    return web.json_response({"status": "ok", "database": "up"})


async def metrics(request: web.Request) -> web.Response:
    """Counters in the Prometheus text format."""
    lines = []
    for name, value in sorted(request.app[metrics_key].items()):
        lines.append(f"secondlook_{name}_total {value}")
    lines.append(f"secondlook_reviews_running {request.app[scheduler_key].running}")
    return web.Response(text="\n".join(lines) + "\n", content_type="text/plain")
