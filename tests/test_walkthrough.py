"""The walkthrough: one call per chunk beside the agents, merged, rendered first, escaped,
switched by the repository, kept for unchanged files on a push, never failing a review."""

from __future__ import annotations

import json

from bot.output import Report, render
from bot.review.changes import Diff, Skipped, parse_file
from bot.review.coverage import Coverage
from bot.review.metering import Budget, LocalMeter
from bot.review.render import Summary, render_summary
from bot.review.supervisor import ReviewSupervisor
from bot.review.walkthrough import (
    FileRow,
    Focus,
    ModelFocus,
    ModelRow,
    Part,
    WalkAnswer,
    Walkthrough,
    carry,
    merge,
)
from tests.fakes.diffs import make_file_diff
from tests.inert import tokens
from tests.reviewing import OWNER, REPO, finding, many_files, open_pull, run_review, summary_of
from tests.test_metering import over_budget_files

CONFIG = ".github/second-look.yml"


def diff_of(files: dict[str, tuple[str, str]]) -> Diff:
    return Diff(files=[parse_file(make_file_diff(p, o, n)) for p, (o, n) in files.items()])


def meter(tokens: int = 10**9) -> LocalMeter:
    return LocalMeter(Budget(tokens), rpm=60_000)


def answer(paths: list[str], summary: str, effort: int, **kw) -> WalkAnswer:
    return WalkAnswer(
        summary=summary,
        files=[
            ModelRow(path=p, group=kw.get("group", "Code"), change=f"Edits {p}.") for p in paths
        ],
        effort=effort,
        effort_reason=f"effort {effort}",
        focus=[ModelFocus(path=p, why="look") for p in paths[:1]],
    )


WALK = Walkthrough(
    summary="Adds an eval endpoint. The description does not mention the eval.",
    files=(
        FileRow("app.py", "Feature", "Adds `evaluate`."),
        FileRow("tests/test_app.py", "Tests", "Tests it."),
        FileRow("app_util.py", "Feature", "A helper."),
    ),
    effort=3,
    effort_reason="A small change with a security risk.",
    focus=(Focus("app.py", "eval of user input"),),
)


# Merging the chunks' answers (no extra call)


def test_chunks_merge_in_order_rows_concatenated_highest_effort_first_sentences():
    parts = [
        Part(2, ("b.py", "c.py"), answer(["b.py", "c.py", "z.py"], "Two. Three. Four.", 4)),
        Part(1, ("a.py",), answer(["a.py"], "One sentence here. And another one.", 2)),
    ]

    walk = merge(parts, ["part 3: the token budget ran out"])

    assert [r.path for r in walk.files] == ["a.py", "b.py", "c.py"], "z.py is not in its part"
    assert (walk.effort, walk.effort_reason) == (4, "effort 4")
    assert walk.summary == "One sentence here. And another one. Two. Three."
    assert [f.path for f in walk.focus] == ["a.py", "b.py"]
    assert walk.missing == ("part 3: the token budget ran out",)


def test_long_model_text_is_cut():
    long = answer(["a.py"], "word " * 500, 3)
    long.files[0].change = "x" * 1_000

    walk = merge([Part(1, ("a.py",), long)])

    assert len(walk.summary) == 400 and walk.summary.endswith("…")
    assert len(walk.files[0].change) == 240


def test_an_effort_out_of_range_is_clamped():
    assert merge([Part(1, ("a.py",), answer(["a.py"], "x.", 9))]).effort == 5
    assert merge([Part(1, ("a.py",), answer(["a.py"], "x.", -2))]).effort == 1
    assert merge([]).effort is None and merge([]).empty


def test_a_push_replaces_the_rows_of_changed_files_and_keeps_the_others():
    previous = Walkthrough(
        "Old.", (FileRow("a.py", "G", "old a"), FileRow("b.py", "G", "old b")), effort=2
    )
    now = Walkthrough("New.", (FileRow("b.py", "G", "new b"), FileRow("c.py", "G", "new c")), 1)

    walk = carry(now, previous, {"b.py", "c.py"}, "abc123")

    assert [(r.path, r.change) for r in walk.files] == [
        ("a.py", "old a"),
        ("b.py", "new b"),
        ("c.py", "new c"),
    ]
    assert (walk.summary, walk.effort, walk.kept, walk.kept_from) == ("New.", 1, 1, "abc123")
    gone = carry(now, previous, {"a.py", "b.py", "c.py"}, "abc123")
    assert [r.path for r in gone.files] == ["b.py", "c.py"], "a.py left the PR"
    assert gone.kept == 0
    alone = carry(now, None, {"b.py", "c.py"}, "abc123")
    assert (alone.files, alone.kept, alone.kept_from) == (now.files, 0, "abc123")


# Rendering


def test_the_summary_opens_with_the_walkthrough_grouped_by_purpose():
    summary = Summary(
        "0123456789abcdef", "completed", walkthrough=WALK, coverage=Coverage(3, 3, 10, 10)
    )

    body = render_summary(summary)

    lines = body.splitlines()
    assert lines[1:4] == ["## Second Look review", "", "### Walkthrough"]
    assert body.index("### Walkthrough") < body.index("Reviewed `0123456789ab`")
    table = [line for line in lines if line.startswith("| ")]
    assert table == [
        "| Purpose | File | What changed |",
        "| Feature | app.py | Adds \\`evaluate\\`. |",
        "| Feature | app\\_util.py | A helper. |",
        "| Tests | tests/test\\_app.py | Tests it. |",
    ]
    assert "**Review effort: 3/5.** A small change with a security risk." in body
    assert "- `app.py`: eval of user input" in body
    found = {t.type for t in tokens(body)}
    assert {"table_open", "heading_open"} <= found


def test_a_cut_review_says_what_the_walkthrough_does_not_describe():
    left_out = Skipped("big.py", "over this review's token budget", lines=800, cut=True)
    coverage = Coverage(4, 3, 900, 100, not_reviewed=(left_out,))
    summary = Summary("0123456789abcdef", "completed", walkthrough=WALK, coverage=coverage)

    body = render_summary(summary)

    walk = body[body.index("### Walkthrough") : body.index("Partial review")]
    assert "It does not describe 1 file(s) the review did not read" in walk
    assert "big.py" in body[body.index("not reviewed") :]


def test_a_missing_walkthrough_says_why_and_a_switched_off_one_is_absent():
    missing = Walkthrough(missing=("part 1: Gemini answered 500 INTERNAL",))

    body = render_summary(Summary("0123456789abcdef", "completed", walkthrough=missing))

    assert "_The walkthrough is missing: part 1: Gemini answered 500 INTERNAL._" in body
    off = render_summary(Summary("0123456789abcdef", "completed"))
    assert "Walkthrough" not in off


def test_text_and_json_carry_the_walkthrough():
    summary = Summary(
        "0123456789abcdef", "completed", walkthrough=WALK, coverage=Coverage(3, 3, 10, 10)
    )
    report = Report(summary, Diff(files=[]), "diff from standard input")

    text = render(report, "text")
    data = json.loads(render(report, "json"))

    assert text.index("Walkthrough") < text.index("No findings")
    assert "    app.py: Adds `evaluate`." in text and "Review effort: 3/5." in text
    assert data["version"] == 4
    assert data["walkthrough"]["files"][0] == {
        "path": "app.py",
        "group": "Feature",
        "change": "Adds `evaluate`.",
    }
    assert (data["walkthrough"]["effort"], data["walkthrough"]["not_described"]) == (3, [])
    assert render(report, "markdown").startswith("## Second Look review\n\n### Walkthrough\n")


# The supervisor


async def test_one_walkthrough_call_per_chunk_at_once_with_the_agents(services, fake_gemini):
    fake_gemini.latency = 0.3
    diff = diff_of({f"f{i}.py": ("", "total = compute(x, y)\n" * 40) for i in range(6)})
    supervisor = ReviewSupervisor(
        services.gemini, meter(), chunk_tokens=500, walk=True, max_in_flight=64
    )

    result = await supervisor.run(diff, diff.paths)

    walks = fake_gemini.requests_of("walkthrough")
    assert result.chunks > 1 and len(walks) == result.chunks
    agents = [r for r in fake_gemini.requests if r.agent not in ("walkthrough", "verifier")]
    first = min(r.time for r in walks + agents)
    assert all(r.time - first < 0.3 for r in walks + agents), "all asked before any answered"
    assert sorted(p.number for p in result.walked) == list(range(1, result.chunks + 1))
    same = next(a for a in agents if a.files == walks[0].files)
    shared = same.prompt[: same.prompt.index("Your task")]
    assert walks[0].prompt.startswith(shared), "the walkthrough reads the agents' prefix"


async def test_the_plan_counts_the_walkthrough_call(services, fake_gemini):
    without = ReviewSupervisor(services.gemini, meter(200_000))
    with_walk = ReviewSupervisor(services.gemini, meter(200_000), walk=True)

    assert 0 < with_walk.capacity() < without.capacity()


async def test_a_failed_walkthrough_call_leaves_the_agents_whole(services, fake_gemini):
    diff = diff_of({"a.py": ("", "x = compute(1)\n" * 10)})
    budget = meter()
    supervisor = ReviewSupervisor(services.gemini, budget, walk=True)
    fake_gemini.fail_next(400, agent="walkthrough")

    result = await supervisor.run(diff, diff.paths)

    assert result.walked == [] and len(result.walk_missing) == 1
    assert result.walk_missing[0].startswith("part 1: Gemini answered 400")
    assert result.failures == [] and result.answered == 4


# End to end: the App with the fakes


async def test_the_posted_summary_and_check_run_open_with_the_walkthrough(
    services, fake_github, fake_gemini
):
    pull = open_pull(fake_github)

    review = await run_review(services, pull)

    assert review.status == "completed"
    (walk,) = fake_gemini.requests_of("walkthrough")
    assert "Title:" in walk.prompt and walk.files == ["app.py"]
    body = summary_of(fake_github)
    assert body.splitlines()[1:4] == ["## Second Look review", "", "### Walkthrough"]
    assert "| Code | app.py | Changes app.py. |" in body
    (check,) = fake_github.check_runs(OWNER, REPO, pull.head_sha)
    assert check["output"]["summary"].startswith("## Second Look review\n\n### Walkthrough")


async def test_the_repository_can_switch_the_walkthrough_off(services, fake_github, fake_gemini):
    pull = open_pull(fake_github)
    fake_github.set_content(OWNER, REPO, "main", CONFIG, "walkthrough: false\n")

    review = await run_review(services, pull)

    assert review.status == "completed"
    assert fake_gemini.requests_of("walkthrough") == []
    assert "Walkthrough" not in summary_of(fake_github)


async def test_a_failed_walkthrough_call_does_not_fail_the_review(
    services, fake_github, fake_gemini
):
    pull = open_pull(fake_github)
    fake_gemini.findings["security"] = [finding()]
    fake_gemini.fail_next(400, agent="walkthrough", message="Request contains an invalid argument.")

    review = await run_review(services, pull)

    assert (review.status, review.stats["partial"]) == ("completed", False)
    body = summary_of(fake_github)
    assert "_The walkthrough is missing: part 1: Gemini answered 400" in body
    assert "eval of user input" in body, "the agents' findings are posted"


async def test_a_push_keeps_the_rows_of_unchanged_files_and_redoes_the_changed(
    services, fake_github, fake_gemini
):
    pull = open_pull(fake_github, files=many_files(3))
    await run_review(services, pull, "opened")
    fake_gemini.walkthrough = lambda seen: {
        "summary": "The push doubles module 2 again.",
        "files": [{"path": p, "group": "Push", "change": "Redone."} for p in seen.files],
        "effort": 1,
        "effort_reason": "One line.",
        "focus": [],
    }
    pull.push({"pkg/module_002.py": "VALUE = 2\nDOUBLE = 2 * 2\nTRIPLE = 6\n"})

    second = await run_review(services, pull, "synchronize")

    assert second.stats["incremental"] is True
    (walk,) = fake_gemini.requests_of("walkthrough")[-1:]
    assert walk.files == ["pkg/module_002.py"]
    body = summary_of(fake_github)
    rows = [line for line in body.splitlines() if line.startswith("| ") and "module" in line]
    assert rows == [
        "| Code | pkg/module\\_000.py | Changes pkg/module\\_000.py. |",
        "| Code | pkg/module\\_001.py | Changes pkg/module\\_001.py. |",
        "| Push | pkg/module\\_002.py | Redone. |",
    ]
    assert "The push doubles module 2 again." in body
    assert "The rows of 2 file(s) unchanged since" in body


async def test_a_review_cut_by_its_budget_describes_what_it_read_and_names_the_rest(
    services, fake_github, fake_gemini
):
    pull = open_pull(fake_github, files=over_budget_files())
    tight = "agents: [bugs]\nverify: false\nmax_review_tokens: 6000\n"
    fake_github.set_content(OWNER, REPO, "main", CONFIG, tight)

    review = await run_review(services, pull)

    assert review.stats["partial"] is True
    read = {p for r in fake_gemini.requests_of("walkthrough") for p in r.files}
    assert read == {p for r in fake_gemini.requests_of("bugs") for p in r.files}
    body = summary_of(fake_github)
    walk = body[body.index("### Walkthrough") : body.index("Partial review")]
    described = {
        line.split(" | ")[1].replace("\\", "")
        for line in walk.splitlines()
        if line.startswith("| ") and not line.startswith("| Purpose")
    }
    assert described == read and "docs/guide.md" not in described
    left = 6 - len(read)
    assert f"It does not describe {left} file(s) the review did not read" in walk
