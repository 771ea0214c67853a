"""An outage drill, on the real clock: `serve` against the fakes while GitHub, then Gemini, is
away for DOWN seconds (GitHub: every request answered 502; Gemini: every call 503), with three
PRs delivered at the start of each. Nothing may fail or be posted twice: every review completes
once the service is back, each PR with one summary comment, one inline review and one check
run. Reports how many times each review was deferred (bot/app/outage.py) and how long after the
service came back it completed (the backoff's next try: at most 15 min, here under a minute).

    .venv/bin/python bench/bench_outage.py [--down SECONDS]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import tempfile
import time
from pathlib import Path

import aiohttp
import asyncpg
import common

from tests.reviewing import finding

PRS = 3
STORM = 1_000_000  # failed answers: more than the drill can ask for; healed by the drill


async def phase(
    fake: common.Fakes, conn: asyncpg.Connection, url: str, first: int, down: float, what: str
) -> list[str]:
    """Deliver PRS PRs with `what` away for `down` seconds; the rows, once all are final."""
    if what == "github":
        fake.github.fail_next("*", r".", 502, times=STORM)
    else:
        fake.gemini.fail_next(503, times=STORM)
    numbers = range(first, first + PRS)
    pulls = [
        fake.github.add_pull(
            common.OWNER, common.REPO, n, files={"app.py": (common.OLD_APP, common.NEW_APP)}
        )
        for n in numbers
    ]
    async with aiohttp.ClientSession() as session:
        ids = [await common.deliver(session, url, pull) for pull in pulls]
    await asyncio.sleep(down)
    (fake.github if what == "github" else fake.gemini).heal()
    back = time.monotonic()
    sql = "SELECT status, attempts, outage_retries FROM reviews WHERE id = ANY($1::uuid[])"
    async with asyncio.timeout(down + 20 * 60):
        while True:
            rows = await conn.fetch(sql, ids)
            if all(r["status"] in common.FINAL for r in rows):
                break
            await asyncio.sleep(0.2)
    after = time.monotonic() - back
    gh = fake.github
    lines = []
    for pull in pulls:
        comments = len(gh.comments(common.OWNER, common.REPO, pull.number))
        checks = gh.check_runs(common.OWNER, common.REPO, pull.head_sha)
        inline = len(gh.reviews(common.OWNER, common.REPO, pull.number))
        lines.append((pull.number, comments, len(checks), inline))
    statuses = [r["status"] for r in rows]
    deferrals = [r["outage_retries"] for r in rows]
    common.note(
        f"{what} away {down:g} s: {statuses}, deferred {deferrals} times, completed "
        f"{after:.1f} s after it was back; per PR (number, comments, check runs, inline): {lines}"
    )
    once = all(c == 1 and k == 1 and i == 1 for _, c, k, i in lines)
    return [
        common.row(
            f"{what} away: reviews completed",
            statuses.count("completed"),
            "of 3",
            "3",
            statuses.count("completed") == PRS,
        ),  # fmt: skip
        common.row(f"{what} away: deferrals per review", max(deferrals), "", "", None),
        common.row(f"{what} away: back to all completed", round(after, 1), "s", "", None),
        common.row(
            f"{what} away: one comment, check run, inline review per PR", once, "", "True", once
        ),  # fmt: skip
    ]


async def drill(fake: common.Fakes, database_url: str, workdir: Path, down: float) -> list:
    settings = common.settings(fake, database_url, port=common.free_port())
    env = common.server_env(settings) | {"RECLAIM_INTERVAL": "30"}
    url = f"http://127.0.0.1:{settings.port}"
    conn = await asyncpg.connect(database_url)
    try:
        with common.process([common.PYTHON, "-m", "bot", "serve"], env, workdir / "serve.log") as p:
            async with aiohttp.ClientSession() as session:
                await common.wait_ready(session, f"{url}/healthz", p)
            rows = await phase(fake, conn, url, 1, down, "github")
            rows += await phase(fake, conn, url, 1 + PRS, down, "gemini")
    finally:
        await conn.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--down", type=float, default=60.0, help="seconds each service is away")
    args = parser.parse_args()
    common.stop_on_sigterm()
    workdir = Path(tempfile.mkdtemp(prefix="bench-outage-"))
    try:
        with common.database() as database_url, common.fakes() as fake:
            fake.gemini.findings["security"] = [finding()]  # so each review posts inline
            rows = common.run(drill(fake, database_url, workdir, args.down))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    common.emit("outage", rows)


if __name__ == "__main__":
    main()
