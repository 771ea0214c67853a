"""Markdown for GitHub: model text made inert, the summary kept under GitHub's limit."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.review.changes import Skipped
from bot.review.findings import Finding
from bot.review.markdown import ZWSP, clean
from bot.review.render import MARKER, Summary, inline_body, render_summary
from tests.inert import MENTION, assert_inert, hostile_text, tokens


def a_finding(severity: str = "low", title: str = "Rename x", **kw) -> Finding:
    fields = dict(agent_type="style", severity=severity, file_path="a.py", line_start=3,
                  line_end=3, title=title, description="x says nothing.")  # fmt: skip
    return Finding(**(fields | kw))


HTML_WE_WRITE = {MARKER, "<sub>", "</sub>", "</details>"}


@given(st.lists(hostile_text, min_size=6, max_size=6))
def test_no_hostile_text_breaks_out_of_the_summary(texts):
    title, description, path, reason, error, note = texts
    path = path or "a.py"
    summary = Summary(
        head_sha="0123456789abcdef",
        status="failed",
        error=error,
        findings=[a_finding("high", title, description=description, file_path=path)],
        resolved=[a_finding("low", title, file_path=path)],
        skipped=[Skipped(path, reason)],
        failed_agents={"bugs": reason},
        notes=[note],
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
    assert spans == {"0123456789ab", path_shown}


def test_inline_body_is_inert_too():
    body = inline_body(a_finding(title="`x` <b>y</b> @alice", description="[z](http://e.x)"), True)

    assert_inert(body.split("** · ", 1)[1].replace("<sub>(style)</sub>", ""))


def test_summary_names_head_counts_and_skipped_files():
    summary = Summary(
        head_sha="0123456789abcdef",
        status="completed",
        findings=[a_finding("high", "Off by one"), a_finding("low")],
        skipped=[Skipped("yarn.lock", "lock file")],
        agents=["security", "style"],
    )

    body = render_summary(summary)

    assert body.startswith(MARKER)
    assert "`0123456789ab`" in body
    assert "🟠 high: 1 · 🔵 low: 1" in body
    assert "| security | 0 |" in body and "| style | 2 |" in body
    assert "`yarn.lock`: lock file" in body


def test_summary_over_the_limit_cuts_the_least_severe_first_and_says_so():
    findings = [a_finding("critical", "Injection", description="d" * 500)] + [
        a_finding("info", f"Nit {i}", description="n" * 500) for i in range(300)
    ]

    body = render_summary(Summary("abc", "completed", findings=findings), limit=20_000)

    assert len(body) <= 20_000
    assert "Injection" in body
    assert "less severe finding(s) are not shown" in body


def test_failed_summary_gives_the_reason():
    body = render_summary(Summary("abc", "failed", error="GitHub answered 502 to GET /x: bad"))

    assert "**The review failed:** GitHub answered 502" in body


def test_inline_body_carries_a_suggestion_only_when_asked():
    finding = a_finding(suggestion="y = compute()")

    assert "```suggestion\ny = compute()\n```" in inline_body(finding, with_suggestion=True)
    assert "suggestion" not in inline_body(finding, with_suggestion=False)
