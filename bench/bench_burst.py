"""A burst of pushes: Gemini calls for `opened` then two pushes 0.3 s apart, with FakeGemini
answering in 1 s, through signed webhooks to one `serve` (PUSH_SETTLE_SECONDS at its default).

Without settling, every head's review sends its four agents' calls before the next push
supersedes it: 3 heads x 4 agents = 12 calls, 8 of them for heads nobody reads. Also timed:
a lone push after a finished review, and the first review of a PR, which must not wait the
settle. BENCH_BURST_SETTLE sets PUSH_SETTLE_SECONDS (default: the App's, 5).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import time
from pathlib import Path

import aiohttp
import asyncpg
import common

from tests.reviewing import finding

GAP = 0.3  # seconds between the deliveries of the burst
LATENCY = 1.0  # FakeGemini's answer time
AGENTS = 4
# The first review's agents, cut off in flight, then the last head's agents and its verifier
# (the finding scripted below makes one verification call). Before verification: 8 of 12.
TARGET_CALLS, TODAY_CALLS = 2 * AGENTS + 1, 3 * AGENTS + 1
SETTLE = os.environ.get("BENCH_BURST_SETTLE")


def change(pull, k: int) -> None:
    pull.push({"app.py": common.NEW_APP + f"\n\ndef step_{k}():\n    return {k}\n"})


async def run(fake: common.Fakes, database_url: str, log: Path) -> dict:
    overrides = {} if SETTLE is None else {"push_settle_seconds": float(SETTLE)}
    settings = common.settings(fake, database_url, port=common.free_port(), **overrides)
    env = common.server_env(settings)
    url = f"http://127.0.0.1:{settings.port}"
    fake.gemini.latency = LATENCY
    fake.gemini.findings["security"] = [finding()]
    gh, files = fake.github, {"app.py": (common.OLD_APP, common.NEW_APP)}
    out: dict = {"settle": env.get("PUSH_SETTLE_SECONDS", "the App's default")}
    conn = await asyncpg.connect(database_url)
    try:
        async with aiohttp.ClientSession() as session:
            with common.process([common.PYTHON, "-m", "bot", "serve"], env, log) as proc:
                await common.wait_ready(session, f"{url}/healthz", proc)

                # The burst: opened, a push 0.3 s later, another 0.3 s after that.
                pull = gh.add_pull(common.OWNER, common.REPO, 1, files=files)
                before = len(fake.gemini.requests)
                ids = [await common.deliver(session, url, pull)]
                for k in (1, 2):
                    await asyncio.sleep(GAP)
                    change(pull, k)
                    ids.append(await common.deliver(session, url, pull, "synchronize"))
                last_push = time.monotonic()
                out["last"] = await common.final_status(conn, ids[-1], proc)
                out["last_seconds"] = time.monotonic() - last_push
                out["calls"] = len(fake.gemini.requests) - before
                await asyncio.sleep(LATENCY + 0.5)  # calls cut off late still land
                out["calls_after"] = len(fake.gemini.requests) - before
                out["statuses"] = [
                    await conn.fetchval("SELECT status FROM reviews WHERE id = $1::uuid", i)
                    for i in ids
                ]
                out["checks"] = [
                    f"{r['status']}/{r['conclusion']}"
                    for sha in pull.history
                    for r in gh.check_runs(common.OWNER, common.REPO, sha)
                ]
                out["comments"] = len(gh.comments(common.OWNER, common.REPO, 1))

                # The first review of a PR, then a lone push after it finished: no settle.
                lone = gh.add_pull(common.OWNER, common.REPO, 2, files=files)
                started = time.monotonic()
                first = await common.deliver(session, url, lone)
                out["first_status"] = await common.final_status(conn, first, proc)
                out["first_seconds"] = time.monotonic() - started
                change(lone, 1)
                started = time.monotonic()
                pushed = await common.deliver(session, url, lone, "synchronize")
                out["lone_status"] = await common.final_status(conn, pushed, proc)
                out["lone_seconds"] = time.monotonic() - started
    finally:
        await conn.close()
    return out


def main() -> None:
    common.stop_on_sigterm()
    workdir = Path(tempfile.mkdtemp(prefix="bench-burst-"))
    log = workdir / "serve.log"
    try:
        with common.database() as database_url, common.fakes() as fake:
            out = common.run(run(fake, database_url, log))
        errors, warnings, digest = common.log_digest(log)
        if digest:
            common.note("server log, warnings/errors:", *digest, sep="\n  ")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    common.note(
        f"PUSH_SETTLE_SECONDS={out['settle']}: reviews {out['statuses']}, check runs "
        f"{out['checks']}; {out['calls']} calls until the last head's review was "
        f"{out['last']} ({out['last_seconds']:.1f} s after the last push), "
        f"{out['calls_after']} a moment later; first review {out['first_seconds']:.1f} s, "
        f"lone push {out['lone_seconds']:.1f} s"
    )
    settle_bound = LATENCY + 2.0  # one round of agents and the publishing, no settle
    row = common.row
    calls = out["calls"]
    common.emit(
        "burst",
        [
            row(
                f"Gemini calls: opened + 2 pushes {GAP:g} s apart (today {TODAY_CALLS})",
                calls,
                "req",
                f"<= {TARGET_CALLS}",
                calls <= TARGET_CALLS,
            ),
            row(
                "Gemini calls, counted again 1.5 s later (info)",
                out["calls_after"],
                "req",
            ),
            row(
                "reviews of the burst: statuses",
                "/".join(map(str, out["statuses"])),
                "",
                "superseded/superseded/completed",
                out["statuses"] == ["superseded", "superseded", "completed"],
            ),
            row(
                "check runs of the burst's heads",
                " ".join(out["checks"]),
                "",
                "cancelled, cancelled, completed",
                len(out["checks"]) == 3
                and out["checks"][:2] == ["completed/cancelled"] * 2
                and out["checks"][2].startswith("completed/")
                and out["checks"][2] != "completed/cancelled",
            ),
            row("summary comments on the PR", out["comments"], "", "1", out["comments"] == 1),
            row(
                "last push to its review completed (info: settle + one round)",
                round(out["last_seconds"], 2),
                "s",
            ),
            row(
                "first review of a PR: opened to completed",
                round(out["first_seconds"], 2),
                "s",
                f"< {settle_bound:g} (not settled)",
                out["first_status"] == "completed" and out["first_seconds"] < settle_bound,
            ),
            row(
                "lone push after a finished review: to completed",
                round(out["lone_seconds"], 2),
                "s",
                f"< {settle_bound:g} (not settled)",
                out["lone_status"] == "completed" and out["lone_seconds"] < settle_bound,
            ),
            row("server log ERROR lines", errors, "lines", "0", errors == 0),
            row("server log WARNING lines", warnings, "lines"),
        ],
    )


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
