"""POST /webhooks: rate and answer time of `bot serve` against a bare aiohttp handler."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import statistics
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import asyncpg
import common

TOTAL, WARMUP, CONCURRENCY = 2000, 500, 50
ROUNDS = 3  # each round: TOTAL to the bare handler, then TOTAL to ours; medians reported
TARGET_RATIO, TARGET_P99_MS = 0.40, 50.0


@dataclass
class Run:
    rate: float
    latencies: list[float]
    statuses: Counter
    cpu: float = 0.0  # the server's CPU use during the load, in % of one core


def deliveries(
    fake: common.Fakes, repo: str, count: int, first: int = 1
) -> list[tuple[bytes, dict]]:
    """Signed `opened` deliveries for `count` new PRs that exist on FakeGitHub."""
    out = []
    for number in range(first, first + count):
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


async def measure(session: aiohttp.ClientSession, base: str, proc, work: list) -> Run:
    cpu, started = common.cpu_seconds(proc.pid), time.perf_counter()
    async with asyncio.timeout(600):
        run = await load(session, f"{base}/webhooks", work)
    run.cpu = 100 * (common.cpu_seconds(proc.pid) - cpu) / (time.perf_counter() - started)
    return run


async def rounds(bare: tuple[str, object], ours: tuple[str, object], fake) -> list[Run]:
    """Warm both up, then alternate: bare, ours, bare, ours... on fresh deliveries."""
    connector = aiohttp.TCPConnector(limit=CONCURRENCY * 2)
    timeout = aiohttp.ClientTimeout(total=30)
    runs: list[Run] = []
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        for base, proc in (bare, ours):
            await common.wait_ready(session, f"{base}/healthz", proc)
            await load(session, f"{base}/webhooks", deliveries(fake, "warmup", WARMUP))
        for number in range(ROUNDS):
            work = deliveries(fake, common.REPO, TOTAL, first=1 + number * TOTAL)
            runs.append(await measure(session, bare[0], bare[1], work))
            runs.append(await measure(session, ours[0], ours[1], work))
    return runs


async def recorded(database_url: str) -> tuple[int, int, Counter]:
    """Deliveries and reviews stored for the measured repository, and all reviews by status."""
    conn = await asyncpg.connect(database_url)
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


def handling_times(log: Path) -> list[float]:
    """Each delivery's time inside the server, in ms, from its log line."""
    found = (re.search(r" in ([0-9.]+) ms$", line) for line in log.read_text().splitlines())
    return [float(match.group(1)) for match in found if match] or [0.0]


def main() -> None:
    common.stop_on_sigterm()
    workdir = Path(tempfile.mkdtemp(prefix="bench-webhooks-"))
    try:
        with common.database() as database_url, common.fakes() as fake:
            # The App as deployed: reviews run meanwhile, paced by the default GEMINI_RPM (60).
            settings = common.settings(fake, database_url, port=common.free_port(), gemini_rpm=60)
            port = common.free_port()
            bare_cmd = [common.PYTHON, str(Path(__file__).with_name("bare_server.py")), str(port)]
            ours_cmd = [common.PYTHON, "-m", "bot", "serve"]
            with (
                common.process(bare_cmd, dict(os.environ), workdir / "bare.log") as bare_proc,
                common.process(
                    ours_cmd, common.server_env(settings), workdir / "server.log"
                ) as proc,
            ):
                runs = common.run(
                    rounds(
                        (f"http://127.0.0.1:{port}", bare_proc),
                        (f"http://127.0.0.1:{settings.port}", proc),
                        fake,
                    )
                )
                stored, reviews, by_status = common.run(recorded(database_url))
            common.note(f"reviews by status when the load ended: {dict(by_status)}")
            errors, warnings, digest = common.log_digest(workdir / "server.log")
            handled = handling_times(workdir / "server.log")[-ROUNDS * TOTAL :]
            if digest:
                common.note("server log, most frequent warnings/errors:", *digest, sep="\n  ")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    bare, ours = runs[0::2], runs[1::2]
    for number, (b, o) in enumerate(zip(bare, ours, strict=True), start=1):
        common.note(
            f"round {number}: bare {b.rate:.0f} req/s, ours {o.rate:.0f} req/s "
            f"({100 * o.rate / b.rate:.1f} %)"
        )
    ratio = statistics.median(o.rate / b.rate for b, o in zip(bare, ours, strict=True))
    ours_latencies = [x for run in ours for x in run.latencies]
    bare_latencies = [x for run in bare for x in run.latencies]
    p99 = ms(common.percentile(ours_latencies, 99))
    statuses = sum((run.statuses for run in ours), Counter())
    refused = sum(n for status, n in statuses.items() if status not in (200, 202))
    expected = ROUNDS * TOTAL
    row = common.row
    common.emit(
        "webhooks",
        [
            row(
                "rate, ours (median round)", round(statistics.median(o.rate for o in ours)), "req/s"
            ),
            row(
                "rate, bare handler (median round)",
                round(statistics.median(b.rate for b in bare)),
                "req/s",
            ),
            row(
                "rate ratio (median round)",
                round(ratio * 100, 1),
                "%",
                ">= 40",
                ratio >= TARGET_RATIO,
            ),
            row("p50, ours", ms(common.percentile(ours_latencies, 50)), "ms"),
            row("p99, ours", p99, "ms", "< 50", p99 < TARGET_P99_MS),
            row("p99 inside the server, ours", round(common.percentile(handled, 99), 2), "ms"),
            row("p50, bare handler", ms(common.percentile(bare_latencies, 50)), "ms"),
            row("p99, bare handler", ms(common.percentile(bare_latencies, 99)), "ms"),
            row(
                "server CPU during load, ours",
                round(statistics.median(o.cpu for o in ours)),
                "% of a core",
            ),
            row(
                "server CPU during load, bare",
                round(statistics.median(b.cpu for b in bare)),
                "% of a core",
            ),
            row("answers not 2xx, ours", refused, "", "0", refused == 0),
            row("deliveries recorded", stored, "rows", f"== {expected}", stored == expected),
            row("reviews recorded", reviews, "rows", f"== {expected}", reviews == expected),
            row("server log ERROR lines", errors, "lines", "0", errors == 0),
            row("server log WARNING lines", warnings, "lines"),
        ],
    )


if __name__ == "__main__":
    main()
