"""A review within its budget and the deployment's quota: what it reads first, what it says it
left out, what it spent (stored, call by call), and waiting in the queue for a quota."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta

import pytest

from bot.app.review_meter import ReviewMeter
from bot.app.services import Services
from bot.app.worker import process_review
from bot.review import verify
from bot.review.agents import ANSWER_TOKENS
from bot.review.gemini import AgentCallError, GeminiClient
from bot.review.metering import Budget
from bot.store import calls, quota, reviews
from tests.reviewing import OWNER, REPO, finding, new_review, open_pull, run_review, until

CONFIG = ".github/second-look.yml"
# Room for the source files and a test (without verification, which reads the chunk again).
MODEL = "gemini-2.5-flash"
TIGHT = "agents: [bugs]\nverify: false\nwalkthrough: false\nmax_review_tokens: 4000\n"


def lines(name: str, count: int) -> str:
    return "".join(f"{name}_{i} = compute({i}, scale)\n" for i in range(count))


def over_budget_files() -> dict[str, tuple[str | None, str]]:
    """Three small source files, a test and a doc of the same size, and a data file."""
    return {
        "src/a.py": (None, lines("a", 8)),
        "src/b.py": (None, lines("b", 8)),
        "src/c.py": (None, lines("c", 8)),
        "docs/guide.md": (None, lines("doc", 200)),  # arrives before the test file
        "tests/test_a.py": (None, lines("test", 200)),
        "data/table.csv": (None, "".join(f"{i},{i * i}\n" for i in range(3000))),
    }


def sent_paths(fake_gemini) -> set[str]:
    return {path for request in fake_gemini.requests for path in request.files}


async def test_a_pr_over_the_budget_gets_its_source_files_first_and_the_rest_named(
    services, fake_github, fake_gemini
):
    pull = open_pull(fake_github, files=over_budget_files())
    fake_github.set_content(OWNER, REPO, "main", CONFIG, TIGHT)

    review = await run_review(services, pull)

    assert review.status == "completed"
    assert sent_paths(fake_gemini) == {"src/a.py", "src/b.py", "src/c.py", "tests/test_a.py"}
    body = fake_github.comments(OWNER, REPO, pull.number)[0]["body"]
    assert "Reviewed 4 of 6 files" in body
    left_out = body[body.index("not reviewed") :]
    assert "`docs/guide.md`" in left_out and "(max\\_review\\_tokens)" in left_out
    assert "`data/table.csv`" in left_out and "generated or data file" in left_out
    assert review.stats["partial"] is True


async def test_a_partial_review_is_neutral_and_says_partial(services, fake_github, fake_gemini):
    pull = open_pull(fake_github, files=over_budget_files())
    fake_github.set_content(OWNER, REPO, "main", CONFIG, TIGHT)

    await run_review(services, pull)

    (check_run,) = fake_github.check_runs(OWNER, REPO, pull.head_sha)
    assert check_run["conclusion"] == "neutral"
    assert "partial" in check_run["output"]["title"].lower()


async def test_the_budget_is_never_exceeded(services, fake_github, fake_gemini):
    pull = open_pull(fake_github, files=over_budget_files())
    fake_github.set_content(OWNER, REPO, "main", CONFIG, "max_review_tokens: 8000\n")

    review = await run_review(services, pull)

    assert 0 < fake_gemini.seen_prompt_tokens() <= 8000
    assert (await calls.totals(services.pool, review.id)).prompt_tokens <= 8000


async def test_usage_rows_add_up_to_the_totals_and_to_what_gemini_saw(
    services, fake_github, fake_gemini
):
    fake_gemini.fail_next(503, agent="style")  # a retry is a row of its own
    fake_gemini.thinking_tokens = 7
    pull = open_pull(fake_github)

    review = await run_review(services, pull)

    rows = await services.pool.fetch(
        "SELECT * FROM gemini_calls WHERE review_id = $1 ORDER BY id", review.id
    )
    totals = await calls.totals(services.pool, review.id)
    seen = fake_gemini.requests
    assert len(rows) == len(seen) == totals.calls == 6
    assert [r["status"] for r in rows].count("failed") == 1
    ok = [r for r in rows if r["status"] == "ok"]
    assert sum(r["prompt_tokens"] for r in ok) == fake_gemini.seen_prompt_tokens()
    assert totals.prompt_tokens == sum(r["prompt_tokens"] for r in rows)
    assert totals.output_tokens == sum(r["output_tokens"] for r in rows)
    assert totals.thinking_tokens == sum(r["thinking_tokens"] for r in rows) == 7 * len(ok)
    assert totals.cost_usd > 0 and totals.cost_usd == float(sum(r["cost_usd"] for r in rows))
    output_usd = (totals.output_tokens + totals.thinking_tokens) * 2.50 / 1e6  # 2.5 Flash
    assert totals.output_cost_usd == float(sum(r["output_cost_usd"] for r in rows))
    assert totals.output_cost_usd == pytest.approx(output_usd)
    body = fake_github.comments(OWNER, REPO, pull.number)[0]["body"]
    assert f"{totals.prompt_tokens:,} input tokens" in body
    assert f"{totals.thinking_tokens:,} thinking tokens" in body
    assert f"${totals.output_cost_usd:,.4f} output and thinking)" in body


async def test_every_request_is_bounded_on_output_and_thinking(services, fake_github, fake_gemini):
    fake_gemini.thinking_tokens = 100_000  # unbounded, the model would think this much
    fake_gemini.findings["bugs"] = [finding("app.py", 1)]
    pull = open_pull(fake_github)

    await run_review(services, pull)

    budget = services.settings.gemini_thinking_budget
    by_agent = {r.agent: r for r in fake_gemini.requests}
    assert set(by_agent) == {"security", "bugs", "performance", "style", "verifier", "walkthrough"}
    for request in fake_gemini.requests:
        assert request.thinking_budget == budget
        assert request.max_output_tokens is not None
    assert by_agent["bugs"].max_output_tokens == ANSWER_TOKENS + budget
    assert by_agent["verifier"].max_output_tokens == verify.answer_tokens(1) + budget
    rows = await services.pool.fetch("SELECT thinking_tokens FROM gemini_calls")
    assert {r["thinking_tokens"] for r in rows} == {budget}


async def test_the_daily_cap_reserves_the_worst_case_and_settles_the_bill(
    settings, fake_github, fake_gemini, sleep
):
    now = [datetime(2026, 12, 1, 20, 0, tzinfo=UTC)]
    capped = type(settings)(**{**settings.__dict__, "daily_budget_usd": 1.0})
    pull = open_pull(fake_github)
    async with Services.open(capped, sleep=sleep, clock=lambda: now[0]) as services:
        # $0.005 left: an agent call's input costs far less, but its worst case (4,664 answer
        # and 1,024 thinking tokens at $2.50 a million, $0.0142) does not fit.
        await quota.settle_spend(
            services.pool, installation_id=pull.installation_id, now=now[0], delta_usd=0.995
        )
        review_id = await new_review(services.pool, pull)

        await process_review(review_id, services)

        assert (await reviews.get(services.pool, review_id)).status == "pending"
        assert fake_gemini.requests == []
        assert await quota.spent_today(services.pool, pull.installation_id, now[0]) == 0.995

        # Room again: the calls run, and the day holds their bill, not their reservations.
        await quota.settle_spend(
            services.pool, installation_id=pull.installation_id, now=now[0], delta_usd=-0.995
        )
        await services.pool.execute("UPDATE reviews SET not_before = NULL")
        await process_review(review_id, services)

        assert (await reviews.get(services.pool, review_id)).status == "completed"
        billed = await services.pool.fetchval("SELECT sum(cost_usd) FROM gemini_calls")
        spent = await quota.spent_today(services.pool, pull.installation_id, now[0])
        assert spent == pytest.approx(float(billed)) and spent > 0


async def test_a_repository_cannot_raise_the_deployments_budget(services, fake_github, fake_gemini):
    pull = open_pull(fake_github)
    fake_github.set_content(
        OWNER, REPO, "main", CONFIG, "max_review_tokens: 10000000\nmax_review_usd: 100\n"
    )

    review = await run_review(services, pull)

    assert review.status == "completed"
    body = fake_github.comments(OWNER, REPO, pull.number)[0]["body"]
    assert (
        "- Config `max_review_tokens`: 10,000,000 is above this deployment's "
        "MAX\\_REVIEW\\_TOKENS (400,000); using 400,000"
    ) in body
    assert "- Config `max_review_usd`: \\$100.00 is above this deployment's" in body
    spent = await calls.totals(services.pool, review.id)
    assert spent.cost_usd <= services.settings.max_review_usd


async def test_a_reached_daily_cap_queues_the_review_until_the_reset(
    settings, fake_github, fake_gemini, sleep
):
    now = [datetime(2026, 12, 1, 20, 0, tzinfo=UTC)]  # noon in California
    capped = type(settings)(**{**settings.__dict__, "daily_budget_usd": 1.0})
    pull = open_pull(fake_github)
    async with Services.open(capped, sleep=sleep, clock=lambda: now[0]) as services:
        await quota.settle_spend(
            services.pool, installation_id=pull.installation_id, now=now[0], delta_usd=1.0
        )
        review_id = await new_review(services.pool, pull)

        await process_review(review_id, services)

        queued = await reviews.get(services.pool, review_id)
        reset = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)  # midnight Pacific (PST)
        assert (queued.status, queued.attempts) == ("pending", 0)
        assert (
            await services.pool.fetchval("SELECT not_before FROM reviews WHERE id = $1", review_id)
            == reset
        )
        assert fake_gemini.requests == []
        body = fake_github.comments(OWNER, REPO, pull.number)[0]["body"]
        assert "queued until 08:00 UTC" in body and "DAILY\\_BUDGET\\_USD" in body
        (check_run,) = fake_github.check_runs(OWNER, REPO, pull.head_sha)
        assert check_run["status"] == "in_progress"

        await process_review(review_id, services)  # too early: not claimed
        assert (await reviews.get(services.pool, review_id)).status == "pending"

        now[0] = reset + timedelta(seconds=1)
        await process_review(review_id, services)

        assert (await reviews.get(services.pool, review_id)).status == "completed"
        assert len(fake_gemini.requests) == 5
        (check_run,) = fake_github.check_runs(OWNER, REPO, pull.head_sha)
        assert check_run["status"] == "completed"


async def test_a_long_retry_info_requeues_the_review(services, fake_github, fake_gemini, waits):
    fake_gemini.fail_next(429, times=4, retry_delay="600s")
    pull = open_pull(fake_github)
    review_id = await new_review(services.pool, pull)
    before = datetime.now(UTC)

    await process_review(review_id, services)

    review = await reviews.get(services.pool, review_id)
    assert (review.status, review.attempts) == ("pending", 0)
    not_before = await services.pool.fetchval(
        "SELECT not_before FROM reviews WHERE id = $1", review_id
    )
    asked = timedelta(seconds=600)
    assert before + asked <= not_before <= datetime.now(UTC) + asked
    assert all(wait < 600 for wait in waits), "the long wait is not waited out in place"
    assert "queued until" in fake_github.comments(OWNER, REPO, pull.number)[0]["body"]


async def test_a_resumed_review_reuses_the_answers_it_paid_for(services, fake_github, fake_gemini):
    fake_gemini.fail_next(429, times=1, retry_delay="600s", agent="style")
    pull = open_pull(fake_github)
    review_id = await new_review(services.pool, pull)
    await process_review(review_id, services)
    await services.pool.execute("UPDATE reviews SET not_before = NULL WHERE id = $1", review_id)

    await process_review(review_id, services)

    assert (await reviews.get(services.pool, review_id)).status == "completed"
    ok = [r.agent for r in fake_gemini.requests if r.status == 200]
    assert sorted(ok) == ["bugs", "performance", "security", "style", "walkthrough"], "once"


async def test_a_push_that_replaces_a_running_review_waits_to_settle(
    services, fake_github, fake_gemini, waits
):
    pull = open_pull(fake_github)
    first = await new_review(services.pool, pull)
    await services.pool.execute("UPDATE reviews SET attempts = 1 WHERE id = $1", first)
    pull.push({"app.py": "x = 2\n"})
    second = await new_review(services.pool, pull)

    await process_review(second, services)

    assert services.settings.push_settle_seconds in waits
    assert (await reviews.get(services.pool, second)).status == "completed"


async def test_a_lone_push_is_not_delayed(services, fake_github, fake_gemini, waits):
    await run_review(services, open_pull(fake_github))

    assert services.settings.push_settle_seconds not in waits


async def test_calls_cut_off_by_a_supersede_are_stored_as_spent(services, fake_github, fake_gemini):
    fake_gemini.latency = 2.0  # longer than the test takes to cut the calls off
    pull = open_pull(fake_github)
    review_id = await new_review(services.pool, pull)
    task = asyncio.create_task(process_review(review_id, services))
    await until(lambda: len(fake_gemini.requests) == 5)  # the agents and the walkthrough

    task.cancel()  # what the scheduler does to a superseded review's task
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.wait_for(task, 5)

    rows = await services.pool.fetch(
        "SELECT status, prompt_tokens, estimated FROM gemini_calls WHERE review_id = $1", review_id
    )
    assert [r["status"] for r in rows] == ["cancelled"] * 5
    assert all(r["prompt_tokens"] > 0 and r["estimated"] for r in rows)


async def _meter(services, fake_github):
    from bot.app.review_meter import ReviewMeter, budget_of

    review = await reviews.get(
        services.pool, await new_review(services.pool, open_pull(fake_github))
    )
    model = services.settings.gemini_model
    budget = await budget_of(services, review.id, 1_000_000, 100.0, model)
    return ReviewMeter(services, review, budget, model)


async def test_attempts_started_together_are_admitted_in_one_statement_in_order(
    services, fake_github, monkeypatch
):
    from bot.review.metering import Worst

    statements = []
    admit_many = quota.admit_many

    async def counted(*args, **kwargs):
        statements.append(len(kwargs["requests"]))
        return await admit_many(*args, **kwargs)

    monkeypatch.setattr(quota, "admit_many", counted)
    meter = await _meter(services, fake_github)
    worst = [Worst(1_000 * (i + 1), 100) for i in range(4)]

    async with asyncio.timeout(10):
        await asyncio.gather(*(meter.admit(w) for w in worst))  # the agents of a part
        await meter.admit(Worst(500, 100))  # the verifier, after them

    assert statements == [4, 1]
    last = await services.pool.fetchrow("SELECT last_at, last_tokens FROM gemini_quota")
    assert last["last_tokens"] == 500  # granted in the order asked, the verifier last
    spent = await quota.spent_today(services.pool, meter.review.installation_id, services.clock())
    assert spent == pytest.approx(sum(meter._worst_usd(w) for w in [*worst, Worst(500, 100)]))


async def test_an_attempt_cancelled_while_admitted_gives_its_reservation_back(
    services, fake_github
):
    from bot.review.metering import Worst

    meter = await _meter(services, fake_github)
    kept, dropped = Worst(1_000, 100), Worst(2_000, 5_000)

    async with asyncio.timeout(10):
        first = asyncio.create_task(meter.admit(kept))
        second = asyncio.create_task(meter.admit(dropped))
        await asyncio.sleep(0)  # both have asked; their statement is not sent yet
        second.cancel()
        await first
        with pytest.raises(asyncio.CancelledError):
            await second
        while meter._admitting:  # the batch gives the cancelled grant back
            await asyncio.sleep(0.01)

    spent = await quota.spent_today(services.pool, meter.review.installation_id, services.clock())
    assert spent == pytest.approx(meter._worst_usd(kept))
    assert meter.budget.reserved_usd == pytest.approx(meter.budget.cost(kept))


async def test_calls_that_never_reached_gemini_are_stored_at_no_cost(services, fake_github, sleep):
    pull = open_pull(fake_github)
    review = await reviews.get(services.pool, await new_review(services.pool, pull))
    meter = ReviewMeter(services, review, Budget(10**6, usd=5.0, price=None), MODEL)
    refused = GeminiClient(
        "AIzaSy-test", MODEL, "http://127.0.0.1:9", http=services.http, sleep=sleep
    )  # nothing listens on the discard port: every connection is refused

    with pytest.raises(AgentCallError):
        await refused.generate(
            agent="bugs",
            system="You review code.",
            prompt="Review this.",
            schema=verify.VerifyAnswer,
            meter=meter,
            answer_tokens=ANSWER_TOKENS,
        )

    rows = await services.pool.fetch("SELECT * FROM gemini_calls WHERE review_id = $1", review.id)
    assert len(rows) == 3  # every attempt stored
    assert {(r["status"], r["prompt_tokens"], float(r["cost_usd"])) for r in rows} == {
        ("failed", 0, 0.0)
    }
    assert (await calls.totals(services.pool, review.id)).cost_usd == 0.0
    spent = await quota.spent_today(services.pool, review.installation_id, services.clock())
    assert spent == 0.0  # the day's reservations were settled at nothing
    assert meter.budget.spent == 0 and meter.budget.spent_usd == 0.0
