"""ReviewSupervisor: chunks under the budget, every (agent, chunk) call at once, metered."""

from __future__ import annotations

import pytest

from bot.review.changes import Diff, parse_file
from bot.review.chunks import chunk_diff
from bot.review.gemini import digest
from bot.review.metering import Budget, LocalMeter, QuotaReached
from bot.review.prompt import Brief, Guidance, Intent, PathRule
from bot.review.supervisor import CALL_MARGIN, ReviewSupervisor
from tests.fakes.diffs import make_file_diff
from tests.fakes.gemini import shared_prefix


def diff_of(files: dict[str, tuple[str, str]]) -> Diff:
    return Diff(files=[parse_file(make_file_diff(p, o, n)) for p, (o, n) in files.items()])


def meter(tokens: int = 10**9) -> LocalMeter:
    return LocalMeter(Budget(tokens), rpm=60_000)


def test_chunks_stay_under_the_budget_and_keep_every_file():
    diff = diff_of({f"f{i}.py": ("", "x = 1\n" * 50) for i in range(10)})

    chunks = chunk_diff(diff.files, budget_chars=2_000)

    assert all(len(chunk.text) <= 2_000 for chunk in chunks)
    assert sum(chunk.text.count("=== File: ") for chunk in chunks) == 10
    assert [c.number for c in chunks] == list(range(1, len(chunks) + 1))


def test_a_file_larger_than_the_budget_is_cut_by_hunks():
    old = "".join(f"line {i}\n" for i in range(400))
    new = old.replace("line 10\n", "LINE 10\n").replace("line 300\n", "LINE 300\n")
    diff = diff_of({"big.py": (old, new)})

    chunks = chunk_diff(diff.files, budget_chars=250)  # one hunk fits, the file does not

    assert len(chunks) == 2
    assert all(chunk.text.startswith("=== File: big.py ===") for chunk in chunks)
    assert all(len(chunk.text) <= 250 and "cut at line" not in chunk.text for chunk in chunks)


def test_a_hunk_larger_than_a_chunk_is_cut_at_line_boundaries_with_a_note():
    new = "".join(f"value_{i} = {i}\n" for i in range(300))
    diff = diff_of({"big.py": ("", new)})

    chunks = chunk_diff(diff.files, budget_chars=1_000)

    assert len(chunks) > 3
    assert all(len(chunk.text) <= 1_000 for chunk in chunks)
    assert all("cut at line boundaries" in chunk.text for chunk in chunks)
    read = [line for chunk in chunks for line in chunk.text.splitlines() if "+| " in line]
    assert [line.split("+| ")[1] for line in read] == new.splitlines(), "no line lost or split"


async def test_the_plan_is_counted_in_one_round_of_requests(services, fake_gemini):
    fake_gemini.count_latency = 0.5
    supervisor = ReviewSupervisor(services.gemini, meter(), max_in_flight=8)
    diff = diff_of({"a.py": ("", "x = 1\n")})

    await supervisor.run(diff, diff.paths)

    times = sorted(r.time for r in fake_gemini.count_requests)
    assert len(times) == 6, "the system text, four tasks and the one chunk"
    assert times[-1] - times[0] < 0.5, "every count was asked before any was answered"


async def test_agents_run_at_once(services, fake_gemini):
    fake_gemini.latency = 0.5
    supervisor = ReviewSupervisor(services.gemini, meter(), max_in_flight=8)
    diff = diff_of({"a.py": ("", "x = 1\n")})

    result = await supervisor.run(diff, diff.paths)

    times = sorted(r.time for r in fake_gemini.requests)
    assert len(times) == 4 and result.calls == 4
    assert times[-1] - times[0] < 0.5, "every agent's request arrived before any was answered"


async def test_bound_on_calls_in_flight_is_kept(services, fake_gemini):
    fake_gemini.latency = 0.3
    supervisor = ReviewSupervisor(services.gemini, meter(), max_in_flight=1)
    diff = diff_of({"a.py": ("", "x = 1\n")})

    await supervisor.run(diff, diff.paths)

    times = sorted(r.time for r in fake_gemini.requests)
    assert all(later - earlier >= 0.29 for earlier, later in zip(times, times[1:], strict=False))


async def test_every_call_reserves_at_least_what_gemini_reports(services, fake_gemini):
    budget = meter()
    supervisor = ReviewSupervisor(services.gemini, budget, chunk_tokens=500)
    diff = diff_of({f"f{i}.py": ("", "total = compute(x, y)\n" * 40) for i in range(6)})

    await supervisor.run(diff, diff.paths)

    assert len(fake_gemini.requests) > 4, "more than one chunk"
    reserved = {(c.agent, c.chunk): c for c in budget.calls}
    for seen in fake_gemini.requests:
        assert seen.prompt_tokens <= sum(c.usage.prompt for c in budget.calls)
    assert budget.budget.spent == fake_gemini.seen_prompt_tokens()
    assert len(reserved) == len(fake_gemini.requests)


async def test_files_left_out_by_the_exact_count_are_the_least_important(services, fake_gemini):
    files = {f"f{i}.py": ("", f"v{i} = compute(x, y)\n" * 40) for i in range(6)}
    diff = diff_of(files)
    whole = ReviewSupervisor(services.gemini, meter(), chunk_tokens=500)
    await whole.run(diff, diff.paths)
    spent_on_all = fake_gemini.seen_prompt_tokens()
    fake_gemini.reset()

    tight = meter(int(spent_on_all * 0.6))
    result = await ReviewSupervisor(services.gemini, tight, chunk_tokens=500).run(diff, diff.paths)

    assert result.trimmed and result.trimmed[::-1] == diff.paths[-len(result.trimmed) :]
    sent = {path for r in fake_gemini.requests for path in r.files}
    assert sent == set(diff.paths) - set(result.trimmed)
    assert tight.budget.spent <= tight.budget.limit


async def test_a_stored_answer_is_used_instead_of_a_call(services, fake_gemini):
    diff = diff_of({"a.py": ("", "x = 1\n")})
    first = ReviewSupervisor(services.gemini, meter(), agents=["bugs"])
    fake_gemini.findings["bugs"] = [
        {
            "file_path": "a.py",
            "line_start": 1,
            "line_end": 1,
            "severity": "high",
            "title": "Wrong",
            "description": "d",
        }
    ]
    done = meter()
    await ReviewSupervisor(services.gemini, done, agents=["bugs"]).run(diff, diff.paths)
    assert [c.agent for c in done.calls] == ["bugs", "verifier"]
    fake_gemini.reset()

    stored = {(call.agent, call.digest): call.answer for call in done.calls}
    again = ReviewSupervisor(services.gemini, meter(), agents=["bugs"], reused=stored)
    result = await again.run(diff, diff.paths)

    assert fake_gemini.requests == []
    assert result.reused == 2 and [f.title for f in result.findings] == ["Wrong"]
    assert result.findings[0].verdict == "kept", "the stored verdict is used too"
    assert first.agents[0].name == "bugs"


async def test_a_reached_quota_stops_new_calls_and_is_raised(services, fake_gemini):
    fake_gemini.fail_next(429, retry_delay="600s", agent="security")
    supervisor = ReviewSupervisor(services.gemini, meter(), max_in_flight=1)
    diff = diff_of({"a.py": ("", "x = 1\n")})

    with pytest.raises(QuotaReached) as caught:
        await supervisor.run(diff, diff.paths)

    assert caught.value.after == 600.0
    assert len(fake_gemini.requests) < 4, "no call started after the quota was reached"


def test_the_call_margin_covers_gemini_framing():
    assert CALL_MARGIN >= 8
    assert digest("a") != digest("b")


async def test_the_agents_requests_for_a_chunk_share_ninety_percent_of_their_bytes(
    services, fake_gemini
):
    body = "".join(f"    total += item_{i}.price * item_{i}.quantity\n" for i in range(60))
    diff = diff_of({f"shop/cart_{n}.py": ("", f"def total_{n}(items):\n{body}") for n in range(3)})
    brief = Brief(Intent("Faster totals", "Sum the cart once.", "main"))

    await ReviewSupervisor(services.gemini, meter(), brief=brief).run(diff, diff.paths)

    agents = [r for r in fake_gemini.requests if r.agent != "verifier"]
    assert len(agents) == 4
    assert shared_prefix(agents) >= 0.9
    assert len({r.system for r in agents}) == 1, "one system text for every agent"


async def test_path_rules_reach_only_the_chunks_with_their_files(services, fake_gemini):
    files = {f"api/v{i}.py": ("", "x = 1\n" * 40) for i in range(2)}
    files.update({f"docs/d{i}.py": ("", "y = 2\n" * 40) for i in range(2)})
    diff = diff_of(files)
    rules = (PathRule("api/*", "Check every permission."),)
    brief = Brief(guidance=Guidance.of(".github/second-look.md", "Be brief.", rules=rules))

    supervisor = ReviewSupervisor(services.gemini, meter(), brief=brief, chunk_tokens=300)
    result = await supervisor.run(diff, diff.paths)

    assert result.chunks >= 2
    for request in fake_gemini.requests:
        assert "Be brief." in request.prompt
        api = any(path.startswith("api/") for path in request.files)
        assert ("Check every permission." in request.prompt) == api


async def test_a_failed_agent_leaves_its_chunk_verified_from_the_others(services, fake_gemini):
    fake_gemini.fail_next(400, agent="style")
    fake_gemini.findings["bugs"] = [
        {
            "file_path": "a.py",
            "line_start": 1,
            "line_end": 1,
            "severity": "high",
            "title": "Wrong",
            "description": "d",
        }
    ]
    diff = diff_of({"a.py": ("", "x = 1\n")})

    result = await ReviewSupervisor(services.gemini, meter()).run(diff, diff.paths)

    assert [f.agent for f in result.failures] == ["style"]
    assert [(f.title, f.verdict) for f in result.findings] == [("Wrong", "kept")]
