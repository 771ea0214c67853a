"""Shared fixtures: a throwaway PostgreSQL, settings pointing at the fakes, signed deliveries."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from bot.app.services import Services
from bot.config import Settings
from bot.store import db
from tests.fakes.gemini import FakeGemini
from tests.fakes.github import FakeGitHub, make_rsa_keypair
from tests.fakes.loop import BackgroundLoop
from tests.payloads import WEBHOOK_SECRET

APP_ID = "4242"
GEMINI_KEY = "AIzaSy-test-key-0123456789abcdef"

TABLES = (
    "gemini_calls",
    "findings",
    "reviews",
    "webhook_deliveries",
    "gemini_quota",
    "gemini_spend",
    "jobs",
    "pull_states",
    "dismissals",
    "feedback",
    "installations",
    "installation_repositories",
    "redelivery_checkpoint",
    "redelivery_requests",
    "permissions",
)

# `make test` runs each property a few dozen times; `make fuzz` (HYPOTHESIS_PROFILE=fuzz) long.
hypothesis_settings.register_profile(
    "quick", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.register_profile(
    "fuzz", max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "quick"))


def run_sync(coro):
    """Run a coroutine to completion from sync code, even inside a running loop."""
    with ThreadPoolExecutor(max_workers=1) as executor:
        return executor.submit(asyncio.run, coro).result()


def with_database(dsn: str, name: str) -> str:
    """The same server's URL, for another database."""
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(path="/" + name))


@pytest.fixture(scope="session")
def cluster_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """TEST_DATABASE_URL when set, else a throwaway embedded PostgreSQL for this session."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        yield url
        return
    import pgserver

    server = pgserver.get_server(tmp_path_factory.mktemp("postgres"), cleanup_mode="delete")
    yield server.get_uri()
    server.cleanup()


@pytest.fixture(scope="session")
def make_database(cluster_url: str) -> Iterator[Callable[[], str]]:
    """Create empty databases on the cluster; all are dropped at the end of the session."""
    created: list[str] = []

    def make() -> str:
        name = f"secondlook_test_{uuid.uuid4().hex[:12]}"

        async def create() -> None:
            conn = await asyncpg.connect(cluster_url)
            try:
                await conn.execute(f'CREATE DATABASE "{name}"')
            finally:
                await conn.close()

        run_sync(create())
        created.append(name)
        return with_database(cluster_url, name)

    yield make

    async def drop() -> None:
        conn = await asyncpg.connect(cluster_url)
        try:
            for name in created:
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    run_sync(drop())


@pytest.fixture(scope="session")
def database_url(make_database) -> str:
    """One migrated database shared by the session; tables are emptied before each test."""
    url = make_database()
    run_sync(db.migrate(url))
    return url


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await db.create_pool(database_url, min_size=1, max_size=5)
    await pool.execute(f"TRUNCATE {', '.join(TABLES)} CASCADE")
    yield pool
    await pool.close()


@pytest.fixture(scope="session")
def fakes_loop() -> Iterator[BackgroundLoop]:
    """One background loop serving every fake for the whole session."""
    loop = BackgroundLoop()
    yield loop
    loop.close()


@pytest.fixture(scope="session")
def app_keys() -> tuple[str, str]:
    """The App's (private, public) PEM keys."""
    return make_rsa_keypair()


@pytest.fixture(scope="session")
def github_server(fakes_loop: BackgroundLoop, app_keys: tuple[str, str]) -> FakeGitHub:
    fake = FakeGitHub(APP_ID, app_keys[1])
    fake.start(fakes_loop)
    return fake


@pytest.fixture(scope="session")
def gemini_server(fakes_loop: BackgroundLoop) -> FakeGemini:
    fake = FakeGemini()
    fake.start(fakes_loop)
    return fake


@pytest.fixture
def fake_github(github_server: FakeGitHub) -> Iterator[FakeGitHub]:
    """The shared FakeGitHub, emptied for this test."""
    github_server.reset()
    yield github_server
    github_server.reset()


@pytest.fixture
def fake_gemini(gemini_server: FakeGemini) -> Iterator[FakeGemini]:
    """The shared FakeGemini, emptied for this test."""
    gemini_server.reset()
    yield gemini_server
    gemini_server.reset()


@pytest.fixture(scope="session")
def base_settings(
    database_url: str,
    app_keys: tuple[str, str],
    github_server: FakeGitHub,
    gemini_server: FakeGemini,
) -> Settings:
    """Settings of a process talking to the fakes and the test database."""
    return Settings(
        github_app_id=APP_ID,
        github_private_key=app_keys[0],
        github_webhook_secret=WEBHOOK_SECRET,
        github_api_url=github_server.url,
        gemini_api_key=GEMINI_KEY,
        gemini_base_url=gemini_server.url,
        gemini_rpm=6000,
        database_url=database_url,
        data_dir=Path(".data-test"),
        lease_seconds=30,
        reclaim_interval=3600,
        shutdown_timeout=5,
        reaction_poll_seconds=0,  # tests/test_reactions.py looks when it means to
    )


@pytest.fixture
def settings(pool: asyncpg.Pool, base_settings: Settings) -> Settings:
    """The base settings, for a test whose tables were just emptied."""
    return base_settings


@pytest.fixture
def waits() -> list[float]:
    """Every wait that `sleep` was asked for (retries, lease renewals)."""
    return []


@pytest.fixture
def sleep(waits: list[float]) -> Callable[[float], Awaitable[None]]:
    """A sleep for our clients that records each wait and cuts it to 50 ms at most."""

    async def recorded(seconds: float) -> None:
        waits.append(seconds)
        await asyncio.sleep(min(seconds, 0.05))

    return recorded


@pytest.fixture
async def services(settings: Settings, fake_github, fake_gemini, sleep) -> AsyncIterator[Services]:
    """The process's resources, as `serve` opens them, on the fakes; no wait is waited out."""
    async with Services.open(settings, sleep=sleep) as opened:
        yield opened


# The labelled PRs of `bot eval` hold sample code, tests among it: data, never collected.
collect_ignore_glob = ["data/*"]
