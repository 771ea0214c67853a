"""What reached GitHub for a review (bot/store/publications.py), recorded where publishing
happens: reviews run by the worker against FakeGitHub, which answers or fails as GitHub
would; what each one recorded is read back from the table."""

from __future__ import annotations

import asyncio
import logging
import uuid

from bot.app.services import Services
from bot.app.worker import process_review
from bot.store import publications, queue, reviews
from bot.store.publications import Action, Publication, Target
from tests.reviewing import (
    OWNER,
    REPO,
    finding,
    new_review,
    open_pull,
    review_of,
    run_review,
)

STORM = 100  # more failed answers than every in-place retry asks for


async def test_a_review_records_what_it_posted_with_the_ids_github_gave(
    services, fake_github, fake_gemini
):
    pull = open_pull(fake_github)
    fake_gemini.findings["security"] = [finding(line=9)]

    review = await run_review(services, pull)

    found = await publications.of_review(services.pool, review.id)
    (comment,) = fake_github.comments(OWNER, REPO, 7)
    (inline,) = fake_github.reviews(OWNER, REPO, 7)
    (check,) = fake_github.check_runs(OWNER, REPO, pull.head_sha)
    said = {t: (p.action, p.says, p.github_id, p.error) for t, p in found.items()}
    assert said == {
        Target.COMMENT: (Action.POSTED, "1 critical", comment["id"], None),
        Target.INLINE: (Action.POSTED, "1 inline comment(s)", inline["id"], None),
        Target.CHECK: (Action.UPDATED, "completed (failure): 1 critical", check["id"], None),
    }
    assert all(p.shown == p.says and p.shown_at == p.at for p in found.values())


async def test_the_next_review_updates_the_prs_comment(services, fake_github, fake_gemini):
    pull = open_pull(fake_github)
    await run_review(services, pull)

    again = await run_review(services, pull, trigger="edited")

    found = await publications.of_review(services.pool, again.id)
    assert found[Target.COMMENT].action is Action.UPDATED
    assert found[Target.COMMENT].says == "No findings"
    assert Target.INLINE not in found  # nothing was to be shown on a line
    assert len(fake_github.comments(OWNER, REPO, 7)) == 1


async def test_a_failure_github_would_not_take_is_recorded_with_why(
    services, fake_github, fake_gemini, caplog
):
    """The review fails (its diff is gone), then GitHub answers 502 to the comment and the
    check run: the PR shows the check in progress, and nothing says it failed."""
    pull = open_pull(fake_github)
    fake_github.fail_next("GET", rf"/repos/{OWNER}/{REPO}/pulls/7$", 404)
    fake_github.fail_next("*", r"/issues/7/comments", 502, times=STORM)
    fake_github.fail_next("PATCH", r"/check-runs/", 502, times=STORM)

    with caplog.at_level(logging.WARNING):
        review = await run_review(services, pull)

    assert review.status == "failed" and "GitHub answered 404" in (review.error or "")
    found = await publications.of_review(services.pool, review.id)
    comment, check = found[Target.COMMENT], found[Target.CHECK]
    (run,) = fake_github.check_runs(OWNER, REPO, pull.head_sha)
    assert run["status"] == "in_progress"  # as the table says: its completion did not reach it
    assert (comment.action, comment.says, comment.shown, comment.github_id) == (
        Action.FAILED, "Review failed", None, None,
    )  # fmt: skip
    assert comment.error == (
        f"GitHub answered 502 to GET /repos/{OWNER}/{REPO}/issues/7/comments: Server Error"
    )
    assert (check.action, check.says, check.github_id) == (
        Action.FAILED, "completed: Review failed", run["id"],
    )  # fmt: skip
    assert check.error is not None and "GitHub answered 502 to PATCH" in check.error
    assert check.shown == "in progress"  # what the PR still shows, from the start
    assert fake_github.comments(OWNER, REPO, 7) == []
    assert any("could not tell the PR that it failed" in r.getMessage() for r in caplog.records)


async def test_no_token_at_all_records_the_failure_as_not_posted(
    services, fake_github, fake_gemini
):
    pull = open_pull(fake_github)
    fake_github.fail_next("POST", r"/access_tokens$", 401, times=STORM)

    review = await run_review(services, pull)

    assert review.status == "failed"
    found = await publications.of_review(services.pool, review.id)
    assert list(found) == [Target.COMMENT]  # no check run was ever started
    assert found[Target.COMMENT].action is Action.FAILED
    assert "GitHub answered 401 to POST /app/installations/" in (found[Target.COMMENT].error or "")


async def test_a_failure_keeps_what_github_shows_and_a_success_replaces_it(pool):
    review_id = await pool.fetchval(
        "INSERT INTO reviews (installation_id, owner, repo, pr_number, head_sha, trigger)"
        " VALUES (1, 'o', 'r', 1, 'abc', 'opened') RETURNING id"
    )
    started = Publication(Target.CHECK, Action.POSTED, "in progress", github_id=55)
    await publications.record(pool, review_id, started)
    failed = Publication(Target.CHECK, Action.FAILED, "completed: 2 high", error="GitHub failed")
    await publications.record(pool, review_id, failed)

    kept = (await publications.of_review(pool, review_id))[Target.CHECK]
    await reviews.set_fields(
        pool,
        review_id,
        [Publication(Target.CHECK, Action.UPDATED, "completed (failure): 2 high", 55)],
        check_run_done=True,
    )
    done = (await publications.of_review(pool, review_id))[Target.CHECK]

    assert (kept.action, kept.says, kept.error, kept.github_id) == (
        Action.FAILED, "completed: 2 high", "GitHub failed", 55,
    )  # fmt: skip
    assert (kept.shown, kept.shown_at is not None) == ("in progress", True)
    assert (done.action, done.error, done.shown) == (
        Action.UPDATED, None, "completed (failure): 2 high",
    )  # fmt: skip
    assert await pool.fetchval("SELECT check_run_done FROM reviews WHERE id = $1", review_id)


async def test_a_review_that_fails_after_a_newer_push_logs_what_the_table_says(
    settings, fake_github, fake_gemini, caplog
):
    """Issue 25: a review logged as failed showed as superseded. The newer push's supersede
    wins the table (the failure's finish is refused: the review is no longer ours); the log
    says superseded too, and nothing says the review failed. (The lease is renewed on the
    real clock here, every 10 s: not before the review ends, as in a deployment.)"""
    pull = open_pull(fake_github)
    fake_github.fail_next("GET", rf"/repos/{OWNER}/{REPO}/pulls/7$", 404)  # its diff
    fake_github.latency = 0.3  # time for the push to land between the check run and the diff

    async with Services.open(settings) as services:
        review_id = await new_review(services.pool, pull)
        with caplog.at_level(logging.INFO):
            running = asyncio.create_task(process_review(review_id, services))
            async with asyncio.timeout(20):
                while not fake_github.check_runs(OWNER, REPO, pull.head_sha):
                    await asyncio.sleep(0.01)
            pull.push({"app.py": "x = 1\n"})
            newer = review_of(pull, "synchronize")
            async with services.pool.acquire() as conn:
                await queue.create(conn, [newer])
            await running
        table = await reviews.get(services.pool, review_id)

    assert table is not None and (table.status, table.superseded_by) == ("superseded", newer.id)
    lines = [r.getMessage() for r in caplog.records if str(review_id) in r.getMessage()]
    assert any(
        f"review {review_id} is superseded by review {newer.id}; its end here (failed: GitHub "
        "answered 404" in line
        for line in lines
    ), lines
    assert not any(line.startswith(f"review {review_id} failed") for line in lines), lines
    assert fake_github.comments(OWNER, REPO, 7) == []  # nor was the PR told it failed


async def test_publications_name_only_known_targets(pool):
    review_id = uuid.uuid4()
    assert await publications.of_review(pool, review_id) == {}
    assert {t.value for t in Target} == {"comment", "inline", "check"}
    assert {a.value for a in Action} == {"posted", "updated", "failed"}


async def test_a_deferred_review_records_that_the_pr_shows_it_queued(
    services, fake_github, fake_gemini
):
    pull = open_pull(fake_github)
    fake_gemini.fail_next(503, times=STORM * 4)  # Gemini away past the in-place retries
    review_id = await new_review(services.pool, pull)

    await process_review(review_id, services)

    assert (await reviews.get(services.pool, review_id)).status == "pending"
    found = await publications.of_review(services.pool, review_id)
    comment, check = found[Target.COMMENT], found[Target.CHECK]
    (run,) = fake_github.check_runs(OWNER, REPO, pull.head_sha)
    assert run["status"] == "in_progress" and run["output"]["title"].startswith("Queued until")
    assert (comment.action, check.action) == (Action.POSTED, Action.UPDATED)
    assert comment.says.startswith("Queued until ") and comment.says.endswith(" UTC")
    assert check.says == f"in progress: {comment.says}" and check.github_id == run["id"]
