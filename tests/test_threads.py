"""Our inline threads: answers to replies, dismissals that hold, reactions counted, and
threads resolved when their finding is fixed."""

from __future__ import annotations

import pytest

from tests.conversing import (
    answers_in,
    app_client,
    deliver,
    job_done,
    opened_delivered,
    push_delivered,
    reply,
    root,
    thread_of,
)
from tests.payloads import review_comment, review_comment_payload
from tests.reviewing import (
    NEW_APP,
    OLD_APP,
    OWNER,
    REPO,
    finding,
    open_pull,
    summary_of,
)

pytestmark = pytest.mark.timeout(60)

OTHER_OLD = "def area(w, h):\n    return w * h\n"
OTHER_NEW = "def area(w, h):\n    return w * h\n\n\ndef half(n):\n    return n / 0\n"


@pytest.fixture
async def client(aiohttp_client, settings, fake_github, fake_gemini):
    return await app_client(aiohttp_client, settings, answers_per_hour=2)


@pytest.fixture
async def reviewed(client, pool, fake_github, fake_gemini):
    """PR 7 reviewed once: two findings, each an inline comment of ours."""
    pull = open_pull(
        fake_github, files={"app.py": (OLD_APP, NEW_APP), "calc.py": (OTHER_OLD, OTHER_NEW)}
    )
    fake_gemini.findings["security"] = [finding()]
    fake_gemini.findings["bugs"] = [
        finding("calc.py", line=6, severity="high", title="division by zero")
    ]
    review = await opened_delivered(client, pool, pull)
    assert review["status"] == "completed"
    return pull


async def test_a_reply_in_our_thread_gets_one_answer_counted_in_the_review(
    client, pool, fake_github, fake_gemini, reviewed
):
    ours = root(fake_github)
    fake_gemini.thread_answer = "It is <b>real</b>: @everyone look at line 9."

    job = await reply(client, pool, fake_github, reviewed, ours, "Why is this a problem?")

    assert job["outcome"] == "answered"
    [answer] = answers_in(fake_github, ours)
    assert "real" in answer and "<b>" not in answer  # escaped like every model text
    assert "@everyone" not in answer
    [request] = fake_gemini.requests_of("answer")
    assert "eval of user input" in request.prompt  # the finding
    assert "9     return eval(user_input)" in request.prompt  # the code at the head
    assert "Why is this a problem?" in request.prompt  # the thread so far
    review_id = await pool.fetchval("SELECT id FROM reviews ORDER BY seq DESC LIMIT 1")
    calls = await pool.fetch("SELECT agent, review_id FROM gemini_calls WHERE agent = 'answer'")
    assert [(c["agent"], c["review_id"]) for c in calls] == [("answer", review_id)]


async def test_answers_stop_at_the_hourly_limit(client, pool, fake_github, fake_gemini, reviewed):
    ours = root(fake_github)
    outcomes = [
        (await reply(client, pool, fake_github, reviewed, ours, f"Question {n}?"))["outcome"]
        for n in range(3)
    ]

    assert outcomes == ["answered", "answered", "over the hourly limit"]
    assert len(answers_in(fake_github, ours)) == 2


async def test_a_reply_in_someone_elses_thread_costs_no_gemini_call(
    client, pool, fake_github, fake_gemini, reviewed
):
    theirs = review_comment("me too", in_reply_to_id=424242, path="app.py", line=9)
    payload = review_comment_payload(theirs, head_sha=reviewed.head_sha)

    job = await job_done(pool, await deliver(client, payload, "pull_request_review_comment"))

    assert job["outcome"] == "not our thread"
    assert fake_gemini.requests_of("answer") == []


async def test_on_a_pr_we_never_commented_inline_a_reply_costs_no_call_at_all(
    client, pool, fake_github, fake_gemini
):
    open_pull(fake_github)
    payload = review_comment_payload(review_comment("hm", in_reply_to_id=99))
    before = len(fake_github.requests)

    job = await job_done(pool, await deliver(client, payload, "pull_request_review_comment"))

    assert job["outcome"] == "not our thread"
    assert fake_github.requests[before:] == []


async def test_a_bots_reply_is_no_job(client, pool, fake_github, reviewed):
    comment = review_comment(
        "automated note",
        in_reply_to_id=root(fake_github)["id"],
        login="second-look[bot]",
        user_type="Bot",
    )

    answer = await deliver(client, review_comment_payload(comment), "pull_request_review_comment")

    assert answer == {"status": "ignored"}


async def test_a_dismissal_holds_over_two_pushes(client, pool, fake_github, fake_gemini, reviewed):
    ours = root(fake_github)
    fake_github.set_permission(OWNER, REPO, "lead", "admin")
    calls = len(fake_gemini.requests)

    job = await reply(
        client,
        pool,
        fake_github,
        reviewed,
        ours,
        "This is a false positive.",
        login="lead",
        association="OWNER",
    )

    assert job["outcome"] == "dismissed (check success)"
    assert "Dismissed" in answers_in(fake_github, ours)[0]
    assert thread_of(fake_github, ours)["is_resolved"]
    # At once, without a review or a Gemini call: the check is green, the summary says so.
    [run] = fake_github.check_runs(OWNER, REPO)
    assert run["conclusion"] == "success"
    assert "dismissed by `lead`" in summary_of(fake_github)
    assert len(fake_github.comments(OWNER, REPO, 7)) == 1  # the summary edited, not a new one
    assert len(fake_gemini.requests) == calls
    for n in range(2):
        pushed = await push_delivered(client, pool, reviewed, {"README.md": f"push {n}\n"})
        assert pushed["status"] == "completed"
        run = fake_github.check_runs(OWNER, REPO)[-1]
        assert run["conclusion"] == "success"  # the critical finding no longer fails it
    evals = [
        c
        for c in fake_github.review_comments(OWNER, REPO, 7)
        if c["path"] == "app.py" and "in_reply_to_id" not in c
    ]
    assert len(evals) == 1  # never posted again
    summary = summary_of(fake_github)
    assert "Dismissed (1)" in summary and "dismissed by `lead`" in summary
    stored = await pool.fetchval(
        "SELECT dismissed_by FROM findings f JOIN reviews r ON r.id = f.review_id"
        " WHERE f.file_path = 'app.py' ORDER BY r.seq DESC LIMIT 1"
    )
    assert stored == "lead"


async def test_an_outsider_cannot_dismiss(client, pool, fake_github, fake_gemini, reviewed):
    ours = root(fake_github)

    job = await reply(
        client, pool, fake_github, reviewed, ours, "won't fix", login="drive-by", association="NONE"
    )

    assert job["outcome"] == "refused"
    assert "Only people with write access" in answers_in(fake_github, ours)[0]
    assert await pool.fetchval("SELECT count(*) FROM dismissals") == 0
    assert not thread_of(fake_github, ours)["is_resolved"]


async def test_reactions_are_stored_and_a_maintainers_thumbs_down_dismisses(
    client, pool, fake_github, fake_gemini, reviewed
):
    fake_github.react(OWNER, REPO, root(fake_github)["id"], "+1", login="alice")
    fake_github.react(OWNER, REPO, root(fake_github)["id"], "+1", login="bob")
    fake_github.set_permission(OWNER, REPO, "carol", "write")
    fake_github.react(OWNER, REPO, root(fake_github, "calc.py")["id"], "-1", login="carol")

    await push_delivered(client, pool, reviewed, {"README.md": "a push\n"})

    rows = await pool.fetch(
        "SELECT agent_type, thumbs_up, thumbs_down FROM feedback ORDER BY agent_type"
    )
    assert [tuple(r) for r in rows] == [("bugs", 0, 1), ("security", 2, 0)]
    dismissed = await pool.fetch("SELECT dismissed_by, how FROM dismissals")
    assert [tuple(r) for r in dismissed] == [("carol", "reaction")]
    assert "dismissed by `carol`" in summary_of(fake_github)
    assert thread_of(fake_github, root(fake_github, "calc.py"))["is_resolved"]


async def test_a_fixed_findings_thread_is_resolved_and_an_untouched_one_is_not(
    client, pool, fake_github, fake_gemini, reviewed
):
    fake_gemini.findings["security"] = []  # the eval is gone: no finding on app.py

    fixed = NEW_APP.replace("return eval(user_input)", "return int(user_input)")
    pushed = await push_delivered(client, pool, reviewed, {"app.py": fixed})

    assert pushed["status"] == "completed"
    assert thread_of(fake_github, root(fake_github))["is_resolved"]
    assert not thread_of(fake_github, root(fake_github, "calc.py"))["is_resolved"]
    assert "(its thread is resolved)" in summary_of(fake_github)


async def test_a_finding_gone_while_its_lines_did_not_change_keeps_its_thread(
    client, pool, fake_github, fake_gemini, reviewed
):
    fake_gemini.findings["security"] = []  # the model no longer reports it; the code is as it was

    await push_delivered(client, pool, reviewed, {"app.py": NEW_APP + "\n# a comment\n"})

    assert not thread_of(fake_github, root(fake_github))["is_resolved"]


async def test_a_refused_resolution_is_said_in_the_summary(
    client, pool, fake_github, fake_gemini, reviewed
):
    fake_github.resolve_forbidden = True
    fake_gemini.findings["security"] = []

    fixed = NEW_APP.replace("return eval(user_input)", "return int(user_input)")
    pushed = await push_delivered(client, pool, reviewed, {"app.py": fixed})

    assert pushed["status"] == "completed"
    assert not thread_of(fake_github, root(fake_github))["is_resolved"]
    summary = summary_of(fake_github)
    assert "GitHub refused to resolve 1 thread(s)" in summary
    assert "Contents: write" in summary
