"""One Gemini quota for the whole deployment: three `serve` processes on one database.

A backlog of 25 PRs (one small file each, 4 agents each: 100 calls, five minutes at 20 RPM),
delivered through signed webhooks spread over the three processes, FakeGemini answering at
once. Phase "rpm": GEMINI_RPM=20 alone; the most requests FakeGemini saw in any 60 s, and the
share of the quota used over the first 3 minutes (from the first request: requests in 180 s
over 3 x 20). Phase "tpm": the same on a fresh database with GEMINI_TPM set to half the
tokens 20 requests hold (from the tokens per request of phase "rpm"), so that TPM, not RPM,
is the binding limit; the most prompt tokens (promptTokenCount FakeGemini reported) in any
60 s, and the share of the token quota used over 3 minutes.

BENCH_QUOTA_SECONDS shortens each phase's measured time (default 180); BENCH_QUOTA_PHASES
picks phases ("rpm,tpm"). The whole script takes about 2 x (SECONDS + 20) seconds.
"""

from __future__ import annotations

import asyncio
import bisect
import os
import shutil
import tempfile
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from itertools import accumulate
from pathlib import Path

import aiohttp
import asyncpg
import common

from tests.fakes.gemini import GeminiRequest

SECONDS = float(os.environ.get("BENCH_QUOTA_SECONDS", "180"))
PHASES = [p for p in os.environ.get("BENCH_QUOTA_PHASES", "rpm,tpm").split(",") if p]
RPM, PULLS, SERVERS, WINDOW = 20, 25, 3, 60.0
TARGET_WINDOW = RPM + 1  # the App's spacing is exact; one more for a slot at the window's edge
TARGET_SHARE = 0.95
TPM_SHARE_OF_RPM = 0.5  # GEMINI_TPM lets about half of RPM's requests through
FALLBACK_TOKENS = 1_000  # per request, when phase "rpm" did not run


@dataclass
class Phase:
    name: str
    tpm: int | None
    requests: list[GeminiRequest] = field(default_factory=list)
    started: float = 0.0  # the first generateContent request (monotonic)
    statuses: Counter = field(default_factory=Counter)
    queued: int = 0  # reviews pending with a not_before (put back for the quota) at the end


async def run_phase(fake: common.Fakes, database_url: str, workdir: Path, phase: Phase) -> None:
    fake.github.reset()
    fake.gemini.reset()
    overrides: dict = {"gemini_rpm": RPM}
    if phase.tpm is not None:
        overrides["gemini_tpm"] = phase.tpm
    ports = [common.free_port() for _ in range(SERVERS)]
    envs = [
        common.server_env(common.settings(fake, database_url, port=port, **overrides))
        for port in ports
    ]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    pulls = [
        fake.github.add_pull(
            common.OWNER,
            common.REPO,
            number,
            files={"app.py": (common.OLD_APP, common.NEW_APP + f"\n# pull {number}\n")},
        )
        for number in range(1, PULLS + 1)
    ]
    async with aiohttp.ClientSession() as session:
        with ExitStack() as stack:
            procs = [
                stack.enter_context(
                    common.process(
                        [common.PYTHON, "-m", "bot", "serve"],
                        env,
                        workdir / f"serve-{phase.name}-{n}.log",
                    )
                )
                for n, env in enumerate(envs)
            ]
            await asyncio.gather(
                *(
                    common.wait_ready(session, f"{u}/healthz", p)
                    for u, p in zip(urls, procs, strict=True)
                )
            )
            # The backlog: every PR at once, spread over the three processes.
            await asyncio.gather(
                *(common.deliver(session, urls[i % SERVERS], pull) for i, pull in enumerate(pulls))
            )
            delivered = time.monotonic()
            while not fake.gemini.requests:
                if time.monotonic() - delivered > 60:
                    raise RuntimeError("no Gemini request within 60 s of the deliveries")
                await asyncio.sleep(0.05)
            phase.started = fake.gemini.requests[0].time
            common.note(
                f"{phase.name}: first request {phase.started - delivered:+.2f} s after "
                f"the deliveries; measuring {SECONDS:g} s"
            )
            await asyncio.sleep(max(0.0, phase.started + SECONDS + 1.0 - time.monotonic()))
            phase.requests = list(fake.gemini.requests)
            conn = await asyncpg.connect(database_url)
            try:
                rows = await conn.fetch(
                    "SELECT status, count(*) AS n,"
                    " count(*) FILTER (WHERE not_before IS NOT NULL) AS later"
                    " FROM reviews GROUP BY 1"
                )
            finally:
                await conn.close()
            phase.statuses = Counter({r["status"]: r["n"] for r in rows})
            phase.queued = sum(r["later"] for r in rows if r["status"] == "pending")
            for proc in procs:  # all at once; the `with` blocks then wait for each
                proc.terminate()


def busiest(times: list[float], weights: list[int], width: float) -> int:
    """The most total weight of events in any half-open window [t, t + width)."""
    order = sorted(range(len(times)), key=times.__getitem__)
    ordered = [times[i] for i in order]
    sums = [0, *accumulate(weights[i] for i in order)]
    best = 0
    for i, t in enumerate(ordered):
        j = bisect.bisect_left(ordered, t + width)
        best = max(best, sums[j] - sums[i])
    return best


def measured(phase: Phase) -> tuple[list[float], list[int]]:
    """Times (from the first request) and prompt tokens of the requests, all statuses."""
    times = [r.time - phase.started for r in phase.requests]
    tokens = [r.prompt_tokens if r.status == 200 else 0 for r in phase.requests]
    return times, tokens


def rpm_rows(phase: Phase) -> list[dict]:
    times, _ = measured(phase)
    peak = busiest(times, [1] * len(times), WINDOW)
    used = sum(0 <= t < SECONDS for t in times)
    quota = RPM * SECONDS / 60
    share = used / quota
    row = common.row
    tag = f"[{phase.name}]"
    rows = [
        row(
            f"{tag} most requests in any {WINDOW:g} s (GEMINI_RPM={RPM}, {SERVERS} serve)",
            peak,
            "req",
            f"<= {TARGET_WINDOW}",
            peak <= TARGET_WINDOW,
        ),
    ]
    if phase.tpm is None:
        rows.append(
            row(
                f"{tag} share of the RPM quota used in {SECONDS:g} s ({used} of {quota:g} req)",
                round(100 * share, 1),
                "%",
                f">= {100 * TARGET_SHARE:g}",
                share >= TARGET_SHARE,
            )
        )
    return rows


def tpm_rows(phase: Phase) -> list[dict]:
    assert phase.tpm is not None
    times, tokens = measured(phase)
    largest = max(tokens, default=0)
    peak = busiest(times, tokens, WINDOW)
    used = sum(n for t, n in zip(times, tokens, strict=True) if 0 <= t < SECONDS)
    quota = phase.tpm * SECONDS / 60
    share = used / quota
    requests_in = sum(0 <= t < SECONDS for t in times)
    row = common.row
    tag = f"[{phase.name}]"
    return [
        row(
            f"{tag} most prompt tokens in any {WINDOW:g} s (GEMINI_TPM={phase.tpm})",
            peak,
            "tokens",
            f"<= {phase.tpm + largest} (TPM + the largest request, {largest})",
            peak <= phase.tpm + largest,
        ),
        row(
            f"{tag} share of the TPM quota used in {SECONDS:g} s ({used} of {quota:g} tokens, "
            f"{requests_in} req)",
            round(100 * share, 1),
            "%",
            f">= {100 * TARGET_SHARE:g}",
            share >= TARGET_SHARE,
        ),
    ]


def info_rows(phase: Phase) -> list[dict]:
    row = common.row
    tag = f"[{phase.name}]"
    refused = sum(r.status != 200 for r in phase.requests)
    statuses = ", ".join(f"{k} {v}" for k, v in sorted(phase.statuses.items()))
    return [
        row(f"{tag} answers not 200", refused, "", "0", refused == 0),
        row(
            f"{tag} reviews at the end (info): {statuses}",
            phase.statuses.get("completed", 0),
            f"of {PULLS} completed",
        ),
        row(f"{tag} reviews put back for the quota at the end (info)", phase.queued, ""),
    ]


def main() -> None:
    common.stop_on_sigterm()
    unknown = [p for p in PHASES if p not in ("rpm", "tpm")]
    if unknown:
        raise SystemExit(f"BENCH_QUOTA_PHASES: unknown {unknown}; known: rpm, tpm")
    workdir = Path(tempfile.mkdtemp(prefix="bench-quota-"))
    phases: list[Phase] = []
    try:
        with common.fakes() as fake:
            for name in PHASES:
                tpm = None
                if name == "tpm":
                    done = [r.prompt_tokens for p in phases for r in p.requests if r.status == 200]
                    per_request = sum(done) / len(done) if done else FALLBACK_TOKENS
                    tpm = max(1_000, round(per_request * RPM * TPM_SHARE_OF_RPM))
                    common.note(f"tpm: {per_request:.0f} prompt tokens a request: GEMINI_TPM={tpm}")
                phase = Phase(name, tpm)
                with common.database() as database_url:
                    common.run(run_phase(fake, database_url, workdir, phase))
                phases.append(phase)
                common.note(
                    f"{name}: {len(phase.requests)} requests; reviews {dict(phase.statuses)}"
                )
        errors, warnings = common.serve_logs(workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    rows: list[dict] = []
    for phase in phases:
        rows += rpm_rows(phase)
        if phase.tpm is not None:
            rows += tpm_rows(phase)
        rows += info_rows(phase)
    rows += [
        common.row("server log ERROR lines", errors, "lines", "0", errors == 0),
        common.row("server log WARNING lines", warnings, "lines"),
    ]
    common.emit("quota", rows)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
