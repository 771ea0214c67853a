"""Results where reviewers look: the check run, inline comments and suggestions."""

from __future__ import annotations

from bot.store.findings import FindingRepo
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


def only_check_run(fake_github, head_sha: str) -> dict:
    runs = fake_github.check_runs(OWNER, REPO, head_sha)
    assert len(runs) == 1, f"expected one check run, found {len(runs)}"
    return runs[0]


async def test_check_run_goes_in_progress_then_success(services, fake_github, fake_gemini):
    pull = open_pull(fake_github)
    fake_gemini.findings["bugs"] = [finding(severity="medium", title="Unchecked input")]

    review = await run_review(services, pull)

    created = fake_github.find_requests("POST", r"/check-runs$")
    assert [r.json["status"] for r in created] == ["in_progress"]
    check_run = only_check_run(fake_github, pull.head_sha)
    assert check_run["name"] == "Second Look"
    assert (check_run["status"], check_run["conclusion"]) == ("completed", "success")
    assert "Unchecked input" in check_run["output"]["summary"]
    assert check_run["output"]["title"] == "1 medium"
    assert review.check_run_id == check_run["id"]


async def test_critical_finding_fails_the_check_by_default(services, fake_github, fake_gemini):
    pull = open_pull(fake_github)
    fake_gemini.findings["security"] = [finding(severity="critical")]

    await run_review(services, pull)

    assert only_check_run(fake_github, pull.head_sha)["conclusion"] == "failure"


async def test_an_unknown_severity_can_still_fail_the_check(services, fake_github, fake_gemini):
    pull = open_pull(fake_github)
    fake_github.set_content(OWNER, REPO, "main", ".github/second-look.yml", "fail_on: medium")
    fake_gemini.findings["bugs"] = [finding(severity="catastrophic", title="Lost update")]

    review = await run_review(services, pull)

    (stored,) = await FindingRepo(services.pool).for_review(review.id)
    assert stored["severity"] == "medium"
    assert "'catastrophic', which is not a known severity" in stored["description"]
    assert only_check_run(fake_github, pull.head_sha)["conclusion"] == "failure"


async def test_more_than_fifty_findings_are_annotated_in_batches(
    services, fake_github, fake_gemini
):
    files = many_files(60)
    pull = open_pull(fake_github, files=files)
    fake_gemini.findings["style"] = [
        finding(path, line=2, severity="low", title=f"Name DOUBLE better in {path}")
        for path in files
    ]

    await run_review(services, pull)

    check_run = only_check_run(fake_github, pull.head_sha)
    assert len(check_run["output"]["annotations"]) == 60
    patches = fake_github.find_requests("PATCH", r"/check-runs/\d+$")
    sizes = [len(r.json.get("output", {}).get("annotations", [])) for r in patches]
    assert max(sizes) <= 50
    assert sum(sizes) == 60


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


async def test_draft_is_skipped_with_a_neutral_check(services, fake_github, fake_gemini):
    pull = open_pull(fake_github, draft=True)

    review = await run_review(services, pull)

    assert review.status == "skipped"
    assert only_check_run(fake_github, pull.head_sha)["conclusion"] == "neutral"
    assert fake_gemini.requests == []
    assert fake_github.comments(OWNER, REPO, 7) == []


async def test_failed_review_fails_the_check_with_the_error(services, fake_github, fake_gemini):
    pull = open_pull(fake_github)
    fake_github.fail_next("GET", rf"/repos/{OWNER}/{REPO}/pulls/7$", 404)

    await run_review(services, pull)

    check_run = only_check_run(fake_github, pull.head_sha)
    assert check_run["conclusion"] == "failure"
    assert "GitHub answered 404" in check_run["output"]["summary"]


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
