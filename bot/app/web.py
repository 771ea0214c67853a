"""The aiohttp app factory: /webhooks, /healthz, /metrics and /dashboard."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
from aiohttp import web
from gidgethub import ValidationFailure, sansio

from bot import logs
from bot.app import (
    app_identity,
    dashboard,
    events,
    health,
    payloads,
    redeliver,
    remote,
    retention_loop,
)
from bot.app.conversation import reactions
from bot.app.intake import IntakeWriter
from bot.app.metrics import CONTENT_TYPE, NONE, Metrics
from bot.app.scheduler import Scheduler
from bot.app.services import Services
from bot.config import Settings
from bot.retry import Sleep
from bot.store import db
from bot.store.deliveries import Delivery
from bot.store.jobs import NewJob
from bot.store.queue import NewReview

log = logging.getLogger(__name__)

MAX_BODY = 25 * 1024 * 1024  # GitHub caps payloads at 25 MB

settings_key = web.AppKey("settings", Settings)
services_key = web.AppKey("services", Services)
scheduler_key = web.AppKey("scheduler", Scheduler)
metrics_key = web.AppKey("metrics", Metrics)
intake_key = web.AppKey("intake", IntakeWriter)
listening_key = web.AppKey("listening", asyncio.Event)


def listening(app: web.Application) -> None:
    """Say that every socket of `app` accepts connections (`serve`, once its sites are
    started): what asks GitHub to deliver to us (redelivery) waits for it."""
    app[listening_key].set()


def create_app(settings: Settings, sleep: Sleep = asyncio.sleep) -> web.Application:
    """Build the app; its database, clients and scheduler live as long as it runs. Every
    wait of theirs goes through `sleep` (tests skip them)."""
    app = web.Application(client_max_size=MAX_BODY)
    app[settings_key] = settings
    app[metrics_key] = Metrics(deliveries=events.MODELS)  # this App's registry, no other's
    app[listening_key] = asyncio.Event()
    app.cleanup_ctx.append(lambda app: _resources(app, sleep))
    app.router.add_post("/webhooks", webhook)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    remote.trust(app, settings.trusted_proxies)
    dashboard.setup(
        app,
        settings,
        lambda: app[services_key].pool,
        degraded=lambda: health.degraded(app[services_key]),
        hooks=lambda: app[scheduler_key].hooks,
    )
    return app


async def _resources(app: web.Application, sleep: Sleep) -> AsyncIterator[None]:
    async with Services.open(app[settings_key], sleep=sleep) as services:
        metrics = app[metrics_key]
        services.metrics = metrics
        services.github.count_calls(metrics)
        scheduler = Scheduler(services, metrics)
        app[services_key] = services
        app[scheduler_key] = scheduler
        app[intake_key] = IntakeWriter(services.pool)
        # Commands may name the App by its slug: asked before the port opens; while GitHub
        # gives none, asked again in the background (what needs it is off meanwhile).
        identity = await app_identity.at_start_up(services)
        # What GitHub could not deliver while we were down is asked for again, once the port
        # accepts connections: GitHub sends a redelivery at once, and one refused is lost.
        listening = app[listening_key].wait
        loops = [
            identity,
            asyncio.create_task(redeliver.run_forever(services, listening), name="redeliver"),
            asyncio.create_task(retention_loop.run_forever(services), name="retention"),
            asyncio.create_task(reactions.run_forever(services), name="reactions"),
        ]
        await scheduler.begin()
        yield
        for loop in loops:
            loop.cancel()
        await asyncio.gather(*loops, return_exceptions=True)
        # aiohttp runs this after closing the listener: no new deliveries arrive now.
        await scheduler.shutdown(app[settings_key].shutdown_timeout)


def _error(status: int, message: str, delivery_id: str = "-") -> web.Response:
    """A JSON refusal; `message` is ours or already printable (never raw payload text)."""
    log.warning("delivery %s refused: %d %s", delivery_id, status, message)
    return web.json_response({"error": message}, status=status)


async def webhook(request: web.Request) -> web.Response:
    """Verify, validate, record once, and hand pull_request work to the scheduler."""
    started = time.perf_counter()
    counts = request.app[metrics_key]
    if request.content_length is not None and request.content_length > MAX_BODY:
        counts.delivery(NONE, NONE, "refused")  # unsigned: its event is not known
        return _error(413, f"payload over {MAX_BODY} bytes")
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge:
        counts.delivery(NONE, NONE, "refused")
        return _error(413, f"payload over {MAX_BODY} bytes")

    signed = _verify(request, body)
    if isinstance(signed, web.Response):
        counts.delivery(NONE, NONE, "refused")
        return signed
    delivery_id, event_name = signed
    # Every line logged for this delivery names it; the reviews and jobs it starts too.
    with logs.bound(delivery_id=delivery_id):
        return await _signed(request, body, delivery_id, event_name, started)


async def _signed(
    request: web.Request, body: bytes, delivery_id: str, event_name: str, started: float
) -> web.Response:
    """Validate, record once, and hand the work to the scheduler."""
    counts = request.app[metrics_key]
    scheduler = request.app[scheduler_key]
    if not scheduler.accepting:
        return _error(503, "shutting down; GitHub will redeliver", delivery_id)
    data = None
    try:
        data = payloads.decode(request.headers.get("Content-Type", "application/json"), body)
        event = sansio.Event(data, event=event_name, delivery_id=delivery_id)
        payload = events.payload_of(event)
    except payloads.PayloadError as exc:
        counts.delivery(event_name, _action(data), "refused")
        return await _refuse(request, delivery_id, event_name, str(exc), data)
    intake = events.Intake()
    services = request.app[services_key]
    await events.router.dispatch(
        event, payload=payload, intake=intake, identity=services.github.identity
    )
    try:
        result = await request.app[intake_key].record(
            _delivery(delivery_id, event_name, payload, review=intake.review, job=intake.job)
        )
    except db.UNREACHABLE as exc:
        log.error("delivery %s not recorded: %s", delivery_id, type(exc).__name__)
        return _error(503, "database unavailable; redeliver later", delivery_id)
    if result.refused is not None:
        counts.delivery(event_name, _action(data), "refused")
        return _error(400, f"malformed {event_name} payload: {result.refused}", delivery_id)

    review = intake.review if result.fresh else None
    job = intake.job if result.fresh else None
    outcome = "duplicate" if not result.fresh else ("review" if review else "ignored")
    outcome = "job" if job else outcome
    counts.delivery(event_name, _action(data), outcome)
    scheduler.cancel_all(result.superseded)
    if review is not None:
        scheduler.start(review.id)
    if job is not None:
        scheduler.start_job(job.id)
    log.info(
        "delivery %s %s.%s -> %s%s in %.1f ms",
        delivery_id,
        event_name,
        payload.action or "-",
        outcome,
        f" {review.id}" if review else (f" {job.kind} {job.id}" if job else ""),
        (time.perf_counter() - started) * 1000,
    )
    if review is not None:
        return web.json_response({"status": "processing", "review_id": str(review.id)}, status=202)
    if job is not None:
        return web.json_response({"status": "processing", "job_id": str(job.id)}, status=202)
    return web.json_response({"status": outcome}, status=200)


_SIGNATURE = re.compile(r"sha256=[0-9a-f]{64}")
_EVENT_NAME = re.compile(r"[a-z_]{1,64}")  # an action, too
_DELIVERY_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")  # GitHub sends a GUID


def _action(data: object) -> str:
    """The delivery's action as a metric label: GitHub's word, or "-"."""
    action = data.get("action") if isinstance(data, dict) else None
    return action if isinstance(action, str) and _EVENT_NAME.fullmatch(action) else NONE


def _verify(request: web.Request, body: bytes) -> tuple[str, str] | web.Response:
    """Check the headers and the signature; return (delivery id, event) or the refusal.

    Nothing is recorded for these refusals: without a signed, well-formed delivery id
    there is nothing to record it under.
    """
    headers = request.headers
    signature = headers.get("X-Hub-Signature-256")
    if not signature:
        # gidgethub would accept a sha1-only signature; GitHub sends sha256 to every App.
        return _error(401, "missing X-Hub-Signature-256")
    if not _SIGNATURE.fullmatch(signature):
        return _error(401, "X-Hub-Signature-256 is not sha256=<64 hex digits>")
    event_name = headers.get("X-GitHub-Event")
    delivery_id = headers.get("X-GitHub-Delivery")
    if not event_name:
        return _error(400, "missing X-GitHub-Event header")
    if not delivery_id:
        return _error(400, "missing X-GitHub-Delivery header")
    if not _EVENT_NAME.fullmatch(event_name):
        return _error(400, "X-GitHub-Event is not an event name")
    if not _DELIVERY_ID.fullmatch(delivery_id):
        return _error(400, "X-GitHub-Delivery is not a delivery id")
    try:
        sansio.validate_event(
            body, signature=signature, secret=request.app[settings_key].github_webhook_secret
        )
    except ValidationFailure:
        return _error(401, "signature does not match", delivery_id)
    return delivery_id, event_name


async def _refuse(
    request: web.Request,
    delivery_id: str,
    event_name: str,
    reason: str,
    data: dict[str, Any] | None,
) -> web.Response:
    """Answer 400 and record the delivery with the reason (and what of it is valid)."""
    message = f"malformed {event_name} payload: {reason}"
    envelope = None
    if data is not None:
        with contextlib.suppress(payloads.PayloadError):
            envelope = payloads.validate(payloads.Envelope, data)
    delivery = _delivery(delivery_id, event_name, envelope, refused=message)
    try:
        await request.app[intake_key].record(delivery)
    except db.UNREACHABLE as exc:  # the answer is 400 all the same; the log keeps the reason
        log.warning("refused delivery %s not recorded: %s", delivery_id, type(exc).__name__)
    return _error(400, message, delivery_id)


def _delivery(
    delivery_id: str,
    event_name: str,
    envelope: payloads.Envelope | None,
    review: NewReview | None = None,
    refused: str | None = None,
    job: NewJob | None = None,
) -> Delivery:
    installation = envelope.installation if envelope else None
    repository = envelope.repository if envelope else None
    return Delivery(
        delivery_id=delivery_id,
        event=event_name,
        action=envelope.action if envelope else None,
        installation_id=installation.id if installation else None,
        repository=repository.full_name if repository else None,
        review=review,
        job=job,
        refused=refused,
    )


async def healthz(request: web.Request) -> web.Response:
    """200 while the database answers, 503 otherwise; `"status": "degraded"` and what is,
    and why (bot/app/health.py), when something works only in part."""
    services = request.app[services_key]
    try:
        async with services.pool.acquire(timeout=2) as conn:
            await conn.fetchval("SELECT 1", timeout=2)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
        log.warning("health check failed: %s", type(exc).__name__)
        return web.json_response({"status": "unavailable", "database": "down"}, status=503)
    degraded = health.degraded(services)
    if degraded:
        return web.json_response({"status": "degraded", "database": "up", "degraded": degraded})
    return web.json_response({"status": "ok", "database": "up"})


async def metrics(request: web.Request) -> web.Response:
    """The App's registry in the Prometheus text format; the queue gauges read at this
    moment from the reviews table (NaN while the database does not answer)."""
    registry = request.app[metrics_key]
    try:
        await registry.read_queue(request.app[services_key].pool)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
        log.warning("metrics: the queue not read: %s", type(exc).__name__)
    return web.Response(body=registry.generate(), headers={"Content-Type": CONTENT_TYPE})
