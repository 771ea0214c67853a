"""The verification pass and the thresholds: what is withheld, what is posted unverified, what
stays in the summary only, and a first line that never reads as an all-clear by mistake."""

from __future__ import annotations

from bot.store.findings_table import FindingRepo
from tests.reviewing import OWNER, REPO, finding, open_pull, run_review, summary_of

CONFIG = ".github/second-look.yml"


async def test_a_finding_the_verifier_drops_is_withheld_stored_and_counted(
    services, fake_github, fake_gemini
):
    pull = open_pull(fake_github)
    fake_gemini.findings["security"] = [finding(severity="critical")]
    fake_gemini.verdict = lambda item: (False, 0.2, "user_input is a constant here")

    review = await run_review(services, pull)

    assert review.status == "completed"
    assert fake_github.review_comments(OWNER, REPO, pull.number) == []
    (check_run,) = fake_github.check_runs(OWNER, REPO, pull.head_sha)
    assert check_run["conclusion"] == "success", "a withheld finding does not fail the check"
    body = summary_of(fake_github, pull.number)
    assert "1 finding(s) withheld after verification" in body
    assert "user\\_input is a constant here" in body
    assert "✅ Reviewed" in body
    [stored] = await FindingRepo(services.pool).for_review(review.id)
    assert (stored["verdict"], stored["confidence"], stored["withheld"]) == ("dropped", 0.2, True)
    assert review.stats["withheld"] == 1 and review.stats["verified"] == 1


async def test_a_kept_finding_under_min_confidence_is_withheld_too(
    services, fake_github, fake_gemini
):
    pull = open_pull(fake_github)
    fake_github.set_content(OWNER, REPO, "main", CONFIG, "min_confidence: 0.8\n")
    fake_gemini.findings["security"] = [finding(severity="critical")]
    fake_gemini.verdict = lambda item: (True, 0.7, "probably")

    review = await run_review(services, pull)

    [stored] = await FindingRepo(services.pool).for_review(review.id)
    assert (stored["verdict"], stored["withheld"]) == ("kept", True)
    assert fake_github.review_comments(OWNER, REPO, pull.number) == []


async def test_a_failed_verification_posts_the_findings_unverified_and_says_so(
    services, fake_github, fake_gemini
):
    pull = open_pull(fake_github)
    fake_gemini.findings["security"] = [finding(severity="critical")]
    fake_gemini.fail_next(400, agent="verifier")

    review = await run_review(services, pull)

    assert review.status == "completed", "the agents' work stands"
    assert len(fake_github.review_comments(OWNER, REPO, pull.number)) == 1
    (check_run,) = fake_github.check_runs(OWNER, REPO, pull.head_sha)
    assert check_run["conclusion"] == "failure"
    body = summary_of(fake_github, pull.number)
    assert "The verification of part 1 (Gemini answered 400 INVALID\\_ARGUMENT" in body
    assert "failed: its findings are posted unverified" in body
    assert "partial" not in body, "every file was reviewed, only not verified"
    assert review.stats["partial"] is False
    [stored] = await FindingRepo(services.pool).for_review(review.id)
    assert (stored["verdict"], stored["confidence"], stored["withheld"]) == (None, None, False)


async def test_no_verification_call_when_the_agents_found_nothing(
    services, fake_github, fake_gemini
):
    pull = open_pull(fake_github)

    await run_review(services, pull)

    assert "verifier" not in {r.agent for r in fake_gemini.requests}


async def test_verify_false_sends_no_verification_call(services, fake_github, fake_gemini):
    pull = open_pull(fake_github)
    fake_github.set_content(OWNER, REPO, "main", CONFIG, "verify: false\n")
    fake_gemini.findings["security"] = [finding(severity="critical")]

    await run_review(services, pull)

    assert "verifier" not in {r.agent for r in fake_gemini.requests}
    assert len(fake_github.review_comments(OWNER, REPO, pull.number)) == 1


async def test_the_verifier_reads_the_merged_findings_with_the_chunk(
    services, fake_github, fake_gemini
):
    pull = open_pull(fake_github)
    fake_gemini.findings["security"] = [finding(title="eval of user input")]
    fake_gemini.findings["bugs"] = [finding(title="Eval of user input!", severity="high")]

    await run_review(services, pull)

    [verifier] = fake_gemini.requests_of("verifier")
    assert verifier.prompt.count('"title":') == 1, "twins from two agents are verified once"
    assert "=== File: app.py ===" in verifier.prompt


async def test_min_inline_severity_keeps_a_low_finding_out_of_the_inline_review(
    services, fake_github, fake_gemini
):
    pull = open_pull(fake_github)
    fake_github.set_content(OWNER, REPO, "main", CONFIG, "min_inline_severity: medium\n")
    fake_gemini.findings["style"] = [finding(severity="low", title="Name it evaluate_input")]
    fake_gemini.findings["security"] = [finding(severity="high", title="eval of user input")]

    await run_review(services, pull)

    [comment] = fake_github.review_comments(OWNER, REPO, pull.number)
    assert "eval of user input" in comment["body"]
    assert "Name it evaluate\\_input" in summary_of(fake_github, pull.number)


async def test_the_first_line_says_the_check_fails_above_a_critical_finding(
    services, fake_github, fake_gemini
):
    pull = open_pull(fake_github)
    fake_gemini.findings["security"] = [finding(severity="critical")]

    await run_review(services, pull)

    body = summary_of(fake_github, pull.number)
    first = next(line for line in body.split("\n") if line.startswith(("❌", "⚠️", "✅")))
    assert body.index("### Walkthrough") < body.index(first), "the walkthrough, then the status"
    assert first.startswith("❌ Review of") and "1 at or above critical" in first
    assert "✅" not in summary_of(fake_github, pull.number)
