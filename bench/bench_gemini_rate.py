"""The most Gemini requests in any 60 s window with GEMINI_RPM=20 under a 3-minute backlog."""

from __future__ import annotations

import asyncio
import bisect
import os
import time
from collections import Counter

import common

from bot.services import Services
from bot.worker import process_review

SECONDS = float(os.environ.get("BENCH_RATE_SECONDS", "180"))
RPM, PULLS, WINDOW = 20, 25, 60.0  # 25 one-chunk PRs x 4 agents: more than 3 minutes can serve
TARGET_WINDOW, TARGET_TOTAL_180 = 21, 57


async def run(fake: common.Fakes, database_url: str) -> tuple[float, Counter]:
    """Start every review at once, cancel what is left after SECONDS; return the start time."""
    settings = common.settings(
        fake, database_url, gemini_rpm=RPM, max_concurrent_reviews=PULLS, lease_seconds=600
    )
    async with Services.open(settings) as services:
        ids = []
        for number in range(1, PULLS + 1):
            pull = fake.github.add_pull(
                common.OWNER,
                common.REPO,
                number,
                files={"app.py": (common.OLD_APP, common.NEW_APP)},
            )
            ids.append(await common.new_review(services.pool, pull))
        started = time.monotonic()
        tasks = [asyncio.create_task(process_review(i, services)) for i in ids]
        try:
            await asyncio.wait(tasks, timeout=SECONDS)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        rows = await services.pool.fetch("SELECT status, count(*) AS n FROM reviews GROUP BY 1")
    return started, Counter({r["status"]: r["n"] for r in rows})


def busiest_window(times: list[float], width: float) -> int:
    """The most of `times` in any half-open window [t, t + width)."""
    ordered = sorted(times)
    return max(
        (bisect.bisect_left(ordered, t + width) - i for i, t in enumerate(ordered)), default=0
    )


def main() -> None:
    common.stop_on_sigterm()
    with common.database() as database_url, common.fakes() as fake:
        started, statuses = common.run(run(fake, database_url))
        requests = list(fake.gemini.requests)
    times = [r.time - started for r in requests if 0 <= r.time - started < SECONDS]
    peak = busiest_window(times, WINDOW)
    target_total = int(TARGET_TOTAL_180 * SECONDS / 180)
    refused = sum(r.status != 200 for r in requests)
    common.note(f"reviews by status: {dict(statuses)}; first request at {min(times):.3f} s")
    row = common.row
    common.emit(
        "gemini_rate",
        [
            row(
                f"most requests in any {WINDOW:g} s",
                peak,
                "req",
                f"<= {TARGET_WINDOW}",
                peak <= TARGET_WINDOW,
            ),  # fmt: skip
            row(
                f"requests served in {SECONDS:g} s",
                len(times),
                "req",
                f">= {target_total}",
                len(times) >= target_total,
            ),  # fmt: skip
            row("answers not 200", refused, "", "0", refused == 0),
            row("reviews completed (info)", statuses.get("completed", 0), f"of {PULLS}"),
        ],
    )


if __name__ == "__main__":
    main()
