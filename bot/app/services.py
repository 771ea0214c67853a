"""The process's shared resources: settings, database pool, HTTP session, lease identity."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import aiohttp
import asyncpg

from bot.config import Settings
from bot.github.client import GitHubClient
from bot.review.gemini import GeminiClient
from bot.store import connect, db, embedded, queue

if TYPE_CHECKING:
    from bot.app.metrics import Metrics

log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    pool: asyncpg.Pool
    http: aiohttp.ClientSession
    github: GitHubClient
    gemini: GeminiClient | None  # None without GEMINI_API_KEY: the App runs, reviews fail
    lease_owner: str
    # Every wait of a review (lease renewals, retries) goes through this: tests skip them.
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep, repr=False)
    # The time quotas and the queue's not_before are reckoned in: tests set it.
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC), repr=False)
    # The App's metrics (web.py sets them; None: nothing is counted, as in the CLI).
    metrics: Metrics | None = field(default=None, repr=False)

    @classmethod
    @asynccontextmanager
    async def open(
        cls,
        settings: Settings,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> AsyncIterator[Services]:
        """Connect (starting the embedded database when needed), migrate, and close on exit."""
        dsn = settings.database_url
        if dsn is None:
            dsn = await asyncio.to_thread(embedded.start_embedded, settings.data_dir)
        # The first connection migrates, then holds this process's liveness lock for its life.
        # A database that is away or refuses us raises connect.DatabaseUnreachable, whose one
        # line `python -m bot` prints.
        liveness = await connect.connect(dsn)
        lease_owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        try:
            await db.migrate(liveness)
            await queue.hold_liveness(liveness, lease_owner)
            async with (
                db.open_pool(dsn) as pool,
                aiohttp.ClientSession(
                    timeout=aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=60),
                    headers={"User-Agent": "second-look"},
                ) as http,
            ):
                gemini = None
                if settings.gemini_api_key:
                    gemini = GeminiClient(
                        api_key=settings.gemini_api_key,
                        model=settings.gemini_model,
                        max_retry_wait=settings.quota_max_wait,
                        base_url=settings.gemini_base_url,
                        http=http,
                        sleep=sleep,
                        thinking_budget=settings.gemini_thinking_budget,
                    )
                else:
                    log.warning("GEMINI_API_KEY is not set: reviews run the analyzers alone")
                github = GitHubClient(
                    http,
                    api_url=settings.github_api_url,
                    app_id=settings.github_app_id,
                    private_key=settings.github_private_key,
                    sleep=sleep,
                )
                try:
                    yield cls(settings, pool, http, github, gemini, lease_owner, sleep, clock)
                finally:
                    if gemini is not None:
                        await gemini.aclose()
        finally:
            await liveness.close()
