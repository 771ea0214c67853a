"""`python -m bot usage`: Gemini calls, tokens and estimated cost per repository and UTC day."""

from __future__ import annotations

import asyncio
import json
import re
import sys
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg

from bot.config import database_location, price_table
from bot.logs import setup_logging
from bot.review.pricing import Price, price_of
from bot.store import connect, daily_usage, embedded, feedback
from bot.store.daily_usage import DailyUsage
from bot.store.feedback import Acceptance


def show(since_text: str, repo: str | None, output: str) -> int:
    """Print the Gemini calls since `since_text` (Nd or Nh), per repository and UTC day, with
    what they cost; 2 for a malformed argument, 1 when the database has no gemini_calls."""
    since_match = re.fullmatch(r"([1-9][0-9]{0,4})([dh])", since_text)
    if not since_match:
        print(
            f"second-look: --since expects Nd or Nh, e.g. 7d or 12h, got {since_text!r}",
            file=sys.stderr,
        )
        return 2
    repository = None
    if repo is not None:
        repo_match = re.fullmatch(r"([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+)", repo)
        if not repo_match:
            print(f"second-look: --repo expects OWNER/REPO, got {repo!r}", file=sys.stderr)
            return 2
        repository = (repo_match.group(1), repo_match.group(2))
    amount, unit = int(since_match.group(1)), since_match.group(2)
    ago = timedelta(days=amount) if unit == "d" else timedelta(hours=amount)
    since = datetime.now(UTC).replace(microsecond=0) - ago
    setup_logging([])
    database_url, data_dir = database_location()
    prices = price_table()
    dsn = database_url or embedded.start_embedded(data_dir)
    try:
        rows, accepted = asyncio.run(_usage(dsn, since, repository))
    except asyncpg.UndefinedTableError:
        print(
            "second-look: the database has no gemini_calls table: run python -m bot migrate",
            file=sys.stderr,
        )
        return 1
    report = _usage_report(rows, prices)
    report["feedback"] = {
        group: [
            {
                "name": a.group,
                "accepted": a.accepted,
                "rejected": a.rejected,
                "thumbs_up": a.thumbs_up,
                "thumbs_down": a.thumbs_down,
                "dismissed": a.dismissed,
                "fixed": a.fixed,
                "rate": a.rate,
            }
            for a in found
        ]
        for group, found in accepted.items()
    }
    if output == "json":
        print(json.dumps({"since": since.isoformat(), "repository": repo, **report}, indent=2))
        return 0
    where = f" in {repo}" if repo else ""
    when = since.strftime("%Y-%m-%d %H:%M UTC")
    if not rows:
        print(f"no Gemini calls{where} since {when}")
    else:
        print(f"Gemini calls{where} since {when} (days in UTC)")
        print("\n".join(_usage_table(report)))
    if any(accepted.values()):
        print()
        print("Feedback on inline comments: 👍/👎 and dismissals, per finding")
        print("\n".join(_feedback_table(accepted)))
    return 0


async def _usage(
    dsn: str, since: datetime, repository: tuple[str, str] | None
) -> tuple[list[DailyUsage], dict[str, list[Acceptance]]]:
    conn = await connect.connect(dsn)  # a database away or refusing us: one line, exit 1
    try:
        daily = await daily_usage.daily(conn, since, repository)
        return daily, await feedback.acceptance(conn, since, repository)
    finally:
        await conn.close()


def _feedback_table(accepted: dict[str, list[Acceptance]]) -> list[str]:
    """Acceptance per agent, then per repository, as aligned lines."""
    lines = [["", "accepted", "rejected", "👍", "👎", "rate"]]
    for group in ("agents", "repositories"):
        for a in accepted[group]:
            rate = "-" if a.rate is None else f"{a.rate:.0%}"
            lines.append(
                [
                    a.group,
                    f"{a.accepted:,}",
                    f"{a.rejected:,}",
                    f"{a.thumbs_up:,}",
                    f"{a.thumbs_down:,}",
                    rate,
                ]
            )
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    return [
        "  ".join(
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(line, widths, strict=True))
        ).rstrip()
        for line in lines
    ]


_USAGE_SUMS = ("calls", "input_tokens", "cached_tokens", "output_tokens", "thinking_tokens")


def _usage_report(rows: list[DailyUsage], prices: Mapping[str, Price]) -> dict[str, Any]:
    """The rows and their total as JSON values; a call recorded at no cost whose model has no
    price (`pricing.price_of`) makes its row's and the total's `unpriced_models`."""
    report_rows: list[dict[str, Any]] = []
    for row in rows:
        unpriced = [model for model in row.zero_cost_models if price_of(prices, model) is None]
        report_rows.append(
            {
                "repository": f"{row.owner}/{row.repo}",
                "day": row.day.isoformat(),
                "calls": row.calls,
                "input_tokens": row.prompt_tokens,
                "cached_tokens": row.cached_tokens,
                "output_tokens": row.output_tokens,
                "thinking_tokens": row.thinking_tokens,
                "cost_usd": float(row.cost_usd),
                "output_cost_usd": float(row.output_cost_usd),
                "unpriced_models": unpriced,
            }
        )
    total: dict[str, Any] = {key: sum(r[key] for r in report_rows) for key in _USAGE_SUMS}
    total["cost_usd"] = float(sum((row.cost_usd for row in rows), Decimal(0)))
    total["output_cost_usd"] = float(sum((row.output_cost_usd for row in rows), Decimal(0)))
    total["unpriced_models"] = sorted({m for r in report_rows for m in r["unpriced_models"]})
    return {"rows": report_rows, "total": total}


def _usage_table(report: dict[str, Any]) -> list[str]:
    """The report as aligned lines: a row per repository and day, the total, the footnote."""
    header = ["repository", "day", "calls", "input", "cached", "output", "thinking", "cost USD",
              "output USD", ""]  # fmt: skip
    lines = [header]
    for row in [*report["rows"], {"repository": "total", "day": "", **report["total"]}]:
        lines.append(
            [
                row["repository"],
                row["day"],
                *(f"{row[key]:,}" for key in _USAGE_SUMS),
                f"{row['cost_usd']:,.4f}",
                f"{row['output_cost_usd']:,.4f}",
                "*" if row["unpriced_models"] else "",
            ]
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    text = [
        "  ".join(
            cell.ljust(w) if i < 2 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(line, widths, strict=True))
        ).rstrip()
        for line in lines
    ]
    unpriced = report["total"]["unpriced_models"]
    if unpriced:
        text.append(
            f"* unpriced: no price for {', '.join(unpriced)}; their calls count as $0 here "
            "(set GEMINI_PRICES)"
        )
    return text
