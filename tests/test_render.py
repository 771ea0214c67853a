"""Markdown for GitHub: model text made inert, the summary kept under GitHub's limit."""

from __future__ import annotations

import re

from bot.review.changes import Skipped
from bot.review.findings import Finding
from bot.review.render import MARKER, Summary, escape, fenced, inline_body, render_summary


def a_finding(severity: str = "low", title: str = "Rename x", **kw) -> Finding:
    fields = dict(agent_type="style", severity=severity, file_path="a.py", line_start=3,
                  line_end=3, title=title, description="x says nothing.")  # fmt: skip
    return Finding(**(fields | kw))


def test_escape_makes_model_text_inert():
    text = escape(
        "@org/team and @alice: see ![pic](https://evil.example/p.png), "
        "[click](http://evil.example) <script>alert(1)</script> www.evil.example"
    )

    for forbidden in ("@org", "@alice", "![", "<script", "https://", "http://", "www."):
        assert forbidden not in text
    assert re.search(r"(?<!\\)\]\(", text) is None, "no unescaped ]( to start a link"
    assert "&lt;script&gt;" in text


def test_fence_is_longer_than_any_backtick_run_inside():
    block = fenced("x = '```'\n", "suggestion")

    assert block.startswith("````suggestion\n")
    assert block.endswith("\n````")


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
