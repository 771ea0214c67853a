"""Delivery to completed review for 4 agents on a one-chunk PR while Gemini takes 1 s."""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from dataclasses import dataclass

import aiohttp
import asyncpg
import common

RUNS, GEMINI_LATENCY, TARGET = 5, 1.0, 1.5


@dataclass
class Result:
    seconds: float
    status: str
    calls: int
    spread: float  # between the first and the last Gemini request of the review


async def one_review(
    session: aiohttp.ClientSession, pool: asyncpg.Pool, fake: common.Fakes, url: str, number: int
) -> Result:
    pull = fake.github.add_pull(
        common.OWNER, common.REPO, number, files={"app.py": (common.OLD_APP, common.NEW_APP)}
    )
    payload = common.pull_request_payload(
        "opened", number=number, head_sha=pull.head_sha, owner=common.OWNER, repo=common.REPO
    )
    body, headers = common.delivery(payload)
    seen = len(fake.gemini.requests)
    started = time.perf_counter()
    async with session.post(url, data=body, headers=headers) as response:
        answer = await response.json()
        if response.status != 202:
            raise RuntimeError(f"delivery answered {response.status}: {answer}")
    review_id = uuid.UUID(answer["review_id"])
    async with asyncio.timeout(30):
        while True:
            status = await pool.fetchval("SELECT status FROM reviews WHERE id = $1", review_id)
            if status not in ("pending", "processing"):
                break
            await asyncio.sleep(0.01)
    elapsed = time.perf_counter() - started
    arrivals = [r.time for r in fake.gemini.requests[seen:]]
    spread = max(arrivals) - min(arrivals) if arrivals else 0.0
    return Result(elapsed, status, len(arrivals), spread)


async def run(fake: common.Fakes, database_url: str) -> list[Result]:
    async with common.app_served(fake, database_url) as (url, pool, session):
        return [await one_review(session, pool, fake, url, number) for number in range(1, RUNS + 1)]


def main() -> None:
    common.stop_on_sigterm()
    with common.database() as database_url, common.fakes() as fake:
        fake.gemini.latency = GEMINI_LATENCY
        results = common.run(run(fake, database_url))
    for n, r in enumerate(results, start=1):
        common.note(
            f"run {n}: {r.seconds:.3f} s {r.status}, {r.calls} calls, spread {r.spread:.3f} s"
        )
    seconds = [r.seconds for r in results]
    median = statistics.median(seconds)
    completed = sum(r.status == "completed" for r in results)
    calls = {r.calls for r in results}
    per_review = "/".join(map(str, sorted(calls)))
    spread_ms = round(1000 * max(r.spread for r in results), 1)
    row = common.row
    common.emit(
        "review_latency",
        [
            row("delivery to completed, median", round(median, 3), "s", "< 1.5", median < TARGET),
            row("delivery to completed, max", round(max(seconds), 3), "s"),
            row("delivery to completed, first run", round(seconds[0], 3), "s"),
            row("reviews completed", completed, f"of {RUNS}", f"== {RUNS}", completed == RUNS),
            row("Gemini calls per review", per_review, "", "4", calls == {4}),
            row("spread of the 4 calls' start, max", spread_ms, "ms"),
        ],
    )


if __name__ == "__main__":
    main()
