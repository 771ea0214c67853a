"""Markdown for GitHub: model text made inert, the summary kept under GitHub's limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from bot.review.changes import Skipped
from bot.review.coverage import Coverage
from bot.review.findings import Finding
from bot.review.markdown import ZWSP, clean
from bot.review.render import (
    MARKER,
    NOT_REVIEWED_PATHS,
    Summary,
    check_title,
    inline_body,
    render_summary,
)
from bot.review.walkthrough import FileRow, Focus, Walkthrough
from tests.inert import MENTION, assert_inert, hostile_text, shown, tokens

BUDGET = "over this review's token budget (max_review_tokens)"


def a_finding(severity: str = "low", title: str = "Rename x", **kw) -> Finding:
    fields = dict(
        agent_type="style",
        severity=severity,
        file_path="a.py",
        line_start=3,
        line_end=3,
        title=title,
        description="x says nothing.",
    )
    return Finding(**(fields | kw))


HTML_WE_WRITE = {MARKER, "<sub>", "</sub>", "</details>"}


@given(st.lists(hostile_text, min_size=7, max_size=7))
def test_no_hostile_text_breaks_out_of_the_summary(texts):
    title, description, path, reason, error, note, other_reason = texts
    path = path or "a.py"
    cut = Skipped(path, other_reason, lines=12, cut=True)
    summary = Summary(
        head_sha="0123456789abcdef",
        status="failed",
        error=error,
        findings=[a_finding("high", title, description=description, file_path=path)],
        resolved=[a_finding("low", title, file_path=path)],
        withheld=[
            a_finding(
                "medium",
                title,
                file_path=path,
                verdict="dropped",
                confidence=0.2,
                verify_reason=description,
                withheld=True,
            )
        ],
        guidance=note,
        skipped=[Skipped(path, reason)],
        failed_agents={"bugs": reason},
        notes=[note],
        coverage=Coverage(3, 1, 100, 40, not_reviewed=(cut,)),
        walkthrough=Walkthrough(
            summary=description,
            files=(FileRow(path, title, description), FileRow(reason, note, title)),
            effort=2,
            effort_reason=note,
            focus=(Focus(path, reason),),
            missing=(error,),
            kept_from=title,
            kept=1,
        ),
    )

    body = render_summary(summary)

    assert body.startswith(MARKER + "\n") and body.count("<!-- second-look") == 1
    found = tokens(body)
    assert not {"link_open", "image"} & {t.type for t in found}
    for token in found:
        if token.type.startswith("html"):
            assert token.content.strip() in HTML_WE_WRITE or token.content.startswith(
                "<details><summary>"
            ), token.content
        if token.type == "text":
            assert not MENTION.search(token.content), token.content
    spans = {t.content.replace(ZWSP, "") for t in found if t.type == "code_inline"}
    path_shown = " ".join(clean(path).split("\n")) or " "  # an empty span shows a space
    kept_shown = " ".join(clean(title[:12]).split("\n")) or " "
    assert spans == {"0123456789ab", path_shown, kept_shown}
    walk = body[body.index("### Walkthrough") : body.index("❌ Review of")]
    table = [t for t in tokens(walk) if t.type in ("tr_open", "th_open", "td_open")]
    assert sum(t.type == "tr_open" for t in table) == 3, "a header and two rows, whatever text"
    assert sum(t.type == "td_open" for t in table) == 6


def test_withheld_findings_are_counted_and_listed_folded_with_their_reason():
    withheld = a_finding(
        "critical",
        "eval of input",
        verdict="dropped",
        confidence=0.25,
        verify_reason="The input is a constant.",
        withheld=True,
    )
    summary = Summary(
        head_sha="0123456789abcdef",
        status="completed",
        withheld=[withheld],
        fail_on="critical",
        guidance="AGENTS.md, 2 path rules",
    )

    body = render_summary(summary)

    assert "<details><summary>1 finding(s) withheld after verification</summary>" in body
    assert "critical · eval of input in `a.py` (style, confidence 0.25): The input is a" in body
    assert "- Guidance: AGENTS.md, 2 path rules." in body
    assert "✅ Reviewed `0123456789ab`: no findings." in body, "a withheld finding fails nothing"


def test_inline_body_is_inert_too():
    body = inline_body(a_finding(title="`x` <b>y</b> @alice", description="[z](http://e.x)"), True)

    assert_inert(body.split("** · ", 1)[1].replace("<sub>(style)</sub>", ""))


def test_summary_names_head_counts_and_skipped_files():
    summary = Summary(
        head_sha="0123456789abcdef",
        status="completed",
        findings=[a_finding("high", "Off by one"), a_finding("low")],
        skipped=[Skipped("yarn.lock", "lock file", lines=420)],
        agents=["security", "style"],
    )

    body = render_summary(summary)

    assert body.startswith(MARKER)
    assert "⚠️ Reviewed `0123456789ab`: 2 finding(s) to look at." in body
    assert "🟠 high: 1 · 🔵 low: 1" in body
    assert "| security | 0 |" in body and "| style | 2 |" in body
    assert "<summary>1 file(s) not reviewed</summary>" in body
    assert "- lock file: 1 file, 420 changed lines\n  - `yarn.lock` (420 changed lines)\n" in body
    assert "partial" not in body.lower()


def test_summary_over_the_limit_cuts_the_least_severe_first_and_says_so():
    findings = [a_finding("critical", "Injection", description="d" * 500)] + [
        a_finding("info", f"Nit {i}", description="n" * 500) for i in range(300)
    ]

    body = render_summary(Summary("abc", "completed", findings=findings), limit=20_000)

    assert len(body) <= 20_000
    assert "Injection" in body
    assert "less severe finding(s) are not shown" in body


def test_a_finding_counts_for_each_of_its_sources_in_the_agents_table():
    summary = Summary(
        head_sha="0123456789abcdef",
        status="completed",
        findings=[
            a_finding("high", "Undefined name", agent_type="ruff F821 · bugs"),
            a_finding("critical", "AWS Access Key", agent_type="secrets AWSAccessKey"),
            a_finding("low", "Rename x"),
        ],
        agents=["security", "bugs", "style"],
    )

    body = render_summary(summary)

    table = body.split("| Agent | Findings |\n|---|---|\n", 1)[1].split("\n\n", 1)[0]
    assert table.splitlines() == [
        "| security | 0 |", "| bugs | 1 |", "| style | 1 |", "| ruff | 1 |", "| secrets | 1 |",
    ]  # fmt: skip


def test_failed_summary_gives_the_reason():
    body = render_summary(Summary("abc", "failed", error="GitHub answered 502 to GET /x: bad"))

    assert "**The review failed:** GitHub answered 502" in body


def test_inline_body_carries_a_suggestion_only_when_asked():
    finding = a_finding(suggestion="y = compute()")

    assert "```suggestion\ny = compute()\n```" in inline_body(finding, with_suggestion=True)
    assert "suggestion" not in inline_body(finding, with_suggestion=False)


def a_coverage(*not_reviewed: Skipped, files: int = 121, reviewed: int = 37) -> Coverage:
    return Coverage(files, reviewed, 1000, 123, not_reviewed=not_reviewed)


def test_a_partial_review_says_its_coverage_near_the_top_and_that_it_is_partial():
    left_out = Skipped("src/big.py", BUDGET, lines=800, cut=True)
    summary = Summary(
        "0123456789abcdef", "completed", findings=[a_finding("high")], coverage=a_coverage(left_out)
    )

    body = render_summary(summary)

    top = body.split("🟠 high: 1")[0]  # before the counts and the findings
    assert "⚠️ Partial review of `0123456789ab`: 1 finding(s)." in top
    assert "**This review is partial.** Reviewed 37 of 121 files, 12% of changed lines" in top
    assert "1 file(s) it would have read were left out" in top
    assert check_title(summary) == "Partial review: 1 high"


def test_a_full_review_says_its_coverage_and_is_not_called_partial():
    chosen = Skipped("logo.png", "binary")  # not reviewed by choice: the review is whole
    summary = Summary(
        "0123456789abcdef",
        "completed",
        findings=[a_finding("high")],
        coverage=a_coverage(chosen, files=2, reviewed=1),
    )

    body = render_summary(summary)

    assert "\nReviewed 1 of 2 files, 12% of changed lines.\n" in body.split("🟠 high: 1")[0]
    assert "⚠️ Reviewed `0123456789ab`" in body
    assert "partial" not in body.lower()
    assert check_title(summary) == "1 high"


def test_agent_calls_the_budget_did_not_allow_make_a_review_partial_too():
    coverage = Coverage(4, 3, 100, 75, unfinished=3, partly_files=1, partly_lines=25)
    summary = Summary("0123456789abcdef", "completed", coverage=coverage)

    body = render_summary(summary)

    assert (
        "**This review is partial.** Reviewed 3 of 4 files (1 more by only some of the "
        "agents), 75% of changed lines: 3 agent call(s) were not made: the token budget ran "
        "out.\n"
    ) in body
    assert "left out by its token budget" not in body  # no file was
    assert check_title(summary) == "Partial review: no findings"


def test_check_titles():
    cut = a_coverage(Skipped("a.py", BUDGET, cut=True))
    findings = [a_finding("high"), a_finding("high", "Other"), a_finding("low")]

    assert check_title(Summary("abc", "completed", findings=findings)) == "2 high, 1 low"
    assert check_title(Summary("abc", "completed")) == "No findings"
    assert check_title(Summary("abc", "completed", coverage=cut)) == "Partial review: no findings"
    assert (
        check_title(Summary("abc", "completed", findings=findings, coverage=cut))
        == "Partial review: 2 high, 1 low"
    )
    # The coverage decides: a review without one (it read no diff) is not called partial.
    assert (
        check_title(
            Summary("abc", "completed", skipped=[Skipped("a.py", "over 1,000 bytes", cut=True)])
        )
        == "No findings"
    )
    assert check_title(Summary("abc", "skipped")) == "Skipped"
    assert check_title(Summary("abc", "failed", error="boom")) == "Review failed: boom"


def not_reviewed_part(body: str) -> str:
    return body.split("<details>", 1)[1].split("</details>", 1)[0]


def test_files_not_reviewed_are_grouped_by_reason_cut_ones_first():
    files = [
        Skipped("yarn.lock", "lock file", lines=300),
        Skipped("src/b.py", BUDGET, lines=40, cut=True),
        Skipped("logo.png", "binary"),
        Skipped("Cargo.lock", "lock file", lines=1),
        Skipped("src/a.py", BUDGET, lines=2, cut=True),
        Skipped("data.csv", "diff of this file is over 100,000 bytes", lines=9000, cut=True),
    ]
    # The same file given in `skipped` and in the coverage is listed once.
    summary = Summary("abc", "completed", skipped=files[:2], coverage=a_coverage(*files))

    part = not_reviewed_part(render_summary(summary))

    assert part.startswith("<summary>6 file(s) not reviewed, 3 of them cut</summary>")
    lines = [line for line in part.split("\n") if line.startswith(("-", "  -", "Left", "Not"))]
    assert lines == [
        "Left out, so the review is partial:",
        r"- over this review's token budget (max\_review\_tokens): 2 files, 42 changed lines",
        "  - `src/b.py` (40 changed lines)",
        "  - `src/a.py` (2 changed lines)",
        "- diff of this file is over 100,000 bytes: 1 file, 9,000 changed lines",
        "  - `data.csv` (9,000 changed lines)",
        "Not reviewed:",
        "- lock file: 2 files, 301 changed lines",
        "  - `yarn.lock` (300 changed lines)",
        "  - `Cargo.lock` (1 changed line)",
        "- binary: 1 file",
        "  - `logo.png`",
    ]
    assert "over this review's token budget (max_review_tokens): 2 files" in shown(part)


def test_at_most_two_hundred_paths_are_named_and_the_rest_counted():
    files = [Skipped(f"data/{i:04d}.json", "generated", lines=5) for i in range(250)]
    files += [Skipped(f"src/{i:03d}.py", BUDGET, lines=7, cut=True) for i in range(150)]

    body = render_summary(Summary("abc", "completed", coverage=a_coverage(*files)))

    part = not_reviewed_part(body)
    named = [line for line in part.split("\n") if line.startswith("  - `")]
    assert len(named) == NOT_REVIEWED_PATHS == 200
    assert sum(line.startswith("  - `src/") for line in named) == 150  # cut files first
    assert "- generated: 250 files, 1,250 changed lines\n" in part
    assert "  - … and 200 more\n" in part
    assert "`data/0049.json`" in part and "`data/0050.json`" not in part


def test_very_long_paths_are_counted_not_named_past_the_lists_share_of_the_comment():
    files = [Skipped(f"{i:03d}/" + "d" * 1000 + ".txt", BUDGET, cut=True) for i in range(100)]
    files += [Skipped(f"r{i}", f"diff could not be parsed (bad line {i})") for i in range(100)]
    findings = [a_finding("high", f"Finding {i}", description="x" * 300) for i in range(100)]

    body = render_summary(
        Summary("abc", "completed", findings=findings, coverage=a_coverage(*files))
    )

    part = not_reviewed_part(body)
    assert len(part) < 30_000
    assert "  - … and " in part  # some of the long paths are counted
    assert "other reason(s)" in part  # and the many one-file reasons past the share too
    assert len(body) <= 65_536
    assert "Finding 99" in body, "the list does not crowd out the findings"


def test_a_hostile_path_or_reason_in_the_not_reviewed_list_stays_inert():
    path = "<img src=x onerror=alert(1)>/[x](https://evil.example)/@alice/#12/**b**.py"
    reason = "ignored by config (<b>@alice</b> [x](https://evil.example) #12 `x` | y)"
    summary = Summary("abc", "completed", coverage=a_coverage(Skipped(path, reason, 3, True)))

    part = not_reviewed_part(render_summary(summary)).split("</summary>", 1)[1]

    found = tokens(part)
    assert not {"html_inline", "html_block", "link_open", "image", "strong_open"} & {
        t.type for t in found
    }
    assert [t.content for t in found if t.type == "code_inline"] == [path]
    for token in found:
        if token.type == "text":
            assert not MENTION.search(token.content), token.content
    assert_inert(part.split("\n- ", 1)[1].split(": 1 file")[0])  # the reason alone
    assert clean(reason) in shown(part)


def test_the_footer_gives_tokens_cached_tokens_and_the_cost():
    usage = dict(
        calls=8,
        prompt_tokens=123_456,
        cached_tokens=1_000,
        output_tokens=2_345,
        thinking_tokens=4_096,
    )

    priced = render_summary(
        Summary("abc", "completed", cost_usd=0.04321, output_cost_usd=0.0161, **usage)
    )
    unpriced = render_summary(Summary("abc", "completed", cost_usd=None, **usage))
    tiny = render_summary(Summary("abc", "completed", cost_usd=0.00001, **usage))
    none = render_summary(Summary("abc", "failed", error="no key"))

    assert priced.endswith(
        "<sub>8 Gemini call(s), 123,456 input tokens (1,000 cached), 2,345 output tokens, "
        "4,096 thinking tokens, estimated cost $0.0432 ($0.0271 input, $0.0161 output and "
        "thinking).</sub>\n"
    )
    assert unpriced.endswith("4,096 thinking tokens, cost unknown for this model.</sub>\n")
    assert tiny.endswith("estimated cost under $0.0001.</sub>\n")
    assert none.endswith("<sub>No Gemini calls.</sub>\n")
    assert "characters" not in priced


def a_queued(until: datetime | None, reason: str = "GEMINI_RPD reached") -> Summary:
    return Summary("0123456789abcdef", "queued", queued_until=until, queued_reason=reason)


def test_a_queued_review_says_until_when_in_utc_and_why():
    summary = a_queued(datetime(2026, 12, 1, 14, 5, tzinfo=UTC), "daily budget of $5 reached.")

    body = render_summary(summary)

    assert (
        "⏳ Review of `0123456789ab` is queued until 14:05 UTC (2026-12-01): "
        r"daily budget of \$5 reached." + "\n"
    ) in body
    assert "No findings" not in body
    assert check_title(summary) == "Queued until 14:05 UTC"


def test_a_queued_time_is_shown_in_utc_rounded_up_to_the_minute():
    pacific = timezone(timedelta(hours=-8))
    midnight = datetime(2026, 12, 1, 23, 59, 0, 1, tzinfo=pacific)  # just after 07:59 UTC

    assert "queued until 08:00 UTC (2026-12-02):" in render_summary(a_queued(midnight))
    assert check_title(a_queued(datetime(2026, 12, 1, 7, 0))) == "Queued until 07:00 UTC"
    assert check_title(a_queued(None)) == "Queued"
    assert "is queued: GEMINI\\_RPD reached." in render_summary(a_queued(None))
    assert "is queued until 07:00 UTC (2026-12-01).\n" in render_summary(
        a_queued(datetime(2026, 12, 1, 7, 0, tzinfo=UTC), "")
    )


@given(hostile_text)
def test_a_queued_reason_is_inert(reason):
    body = render_summary(a_queued(datetime(2026, 12, 1, 14, 5, tzinfo=UTC), reason))

    line = body.split("is queued until 14:05 UTC (2026-12-01)", 1)[1].split("\n\n", 1)[0]
    assert_inert(line)
    assert body.count("<!-- second-look") == 1


@given(evidence=hostile_text, suggestion=hostile_text)
def test_an_inline_comments_evidence_and_plain_fix_stay_inert_and_fenced(evidence, suggestion):
    """The evidence line is text; a suggestion not offered one-click is a plain block whose
    fence its content cannot close (and a blank one is no block)."""
    body = inline_body(a_finding(evidence=evidence, suggestion=suggestion), False)

    lines = [p for p in body.split("\n\n") if p.startswith("**Evidence:**")]
    assert len(lines) == (1 if evidence.split() else 0)
    for line in lines:
        assert_inert(line.removeprefix("**Evidence:**"))
    fences = [t for t in tokens(body) if t.type == "fence"]
    assert len(fences) == (1 if suggestion.strip() else 0)
    assert all(fence.info == "" for fence in fences), "never a one-click block here"
