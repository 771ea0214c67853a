"""The dashboard over 10,000 reviews: GET /dashboard and a filtered list, timed in the server."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable

import aiohttp
import common
from aiohttp import web

from bot.app import dashboard
from bot.config import Settings
from bot.store import db

REVIEWS, REQUESTS, WARMUP, TARGET_MS = 10_000, 20, 3, 300.0

# Statuses as a busy deployment has them; 25 repositories of 5 owners; 90 days of reviews.
# A completed or failed review has findings (0 to 4) and Gemini calls (4 to 7).
_FILL = """
WITH made AS (
    INSERT INTO reviews (installation_id, owner, repo, pr_number, head_sha, base_ref, trigger,
                         status, error, attempts, created_at, finished_at)
    SELECT 1, 'owner' || (n % 5), 'repo' || (n % 25), 1 + n % 400, md5(n::text) || md5('h'),
           'main', (ARRAY['opened', 'synchronize', 'reopened', 'command'])[1 + n % 4],
           s.status, CASE WHEN s.status = 'failed' THEN 'Gemini answered 503' END,
           CASE WHEN s.status = 'pending' THEN 0 ELSE 1 END,
           now() - make_interval(secs => ($1 - n) * 777),
           CASE WHEN s.status NOT IN ('pending', 'processing')
                THEN now() - make_interval(secs => ($1 - n) * 777 - 40 - n % 90) END
    FROM generate_series(1, $1) AS n
    CROSS JOIN LATERAL (SELECT (ARRAY['completed', 'completed', 'completed', 'completed',
        'completed', 'superseded', 'superseded', 'failed', 'skipped', 'pending', 'processing',
        'completed'])[1 + n % 12] AS status) s
    RETURNING id, owner, repo, status, created_at
), f AS (
    INSERT INTO findings (review_id, agent_type, severity, file_path, line_start, line_end,
                          title)
    SELECT id, (ARRAY['security', 'bugs', 'performance', 'style'])[1 + k % 4],
           (ARRAY['critical', 'high', 'medium', 'low', 'info'])[1 + (k + length(repo)) % 5],
           'src/file_' || k || '.py', 10 * k, 10 * k + 2, 'finding ' || k
    FROM made, generate_series(1, (abs(hashtext(id::text)) % 5)) AS k
    WHERE status IN ('completed', 'failed')
    RETURNING 1
)
INSERT INTO gemini_calls (review_id, installation_id, owner, repo, model, agent, chunk,
                          chunk_digest, attempt, status, latency_ms, prompt_tokens,
                          cached_tokens, output_tokens, thinking_tokens, cost_usd, created_at)
SELECT id, 1, owner, repo, 'gemini-2.5-flash',
       (ARRAY['security', 'bugs', 'performance', 'style', 'verify', 'security', 'bugs'])[k],
       1, md5(id::text || k), 1, 'ok', 900, 12000 + k * 100, 4000, 300, 200, 0.0042,
       created_at + make_interval(secs => k)
FROM made, generate_series(1, 4 + abs(hashtext(id::text)) % 4) AS k
WHERE status IN ('completed', 'failed')
"""

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def timed(samples: list[float]) -> Callable[..., Awaitable[web.StreamResponse]]:
    """A middleware recording each request's time in the server, from its handler's start."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        started = time.perf_counter()
        response = await handler(request)
        samples.append((time.perf_counter() - started) * 1000)
        return response

    return middleware


async def fill(database_url: str) -> dict[str, int]:
    pool = await db.create_pool(database_url, min_size=1, max_size=1)
    try:
        await pool.execute(_FILL, REVIEWS)
        await pool.execute("ANALYZE")
        counts = {}
        for table in ("reviews", "findings", "gemini_calls", "review_events"):
            counts[table] = await pool.fetchval(f"SELECT count(*) FROM {table}")  # noqa: S608
        return counts
    finally:
        await pool.close()


async def measure(database_url: str, paths: list[str]) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {}
    times: list[float] = []
    settings = Settings(
        github_app_id="1",
        github_private_key="-",
        github_webhook_secret="-",
        database_url=database_url,
        host="127.0.0.1",  # served to this machine without a token
    )
    pool = await db.create_pool(database_url)
    app = web.Application(middlewares=[timed(times)])
    dashboard.setup(app, settings, lambda: pool)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        base = f"http://127.0.0.1:{runner.addresses[0][1]}"
        async with aiohttp.ClientSession() as session:
            for path in paths:
                times.clear()
                for _ in range(WARMUP + REQUESTS):
                    async with session.get(base + path) as response:
                        body = await response.text()
                        if response.status != 200:
                            raise RuntimeError(f"{path} answered {response.status}: {body}")
                samples[path] = times[WARMUP:]
    finally:
        await runner.cleanup()
        await pool.close()
    return samples


FIRST = "/dashboard"
FILTERED = "/dashboard?repo=owner3%2Frepo8&status=completed&since=2024-01-01"
OTHERS = ["/dashboard?page=150", "/dashboard/reviews.json", "/dashboard/repositories"]


def main() -> None:
    common.stop_on_sigterm()
    with common.database() as database_url:
        counts = asyncio.run(fill(database_url))
        common.note(f"filled: {counts}")
        samples = common.run(measure(database_url, [FIRST, FILTERED, *OTHERS]))
    rows = []
    for path in (FIRST, FILTERED, *OTHERS):
        median = statistics.median(samples[path])
        p95 = common.percentile(samples[path], 95)
        common.note(f"{path}: median {median:.1f} ms, p95 {p95:.1f} ms")
        target = path in (FIRST, FILTERED)
        rows.append(
            common.row(
                f"GET {path}, median",
                round(median, 1),
                "ms",
                f"< {TARGET_MS:g}" if target else "",
                median < TARGET_MS if target else None,
            )
        )
        rows.append(
            common.row(
                f"GET {path}, p95",
                round(p95, 1),
                "ms",
                f"< {TARGET_MS:g}" if target else "",
                p95 < TARGET_MS if target else None,
            )
        )
    rows.append(
        common.row(
            "reviews in the database",
            counts["reviews"],
            "",
            f"== {REVIEWS}",
            counts["reviews"] == REVIEWS,
        )
    )
    common.emit("dashboard", rows)


if __name__ == "__main__":
    main()
