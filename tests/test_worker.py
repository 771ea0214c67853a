"""process_review against FakeGitHub and FakeGemini: the seed's five tests and the pipeline."""

from __future__ import annotations

import asyncio
import dataclasses
import logging

import asyncpg
import pytest

from bot.app.services import Services
from bot.app.worker import process_review
from bot.github import checks
from bot.pull import Repo
from bot.review.agents import map_severity
from bot.store import reviews
from bot.store.findings_table import FindingRepo
from tests.inert import MENTION, shown, tokens
from tests.reviewing import (
    NEW_APP,
    OLD_APP,
    OWNER,
    REPO,
    finding,
    many_files,
    new_review,
    open_pull,
    raced_reviews,
    run_review,
    summary_of,
    until,
)


async def test_process_review_success(services, fake_github, fake_gemini):
    pull = open_pull(fake_github)
    fake_gemini.findings["security"] = [finding(line=9)]

    review = await run_review(services, pull)

    assert review.status == "completed"
    assert review.error is None
    stored = await FindingRepo(services.pool).for_review(review.id)
    assert [(f["agent_type"], f["severity"], f["file_path"], f["line_start"]) for f in stored] == [
        ("security", "critical", "app.py", 9)
    ]
    assert {r.agent for r in fake_gemini.requests} == {
        "security",
        "bugs",
        "performance",
        "style",
        "verifier",
        "walkthrough",
    }
    body = summary_of(fake_github)
    assert "eval of user input" in body
    assert pull.head_sha[:12] in body
    assert review.comment_id == fake_github.comments(OWNER, REPO, 7)[0]["id"]
    assert review.stats["gemini_calls"] == 6, "agents, walkthrough, verifier"


async def test_process_review_github_error(services, fake_github, fake_gemini):
    pull = open_pull(fake_github)
    fake_github.fail_next("GET", rf"/repos/{OWNER}/{REPO}/pulls/7$", 404)

    review = await run_review(services, pull)

    assert review.status == "failed"
    assert "GitHub answered 404" in review.error
    assert fake_gemini.requests == []
    assert "failed" in summary_of(fake_github)


async def test_an_agent_call_that_fails_makes_the_review_partial_not_failed(
    services, fake_github, fake_gemini
):
    pull = open_pull(fake_github)
    fake_gemini.findings["security"] = [finding(line=9, severity="low")]
    fake_gemini.fail_next(400, agent="bugs", message="API key not valid.\nPlease pass a valid key")

    review = await run_review(services, pull)

    assert (review.status, review.error) == ("completed", None)
    assert review.stats["partial"] is True
    stored = await FindingRepo(services.pool).for_review(review.id)
    assert [f["agent_type"] for f in stored] == ["security"], "the other agents' findings stay"
    body = summary_of(fake_github)
    assert "⚠️ Partial review of" in body and "eval of user input" in body
    assert "1 agent call(s) failed" in body
    (line,) = [line for line in body.splitlines() if line.startswith("- ⚠️ **bugs**")]
    assert line == (
        "- ⚠️ **bugs** on part 1 (`app.py`): Gemini answered 400 INVALID\\_ARGUMENT: API key "
        "not valid. Please pass a valid key (after 1 attempt)"
    )
    (check,) = fake_github.check_runs(OWNER, REPO, pull.head_sha)
    assert check["conclusion"] == "neutral"
    assert check["output"]["title"] == "Partial review: 1 low"


async def test_a_partial_review_fails_its_check_on_a_finding_at_fail_on(
    services, fake_github, fake_gemini
):
    pull = open_pull(fake_github)
    fake_gemini.findings["security"] = [finding(line=9, severity="critical")]
    # A 4xx no wait mends (a 503 would defer the review: tests/test_outage.py).
    fake_gemini.fail_next(400, times=4, agent="bugs")

    review = await run_review(services, pull)

    assert review.status == "completed" and review.stats["partial"] is True
    (check,) = fake_github.check_runs(OWNER, REPO, pull.head_sha)
    assert check["conclusion"] == "failure"
    assert "❌ Partial review of" in summary_of(fake_github)
    assert "Gemini answered 400 INVALID_ARGUMENT" in summary_of(fake_github).replace("\\_", "_")


async def test_a_review_fails_only_when_every_agent_call_failed(services, fake_github, fake_gemini):
    pull = open_pull(fake_github)
    fake_gemini.fail_next(400, times=5)  # the agents and the walkthrough

    review = await run_review(services, pull)

    assert review.status == "failed"
    assert review.error.startswith("every agent call failed; the first: Gemini answered 400")
    (check,) = fake_github.check_runs(OWNER, REPO, pull.head_sha)
    assert check["conclusion"] == "failure"
    body = summary_of(fake_github)
    assert "failed." in body and body.count("- ⚠️ **") == 4


async def test_process_review_rate_limited(services, fake_github, fake_gemini, waits):
    pull = open_pull(fake_github)
    fake_gemini.fail_next(429, retry_delay="2s", agent="security")

    review = await run_review(services, pull)

    assert review.status == "completed"
    first, second = fake_gemini.requests_of("security")
    assert (first.status, second.status) == (429, 200)
    assert 2.0 in waits, "the retry waited the delay Google asked for"


def test_severity_mapping():
    assert map_severity("critical") == "critical"
    assert map_severity("warning") == "medium"
    assert map_severity("info") == "info"
    assert [map_severity(s) for s in ("high", "MEDIUM", "low")] == ["high", "medium", "low"]
    assert map_severity("something else") == "medium", "unknown is never silently info"


async def test_second_run_edits_the_same_comment(services, fake_github, fake_gemini):
    pull = open_pull(fake_github)
    await run_review(services, pull)
    pull.push({"app.py": NEW_APP_V2})

    second = await run_review(services, pull)

    assert second.status == "completed"
    body = summary_of(fake_github)
    assert pull.head_sha[:12] in body
    assert len(fake_github.find_requests("PATCH", r"/issues/comments/")) == 1


NEW_APP_V2 = "import os\n\n\ndef run(command):\n    return os.system(command)  # checked\n"


async def test_fifty_file_diff_is_reviewed(services, fake_github, fake_gemini):
    pull = open_pull(fake_github, files=many_files(50))
    fake_gemini.findings["bugs"] = [
        finding("pkg/module_049.py", line=2, severity="low", title="Magic number")
    ]

    review = await run_review(services, pull)

    assert review.status == "completed"
    seen = {path for r in fake_gemini.requests_of("bugs") for path in r.files}
    assert len(seen) == 50
    assert review.stats["files"] == 50
    assert "Magic number" in summary_of(fake_github)


async def test_diff_over_github_limits_falls_back_to_the_files_api(
    services, fake_github, fake_gemini
):
    fake_github.max_diff_files = 10
    pull = open_pull(fake_github, files=many_files(12))

    review = await run_review(services, pull)

    assert review.status == "completed"
    assert fake_github.find_requests("GET", r"/pulls/7/files")
    assert review.stats["files"] == 12


async def test_malformed_output_is_retried_then_fails_the_agent(services, fake_github, fake_gemini):
    pull = open_pull(fake_github)
    fake_gemini.malformed_next(times=3, agent="style")

    review = await run_review(services, pull)

    assert review.status == "completed" and review.stats["partial"] is True
    assert "**style** on part 1 (`app.py`): malformed output: finish reason" in summary_of(
        fake_github
    )
    assert "(after 3 attempts)" in summary_of(fake_github)
    assert len(fake_gemini.requests_of("style")) == 3


async def test_finding_outside_the_diff_is_not_put_on_that_line(services, fake_github, fake_gemini):
    pull = open_pull(fake_github)
    fake_gemini.findings["bugs"] = [finding(line=300, title="Off the end", severity="high")]

    review = await run_review(services, pull)

    stored = await FindingRepo(services.pool).for_review(review.id)
    assert [(f["title"], f["line_start"]) for f in stored] == [("Off the end", None)]
    body = summary_of(fake_github)
    assert "line 300" not in body.split("Off the end")[1].split("\n")[0]
    assert "not a changed part of the diff" in body


async def test_token_is_reused_across_reviews_of_one_installation(
    services, fake_github, fake_gemini
):
    first = open_pull(fake_github, number=1)
    second = open_pull(fake_github, number=2)

    await run_review(services, first)
    await run_review(services, second)

    assert len(fake_github.tokens_issued) == 1


async def test_token_is_renewed_when_it_is_about_to_expire(services, fake_github, fake_gemini):
    # Renewed 5 minutes before expiry: a token valid for 299 s more is already due.
    fake_github.token_ttl = 299
    pull = open_pull(fake_github)

    await run_review(services, pull)
    minted = len(fake_github.tokens_issued)
    await run_review(services, pull)

    assert minted >= 1 and len(fake_github.tokens_issued) > minted, "never reused when due"


async def test_team_mention_in_model_text_pings_nobody(services, fake_github, fake_gemini):
    pull = open_pull(fake_github)
    fake_gemini.findings["style"] = [
        finding(
            severity="low",
            title="Ask @org/team",
            description="cc @octocat see ![x](https://evil.example/x.png) <img src=x>",
        )
    ]

    await run_review(services, pull)

    body = summary_of(fake_github)
    assert "Ask @org/team" in shown(body), "shown as written"
    found = tokens(body)
    assert not any(t.type in ("link_open", "image") for t in found)
    assert not any("img" in t.content for t in found if t.type.startswith("html"))
    assert not any(MENTION.search(t.content) for t in found if t.type == "text")


@pytest.mark.parametrize("status", [500, 502])
async def test_github_server_error_is_retried(services, fake_github, fake_gemini, status):
    pull = open_pull(fake_github)
    fake_github.fail_next("POST", r"/issues/7/comments$", status)

    review = await run_review(services, pull)

    assert review.status == "completed"
    assert len(fake_github.comments(OWNER, REPO, 7)) == 1


async def test_review_that_keeps_losing_its_process_is_given_up(services, fake_github):
    pull = open_pull(fake_github)
    review_id = await new_review(services.pool, pull)
    await services.pool.execute("UPDATE reviews SET attempts = 5 WHERE id = $1", review_id)

    await process_review(review_id, services)

    review = await reviews.get(services.pool, review_id)
    assert review.status == "failed"
    assert review.error.startswith("gave up after 5 attempts")
    assert "gave up after 5 attempts" in summary_of(fake_github)


AWS_KEY = "AKIAIOSFODNN7EXAMPLE"  # AWS's documented example key
LEAKY_APP = (  # a key on line 12, an undefined name on line 16
    NEW_APP + f'\n\nAWS_ACCESS_KEY_ID = "{AWS_KEY}"\n\n\n'
    "def total(rows):\n    return sum(row.price for row in rowz)\n"
)


async def test_without_a_gemini_key_the_analyzers_review_alone_and_never_repeat_a_secret(
    settings, fake_github, fake_gemini, caplog
):
    from dataclasses import replace

    from bot.app.services import Services

    pull = open_pull(fake_github, files={"app.py": (OLD_APP, LEAKY_APP)})
    with caplog.at_level("DEBUG"):
        async with Services.open(replace(settings, gemini_api_key="")) as services:
            review = await run_review(services, pull)
            rows = await FindingRepo(services.pool).for_review(review.id)

    assert (review.status, review.error) == ("completed", None)
    assert fake_gemini.requests == []
    assert sorted((f["agent_type"], f["severity"], f["line_start"]) for f in rows) == [
        ("ruff F821", "high", 16),
        ("secrets AWSAccessKey", "critical", 12),
    ]
    body = summary_of(fake_github)
    assert "The model part of this review is missing: GEMINI_API_KEY is not set" in shown(body)
    inline = fake_github.review_comments(OWNER, REPO, 7)
    assert {c["line"] for c in inline} == {12, 16}
    (check,) = fake_github.check_runs(OWNER, REPO, pull.head_sha)
    assert check["conclusion"] == "failure", "a leaked key is critical: fail_on's default"
    assert review.stats["analyzer_findings"] == 2
    # The secret is named by its kind and line, never repeated.
    posted = [body, *(c["body"] for c in inline), str(check["output"])]
    stored = [str(dict(row)) for row in rows]
    assert not any(AWS_KEY in text for text in [*posted, *stored, caplog.text])
    assert "AWS Access Key" in body


async def test_an_analyzer_and_an_agent_finding_the_same_line_post_one_finding_naming_both(
    services, fake_github, fake_gemini
):
    pull = open_pull(fake_github, files={"app.py": (OLD_APP, LEAKY_APP)})
    fake_gemini.findings["bugs"] = [
        finding(line=16, severity="medium", title="rowz is not defined", suggestion=None)
    ]
    fake_gemini.verdict = lambda item: (False, 0.2, "the verifier doubts everything")

    review = await run_review(services, pull)

    rows = await FindingRepo(services.pool).for_review(review.id)
    merged = next(f for f in rows if f["line_start"] == 16)
    assert merged["agent_type"] == "ruff F821 · bugs"
    assert merged["severity"] == "high", "the worse of the two"
    assert merged["withheld"] is False, "the verifier cannot withhold what a rule saw"
    assert review.stats["merged"] == 1
    (verifier,) = [r for r in fake_gemini.requests if r.agent == "verifier"]
    assert '"source": "ruff F821"' in verifier.prompt, "the analyzers' findings as evidence"
    body = shown(summary_of(fake_github))
    assert "ruff F821 · bugs" in body
    inline = fake_github.review_comments(OWNER, REPO, 7)
    assert sum(1 for c in inline if c["line"] == 16) == 1


async def test_while_a_quota_defers_the_review_the_analyzers_findings_are_posted_once(
    services, fake_github, fake_gemini, waits
):
    fake_gemini.fail_next(429, times=4, retry_delay="600s")
    pull = open_pull(fake_github, files={"app.py": (OLD_APP, LEAKY_APP)})
    review_id = await new_review(services.pool, pull)

    await process_review(review_id, services)

    waiting = await reviews.get(services.pool, review_id)
    assert waiting.status == "pending"
    body = shown(summary_of(fake_github))
    assert "queued until" in body and "ruff F821" in body and "AWS Access Key" in body
    assert "The model part of this review waits for the quota" in body
    (check,) = fake_github.check_runs(OWNER, REPO, pull.head_sha)
    assert check["status"] == "in_progress" and "ruff F821" in check["output"]["summary"]
    assert {c["line"] for c in fake_github.review_comments(OWNER, REPO, 7)} == {12, 16}

    await services.pool.execute("UPDATE reviews SET not_before = NULL WHERE id = $1", review_id)
    await process_review(review_id, services)

    assert (await reviews.get(services.pool, review_id)).status == "completed"
    lines = sorted(c["line"] for c in fake_github.review_comments(OWNER, REPO, 7))
    assert lines == [12, 16], "the full review does not post them inline again"
    assert "queued" not in shown(summary_of(fake_github))


async def test_secondary_rate_limit_waits_as_github_says(services, fake_github, fake_gemini, waits):
    pull = open_pull(fake_github)
    fake_github.fail_next("POST", r"/issues/7/comments$", 403, headers={"Retry-After": "1"})

    review = await run_review(services, pull)

    assert review.status == "completed"
    refused, accepted = fake_github.find_requests("POST", r"/issues/7/comments$")
    assert (refused.status, accepted.status) == (403, 201)
    assert 1.0 in waits, "the retry waited what Retry-After said"


async def test_review_running_elsewhere_stops_before_publishing(services, fake_github, fake_gemini):
    pull = open_pull(fake_github)
    review_id = await new_review(services.pool, pull)
    fake_gemini.latency = 0.5
    task = asyncio.create_task(process_review(review_id, services))
    await until(lambda: fake_gemini.requests)
    # Another process took a newer delivery: only the database says so.
    await services.pool.execute("UPDATE reviews SET status = 'superseded' WHERE id = $1", review_id)

    await task

    assert fake_github.comments(OWNER, REPO, 7) == []
    assert fake_github.reviews(OWNER, REPO, 7) == []
    assert all(r["status"] != "completed" for r in fake_github.check_runs(OWNER, REPO))


async def test_older_review_that_raced_a_newer_one_publishes_nothing(
    services, fake_github, fake_gemini
):
    pull = open_pull(fake_github)
    fake_gemini.findings["security"] = [finding(line=9)]
    older, newer = await raced_reviews(services.pool, pull, {"app.py": NEW_APP + "# newer\n"})

    await process_review(older, services)
    await process_review(newer, services)

    assert (await reviews.get(services.pool, older)).status == "superseded"
    assert (await reviews.get(services.pool, newer)).status == "completed"
    (comment,) = fake_github.comments(OWNER, REPO, 7)
    assert pull.head_sha[:12] in comment["body"]
    (inline,) = fake_github.reviews(OWNER, REPO, 7)
    assert inline["commit_id"] == pull.head_sha


async def test_edit_is_not_rerun_when_the_repository_says_so(services, fake_github, fake_gemini):
    pull = open_pull(fake_github)
    fake_github.set_content(OWNER, REPO, "main", ".github/second-look.yml", "rerun_on_edit: false")
    review_id = await new_review(services.pool, pull, trigger="edited")

    await process_review(review_id, services)

    assert (await reviews.get(services.pool, review_id)).status == "skipped"
    assert fake_gemini.requests == []


async def test_a_review_whose_lease_was_taken_mid_review_publishes_nothing(
    services, fake_github, fake_gemini
):
    pull = open_pull(fake_github)
    review_id = await new_review(services.pool, pull)
    fake_gemini.latency = 0.3
    task = asyncio.create_task(process_review(review_id, services))
    await until(lambda: fake_gemini.requests)
    # Its lease ran out while the agents worked, and another process claimed the review.
    await services.pool.execute(
        "UPDATE reviews SET lease_owner = 'another-process' WHERE id = $1", review_id
    )

    await asyncio.wait_for(task, 10)

    assert fake_github.comments(OWNER, REPO, 7) == []
    assert fake_github.reviews(OWNER, REPO, 7) == []
    (run,) = fake_github.check_runs(OWNER, REPO, pull.head_sha)
    assert run["status"] == "in_progress", "the process that holds it now completes it"
    review = await reviews.get(services.pool, review_id)
    assert (review.status, review.lease_owner) == ("processing", "another-process")


async def test_the_lease_keeper_stops_a_review_that_is_no_longer_ours(
    settings, fake_github, fake_gemini
):
    async def no_wait(seconds: float) -> None:  # renew as often as the database answers
        await asyncio.sleep(0)

    pull = open_pull(fake_github)
    fake_gemini.latency = 5.0  # the agents would wait this long; the keeper cuts them off
    async with Services.open(settings, sleep=no_wait) as services:
        review_id = await new_review(services.pool, pull)
        task = asyncio.create_task(process_review(review_id, services))
        await until(lambda: len(fake_gemini.requests) == 5)  # agents and the walkthrough
        await services.pool.execute(
            "UPDATE reviews SET lease_owner = 'another-process' WHERE id = $1", review_id
        )

        await asyncio.wait_for(task, 3)

        review = await reviews.get(services.pool, review_id)
    assert review.stats["gemini_cancelled"] == 5
    assert fake_github.comments(OWNER, REPO, 7) == []


async def test_a_given_up_review_completes_the_check_run_it_started(services, fake_github):
    pull = open_pull(fake_github)
    review_id = await new_review(services.pool, pull)
    # An earlier attempt started the check run, then its process died, five times over.
    gh = await services.github.api(pull.installation_id)
    run_id = await checks.start(
        gh, Repo(pull.installation_id, OWNER, REPO), pull.head_sha, str(review_id)
    )
    await reviews.set_fields(services.pool, review_id, check_run_id=run_id)
    await services.pool.execute("UPDATE reviews SET attempts = 5 WHERE id = $1", review_id)

    await process_review(review_id, services)

    (run,) = fake_github.check_runs(OWNER, REPO, pull.head_sha)
    assert (run["status"], run["conclusion"]) == ("completed", "failure")
    assert "gave up after 5 attempts" in run["output"]["title"]


async def test_a_claim_with_the_database_unreachable_is_one_line_and_leaves_the_row(
    services, fake_github, caplog
):
    # A replica whose database is away (its name does not resolve, nothing listens): the claim
    # fails; the review stays pending for the reclaimer, said in one line without a traceback.
    review_id = await new_review(services.pool, open_pull(fake_github))
    away = await asyncpg.create_pool("postgresql://app@127.0.0.1:9/none", min_size=0)
    try:
        with caplog.at_level(logging.WARNING, logger="bot.app.leased_runner"):
            ended = await process_review(review_id, dataclasses.replace(services, pool=away))
    finally:
        await away.close()

    assert ended is None
    (said,) = [r for r in caplog.records if r.name == "bot.app.leased_runner"]
    assert said.levelno == logging.WARNING and said.exc_info is None
    assert "not claimed: the database is unreachable" in said.getMessage()
    assert (await reviews.get(services.pool, review_id)).status == "pending"
