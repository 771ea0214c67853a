"""Who may steer the reviewer: GitHub's permission API decides every command, dismissal and
thread answer; refusals are said once an hour; outsiders cost nothing; the answer is cached
and forgotten when access changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.app.web import services_key
from bot.store import feedback
from tests.conversing import (
    answers_in,
    app_client,
    deliver,
    job_done,
    opened_delivered,
    push_delivered,
    reply,
    root,
)
from tests.payloads import _envelope, issue_comment_payload, review_comment, review_comment_payload
from tests.reviewing import NEW_APP, OLD_APP, OWNER, REPO, finding, open_pull, summary_of

pytestmark = pytest.mark.timeout(90)

CALC_OLD = "def area(w, h):\n    return w * h\n"
CALC_NEW = "def area(w, h):\n    return w * h\n\n\ndef half(n):\n    return n / 0\n"
QUIET = "not answered: told within the hour"

# name: (login, repository role or None, the author_association GitHub would send)
ACTORS = {
    "owner": (OWNER, None, "OWNER"),  # the owner of the user-owned octo/widgets
    "admin": ("ada", "admin", "MEMBER"),
    "maintainer": ("mo", "maintain", "MEMBER"),
    "writer": ("wren", "write", "COLLABORATOR"),
    "triage": ("tri", "triage", "MEMBER"),
    "read-only collaborator": ("reed", "read", "COLLABORATOR"),
    "org member without access": ("orla", None, "MEMBER"),
    "outsider": ("otto", None, "NONE"),
}
# What each actor gets, in this order: a 👎 on our comment (read at the next review), a
# question in our thread, a reply saying "false positive", `/second-look pause`.
WRITES = ("dismissed", "answered", "dismissed (check success)", "paused")
READS = ("counted, not dismissed", "refused", QUIET, QUIET)
EXPECTED = {
    "owner": WRITES,
    "admin": WRITES,
    "maintainer": WRITES,
    "writer": WRITES,
    "triage": READS,
    "read-only collaborator": READS,
    "org member without access": READS,
    "outsider": READS,
}


@pytest.fixture
async def client(aiohttp_client, settings, fake_github, fake_gemini):
    return await app_client(aiohttp_client, settings, answers_per_hour=2)


@pytest.fixture
async def reviewed(client, pool, fake_github, fake_gemini):
    """PR 7 reviewed once: a critical finding on app.py (it fails the check) and a high one
    on calc.py, each an inline comment of ours."""
    pull = open_pull(
        fake_github, files={"app.py": (OLD_APP, NEW_APP), "calc.py": (CALC_OLD, CALC_NEW)}
    )
    fake_gemini.findings["security"] = [finding()]
    fake_gemini.findings["bugs"] = [
        finding("calc.py", line=6, severity="high", title="division by zero")
    ]
    review = await opened_delivered(client, pool, pull)
    assert review["status"] == "completed"
    assert fake_github.check_runs(OWNER, REPO)[-1]["conclusion"] == "failure"
    return pull


def services(client):
    return client.app[services_key]


async def command(client, pool, fake_github, body: str, login: str, association: str = "NONE"):
    stored = fake_github.seed_comments(OWNER, REPO, 7, [body], login=login)[0]
    payload = issue_comment_payload(
        body, comment_id=stored["id"], login=login, association=association
    )
    return await job_done(pool, await deliver(client, payload, "issue_comment"))


def command_replies(fake_github) -> list[str]:
    return [
        c["body"]
        for c in fake_github.comments(OWNER, REPO, 7)
        if c["body"].startswith("<!-- second-look:reply -->")
    ]


def permission_calls(fake_github, login: str) -> int:
    path = f"/repos/{OWNER}/{REPO}/collaborators/{login}/permission"
    return sum(1 for r in fake_github.requests if r.path == path)


@pytest.mark.parametrize("actor", list(ACTORS))
async def test_what_each_actor_may_do(client, pool, fake_github, fake_gemini, reviewed, actor):
    login, role, association = ACTORS[actor]
    if role:
        fake_github.set_permission(OWNER, REPO, login, role)
    outcomes = []

    fake_github.react(OWNER, REPO, root(fake_github, "calc.py")["id"], "-1", login=login)
    await push_delivered(client, pool, reviewed, {"README.md": "a push\n"})
    how = await pool.fetchval("SELECT how FROM dismissals WHERE dismissed_by = $1", login)
    outcomes.append({"reaction": "dismissed", None: "counted, not dismissed"}[how])
    asked = len(fake_gemini.requests_of("answer"))
    question = await reply(
        client,
        pool,
        fake_github,
        reviewed,
        root(fake_github),
        "Why is this a problem?",
        login=login,
        association=association,
    )
    outcomes.append(question["outcome"])
    wrong = await reply(
        client,
        pool,
        fake_github,
        reviewed,
        root(fake_github),
        "This is a false positive.",
        login=login,
        association=association,
    )
    outcomes.append(wrong["outcome"])
    check = fake_github.check_runs(OWNER, REPO)[-1]["conclusion"]
    paused = await command(client, pool, fake_github, "/second-look pause", login, association)
    outcomes.append(paused["outcome"])

    assert tuple(outcomes) == EXPECTED[actor]
    writes = EXPECTED[actor] == WRITES
    assert check == ("success" if writes else "failure")
    assert len(fake_gemini.requests_of("answer")) == asked + (1 if writes else 0)
    state = await pool.fetchrow("SELECT paused_by FROM pull_states")
    assert (state["paused_by"] if state else None) == (login if writes else None)
    down = await pool.fetchval(
        "SELECT thumbs_down + wrong_replies FROM feedback WHERE agent_type = 'bugs'"
    )
    assert down == 1  # the 👎 is feedback whoever gave it
    wrong_replies = await pool.fetchval(
        "SELECT wrong_replies FROM feedback WHERE agent_type = 'security'"
    )
    assert wrong_replies == (0 if writes else 1)  # a refused "false positive" still counts
    # One refusal, in the thread, saying what it takes; nothing after it this hour.
    told = [a for a in answers_in(fake_github, root(fake_github)) if "Only people" in a]
    assert len(told) == (0 if writes else 1)
    assert len(command_replies(fake_github)) == (1 if writes else 0)  # "Paused: ..." only
    # Only the owner of a user-owned repository is known without asking; the rest once.
    assert permission_calls(fake_github, login) == (0 if login == OWNER else 1)


async def test_a_bot_never_steers_and_is_never_asked_about(
    client, pool, fake_github, fake_gemini, reviewed
):
    bot = "helper[bot]"
    fake_github.set_permission(OWNER, REPO, bot, "admin")  # even then
    fake_github.react(OWNER, REPO, root(fake_github, "calc.py")["id"], "-1", login=bot)
    comment = review_comment(
        "false positive", in_reply_to_id=root(fake_github)["id"], login=bot, user_type="Bot"
    )
    command_payload = issue_comment_payload("/second-look ignore", login=bot, user_type="Bot")

    answers = [
        await deliver(client, review_comment_payload(comment), "pull_request_review_comment"),
        await deliver(client, command_payload, "issue_comment"),
    ]
    await push_delivered(client, pool, reviewed, {"README.md": "a push\n"})

    assert answers == [{"status": "ignored"}, {"status": "ignored"}]
    assert await pool.fetchval("SELECT count(*) FROM dismissals") == 0
    assert await pool.fetchval("SELECT thumbs_down FROM feedback WHERE agent_type = 'bugs'") == 1
    assert permission_calls(fake_github, bot) == 0


async def test_the_pr_author_without_write_access_cannot_steer_their_own_pr(
    client, pool, fake_github, fake_gemini, reviewed
):
    author = reviewed.user  # the fake's PR author, with no role on the repository

    ignored = await command(client, pool, fake_github, "/second-look ignore", author, "CONTRIBUTOR")
    wrong = await reply(
        client,
        pool,
        fake_github,
        reviewed,
        root(fake_github),
        "won't fix",
        login=author,
        association="CONTRIBUTOR",
    )

    assert (ignored["outcome"], wrong["outcome"]) == ("refused", QUIET)
    assert await pool.fetchval("SELECT count(*) FROM dismissals") == 0
    assert await pool.fetchval("SELECT count(*) FROM pull_states") == 0
    assert fake_github.check_runs(OWNER, REPO)[-1]["conclusion"] == "failure"


async def test_a_refusal_is_said_once_an_hour_and_costs_nothing(
    client, pool, fake_github, fake_gemini, reviewed
):
    now = [datetime.now(UTC)]
    services(client).clock = lambda: now[0]
    reviews_before = await pool.fetchval("SELECT count(*) FROM reviews")

    first = [
        (await command(client, pool, fake_github, f"/second-look {word}", "otto"))["outcome"]
        for word in ("review", "review", "help", "frobnicate")
    ]
    now[0] += timedelta(minutes=61)
    later = await command(client, pool, fake_github, "/second-look review", "otto")

    assert first == ["refused", QUIET, QUIET, QUIET]
    assert later["outcome"] == "refused"
    assert len(command_replies(fake_github)) == 2
    assert await pool.fetchval("SELECT count(*) FROM reviews") == reviews_before  # no review
    assert all("needs write access" in r for r in command_replies(fake_github))


async def test_help_is_given_to_writers_every_time(client, pool, fake_github, reviewed):
    outcomes = [
        (await command(client, pool, fake_github, "/second-look help", "maintainer"))["outcome"]
        for _ in range(3)
    ]

    assert outcomes == ["help"] * 3
    assert len(command_replies(fake_github)) == 3


async def test_outsiders_questions_cost_nothing_and_leave_the_hour_to_maintainers(
    client, pool, fake_github, fake_gemini, reviewed
):
    for n in range(3):
        await reply(
            client,
            pool,
            fake_github,
            reviewed,
            root(fake_github),
            f"Why {n}?",
            login="otto",
            association="NONE",
        )
    assert fake_gemini.requests_of("answer") == []

    outcomes = [
        (await reply(client, pool, fake_github, reviewed, root(fake_github), f"And {n}?"))[
            "outcome"
        ]
        for n in range(2)
    ]

    assert outcomes == ["answered", "answered"]  # ANSWERS_PER_HOUR=2, none used by otto
    assert len(fake_gemini.requests_of("answer")) == 2


async def test_thread_answers_everyone_opens_answers_never_dismissals(
    client, pool, fake_github, fake_gemini
):
    pull = open_pull(fake_github)
    fake_github.set_content(
        OWNER, REPO, "main", ".github/second-look.yml", "thread_answers: everyone\n"
    )
    fake_gemini.findings["security"] = [finding()]
    await opened_delivered(client, pool, pull)

    question = await reply(
        client, pool, fake_github, pull, root(fake_github), "Why?", login="otto", association="NONE"
    )
    wrong = await reply(
        client,
        pool,
        fake_github,
        pull,
        root(fake_github),
        "false positive",
        login="otto",
        association="NONE",
    )

    assert (question["outcome"], wrong["outcome"]) == ("answered", "refused")
    assert await pool.fetchval("SELECT count(*) FROM dismissals") == 0
    assert "Only people with write access" in answers_in(fake_github, root(fake_github))[-1]


async def test_the_answer_is_kept_five_minutes_and_forgotten_when_access_changes(
    client, pool, fake_github, fake_gemini, reviewed
):
    now = [datetime.now(UTC)]
    services(client).clock = lambda: now[0]
    fake_github.set_permission(OWNER, REPO, "wren", "write")

    first = await command(client, pool, fake_github, "/second-look pause", "wren")
    second = await command(client, pool, fake_github, "/second-look resume", "wren")
    assert (first["outcome"], second["outcome"]) == ("paused", "resumed")
    assert permission_calls(fake_github, "wren") == 1  # cached

    # wren is made read-only: GitHub sends `member` edited, and the cache forgets wren.
    fake_github.set_permission(OWNER, REPO, "wren", "read")
    event = {
        **_envelope("edited", OWNER, REPO, 1, "octo"),
        "member": {"login": "wren", "type": "User"},
        "changes": {"permission": {"from": "write", "to": "read"}},
    }
    forgot = await job_done(pool, await deliver(client, event, "member"))
    assert forgot["outcome"] == "1 permission(s) forgotten (member edited)"
    refused = await command(client, pool, fake_github, "/second-look pause", "wren")
    assert refused["outcome"] == "refused"
    assert permission_calls(fake_github, "wren") == 2

    # Without an event, a changed role is seen once the answer is five minutes old.
    fake_github.set_permission(OWNER, REPO, "wren", "maintain")
    now[0] += timedelta(minutes=2)
    assert (await command(client, pool, fake_github, "/second-look pause", "wren"))[
        "outcome"
    ] == QUIET
    now[0] += timedelta(minutes=4)
    assert (await command(client, pool, fake_github, "/second-look pause", "wren"))[
        "outcome"
    ] == "paused"
    assert permission_calls(fake_github, "wren") == 3


@pytest.mark.parametrize(
    ("event", "payload", "forgotten"),
    [
        (
            "organization",
            {"action": "member_removed", "membership": {"user": {"login": "wren", "type": "User"}}},
            2,
        ),
        (
            "membership",
            {
                "action": "removed",
                "member": {"login": "wren", "type": "User"},
                "team": {"id": 3, "slug": "core"},
            },
            2,
        ),
        ("team", {"action": "removed_from_repository", "team": {"id": 3, "slug": "core"}}, 3),
    ],
    ids=["organization", "membership", "team"],
)
async def test_organization_and_team_events_forget_what_they_may_change(
    client, pool, fake_github, event, payload, forgotten
):
    open_pull(fake_github)
    for login, repo in (("wren", REPO), ("wren", "gadgets"), ("mo", REPO)):
        fake_github.set_permission(OWNER, repo, login, "write")
    await pool.execute(
        "INSERT INTO permissions (installation_id, owner, repo, login, permission, role_name)"
        " VALUES (1, 'octo', 'widgets', 'wren', 'write', 'write'),"
        " (1, 'octo', 'gadgets', 'wren', 'write', 'write'),"
        " (1, 'octo', 'widgets', 'mo', 'write', 'write'),"
        " (2, 'octo', 'widgets', 'wren', 'write', 'write')"
    )
    body = {**payload, "installation": {"id": 1}, "sender": {"login": "octo", "type": "User"}}

    job = await job_done(pool, await deliver(client, body, event))

    assert job["outcome"].startswith(f"{forgotten} permission(s) forgotten")
    left = await pool.fetchval("SELECT count(*) FROM permissions")
    assert left == 4 - forgotten  # installation 2's answer is never touched


async def test_a_refused_false_positive_counts_against_the_agent(
    client, pool, fake_github, fake_gemini, reviewed
):
    await reply(
        client,
        pool,
        fake_github,
        reviewed,
        root(fake_github),
        "not a bug",
        login="otto",
        association="NONE",
    )

    accepted = await feedback.acceptance(pool, datetime.now(UTC) - timedelta(days=1))

    [security] = [a for a in accepted["agents"] if a.group == "security"]
    assert (security.rejected, security.thumbs_down) == (1, 1)
    assert "dismissed" not in summary_of(fake_github).lower()
