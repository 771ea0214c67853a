"""Commands in PR comments: who may give them, what each does, and what is never a command."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.app.conversation.commands import Name, parse
from tests.conversing import (
    app_client,
    deliver,
    job_done,
    last_review_done,
    opened_delivered,
    push_delivered,
    reviews_of,
)
from tests.payloads import issue_comment_payload
from tests.reviewing import NEW_APP, OWNER, REPO, finding, open_pull, summary_of

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
async def client(aiohttp_client, settings, fake_github, fake_gemini):
    return await app_client(aiohttp_client, settings)


def command(fake_github, body: str, **kw) -> dict:
    """A person's comment on PR 7, stored on FakeGitHub, as its delivery carries it."""
    login = kw.pop("login", "maintainer")
    stored = fake_github.seed_comments(OWNER, REPO, 7, [body], login=login)[0]
    return issue_comment_payload(body, comment_id=stored["id"], login=login, **kw)


def replies(fake_github) -> list[str]:
    """Our answers to commands in the PR's conversation."""
    return [
        c["body"]
        for c in fake_github.comments(OWNER, REPO, 7)
        if c["body"].startswith("<!-- second-look:reply -->")
    ]


def eyes(fake_github, comment_id: int) -> list[str]:
    return [
        r["user"]["login"]
        for r in fake_github.reactions(OWNER, REPO, comment_id)
        if r["content"] == "eyes"
    ]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("/second-look review", Name.REVIEW),
        ("  /Second-Look   PAUSE please\nmore text", Name.PAUSE),
        ("@second-look resume", Name.RESUME),
        ("/second-look", Name.HELP),
        ("/second-look frobnicate", None),
    ],
)
def test_a_command_is_the_first_line_after_the_prefix(body, expected):
    parsed = parse(body, "second-look")
    assert parsed is not None and parsed.name == expected


@pytest.mark.parametrize(
    "body", ["please /second-look review", "/second-lookreview", "@someone-else review", "", None]
)
def test_other_comments_are_no_command(body):
    assert parse(body, "second-look") is None


async def test_review_from_a_maintainer_reviews_the_head_in_full_and_says_done(
    client, pool, fake_github, fake_gemini
):
    pull = open_pull(fake_github)
    fake_gemini.findings["security"] = [finding()]
    payload = command(fake_github, "/second-look review", association="MEMBER")

    job = await job_done(pool, await deliver(client, payload, "issue_comment"))
    review = await last_review_done(pool)

    assert (job["status"], job["outcome"]) == ("done", "review started")
    assert eyes(fake_github, payload["comment"]["id"]) == ["second-look[bot]"]
    assert (review["trigger"], review["head_sha"], review["status"]) == (
        "command",
        pull.head_sha,
        "completed",
    )
    assert review["requested_by"] == "maintainer"
    assert "eval of user input" in summary_of(fake_github)
    assert len(replies(fake_github)) == 1 and "Done: reviewed" in replies(fake_github)[0]


async def test_an_outsider_gets_a_polite_refusal_and_nothing_runs(client, pool, fake_github):
    open_pull(fake_github)
    payload = command(fake_github, "/second-look review", association="NONE", login="passer-by")

    job = await job_done(pool, await deliver(client, payload, "issue_comment"))

    assert job["outcome"] == "refused"
    assert await reviews_of(pool) == []
    assert eyes(fake_github, payload["comment"]["id"]) == ["second-look[bot]"]
    [reply] = replies(fake_github)
    assert "needs write access" in reply and "Nothing was done" in reply
    asked = [r.path for r in fake_github.requests if "/collaborators/" in r.path]
    assert asked == [f"/repos/{OWNER}/{REPO}/collaborators/passer-by/permission"]


async def test_a_private_member_with_write_access_is_asked_about_and_acts(
    client, pool, fake_github
):
    open_pull(fake_github)
    fake_github.set_permission(OWNER, REPO, "quiet-member", "maintain")
    payload = command(
        fake_github, "/second-look pause", association="CONTRIBUTOR", login="quiet-member"
    )

    job = await job_done(pool, await deliver(client, payload, "issue_comment"))

    assert job["outcome"] == "paused"


@pytest.mark.parametrize(
    "kind", ["bot", "ours", "edited", "issue"], ids=["a bot", "our own", "edited", "on an issue"]
)
async def test_no_command_is_taken_from(client, pool, fake_github, kind):
    open_pull(fake_github)
    kw = {
        "bot": {"login": "dependabot[bot]", "user_type": "Bot"},
        "ours": {"login": "second-look[bot]", "user_type": "Bot"},
        "edited": {"action": "edited"},
        "issue": {"on_pull": False},
    }[kind]
    payload = issue_comment_payload("/second-look review", **kw)

    answer = await deliver(client, payload, "issue_comment")

    assert answer == {"status": "ignored"}
    assert await pool.fetchval("SELECT count(*) FROM jobs") == 0


async def test_help_lists_the_commands_for_anyone(client, pool, fake_github):
    open_pull(fake_github)
    payload = command(fake_github, "@second-look help", association="NONE")

    job = await job_done(pool, await deliver(client, payload, "issue_comment"))

    assert job["outcome"] == "help"
    [reply] = replies(fake_github)
    for word in ("review", "pause", "resume", "ignore", "help", "false positive"):
        assert word in reply


async def test_an_unknown_command_is_answered_with_help(client, pool, fake_github):
    open_pull(fake_github)
    payload = command(fake_github, "/second-look frobnicate", association="OWNER")

    job = await job_done(pool, await deliver(client, payload, "issue_comment"))

    assert job["outcome"] == "unknown command"
    assert "`frobnicate`" in replies(fake_github)[0]


async def test_pause_stops_automatic_reviews_until_resume(client, pool, fake_github, fake_gemini):
    pull = open_pull(fake_github)
    await opened_delivered(client, pool, pull)
    await job_done(
        pool, await deliver(client, command(fake_github, "/second-look pause"), "issue_comment")
    )
    assert "Automatic reviews are paused" in summary_of(fake_github)
    asked = len(fake_gemini.requests)

    paused = await push_delivered(client, pool, pull, {"app.py": NEW_APP + "# one\n"})

    assert (paused["status"], paused["error"]) == ("skipped", "automatic reviews are paused")
    assert len(fake_gemini.requests) == asked  # no agent ran
    run = fake_github.check_runs(OWNER, REPO)[-1]
    assert (run["head_sha"], run["conclusion"]) == (pull.head_sha, "neutral")

    await job_done(
        pool, await deliver(client, command(fake_github, "/second-look review"), "issue_comment")
    )
    asked_for = await last_review_done(pool)
    assert (asked_for["trigger"], asked_for["status"]) == ("command", "completed")

    await job_done(
        pool, await deliver(client, command(fake_github, "/second-look resume"), "issue_comment")
    )
    assert "paused" not in summary_of(fake_github)
    resumed = await push_delivered(client, pool, pull, {"app.py": NEW_APP + "# two\n"})
    assert resumed["status"] == "completed"


async def test_ignore_stops_everything_on_the_pr(client, pool, fake_github, fake_gemini):
    pull = open_pull(fake_github)
    await job_done(
        pool, await deliver(client, command(fake_github, "/second-look ignore"), "issue_comment")
    )
    requests_before = len(fake_github.requests)

    ignored = await push_delivered(client, pool, pull, {"app.py": NEW_APP + "# x\n"})
    job = await job_done(
        pool, await deliver(client, command(fake_github, "/second-look review"), "issue_comment")
    )

    assert ignored["status"] == "skipped" and "ignored (maintainer asked)" in ignored["error"]
    assert job["outcome"] == "ignored"
    assert fake_gemini.requests == []
    # The skipped review made no call at all; the refused command a reaction and a reply.
    later = [r.path for r in fake_github.requests[requests_before:]]
    assert not any("check-runs" in path or path.endswith(".diff") for path in later)
    assert "ignores this pull request" in summary_of(fake_github)


@given(st.text(max_size=300))
def test_any_comment_parses_to_nothing_or_a_plain_word(body):
    parsed = parse("/second-look " + body, "second-look")
    assert parsed is not None
    assert parsed.word == "" or re.fullmatch(r"[a-z][a-z-]{0,19}", parsed.word)
    assert parsed.name is None or parsed.name.value == parsed.word
