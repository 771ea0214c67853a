"""The aiohttp app factory: /webhooks, /healthz and /metrics."""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import AsyncIterator

import asyncpg
from aiohttp import web
from gidgethub import BadRequest, ValidationFailure, sansio

from bot import events
from bot.config import Settings
from bot.scheduler import Scheduler
from bot.services import Services
from bot.store import deliveries

log = logging.getLogger(__name__)

MAX_BODY = 25 * 1024 * 1024  # GitHub caps payloads at 25 MB

settings_key = web.AppKey("settings", Settings)
services_key = web.AppKey("services", Services)
scheduler_key = web.AppKey("scheduler", Scheduler)
metrics_key = web.AppKey("metrics", Counter)


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
    action = event.data.get("action") if isinstance(event.data.get("action"), str) else None
    intake = events.Intake(delivery_id=event.delivery_id)
    pool: asyncpg.Pool = request.app[services_key].pool
    try:
        async with pool.acquire() as conn, conn.transaction():
            fresh = await deliveries.record(
                conn,
                delivery_id=event.delivery_id,
                event=event.event,
                action=action,
                installation_id=_installation_id(event.data),
                repository=_repository(event.data),
            )
            if not fresh:
                intake.status = "duplicate"
            else:
                await events.router.dispatch(event, conn=conn, intake=intake)
    except (KeyError, TypeError, ValueError) as exc:
        counts["deliveries_refused"] += 1
        return _error(400, f"malformed {event.event} payload: missing or bad {exc}", delivery_id)

    scheduler.apply(intake)
    counts[f"deliveries_{intake.status}"] += 1
    log.info(
        "delivery %s %s.%s -> %s review=%s in %.1f ms",
        event.delivery_id,
        event.event,
        action or "-",
        intake.status,
        intake.review_id or "-",
        (time.perf_counter() - started) * 1000,
    )
    if intake.status == "pending" and intake.review_id is not None:
        answer = {"status": "processing", "review_id": str(intake.review_id)}
        return web.json_response(answer, status=202)
    return web.json_response({"status": intake.status}, status=200)


def _parse(request: web.Request, body: bytes) -> tuple[sansio.Event | None, web.Response | None]:
    """Check the headers and signature; return the event or the refusal."""
    delivery_id = request.headers.get("X-GitHub-Delivery", "-")
    if "X-Hub-Signature-256" not in request.headers:
        # gidgethub would accept a sha1-only signature; GitHub sends sha256 to every App.
        return None, _error(401, "missing X-Hub-Signature-256", delivery_id)
    for header in ("X-GitHub-Event", "X-GitHub-Delivery"):
        if not request.headers.get(header):
            return None, _error(400, f"missing {header} header", delivery_id)
    headers = {k.lower(): v for k, v in request.headers.items()}
    headers.pop("x-hub-signature", None)
    headers.setdefault("content-type", "application/json")
    secret = request.app[settings_key].github_webhook_secret
    try:
        event = sansio.Event.from_http(headers, body, secret=secret)
    except ValidationFailure:
        return None, _error(401, "signature does not match", delivery_id)
    except BadRequest:
        return None, _error(400, "body is not JSON", delivery_id)
    except ValueError:  # a body that is not UTF-8 or not JSON
        return None, _error(400, "body is not JSON", delivery_id)
    if not isinstance(event.data, dict):
        return None, _error(400, "body is not a JSON object", delivery_id)
    return event, None


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
