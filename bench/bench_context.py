"""What one review of a 20-file PR reads and costs: input tokens, the share of bytes the agents'
requests for a chunk have in common, GitHub calls, context lines, verification, and the
walkthrough's share of the cost (its answer is FakeGemini's short default: the output share of a
real walkthrough is larger, up to walkthrough.ANSWER_TOKENS)."""

from __future__ import annotations

import asyncio
import json
import re
import statistics
import time
from collections import defaultdict
from pathlib import Path

import aiohttp
import asyncpg
import common
from aiohttp import web

from bot.app.web import create_app
from tests.fakes.gemini import GeminiRequest, shared_prefix

FILES = 20
SOURCES = ("tenacity", "gidgethub", "unidiff", "yaml", "aiolimiter", "jwt")
FINDINGS_ON = 5  # files where the security agent reports a finding (the verifier reads them)


def real_modules() -> list[Path]:
    """Twenty real modules of installed libraries, 3 to 30 KB, in a fixed order."""
    site = Path(aiohttp.__file__).parents[1]
    found = [
        path
        for name in SOURCES
        for path in sorted((site / name).glob("*.py"))
        if 3_000 <= path.stat().st_size <= 30_000 and _editable(path.read_text(encoding="utf-8"))
    ]
    if len(found) < FILES:
        raise RuntimeError(f"only {len(found)} modules found under {site}")
    return found[:FILES]


def _editable(text: str) -> bool:
    try:
        edit(text)
    except LookupError:
        return False
    return True


def edit(text: str) -> tuple[str, int]:
    """A change deep in a function: a statement added after a line in the middle of a block.
    Returns the new text and the added line's number."""
    lines = text.split("\n")
    middle = len(lines) // 2
    for offset in range(len(lines)):
        for index in (middle + offset, middle - offset):
            if 0 <= index < len(lines) - 1:
                line = lines[index]
                indent = len(line) - len(line.lstrip())
                if indent >= 8 and line.strip() and not line.rstrip().endswith((":", ",", "(")):
                    added = " " * indent + "checked = retry_state if retry_state else None"
                    return "\n".join(lines[: index + 1] + [added] + lines[index + 1 :]), index + 2
    raise LookupError("no line to edit")


def pr_files() -> tuple[dict[str, tuple[str, str]], dict[str, int]]:
    files, added = {}, {}
    for path in real_modules():
        old = path.read_text(encoding="utf-8")
        new, line = edit(old)
        name = f"lib/{path.parent.name}/{path.name}"
        files[name] = (old, new)
        added[name] = line
    return files, added


async def review(fake: common.Fakes, database_url: str) -> dict[str, float | int | str]:
    files, added = pr_files()
    fake.gemini.findings["security"] = [
        {
            "file_path": path,
            "line_start": line,
            "line_end": line,
            "severity": "high",
            "title": "Unchecked retry state",
            "description": "It may be None here.",
        }
        for path, line in list(added.items())[:FINDINGS_ON]
    ]
    pull = fake.github.add_pull(common.OWNER, common.REPO, 1, files=files, body="Retry fixes.")
    runner = web.AppRunner(create_app(common.settings(fake, database_url)), access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        url = f"http://127.0.0.1:{runner.addresses[0][1]}"
        github_seen = len(fake.github.requests)
        started = time.perf_counter()
        async with aiohttp.ClientSession() as session:
            review_id = await common.deliver(session, url, pull)
        conn = await asyncpg.connect(database_url)
        try:
            async with asyncio.timeout(120):
                while True:
                    row = await conn.fetchrow(
                        "SELECT status, stats FROM reviews WHERE id = $1::uuid", review_id
                    )
                    if row["status"] not in ("pending", "processing"):
                        break
                    await asyncio.sleep(0.02)
            spent = await conn.fetchrow(
                "SELECT sum(prompt_tokens) AS prompt, sum(cached_tokens) AS cached,"
                " sum(cost_usd) AS cost, count(*) FILTER (WHERE agent = 'cache') AS caches,"
                " sum(cost_usd) FILTER (WHERE agent = 'walkthrough') AS walk_cost,"
                " sum(prompt_tokens) FILTER (WHERE agent = 'walkthrough') AS walk_prompt"
                " FROM gemini_calls WHERE review_id = $1::uuid",
                review_id,
            )
        finally:
            await conn.close()
        seconds = time.perf_counter() - started
    finally:
        await runner.cleanup()
    stats = json.loads(row["stats"]) if isinstance(row["stats"], str) else dict(row["stats"])
    requests = [r for r in fake.gemini.requests if r.status == 200]
    by_chunk: dict[tuple[str, ...], list[GeminiRequest]] = defaultdict(list)
    for request in requests:
        if request.agent not in (None, "verifier"):
            by_chunk[tuple(request.files)].append(request)
    shares = [shared_prefix(chunk) for chunk in by_chunk.values() if len(chunk) > 1]
    context = sum(
        len(line) + 1
        for r in requests
        for line in r.prompt.split("\n")
        if re.match(r"^ +\d+ ~\| ", line)
    )
    prompt_chars = sum(len(r.system) + len(r.prompt) for r in requests)
    return {
        "status": row["status"],
        "seconds": round(seconds, 2),
        "github_calls": len(fake.github.requests) - github_seen,
        "gemini_calls": len(requests),
        "verifier_calls": sum(1 for r in requests if r.agent == "verifier"),
        "walkthrough_calls": sum(1 for r in requests if r.agent == "walkthrough"),
        "walkthrough_cost_share": float(spent["walk_cost"] or 0) / float(spent["cost"] or 1),
        "walkthrough_token_share": int(spent["walk_prompt"] or 0) / int(spent["prompt"] or 1),
        "chunks": len(by_chunk),
        "input_tokens": int(spent["prompt"] or 0),
        "cached_tokens": int(spent["cached"] or 0),
        "cost_usd": float(spent["cost"] or 0),
        "caches": int(spent["caches"] or 0),
        "share_min": min(shares) if shares else 0.0,
        "share_mean": statistics.mean(shares) if shares else 0.0,
        "context_share": context / prompt_chars if prompt_chars else 0.0,
        "findings": stats.get("findings", 0),
        "withheld": stats.get("withheld", 0),
    }


def main() -> None:
    common.stop_on_sigterm()
    with common.database() as database_url, common.fakes() as fake:
        result = common.run(review(fake, database_url))
    common.note(result)
    row = common.row
    common.emit(
        "context",
        [
            row(
                "review of the 20-file PR",
                result["status"],
                "",
                "completed",
                result["status"] == "completed",
            ),
            row(
                "input tokens per review (cache creation among them)",
                result["input_tokens"],
                "tokens",
            ),
            row(
                "of them, read from a cache (as Gemini reports)", result["cached_tokens"], "tokens"
            ),
            row("explicit caches created", result["caches"]),
            row("estimated cost per review", f"{result['cost_usd']:.5f}", "USD"),
            row(
                "Gemini calls (verifier among them)",
                f"{result['gemini_calls']} ({result['verifier_calls']})",
            ),
            row("chunks", result["chunks"]),
            row(
                "walkthrough calls (one per chunk)",
                result["walkthrough_calls"],
                "",
                "= chunks",
                result["walkthrough_calls"] == result["chunks"],
            ),
            row(
                "walkthrough, share of the review's input tokens",
                f"{result['walkthrough_token_share']:.1%}",
            ),
            row(
                "walkthrough, share of the review's cost", f"{result['walkthrough_cost_share']:.1%}"
            ),
            row(
                "shared prefix of a chunk's agent requests, min",
                f"{result['share_min']:.1%}",
                "",
                ">= 90%",
                float(result["share_min"]) >= 0.9,
            ),
            row("shared prefix, mean over chunks", f"{result['share_mean']:.1%}"),
            row(
                "context lines, share of prompt bytes",
                f"{result['context_share']:.1%}",
                "",
                "<= 40%",
                float(result["context_share"]) <= 0.4,
            ),
            row(
                "GitHub calls per review",
                result["github_calls"],
                "",
                "<= 10",
                int(result["github_calls"]) <= 10,
            ),
            row("delivery to completed", result["seconds"], "s"),
        ],
    )


if __name__ == "__main__":
    main()
