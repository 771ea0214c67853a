"""The check run: in progress, then its conclusion, title, summary and annotations."""

from __future__ import annotations

from bot.store.findings import FindingRepo
from tests.reviewing import (
    OWNER,
    REPO,
    finding,
    many_files,
    open_pull,
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
