"""Results on the PR: inline comments on the flagged lines, suggestions, one review per head."""

from __future__ import annotations

import pytest

from tests.inert import shown
from tests.reviewing import (
    OWNER,
    REPO,
    finding,
    many_files,
    open_pull,
    placement_fixture,
    run_review,
    spread,
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

    comments = {
        c["body"].split("· ")[1].split(" ")[0]: c["body"]
        for c in fake_github.review_comments(OWNER, REPO, 7)
    }
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
    fake_github.set_content(
        OWNER, REPO, "main", ".github/second-look.yml", "max_inline_comments: 2\n"
    )
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
    files, findings = placement_fixture(8)  # 40 findings: 10 for each agent
    pull = open_pull(fake_github, files=files)
    fake_github.set_content(
        OWNER, REPO, "main", ".github/second-look.yml", "max_inline_comments: 100\n"
    )
    fake_gemini.findings.update(spread(findings))

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


# A creation whose answer is lost: GitHub made the object, then answered 502 or not at all.
CREATIONS = {
    "summary comment": r"/issues/7/comments$",
    "inline review": r"/pulls/7/reviews$",
    "check run": r"/check-runs$",
}


@pytest.mark.parametrize("lost", [502, None], ids=["502", "no answer"])
async def test_a_creation_whose_answer_was_lost_is_not_repeated(
    services, fake_github, fake_gemini, lost
):
    pull = open_pull(fake_github)
    fake_gemini.findings["security"] = [finding(line=9)]
    for path in CREATIONS.values():
        fake_github.fail_after("POST", path, lost)

    review = await run_review(services, pull)

    assert review.status == "completed"
    assert len(fake_github.comments(OWNER, REPO, 7)) == 1
    (inline,) = fake_github.reviews(OWNER, REPO, 7)
    (check,) = fake_github.check_runs(OWNER, REPO, pull.head_sha)
    assert (check["status"], check["conclusion"]) == ("completed", "failure")
    assert (review.check_run_id, review.comment_id) == (
        check["id"],
        fake_github.comments(OWNER, REPO, 7)[0]["id"],
    )
    for what, path in CREATIONS.items():
        assert len(fake_github.find_requests("POST", path)) == 1, f"the {what} was posted once"
    looked = fake_github.find_requests("GET", rf"/commits/{pull.head_sha}/check-runs$")
    assert [r.query.get("check_name") for r in looked] == ["Second Look"]


async def test_a_normal_review_makes_no_lookup_for_its_creations(
    services, fake_github, fake_gemini
):
    pull = open_pull(fake_github)
    fake_gemini.findings["security"] = [finding(line=9)]

    await run_review(services, pull)

    assert not fake_github.find_requests("GET", r"/check-runs$")
    assert len(fake_github.find_requests("GET", r"/issues/7/comments$")) == 1, "one, to edit"
    assert len(fake_github.find_requests("GET", r"/pulls/7/reviews$")) == 1, "one, per head"
    calls = [r for r in fake_github.requests if "/access_tokens" not in r.path]
    assert len(calls) == 9, [f"{r.method} {r.path}" for r in calls]


async def test_a_creation_github_refused_for_its_rate_is_retried_without_a_lookup(
    services, fake_github, fake_gemini
):
    pull = open_pull(fake_github)
    fake_github.fail_next("POST", r"/check-runs$", 403)  # a secondary rate limit: nothing made

    await run_review(services, pull)

    assert [r.status for r in fake_github.find_requests("POST", r"/check-runs$")] == [403, 201]
    assert not fake_github.find_requests("GET", r"/check-runs$")
    assert len(fake_github.check_runs(OWNER, REPO, pull.head_sha)) == 1
