"""Restart to the resumed review being claimed again after `serve` is killed with SIGKILL."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import asyncpg
import common

from tests.reviewing import finding

RUNS, TARGET = 3, 2.0
SLOW_GEMINI = 3.0  # seconds: the review is still asking Gemini when the process dies


@dataclass
class Run:
    healthy: float  # spawn of the new process to /healthz 200
    claimed: float  # spawn to the review processing again (attempts = 2)
    completed: float  # spawn to the review completed
    status: str
    attempts: int


def serve(env: dict[str, str], log_path: Path):
    """`python -m bot serve`, to be killed with SIGKILL; it is not running after the block."""
    return common.process([common.PYTHON, "-m", "bot", "serve"], env, log_path, True)


async def poll(check, timeout: float = 30, every: float = 0.01):
    """Call `check` until it returns something truthy; return that."""
    async with asyncio.timeout(timeout):
        while True:
            found = await check()
            if found:
                return found
            await asyncio.sleep(every)


async def one_run(
    fake: common.Fakes, conn: asyncpg.Connection, env: dict, url: str, workdir: Path, number: int
) -> Run:
    pull = fake.github.add_pull(
        common.OWNER, common.REPO, number, files={"app.py": (common.OLD_APP, common.NEW_APP)}
    )
    log = workdir / f"serve-{number}.log"
    async with aiohttp.ClientSession() as session:
        fake.gemini.latency = SLOW_GEMINI
        with serve(env, log) as first:
            await common.wait_ready(session, f"{url}/healthz", first)
            seen = len(fake.gemini.requests)
            review_id = await common.deliver(session, url, pull)

            async def asking() -> bool:  # every agent is waiting on Gemini
                return len(fake.gemini.requests) >= seen + 4

            await poll(asking)
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
        fake.gemini.latency = 0.0

        async def state() -> asyncpg.Record:
            sql = "SELECT status, attempts FROM reviews WHERE id = $1::uuid"
            return await conn.fetchrow(sql, review_id)

        async def claimed() -> float | None:
            row = await state()
            again = row["attempts"] >= 2 and row["status"] in ("processing", "completed")
            return time.monotonic() - started if again else None

        async def completed() -> float | None:
            done = (await state())["status"] not in ("pending", "processing")
            return time.monotonic() - started if done else None

        async def healthy(proc: subprocess.Popen) -> float:
            await common.wait_ready(session, f"{url}/healthz", proc)
            return time.monotonic() - started

        started = time.monotonic()
        with serve(env, log) as second:
            health, claim = await asyncio.gather(healthy(second), poll(claimed))
            done = await poll(completed)
            row = await state()
    return Run(health, claim, done, row["status"], row["attempts"])


async def run(fake: common.Fakes, database_url: str, workdir: Path) -> list[Run]:
    settings = common.settings(fake, database_url, port=common.free_port())
    # 30 s between looks for waiting work: a figure under that comes from the start-up reclaim.
    env = common.server_env(settings) | {"RECLAIM_INTERVAL": "30", "LEASE_SECONDS": "60"}
    url = f"http://127.0.0.1:{settings.port}"
    conn = await asyncpg.connect(database_url)
    try:
        return [
            await one_run(fake, conn, env, url, workdir, number) for number in range(1, RUNS + 1)
        ]
    finally:
        await conn.close()


def main() -> None:
    common.stop_on_sigterm()
    workdir = Path(tempfile.mkdtemp(prefix="bench-restart-"))
    try:
        with common.database() as database_url, common.fakes() as fake:
            fake.gemini.findings["security"] = [finding()]  # so the resumed review posts inline
            results = common.run(run(fake, database_url, workdir))
            gh, numbers = fake.github, range(1, RUNS + 1)
            heads = [gh.pull(common.OWNER, common.REPO, n).head_sha for n in numbers]
            comments = [len(gh.comments(common.OWNER, common.REPO, n)) for n in numbers]
            checks = [len(gh.check_runs(common.OWNER, common.REPO, h)) for h in heads]
            inline = [len(gh.reviews(common.OWNER, common.REPO, n)) for n in numbers]
            calls = len(fake.gemini.requests)
        errors, warnings = common.serve_logs(workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    for n, r in enumerate(results, start=1):
        common.note(
            f"run {n}: healthz {r.healthy:.3f} s, claimed {r.claimed:.3f} s, completed "
            f"{r.completed:.3f} s, {r.status}, attempts {r.attempts}"
        )
    claims = [r.claimed for r in results]
    median, worst = statistics.median(claims), max(claims)
    healthy = statistics.median(r.healthy for r in results)
    completed = statistics.median(r.completed for r in results)
    good = sum(r.status == "completed" and r.attempts == 2 for r in results)
    row = common.row

    def each(counts: list[int]) -> str:
        return "/".join(map(str, counts))

    common.emit(
        "restart",
        [
            row("restart to review claimed, median", round(median, 3), "s", "< 2", median < TARGET),
            row("restart to review claimed, max", round(worst, 3), "s", "< 2", worst < TARGET),
            row("restart to /healthz 200, median", round(healthy, 3), "s"),
            row("restart to review completed, median", round(completed, 3), "s"),
            row("reviews completed on attempt 2", good, f"of {RUNS}", f"== {RUNS}", good == RUNS),
            row("summary comments per PR", each(comments), "", "1", set(comments) == {1}),
            row("check runs per head", each(checks), "", "1", set(checks) == {1}),
            row("inline reviews per PR", each(inline), "", "1", set(inline) == {1}),
            row(
                "Gemini calls (4 cut off + 4 resumed + the verifier, per run)",
                calls,
                "req",
                f"== {9 * RUNS}",
                calls == 9 * RUNS,
            ),
            row("server log ERROR lines", errors, "lines", "0", errors == 0),
            row("server log WARNING lines", warnings, "lines"),
        ],
    )


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
