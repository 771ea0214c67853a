"""The GitHub fake's workflow tokens answer like a GitHub Actions GITHUB_TOKEN: one repository,
writes by github-actions[bot], and 403 for what the workflow's `permissions:` withhold."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from bot.github import publish
from bot.github.client import RetryingGitHubAPI
from bot.pull import Pull
from bot.retry import Policy
from bot.review.render import MARKER
from tests.fakes.github import FakeGitHub

OLD = "".join(f"line {i}\n" for i in range(1, 11))
NEW = OLD.replace("line 5\n", "line five\n")
FILES = {"src/app.py": (OLD, NEW)}
INLINE = [{"path": "src/app.py", "line": 5, "side": "RIGHT", "body": "on line five"}]
ACTIONS_LOGIN = "github-actions[bot]"
REPO = "/repos/acme/widget"
ACME_1 = Pull(0, "acme", "widget", 1)  # as a workflow's token sees it


def forbidden(docs: str) -> dict[str, str]:
    return {
        "message": "Resource not accessible by integration",
        "documentation_url": f"https://docs.github.com/rest/{docs}",
        "status": "403",
    }


@pytest.fixture
def fake(fake_github: FakeGitHub) -> FakeGitHub:
    """The shared FakeGitHub, emptied for this test, with PR acme/widget#1."""
    fake_github.add_pull("acme", "widget", 1, files=FILES)
    return fake_github


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


async def call(
    session: aiohttp.ClientSession,
    fake: FakeGitHub,
    method: str,
    path: str,
    token: str,
    payload: dict[str, Any] | None = None,
) -> tuple[int, Any]:
    """One REST request: (status, JSON body)."""
    headers = {"Authorization": f"token {token}", "Accept": "application/vnd.github+json"}
    async with session.request(method, fake.url + path, json=payload, headers=headers) as r:
        return r.status, await r.json()


def check_run(fake: FakeGitHub) -> dict[str, Any]:
    return {
        "name": "Second Look",
        "head_sha": fake.pull("acme", "widget", 1).head_sha,
        "status": "in_progress",
    }


def review(fake: FakeGitHub) -> dict[str, Any]:
    head = fake.pull("acme", "widget", 1).head_sha
    return {"commit_id": head, "event": "COMMENT", "body": "review", "comments": INLINE}


async def test_writes_are_authored_by_github_actions(fake, session):
    token = fake.workflow_token("acme", "widget")
    status, comment = await call(
        session, fake, "POST", f"{REPO}/issues/1/comments", token, {"body": "hello"}
    )
    assert status == 201
    assert (comment["user"]["login"], comment["user"]["type"]) == (ACTIONS_LOGIN, "Bot")
    status, posted = await call(
        session, fake, "POST", f"{REPO}/pulls/1/reviews", token, review(fake)
    )
    assert status == 200 and posted["user"]["login"] == ACTIONS_LOGIN
    [stored] = fake.reviews("acme", "widget", 1)
    assert [c["user"]["login"] for c in stored["comments"]] == [ACTIONS_LOGIN]
    status, run = await call(session, fake, "POST", f"{REPO}/check-runs", token, check_run(fake))
    assert status == 201 and run["app"]["slug"] == "github-actions"
    assert [r["app"]["slug"] for r in fake.check_runs("acme", "widget")] == ["github-actions"]


async def test_app_tokens_still_write_as_the_app(fake, session):
    token = fake.issue_token()
    status, comment = await call(
        session, fake, "POST", f"{REPO}/issues/1/comments", token, {"body": "hello"}
    )
    assert status == 201 and comment["user"]["login"] == fake.bot_login
    status, run = await call(session, fake, "POST", f"{REPO}/check-runs", token, check_run(fake))
    assert status == 201 and run["app"]["slug"] == fake.bot_login.removesuffix("[bot]")


async def test_publish_finds_and_edits_the_actions_summary_comment(fake, session):
    token = fake.workflow_token("acme", "widget")
    gh = RetryingGitHubAPI(
        session,
        "second-look-tests",
        oauth_token=token,
        base_url=fake.url,
        policy=Policy(attempts=1, backoff_cap=0, max_wait=0),
    )
    first = await publish.upsert_comment(gh, ACME_1, f"{MARKER}\none", MARKER)
    again = await publish.upsert_comment(gh, ACME_1, f"{MARKER}\ntwo", MARKER)
    assert first.id == again.id and (first.created, again.created) == (True, False)
    assert [(c["user"]["login"], c["body"]) for c in fake.comments("acme", "widget", 1)] == [
        (ACTIONS_LOGIN, f"{MARKER}\ntwo")
    ]


async def test_the_token_reaches_its_repository_only(fake, session):
    fake.add_pull("acme", "other", 1, files=FILES)  # same installation
    token = fake.workflow_token("acme", "widget")
    assert (await call(session, fake, "GET", f"{REPO}/pulls/1", token))[0] == 200
    assert (await call(session, fake, "GET", "/repos/ACME/Widget/pulls/1", token))[0] == 200
    status, body = await call(session, fake, "GET", "/repos/acme/other/pulls/1", token)
    assert (status, body["message"]) == (404, "Not Found")
    status, _ = await call(
        session, fake, "POST", "/repos/acme/other/issues/1/comments", token, {"body": "hi"}
    )
    assert status == 404 and fake.comments("acme", "other", 1) == []


async def test_without_checks_write_check_runs_are_refused(fake, session):
    run = check_run(fake)
    _, existing = await call(session, fake, "POST", f"{REPO}/check-runs", fake.issue_token(), run)
    token = fake.workflow_token("acme", "widget", checks=False)
    assert await call(session, fake, "POST", f"{REPO}/check-runs", token, run) == (
        403,
        forbidden("checks/runs#create-a-check-run"),
    )
    patch = {"status": "completed", "conclusion": "success"}
    assert await call(
        session, fake, "PATCH", f"{REPO}/check-runs/{existing['id']}", token, patch
    ) == (403, forbidden("checks/runs#update-a-check-run"))
    status, read = await call(session, fake, "GET", f"{REPO}/check-runs/{existing['id']}", token)
    assert (status, read["status"]) == (200, "in_progress")  # reading stays allowed
    assert len(fake.check_runs("acme", "widget")) == 1
    status, _ = await call(
        session, fake, "POST", f"{REPO}/issues/1/comments", token, {"body": "still fine"}
    )
    assert status == 201


async def test_without_pull_requests_write_comments_and_reviews_are_refused(fake, session):
    [seeded] = fake.seed_comments("acme", "widget", 1, ["someone's"])
    token = fake.workflow_token("acme", "widget", pull_requests=False)
    created = await call(session, fake, "POST", f"{REPO}/issues/1/comments", token, {"body": "x"})
    assert created == (403, forbidden("issues/comments#create-an-issue-comment"))
    edit = f"{REPO}/issues/comments/{seeded['id']}"
    edited = await call(session, fake, "PATCH", edit, token, {"body": "x"})
    assert edited == (403, forbidden("issues/comments#update-an-issue-comment"))
    assert await call(session, fake, "POST", f"{REPO}/pulls/1/reviews", token, review(fake)) == (
        403,
        forbidden("pulls/reviews#create-a-review-for-a-pull-request"),
    )
    assert fake.reviews("acme", "widget", 1) == []
    assert [c["body"] for c in fake.comments("acme", "widget", 1)] == ["someone's"]
    status, listed = await call(session, fake, "GET", f"{REPO}/issues/1/comments", token)
    assert (status, [c["id"] for c in listed]) == (200, [seeded["id"]])
    status, _ = await call(session, fake, "POST", f"{REPO}/check-runs", token, check_run(fake))
    assert status == 201


async def test_an_expired_workflow_token_is_refused(fake, session):
    stale = fake.workflow_token("acme", "widget", ttl=-1)
    assert await call(session, fake, "GET", f"{REPO}/pulls/1", stale) == (
        401,
        {
            "message": "Bad credentials",
            "documentation_url": "https://docs.github.com/rest",
            "status": "401",
        },
    )
    token = fake.workflow_token("acme", "widget")
    assert (await call(session, fake, "GET", f"{REPO}/pulls/1", token))[0] == 200
    fake.expire_tokens()
    assert (await call(session, fake, "GET", f"{REPO}/pulls/1", token))[0] == 401


async def graphql(session, fake, query, token, variables=None) -> dict[str, Any]:
    headers = {"Authorization": f"bearer {token}"}
    payload = {"query": query, "variables": variables or {}}
    async with session.post(f"{fake.url}/graphql", json=payload, headers=headers) as r:
        assert r.status == 200
        return await r.json()


PULL = """query($name: String!) { repository(owner: "acme", name: $name) {
  nameWithOwner pullRequest(number: 1) { headRefOid
    reviewThreads(first: 10) { nodes { id isResolved } } } } }"""
RESOLVE = """mutation($id: ID!) { resolveReviewThread(input: {threadId: $id}) {
  thread { id isResolved } } }"""


async def test_graphql_reads_its_repository_only(fake, session):
    fake.add_pull("acme", "other", 1, files=FILES)
    token = fake.workflow_token("acme", "widget")
    answer = await graphql(session, fake, PULL, token, {"name": "widget"})
    assert answer["data"]["repository"]["pullRequest"]["headRefOid"] == (
        fake.pull("acme", "widget", 1).head_sha
    )
    other = await graphql(session, fake, PULL, token, {"name": "other"})
    assert other["data"] == {"repository": None}
    assert [e["type"] for e in other["errors"]] == ["NOT_FOUND"]


async def test_resolving_a_thread_needs_pull_requests_write(fake, session):
    await call(session, fake, "POST", f"{REPO}/pulls/1/reviews", fake.issue_token(), review(fake))
    [thread] = fake.threads("acme", "widget", 1)
    read_only = fake.workflow_token("acme", "widget", pull_requests=False)
    refused = await graphql(session, fake, RESOLVE, read_only, {"id": thread["id"]})
    assert refused["data"] == {"resolveReviewThread": None}
    assert [e["type"] for e in refused["errors"]] == ["FORBIDDEN"]
    assert [t["is_resolved"] for t in fake.threads("acme", "widget", 1)] == [False]
    writer = fake.workflow_token("acme", "widget")
    resolved = await graphql(session, fake, RESOLVE, writer, {"id": thread["id"]})
    assert resolved["data"]["resolveReviewThread"]["thread"]["isResolved"] is True
    assert [t["is_resolved"] for t in fake.threads("acme", "widget", 1)] == [True]
