"""`python -m bot usage`: Gemini calls, tokens and cost per repository and UTC day."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from bot.pull import Pull
from bot.store import feedback, pulls, queue

NOW = datetime.now(UTC)
# Yesterday's noon (UTC) is 12 to 36 hours ago: inside --since 2d, and its calls share one day.
YESTERDAY = NOW.replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(days=1)
THREE_DAYS_AGO = YESTERDAY - timedelta(days=2)
TEN_DAYS_AGO = YESTERDAY - timedelta(days=9)


async def usage(
    database_url: str, cwd: Path, *args: str, **env: str
) -> subprocess.CompletedProcess[str]:
    """`python -m bot usage ARGS` with DATABASE_URL and nothing else of the App's settings."""
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "bot", "usage", *args],
        cwd=cwd,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "DATABASE_URL": database_url, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


async def add_review(pool, owner: str, repo: str) -> uuid.UUID:
    review = queue.NewReview(
        id=uuid.uuid4(),
        installation_id=1,
        owner=owner,
        repo=repo,
        pr_number=1,
        head_sha="a" * 40,
        base_ref="main",
        trigger=queue.Trigger.MANUAL,
        draft=False,
    )
    async with pool.acquire() as conn:
        await queue.create(conn, [review])
    return review.id


async def add_call(
    pool,
    review_id: uuid.UUID,
    owner: str,
    repo: str,
    at: datetime,
    model: str = "gemini-2.5-flash",
    prompt: int = 0,
    cached: int = 0,
    output: int = 0,
    thinking: int = 0,
    cost: str = "0",
    status: str = "ok",
    output_cost: str = "0",
) -> None:
    await pool.execute(
        "INSERT INTO gemini_calls (review_id, installation_id, owner, repo, model, agent, chunk,"
        " chunk_digest, attempt, status, prompt_tokens, cached_tokens, output_tokens,"
        " thinking_tokens, cost_usd, created_at, output_cost_usd)"
        " VALUES ($1, 1, $2, $3, $4, 'bugs', 1, 'digest', 1, $5, $6, $7, $8, $9, $10, $11, $12)",
        review_id,
        owner,
        repo,
        model,
        status,
        prompt,
        cached,
        output,
        thinking,
        Decimal(cost),
        at,
        Decimal(output_cost),
    )


@pytest.fixture
async def calls(pool) -> None:
    """Calls of octo/widgets yesterday and three days ago, of octo/gadgets yesterday (one of
    them on a model without a price) and ten days ago."""
    widgets = await add_review(pool, "octo", "widgets")
    gadgets = await add_review(pool, "octo", "gadgets")
    w = (widgets, "octo", "widgets")
    g = (gadgets, "octo", "gadgets")
    await add_call(
        pool,
        *w,
        YESTERDAY,
        prompt=1000,
        cached=200,
        output=100,
        thinking=50,
        cost="0.0006",
        output_cost="0.000375",
    )
    await add_call(
        pool,
        *w,
        YESTERDAY + timedelta(hours=1),
        model="gemini-2.5-pro",
        prompt=3000,
        output=300,
        cost="0.00676",
        output_cost="0.003",
    )
    # A failed call of a priced model costs nothing, and is not unpriced.
    await add_call(pool, *w, YESTERDAY + timedelta(hours=2), status="failed")
    await add_call(
        pool, *w, THREE_DAYS_AGO, prompt=500, output=10, cost="0.000175", output_cost="0.000025"
    )
    await add_call(
        pool, *g, YESTERDAY + timedelta(minutes=30), model="gemini-9-ultra", prompt=2000, output=100
    )
    await add_call(
        pool,
        *g,
        YESTERDAY + timedelta(hours=2),
        prompt=4000,
        cached=1000,
        output=200,
        cost="0.00143",
        output_cost="0.0005",
    )
    await add_call(pool, *g, TEN_DAYS_AGO, prompt=7000, output=70, cost="0.002275")


def table(stdout: str) -> list[list[str]]:
    """The table's rows (header and footnote left out), split into cells."""
    lines = stdout.splitlines()
    return [line.split() for line in lines[2:] if not line.startswith("*")]


Y, D3, D10 = (d.date().isoformat() for d in (YESTERDAY, THREE_DAYS_AGO, TEN_DAYS_AGO))


async def test_usage_per_repository_and_day_with_a_total(database_url, calls, tmp_path):
    result = await usage(database_url, tmp_path)

    assert result.returncode == 0, result.stderr
    assert table(result.stdout) == [
        ["octo/gadgets", Y, "2", "6,000", "1,000", "300", "0", "0.0014", "0.0005", "*"],
        ["octo/widgets", D3, "1", "500", "0", "10", "0", "0.0002", "0.0000"],
        ["octo/widgets", Y, "3", "4,000", "200", "400", "50", "0.0074", "0.0034"],
        ["total", "6", "10,500", "1,200", "710", "50", "0.0090", "0.0039", "*"],
    ]
    lines = result.stdout.splitlines()
    since = (datetime.now(UTC) - timedelta(days=7)).strftime("%Y-%m-%d")
    assert lines[0].startswith(f"Gemini calls since {since} ")
    assert lines[1].split() == [
        "repository",
        "day",
        "calls",
        "input",
        "cached",
        "output",
        "thinking",
        "cost",
        "USD",
        "output",
        "USD",
    ]
    # Aligned: every column of numbers ends where its header does.
    assert len({len(line.removesuffix("  *")) for line in lines[1:-1]}) == 1
    assert lines[-1].startswith("* unpriced: no price for gemini-9-ultra;")


async def test_since_takes_days_and_hours(database_url, calls, tmp_path):
    month = await usage(database_url, tmp_path, "--since", "30d")
    two_days = await usage(database_url, tmp_path, "--since", "2d")
    an_hour = await usage(database_url, tmp_path, "--since", "1h")

    assert [row[:2] for row in table(month.stdout)] == [
        ["octo/gadgets", D10],
        ["octo/gadgets", Y],
        ["octo/widgets", D3],
        ["octo/widgets", Y],
        ["total", "7"],
    ]
    assert [row[:2] for row in table(two_days.stdout)] == [
        ["octo/gadgets", Y],
        ["octo/widgets", Y],
        ["total", "5"],
    ]
    assert an_hour.returncode == 0, an_hour.stderr
    printed = an_hour.stdout.strip()
    assert printed.startswith("no Gemini calls since ") and "\n" not in printed
    since = datetime.strptime(printed.removeprefix("no Gemini calls since "), "%Y-%m-%d %H:%M UTC")
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)  # now, not when the suite started
    assert abs(since.replace(tzinfo=UTC) - an_hour_ago) < timedelta(minutes=2)


async def test_repo_keeps_one_repository(database_url, calls, tmp_path):
    result = await usage(database_url, tmp_path, "--repo", "Octo/Widgets")  # without case
    elsewhere = await usage(database_url, tmp_path, "--repo", "octo/elsewhere")

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Gemini calls in Octo/Widgets since ")
    assert table(result.stdout) == [
        ["octo/widgets", D3, "1", "500", "0", "10", "0", "0.0002", "0.0000"],
        ["octo/widgets", Y, "3", "4,000", "200", "400", "50", "0.0074", "0.0034"],
        ["total", "4", "4,500", "200", "410", "50", "0.0075", "0.0034"],
    ]
    assert "unpriced" not in result.stdout
    assert elsewhere.stdout.startswith("no Gemini calls in octo/elsewhere since ")


async def test_json_format(database_url, calls, tmp_path):
    result = await usage(database_url, tmp_path, "--format", "json", "--since", "2d")

    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    since = datetime.fromisoformat(report["since"])
    assert abs(since - (datetime.now(UTC) - timedelta(days=2))) < timedelta(minutes=2)
    assert report["repository"] is None
    assert report["rows"] == [
        {
            "repository": "octo/gadgets",
            "day": Y,
            "calls": 2,
            "input_tokens": 6000,
            "cached_tokens": 1000,
            "output_tokens": 300,
            "thinking_tokens": 0,
            "cost_usd": 0.00143,
            "output_cost_usd": 0.0005,
            "unpriced_models": ["gemini-9-ultra"],
        },
        {
            "repository": "octo/widgets",
            "day": Y,
            "calls": 3,
            "input_tokens": 4000,
            "cached_tokens": 200,
            "output_tokens": 400,
            "thinking_tokens": 50,
            "cost_usd": 0.00736,
            "output_cost_usd": 0.003375,
            "unpriced_models": [],
        },
    ]
    total = report.pop("total")
    assert total.pop("cost_usd") == pytest.approx(0.00879)
    assert total.pop("output_cost_usd") == pytest.approx(0.003875)
    assert total == {
        "calls": 5,
        "input_tokens": 10000,
        "cached_tokens": 1200,
        "output_tokens": 700,
        "thinking_tokens": 50,
        "unpriced_models": ["gemini-9-ultra"],
    }


async def test_json_format_of_nothing_is_still_json(database_url, pool, tmp_path):
    result = await usage(database_url, tmp_path, "--format", "json", "--repo", "octo/widgets")

    report = json.loads(result.stdout)
    assert report["repository"] == "octo/widgets"
    assert report["rows"] == []
    assert report["total"] == {
        "calls": 0,
        "input_tokens": 0,
        "cached_tokens": 0,
        "output_tokens": 0,
        "thinking_tokens": 0,
        "cost_usd": 0,
        "output_cost_usd": 0,
        "unpriced_models": [],
    }


async def test_a_model_priced_in_gemini_prices_is_not_unpriced(database_url, calls, tmp_path):
    free = {"gemini-9-ultra": {"input": 0, "cached": 0, "output": 0}}
    (tmp_path / ".env").write_text(f"GEMINI_PRICES='{json.dumps(free)}'\n", encoding="utf-8")

    result = await usage(database_url, tmp_path)

    assert result.returncode == 0, result.stderr
    assert table(result.stdout)[0] == [
        "octo/gadgets",
        Y,
        "2",
        "6,000",
        "1,000",
        "300",
        "0",
        "0.0014",
        "0.0005",
    ]
    assert "unpriced" not in result.stdout


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--repo", "octo"], "--repo expects OWNER/REPO, got 'octo'"),
        (["--repo", "octo/widgets/7"], "--repo expects OWNER/REPO"),
        (["--repo", "octo/wid gets"], "--repo expects OWNER/REPO"),
        (["--since", "7"], "--since expects Nd or Nh"),
        (["--since", "0d"], "--since expects Nd or Nh"),
        (["--since", "2w"], "--since expects Nd or Nh"),
    ],
)
async def test_a_malformed_argument_is_a_usage_error(tmp_path, args, expected):
    # Refused before connecting: the database named here does not exist.
    result = await usage("postgresql://nobody@127.0.0.1:1/none", tmp_path, *args)

    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"second-look: {expected}")
    assert result.stdout == ""


async def test_malformed_gemini_prices_is_a_configuration_error(database_url, pool, tmp_path):
    result = await usage(database_url, tmp_path, GEMINI_PRICES="{nope")

    assert result.returncode == 2
    assert result.stderr.startswith("second-look: configuration error: GEMINI_PRICES is not JSON")


async def test_an_unmigrated_database_says_to_migrate(make_database, tmp_path):
    result = await usage(make_database(), tmp_path)

    assert result.returncode == 1
    assert result.stderr.strip() == (
        "second-look: the database has no gemini_calls table: run python -m bot migrate"
    )


async def add_feedback(pool, repo: str, fingerprint: str, agent: str, up: int, down: int):
    reactions = [feedback.Reactions(fingerprint, agent, up, down)]
    await feedback.store(pool, Pull(1, "octo", repo, 1), reactions)


async def test_feedback_gives_acceptance_per_agent_and_repository(database_url, pool, tmp_path):
    await add_feedback(pool, "widgets", "f1", "security", 2, 0)  # accepted
    await add_feedback(pool, "widgets", "f2", "security", 0, 1)  # rejected
    await add_feedback(pool, "gadgets", "f3", "bugs", 1, 0)  # accepted...
    await pulls.dismiss(
        pool, Pull(1, "octo", "gadgets", 1), "f3", "lead", "reply"
    )  # ...but dismissed
    await add_feedback(pool, "gadgets", "f4", "style", 1, 1)  # a tie: neither

    text = await usage(database_url, tmp_path)
    result = await usage(database_url, tmp_path, "--format", "json")

    assert text.returncode == 0, text.stderr
    assert "Feedback on inline comments" in text.stdout
    assert [line.split() for line in text.stdout.splitlines() if line.startswith("security")] == [
        ["security", "1", "1", "2", "1", "50%"]
    ]
    report = json.loads(result.stdout)["feedback"]
    assert [(a["name"], a["accepted"], a["rejected"], a["rate"]) for a in report["agents"]] == [
        ("bugs", 0, 1, 0.0),
        ("security", 1, 1, 0.5),
        ("style", 0, 0, None),
    ]
    assert [(a["name"], a["rate"]) for a in report["repositories"]] == [
        ("octo/gadgets", 0.0),
        ("octo/widgets", 0.5),
    ]
