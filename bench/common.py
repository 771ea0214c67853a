"""Shared benchmark plumbing: a throwaway database, the fakes, settings, processes, results."""

from __future__ import annotations

import asyncio
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Coroutine, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import asyncpg  # noqa: E402

from bot.config import Settings  # noqa: E402
from bot.store import db  # noqa: E402
from tests.fakes.gemini import FakeGemini  # noqa: E402
from tests.fakes.github import FakeGitHub, make_rsa_keypair  # noqa: E402
from tests.fakes.loop import BackgroundLoop  # noqa: E402
from tests.payloads import WEBHOOK_SECRET, delivery, pull_request_payload  # noqa: E402, F401
from tests.reviewing import NEW_APP, OLD_APP, OWNER, REPO, new_review  # noqa: E402, F401

APP_ID = "4242"
GEMINI_KEY = "AIzaSy-bench-key-0123456789abcdef"
PYTHON = sys.executable
T = TypeVar("T")


def stop_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit, so `with` blocks stop servers and delete the database."""

    def handler(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)


def run(coro: Coroutine[Any, Any, T]) -> T:
    """asyncio.run, where SIGTERM cancels the coroutine so its `async with` blocks unwind."""

    async def main() -> T:
        task = asyncio.current_task()
        assert task is not None
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
        return await coro

    try:
        return asyncio.run(main())
    except asyncio.CancelledError:
        raise SystemExit(128 + signal.SIGTERM) from None
    finally:
        stop_on_sigterm()  # closing the loop reset SIGTERM to the default


# ------------------------------------------------------------------------------------ database


def with_database(dsn: str, name: str) -> str:
    """The same server's URL, for another database."""
    return urlunsplit(urlsplit(dsn)._replace(path="/" + name))


async def _admin(cluster_url: str, sql: str) -> None:
    conn = await asyncpg.connect(cluster_url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@contextmanager
def cluster() -> Iterator[str]:
    """TEST_DATABASE_URL's server, else a throwaway pgserver: the URL to create databases with."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        yield url
        return
    import warnings

    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    import pgserver

    tmp = tempfile.mkdtemp(prefix="bench-pg-")
    try:
        server = pgserver.get_server(tmp, cleanup_mode="delete")
        try:
            yield server.get_uri()
        finally:
            server.cleanup()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@contextmanager
def empty_database(cluster_url: str) -> Iterator[str]:
    """A fresh database with no tables on the cluster; dropped on the way out."""
    name = f"secondlook_bench_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(cluster_url, f'CREATE DATABASE "{name}"'))
    try:
        yield with_database(cluster_url, name)
    finally:
        asyncio.run(_admin(cluster_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextmanager
def database() -> Iterator[str]:
    """A fresh migrated database on TEST_DATABASE_URL's server, else on a throwaway pgserver."""
    with cluster() as url, empty_database(url) as database_url:
        asyncio.run(db.migrate(database_url))
        yield database_url


# --------------------------------------------------------------------------------------- fakes


@dataclass
class Fakes:
    loop: BackgroundLoop
    github: FakeGitHub
    gemini: FakeGemini
    private_key: str


@contextmanager
def fakes() -> Iterator[Fakes]:
    """FakeGitHub and FakeGemini served on a background loop of this process."""
    loop = BackgroundLoop()
    try:
        private_key, public_key = make_rsa_keypair()
        github = FakeGitHub(APP_ID, public_key)
        github.start(loop)
        gemini = FakeGemini()
        gemini.start(loop)
        yield Fakes(loop, github, gemini, private_key)
    finally:
        loop.close()


def settings(fake: Fakes, database_url: str, **overrides: Any) -> Settings:
    """Settings of a process talking to the fakes and the bench database."""
    values: dict[str, Any] = {
        "github_app_id": APP_ID,
        "github_private_key": fake.private_key,
        "github_webhook_secret": WEBHOOK_SECRET,
        "github_api_url": fake.github.url,
        "gemini_api_key": GEMINI_KEY,
        "gemini_base_url": fake.gemini.url,
        "gemini_rpm": 100_000,
        "database_url": database_url,
        "data_dir": Path(tempfile.gettempdir()) / "bench-data-unused",
        "host": "127.0.0.1",
        "lease_seconds": 60,
        "reclaim_interval": 3600,
        "shutdown_timeout": 2,
    }
    values.update(overrides)
    return Settings(**values)


def server_env(s: Settings, root: Path = ROOT) -> dict[str, str]:
    """The environment `python -m bot serve` reads these settings from; `root` is the checkout
    whose `bot` it runs (another one's only understands the settings it knows; pydantic-settings
    ignores the rest)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "GEMINI_"))}
    env.update(
        GITHUB_APP_ID=s.github_app_id,
        GITHUB_PRIVATE_KEY=s.github_private_key,
        GITHUB_WEBHOOK_SECRET=s.github_webhook_secret,
        GITHUB_API_URL=s.github_api_url,
        GOOGLE_GEMINI_BASE_URL=s.gemini_base_url or "",
        GEMINI_API_KEY=s.gemini_api_key,
        GEMINI_RPM=str(s.gemini_rpm),
        DATABASE_URL=s.database_url or "",
        HOST=s.host,
        PORT=str(s.port),
        MAX_CONCURRENT_REVIEWS=str(s.max_concurrent_reviews),
        GEMINI_MAX_IN_FLIGHT=str(s.gemini_max_in_flight),
        SHUTDOWN_TIMEOUT=str(int(s.shutdown_timeout)),
        PYTHONPATH=str(root),
    )
    # The budget and the deployment-wide quota (unset: the App's defaults).
    optional = {
        "GEMINI_TPM": getattr(s, "gemini_tpm", None),
        "GEMINI_RPD": getattr(s, "gemini_rpd", None),
        "DAILY_BUDGET_USD": getattr(s, "daily_budget_usd", None),
        "MAX_REVIEW_TOKENS": getattr(s, "max_review_tokens", None),
        "PUSH_SETTLE_SECONDS": getattr(s, "push_settle_seconds", None),
        "QUOTA_MAX_WAIT": getattr(s, "quota_max_wait", None),
    }
    env.update({k: _setting(v) for k, v in optional.items() if v is not None})
    return env


def _setting(value: float) -> str:
    """A number as an environment variable: 5.0 -> "5" (whole-number settings refuse "5.0")."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


# ----------------------------------------------------------------------------------- processes


@asynccontextmanager
async def app_served(
    fake: Fakes, database_url: str
) -> AsyncIterator[tuple[str, asyncpg.Pool, aiohttp.ClientSession]]:
    """The real App in this process on 127.0.0.1: its /webhooks URL, a pool, a client session."""
    from aiohttp import web

    from bot.app.web import create_app

    runner = web.AppRunner(create_app(settings(fake, database_url)), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/webhooks"
        pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
        try:
            async with aiohttp.ClientSession() as session:
                yield url, pool, session
        finally:
            await pool.close()
    finally:
        await runner.cleanup()


async def deliver(
    session: aiohttp.ClientSession, url: str, pull: Any, action: str = "opened"
) -> str:
    """POST a signed pull_request delivery for the PR's head to a server; its review id."""
    payload = pull_request_payload(
        action, number=pull.number, head_sha=pull.head_sha, owner=OWNER, repo=REPO
    )
    body, headers = delivery(payload)
    async with session.post(f"{url}/webhooks", data=body, headers=headers) as response:
        answer = await response.json()
        if response.status != 202:
            raise RuntimeError(f"{action} delivery answered {response.status}: {answer}")
        return str(answer["review_id"])


FINAL = ("completed", "failed", "skipped", "superseded")


async def final_status(
    conn: asyncpg.Connection, review_id: str, proc: subprocess.Popen[Any], timeout: float = 90
) -> str:
    """Poll the review's row until its status is final; that status, or why there is none."""
    deadline = time.monotonic() + timeout
    status = None
    while time.monotonic() < deadline:
        status = await conn.fetchval("SELECT status FROM reviews WHERE id = $1::uuid", review_id)
        if status in FINAL:
            return str(status)
        if proc.poll() is not None:
            return f"serve exited ({proc.returncode}) while {status}"
        await asyncio.sleep(0.02)
    return f"timeout ({status} after {timeout:g} s)"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def process(
    args: list[str], env: dict[str, str], log_path: Path, killed_on_purpose: bool = False
) -> Iterator[subprocess.Popen]:
    """Run a subprocess logging to `log_path`; terminate it (then kill) on the way out.

    A process that exits with an error has its log shown, unless it is `killed_on_purpose`.
    """
    log = log_path.open("ab")
    # cwd outside the repo: `serve` must not pick up a developer's .env.
    proc = subprocess.Popen(  # noqa: S603
        args, env=env, cwd=log_path.parent, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        yield proc
    finally:
        if proc.poll() not in (None, 0) and not killed_on_purpose:
            tail = log_path.read_text(errors="replace").splitlines()[-30:]
            note(f"{args} exited with {proc.returncode}; its log ends:", *tail, sep="\n  ")
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        log.close()


async def wait_ready(
    session: aiohttp.ClientSession, url: str, proc: subprocess.Popen, timeout: float = 60
) -> None:
    """Poll GET url until it answers 200; fail early if the process dies."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args} exited with {proc.returncode} before it was ready")
        try:
            async with session.get(url) as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} not ready after {timeout:g} s")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used so far (Linux /proc), or NaN."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return math.nan
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def high_water_mark(pid: int) -> int | None:
    """The process's peak RSS so far in bytes (the kernel's VmHWM), or None."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def migrate_checkout(root: Path, database_url: str, log_path: Path) -> None:
    """`python -m bot migrate` of the checkout at `root` on `database_url`, in a subprocess."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(DATABASE_URL=database_url, PYTHONPATH=str(root))
    with log_path.open("ab") as log:
        done = subprocess.run(  # noqa: S603
            [PYTHON, "-m", "bot", "migrate"],
            env=env,
            cwd=log_path.parent,
            stdout=log,
            stderr=subprocess.STDOUT,
            timeout=300,
            check=False,
        )
    if done.returncode != 0:
        tail = log_path.read_text(errors="replace").splitlines()[-20:]
        raise RuntimeError(f"migrate of {root} exited with {done.returncode}: " + "\n".join(tail))


def log_digest(path: Path, limit: int = 12) -> tuple[int, int, list[str]]:
    """(ERROR lines, WARNING lines, the most frequent of them with counts) from a server log."""
    counts: Counter[str] = Counter()
    errors = warnings = 0
    for line in path.read_text(errors="replace").splitlines():
        if " ERROR " in line or line.startswith("Traceback"):
            errors += 1
        elif " WARNING " in line:
            warnings += 1
        else:
            continue
        # Drop the timestamp and ids so that repeats group together.
        text = line.split(" ", 2)[-1]
        counts[" ".join(w if not any(c.isdigit() for c in w) else "#" for w in text.split())] += 1
    return errors, warnings, [f"{n} x {text}" for text, n in counts.most_common(limit)]


def serve_logs(workdir: Path, limit: int = 20) -> tuple[int, int]:
    """ERROR and WARNING lines of every serve-*.log in `workdir`; the most frequent are noted."""
    errors, warnings, digest = 0, 0, []
    for log in sorted(workdir.glob("serve-*.log")):
        e, w, d = log_digest(log)
        errors, warnings, digest = errors + e, warnings + w, digest + d
    if digest:
        note("server logs, warnings/errors:", *digest[:limit], sep="\n  ")
    return errors, warnings


# ------------------------------------------------------------------------------------- results


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (0..100), interpolating between closest ranks."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def row(metric: str, value: Any, unit: str = "", target: str = "", ok: bool | None = None) -> dict:
    return {"metric": metric, "value": value, "unit": unit, "target": target, "ok": ok}


def emit(bench: str, rows: list[dict]) -> None:
    """Print the result as the last line of stdout."""
    print(json.dumps({"bench": bench, "rows": rows}), flush=True)


def note(*parts: Any) -> None:
    """Progress and observations go to stderr; stdout is for the result line."""
    print(*parts, file=sys.stderr, flush=True)
