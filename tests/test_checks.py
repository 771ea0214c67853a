"""The check run: in progress, then its conclusion, title, summary and annotations."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import aiohttp
import pytest

from bot.github import checks
from bot.github.client import GitHubClient
from bot.github.repo_config import RepoConfig
from bot.pull import Repo
from bot.review.changes import Skipped
from bot.review.coverage import Coverage
from bot.review.findings import Finding
from bot.review.render import Summary
from bot.store.findings_table import FindingRepo
from tests.reviewing import (
    OWNER,
    REPO,
    finding,
    many_files,
    open_pull,
    run_review,
    spread,
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
    # Large enough for two chunks: a call answers at most MAX_FINDINGS, so the 60 findings
    # are dealt to the four agents and read from two parts of the diff.
    added = "".join(f"DOUBLE_{n} = VALUE * {n}\n" for n in range(100))
    files = {path: (old, old + added) for path, (old, _) in many_files(60).items()}
    pull = open_pull(fake_github, files=files)
    fake_github.set_content(
        OWNER, REPO, "main", ".github/second-look.yml", "max_inline_comments: 100"
    )
    fake_gemini.findings.update(
        spread(
            [
                finding(path, line=2, severity="low", title=f"Name DOUBLE better in {path}")
                for path in files
            ]
        )
    )

    await run_review(services, pull)

    check_run = only_check_run(fake_github, pull.head_sha)
    assert len(check_run["output"]["annotations"]) == 60
    patches = fake_github.find_requests("PATCH", r"/check-runs/\d+$")
    sizes = [len(r.json.get("output", {}).get("annotations", [])) for r in patches]
    assert max(sizes) <= 50
    assert sum(sizes) == 60


MIXED = [
    finding(line=9, severity="critical", title="eval of user input"),
    finding(line=9, severity="high", title="Unbounded input"),
    finding(line=8, severity="medium", title="No type hints"),
    finding(line=8, severity="low", title="Name it better"),
    finding(line=9, severity="info", title="Consider a docstring"),
]


def annotated(fake_github, head_sha: str) -> list[tuple[str, str]]:
    """(title, level) of each annotation of the head's one check run."""
    run = only_check_run(fake_github, head_sha)
    return [(a["title"], a["annotation_level"]) for a in run["output"]["annotations"]]


async def test_annotations_follow_min_inline_severity_like_inline_comments(
    services, fake_github, fake_gemini
):
    pull = open_pull(fake_github)
    fake_github.set_content(
        OWNER, REPO, "main", ".github/second-look.yml", "min_inline_severity: high"
    )
    fake_gemini.findings["bugs"] = MIXED

    await run_review(services, pull)

    # Before issue 22 all five were annotated, the high one as `failure` too.
    assert annotated(fake_github, pull.head_sha) == [
        ("eval of user input", "failure"),
        ("Unbounded input", "warning"),
    ]  # fail_on defaults to critical: only that one fails the check
    inline = sorted(
        c["body"].split("· ")[1].split(" <sub>")[0]
        for c in fake_github.review_comments(OWNER, REPO, 7)
    )
    assert inline == ["Unbounded input", "eval of user input"]


async def test_annotations_follow_max_inline_comments(services, fake_github, fake_gemini):
    pull = open_pull(fake_github)
    fake_github.set_content(
        OWNER, REPO, "main", ".github/second-look.yml", "max_inline_comments: 2\nfail_on: never"
    )
    fake_gemini.findings["bugs"] = MIXED

    await run_review(services, pull)

    assert annotated(fake_github, pull.head_sha) == [
        ("eval of user input", "warning"),
        ("Unbounded input", "warning"),
    ]
    assert len(fake_github.review_comments(OWNER, REPO, 7)) == 2


async def test_no_failure_annotation_on_a_passing_check(services, fake_github, fake_gemini):
    pull = open_pull(fake_github)
    fake_github.set_content(OWNER, REPO, "main", ".github/second-look.yml", "fail_on: critical")
    fake_gemini.findings["bugs"] = MIXED[1:]  # high and below: the check passes

    await run_review(services, pull)

    assert only_check_run(fake_github, pull.head_sha)["conclusion"] == "success"
    assert annotated(fake_github, pull.head_sha) == [
        ("Unbounded input", "warning"),
        ("No type hints", "warning"),
        ("Name it better", "notice"),
    ]


async def test_only_the_findings_that_fail_the_check_are_failure_annotations(
    services, fake_github, fake_gemini
):
    pull = open_pull(fake_github)
    fake_github.set_content(
        OWNER,
        REPO,
        "main",
        ".github/second-look.yml",
        "fail_on: critical\nmin_inline_severity: info",
    )
    fake_gemini.findings["bugs"] = MIXED

    await run_review(services, pull)

    assert only_check_run(fake_github, pull.head_sha)["conclusion"] == "failure"
    assert dict(annotated(fake_github, pull.head_sha)) == {
        "eval of user input": "failure",
        "Unbounded input": "warning",
        "No type hints": "warning",
        "Name it better": "notice",
        "Consider a docstring": "notice",
    }


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


@pytest.fixture
async def github(base_settings, fake_github, sleep) -> AsyncIterator[GitHubClient]:
    """Only the GitHub client, on FakeGitHub: these tests need no database and no Gemini."""
    async with aiohttp.ClientSession() as http:
        yield GitHubClient(
            http,
            api_url=base_settings.github_api_url,
            app_id=base_settings.github_app_id,
            private_key=base_settings.github_private_key,
            sleep=sleep,
        )


def a_finding(severity: str) -> Finding:
    return Finding(
        agent_type="bugs",
        severity=severity,
        file_path="app.py",
        line_start=9,
        line_end=9,
        title=f"A {severity} one",
        description="",
    )


BUDGET = "over this review's token budget (max_review_tokens)"
PARTIAL = Coverage(2, 1, 10, 4, not_reviewed=(Skipped("lib.py", BUDGET, lines=6, cut=True),))
WHOLE = Coverage(2, 1, 10, 4, not_reviewed=(Skipped("logo.png", "binary"),))


@pytest.mark.parametrize(
    ("status", "coverage", "severities", "expected"),
    [
        ("completed", None, ["low"], "success"),
        ("completed", WHOLE, ["low"], "success"),  # files left out by choice: still whole
        ("completed", PARTIAL, [], "neutral"),
        ("completed", PARTIAL, ["low", "medium"], "neutral"),
        ("completed", PARTIAL, ["critical"], "failure"),  # a finding already fails it
        ("completed", Coverage(1, 1, 5, 5, unfinished=2), [], "neutral"),  # calls not made
        ("failed", PARTIAL, [], "failure"),
        ("failed", None, [], "failure"),
        ("skipped", None, [], "neutral"),
    ],
)
def test_conclusion(status, coverage, severities, expected):
    findings = [a_finding(s) for s in severities]
    summary = Summary("abc", status, findings=findings, coverage=coverage)

    assert checks.conclusion(summary, findings, fail_on="high") == expected


def test_a_queued_review_has_no_conclusion():
    with pytest.raises(ValueError, match="stays in progress"):
        checks.conclusion(Summary("abc", "queued"), [], fail_on="high")


async def test_a_partial_review_completes_neutral_with_partial_in_its_title(github, fake_github):
    pull = open_pull(fake_github)
    gh = await github.api(pull.installation_id)
    run_id = await checks.start(gh, Repo(pull.installation_id, OWNER, REPO), pull.head_sha, "r1")
    findings = [a_finding("medium")]
    summary = Summary(pull.head_sha, "completed", findings=findings, coverage=PARTIAL)

    repository = Repo(pull.installation_id, OWNER, REPO)
    await checks.complete_review(gh, repository, run_id, summary, findings, "high", RepoConfig())

    check_run = only_check_run(fake_github, pull.head_sha)
    assert (check_run["status"], check_run["conclusion"]) == ("completed", "neutral")
    assert check_run["output"]["title"] == "Partial review: 1 medium"
    assert "Reviewed 1 of 2 files, 40% of changed lines" in check_run["output"]["summary"]
    assert "`lib.py` (6 changed lines)" in check_run["output"]["summary"]
    assert "second-look:summary" not in check_run["output"]["summary"]


async def test_a_queued_review_keeps_its_run_in_progress_and_says_until_when(github, fake_github):
    pull = open_pull(fake_github)
    gh = await github.api(pull.installation_id)
    run_id = await checks.start(gh, Repo(pull.installation_id, OWNER, REPO), pull.head_sha, "r1")
    until = datetime(2026, 12, 1, 14, 5, tzinfo=UTC)
    summary = Summary(
        pull.head_sha, "queued", queued_until=until, queued_reason="GEMINI_TPM reached @alice"
    )

    await checks.queued(gh, Repo(pull.installation_id, OWNER, REPO), run_id, summary)

    check_run = only_check_run(fake_github, pull.head_sha)
    assert (check_run["status"], check_run["conclusion"]) == ("in_progress", None)
    assert check_run["output"]["title"] == "Queued until 14:05 UTC"
    assert "is queued until 14:05 UTC (2026-12-01): GEMINI" in check_run["output"]["summary"]
    assert "@alice" not in check_run["output"]["summary"]  # escaped: no mention
    (patch,) = fake_github.find_requests("PATCH", rf"/check-runs/{run_id}$")
    assert set(patch.json) == {"output"}


async def test_queued_is_only_for_a_queued_review(github, fake_github):
    pull = open_pull(fake_github)
    gh = await github.api(pull.installation_id)
    run_id = await checks.start(gh, Repo(pull.installation_id, OWNER, REPO), pull.head_sha, "r1")

    with pytest.raises(ValueError, match="not a completed one"):
        await checks.queued(
            gh, Repo(pull.installation_id, OWNER, REPO), run_id, Summary(pull.head_sha, "completed")
        )
    assert fake_github.find_requests("PATCH", r"/check-runs/") == []
