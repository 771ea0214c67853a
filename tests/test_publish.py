"""Results on the PR: inline comments on the flagged lines, suggestions, one review per head."""

from __future__ import annotations

from tests.inert import shown
from tests.reviewing import (
    OWNER,
    REPO,
    finding,
    many_files,
    open_pull,
    placement_fixture,
    run_review,
)


async def test_inline_comments_sit_on_the_flagged_lines(services, fake_github, fake_gemini):
    pull = open_pull(fake_github)
    fake_gemini.findings["security"] = [finding(line=8, line_end=9, title="eval")]

    await run_review(services, pull)

    (review,) = fake_github.reviews(OWNER, REPO, 7)
    assert (review["state"], review["commit_id"]) == ("COMMENTED", pull.head_sha)
    (comment,) = review["comments"]
    assert (comment["path"], comment["start_line"], comment["line"], comment["side"]) == (
        "app.py",
        8,
        9,
        "RIGHT",
    )
    assert fake_github.rejected_comments == 0


async def test_suggestion_only_when_it_replaces_exactly_the_flagged_lines(
    services, fake_github, fake_gemini
):
    pull = open_pull(fake_github)
    fake_gemini.findings["security"] = [
        finding(line=9, title="exact", suggestion="    return ast.literal_eval(user_input)"),
        # Repeats line 8 above the flagged line: applying it would duplicate that line.
        finding(
            line=9,
            title="overreaching",
            severity="high",
            suggestion="def evaluate(user_input):\n    return ast.literal_eval(user_input)",
        ),
    ]

    await run_review(services, pull)

    comments = {c["body"].split("· ")[1].split(" ")[0]: c["body"] for c in
                fake_github.review_comments(OWNER, REPO, 7)}  # fmt: skip
    assert "```suggestion\n    return ast.literal_eval(user_input)\n```" in comments["exact"]
    assert "```suggestion" not in comments["overreaching"]


async def test_same_head_twice_posts_one_inline_review(services, fake_github, fake_gemini):
    pull = open_pull(fake_github)
    fake_gemini.findings["security"] = [finding(line=9)]

    await run_review(services, pull)
    await run_review(services, pull)

    assert len(fake_github.reviews(OWNER, REPO, 7)) == 1
    assert len(fake_github.comments(OWNER, REPO, 7)) == 1


async def test_inline_comments_are_capped_most_severe_first(services, fake_github, fake_gemini):
    files = many_files(5)
    pull = open_pull(fake_github, files=files)
    fake_github.set_content(OWNER, REPO, "main", ".github/second-look.yml",
                            "max_inline_comments: 2\n")  # fmt: skip
    severities = ["low", "critical", "info", "high", "medium"]
    fake_gemini.findings["bugs"] = [
        finding(path, line=2, severity=s, title=f"{s} issue")
        for path, s in zip(files, severities, strict=True)
    ]

    await run_review(services, pull)

    (review,) = fake_github.reviews(OWNER, REPO, 7)
    titles = sorted(c["body"].split("· ")[1].split(" ")[0] for c in review["comments"])
    assert titles == ["critical", "high"]
    summary = fake_github.comments(OWNER, REPO, 7)[0]["body"]
    for s in severities:
        assert f"{s} issue" in summary


async def test_findings_on_every_kind_of_line_are_neither_rejected_nor_lost(
    services, fake_github, fake_gemini
):
    files, findings = placement_fixture(30)
    pull = open_pull(fake_github, files=files)
    fake_github.set_content(OWNER, REPO, "main", ".github/second-look.yml",
                            "max_inline_comments: 100\n")  # fmt: skip
    fake_gemini.findings["bugs"] = findings

    review = await run_review(services, pull)

    assert review.status == "completed"
    assert fake_github.rejected_comments == 0
    (posted,) = fake_github.reviews(OWNER, REPO, 7)
    on_lines = {c["body"].split("· ")[1].split(" in ")[0] for c in posted["comments"]}
    assert on_lines <= {"added", "context", "deleted"}
    summary = shown(fake_github.comments(OWNER, REPO, 7)[0]["body"])
    lost = [f["title"] for f in findings if f["title"] not in summary]
    assert lost == []


async def test_inline_review_refused_by_github_leaves_every_finding_in_the_summary(
    services, fake_github, fake_gemini
):
    pull = open_pull(fake_github)
    fake_gemini.findings["security"] = [finding(line=9, title="eval of user input")]
    fake_gemini.findings["bugs"] = [finding(line=9, severity="low", title="Unchecked result")]
    fake_github.fail_next("POST", r"/pulls/7/reviews$", 422)

    review = await run_review(services, pull)

    assert review.status == "completed"
    assert fake_github.reviews(OWNER, REPO, 7) == []
    summary = shown(fake_github.comments(OWNER, REPO, 7)[0]["body"])
    assert "eval of user input" in summary and "Unchecked result" in summary
    assert "GitHub refused the inline comments; every finding is listed here instead." in summary
