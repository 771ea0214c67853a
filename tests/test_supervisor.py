"""ReviewSupervisor: chunks under the budget, every (agent, chunk) call at once."""

from __future__ import annotations

from bot.review.changes import Diff, parse_file
from bot.review.supervisor import ReviewSupervisor, chunk_diff
from tests.fakes.diffs import make_file_diff


def diff_of(files: dict[str, tuple[str, str]]) -> Diff:
    return Diff(files=[parse_file(make_file_diff(p, o, n)) for p, (o, n) in files.items()])


def test_chunks_stay_under_the_budget_and_keep_every_file():
    diff = diff_of({f"f{i}.py": ("", "x = 1\n" * 50) for i in range(10)})

    chunks = chunk_diff(diff, budget_chars=2_000)

    assert all(len(chunk) <= 2_000 for chunk in chunks)
    assert sum(chunk.count("=== File: ") for chunk in chunks) == 10


def test_a_file_larger_than_the_budget_is_cut_by_hunks():
    old = "".join(f"line {i}\n" for i in range(400))
    new = old.replace("line 10\n", "LINE 10\n").replace("line 300\n", "LINE 300\n")
    diff = diff_of({"big.py": (old, new)})

    chunks = chunk_diff(diff, budget_chars=200)

    assert len(chunks) == 2
    assert all(chunk.startswith("=== File: big.py ===") for chunk in chunks)


async def test_agents_run_at_once(services, fake_gemini):
    fake_gemini.latency = 0.5
    supervisor = ReviewSupervisor(services.gemini, max_in_flight=8)
    diff = diff_of({"a.py": ("", "x = 1\n")})

    result = await supervisor.run(diff, diff.paths)

    times = sorted(r.time for r in fake_gemini.requests)
    assert len(times) == 4 and result.calls == 4
    assert times[-1] - times[0] < 0.5, "every agent's request arrived before any was answered"


async def test_bound_on_calls_in_flight_is_kept(services, fake_gemini):
    fake_gemini.latency = 0.3
    supervisor = ReviewSupervisor(services.gemini, max_in_flight=1)
    diff = diff_of({"a.py": ("", "x = 1\n")})

    await supervisor.run(diff, diff.paths)

    times = sorted(r.time for r in fake_gemini.requests)
    assert all(later - earlier >= 0.29 for earlier, later in zip(times, times[1:], strict=False))
