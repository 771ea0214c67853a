"""POST /webhooks: rate and answer time of `bot serve` against a bare aiohttp handler."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import common

TOTAL, WARMUP, CONCURRENCY = 2000, 100, 50
TARGET_RATIO, TARGET_P99_MS = 0.40, 50.0


@dataclass
class Run:
    rate: float
    latencies: list[float]
    statuses: Counter


def deliveries(fake: common.Fakes, repo: str, count: int) -> list[tuple[bytes, dict]]:
    """Signed `opened` deliveries for `count` new PRs that exist on FakeGitHub."""
    out = []
    for number in range(1, count + 1):
        pull = fake.github.add_pull(
            common.OWNER, repo, number, files={"app.py": (common.OLD_APP, common.NEW_APP)}
        )
        payload = common.pull_request_payload(
            "opened", number=number, head_sha=pull.head_sha, owner=common.OWNER, repo=repo
        )
        out.append(common.delivery(payload))
    return out


async def load(session: aiohttp.ClientSession, url: str, work: list) -> Run:
    """POST every delivery from CONCURRENCY workers; time each answer and the whole."""
    latencies: list[float] = []
    statuses: Counter = Counter()
    queue = iter(work)

    async def worker() -> None:
        for body, headers in queue:
            started = time.perf_counter()
            try:
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()
                    statuses[response.status] += 1
            except (aiohttp.ClientError, TimeoutError) as exc:
                statuses[type(exc).__name__] += 1
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return Run(len(work) / (time.perf_counter() - started), latencies, statuses)


async def measure(base: str, proc, warm: list, work: list) -> Run:
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        await common.wait_ready(session, f"{base}/healthz", proc)
        await load(session, f"{base}/webhooks", warm)
        async with asyncio.timeout(600):
            return await load(session, f"{base}/webhooks", work)


async def recorded(database_url: str) -> tuple[int, int, Counter]:
    """Deliveries and reviews stored for the measured repository, and all reviews by status."""
    conn = await common.asyncpg.connect(database_url)
    try:
        full_name = f"{common.OWNER}/{common.REPO}"
        stored = await conn.fetchval(
            "SELECT count(*) FROM webhook_deliveries WHERE repository = $1", full_name
        )
        reviews = await conn.fetchval(
            "SELECT count(*) FROM reviews WHERE owner = $1 AND repo = $2",
            common.OWNER,
            common.REPO,
        )
        rows = await conn.fetch("SELECT status, count(*) AS n FROM reviews GROUP BY status")
        return stored, reviews, Counter({r["status"]: r["n"] for r in rows})
    finally:
        await conn.close()


def ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def main() -> None:
    common.stop_on_sigterm()
    workdir = Path(tempfile.mkdtemp(prefix="bench-webhooks-"))
    try:
        with common.database() as database_url, common.fakes() as fake:
            settings = common.settings(fake, database_url, port=common.free_port())
            warm = deliveries(fake, "warmup", WARMUP)
            work = deliveries(fake, common.REPO, TOTAL)

            port = common.free_port()
            bare_cmd = [common.PYTHON, str(Path(__file__).with_name("bare_server.py")), str(port)]
            with common.process(bare_cmd, dict(os.environ), workdir / "bare.log") as proc:
                bare = asyncio.run(measure(f"http://127.0.0.1:{port}", proc, warm, work))
            common.note(f"bare: {bare.rate:.0f} req/s {dict(bare.statuses)}")

            ours_cmd = [common.PYTHON, "-m", "bot", "serve"]
            env = common.server_env(settings)
            with common.process(ours_cmd, env, workdir / "server.log") as proc:
                base = f"http://127.0.0.1:{settings.port}"
                ours = asyncio.run(measure(base, proc, warm, work))
                common.note(f"ours: {ours.rate:.0f} req/s {dict(ours.statuses)}")
                stored, reviews, by_status = asyncio.run(recorded(database_url))
            common.note(f"reviews by status when the load ended: {dict(by_status)}")
            errors, warnings, digest = common.log_digest(workdir / "server.log")
            if digest:
                common.note("server log, most frequent warnings/errors:", *digest, sep="\n  ")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    ratio = ours.rate / bare.rate
    p99 = ms(common.percentile(ours.latencies, 99))
    refused = sum(n for status, n in ours.statuses.items() if status not in (200, 202))
    row = common.row
    common.emit(
        "webhooks",
        [
            row("rate, ours", round(ours.rate, 1), "req/s"),
            row("rate, bare handler", round(bare.rate, 1), "req/s"),
            row("rate ratio", round(ratio * 100, 1), "%", ">= 40", ratio >= TARGET_RATIO),
            row("p50, ours", ms(common.percentile(ours.latencies, 50)), "ms"),
            row("p99, ours", p99, "ms", "< 50", p99 < TARGET_P99_MS),
            row("p50, bare handler", ms(common.percentile(bare.latencies, 50)), "ms"),
            row("p99, bare handler", ms(common.percentile(bare.latencies, 99)), "ms"),
            row("answers not 2xx, ours", refused, "", "0", refused == 0),
            row("deliveries recorded", stored, "rows", f"== {TOTAL}", stored == TOTAL),
            row("reviews recorded", reviews, "rows", f"== {TOTAL}", reviews == TOTAL),
            row("server log ERROR lines", errors, "lines", "0", errors == 0),
            row("server log WARNING lines", warnings, "lines"),
        ],
    )


if __name__ == "__main__":
    main()
