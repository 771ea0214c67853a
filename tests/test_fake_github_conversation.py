"""The GitHub fake's conversation around review comments answers like GitHub: reactions,
replies, collaborator permissions, and GraphQL review threads with their resolution."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from tests.fakes.github import FakeGitHub

OLD = "".join(f"line {i}\n" for i in range(1, 31))
# Line 5 replaced, two lines added after 20: hunks cover new lines 2-8 and 18-25.
NEW = OLD.replace("line 5\n", "line five\n").replace("line 20\n", "line 20\nadded a\nadded b\n")
FILES = {"src/app.py": (OLD, NEW), "docs/new.md": (None, "# Title\n")}
INLINE = [
    {"path": "src/app.py", "line": 5, "side": "RIGHT", "body": "on line five"},
    {"path": "src/app.py", "start_line": 21, "line": 22, "side": "RIGHT", "body": "added lines"},
    {"path": "docs/new.md", "line": 1, "side": "RIGHT", "body": "a title"},
]
THREADS = """query($after: String, $first: Int) {
  repository(owner: "acme", name: "widget") { pullRequest(number: 1) {
    reviewThreads(first: $first, after: $after) {
      totalCount pageInfo { hasNextPage endCursor }
      nodes { id isResolved isOutdated path line startLine
        comments(first: 10) { totalCount nodes {
          id databaseId body author { __typename login }
          replyTo { databaseId } } } } } } } }"""


@pytest.fixture
def fake(fake_github: FakeGitHub) -> FakeGitHub:
    """The shared FakeGitHub, emptied for this test."""
    return fake_github


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"token {token}", "Accept": "application/vnd.github+json"}


async def call(session, method, url, token, payload=None):
    """One REST request with an installation token: (status, JSON body)."""
    async with session.request(method, url, json=payload, headers=auth(token)) as r:
        return r.status, await r.json()


async def graphql(session, fake, query, variables=None, token=None):
    headers = {"Authorization": f"bearer {token or fake.issue_token()}"}
    payload = {"query": query, "variables": variables or {}}
    async with session.post(f"{fake.url}/graphql", json=payload, headers=headers) as r:
        assert r.status == 200
        return await r.json()


async def reviewed(fake, session, token) -> list[dict]:
    """Open PR acme/widget#1 and review it through POST /reviews; return its review comments."""
    pull = fake.add_pull("acme", "widget", 1, files=FILES)
    review = {"commit_id": pull.head_sha, "event": "COMMENT", "body": "", "comments": INLINE}
    url = f"{fake.url}/repos/acme/widget/pulls/1/reviews"
    assert (await call(session, "POST", url, token, review))[0] == 200
    return fake.review_comments("acme", "widget", 1)


async def test_reactions_on_review_and_issue_comments(fake, session):
    token = fake.issue_token()
    comment = (await reviewed(fake, session, token))[0]
    url = f"{fake.url}/repos/acme/widget/pulls/comments/{comment['id']}/reactions"

    status, first = await call(session, "POST", url, token, {"content": "+1"})
    assert status == 201
    assert (first["content"], first["user"]["login"], first["user"]["type"]) == (
        "+1",
        "second-look[bot]",
        "Bot",
    )
    assert set(first) == {"id", "node_id", "user", "content", "created_at"}
    status, again = await call(session, "POST", url, token, {"content": "+1"})
    assert (status, again["id"]) == (200, first["id"])
    assert (await call(session, "POST", url, token, {"content": "heart"}))[0] == 201
    status, error = await call(session, "POST", url, token, {"content": "thumbsup"})
    assert status == 422
    assert error["message"] == (
        "Invalid request.\n\nFor 'properties/content', \"thumbsup\" is not one of "
        '["+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes"].'
    )
    assert error["documentation_url"].endswith("#create-reaction-for-a-pull-request-review-comment")
    missing = f"{fake.url}/repos/acme/widget/pulls/comments/999999/reactions"
    assert (await call(session, "POST", missing, token, {"content": "+1"}))[0] == 404

    fake.react("acme", "widget", comment["id"], "+1", login="octocat")
    async with session.get(url, params={"per_page": "2"}, headers=auth(token)) as r:
        assert r.status == 200
        page = await r.json()
        assert "next" in r.links
    assert [x["content"] for x in page] == ["+1", "heart"]
    assert [
        (x["user"]["login"], x["content"]) for x in fake.reactions("acme", "widget", comment["id"])
    ][-1] == ("octocat", "+1")

    [issue_comment] = fake.seed_comments("acme", "widget", 1, ["looks good"])
    issue_url = f"{fake.url}/repos/acme/widget/issues/comments/{issue_comment['id']}/reactions"
    assert (await call(session, "POST", issue_url, token, {"content": "rocket"}))[0] == 201
    # A review comment's id is no issue comment's, and the other way round.
    wrong = f"{fake.url}/repos/acme/widget/issues/comments/{comment['id']}/reactions"
    assert (await call(session, "POST", wrong, token, {"content": "rocket"}))[0] == 404
    status, listed = await call(session, "GET", issue_url, token)
    assert (status, [x["content"] for x in listed]) == (200, ["rocket"])


async def test_replies_thread_under_a_top_level_review_comment(fake, session):
    token = fake.issue_token()
    root = (await reviewed(fake, session, token))[1]
    assert "in_reply_to_id" not in root
    url = f"{fake.url}/repos/acme/widget/pulls/1/comments/{root['id']}/replies"

    status, reply = await call(session, "POST", url, token, {"body": "fixed in the next push"})
    assert status == 201
    assert reply["in_reply_to_id"] == root["id"] and reply["user"]["login"] == "second-look[bot]"
    for key in ("path", "line", "start_line", "diff_hunk", "commit_id", "original_commit_id"):
        assert reply[key] == root[key]
    assert reply["pull_request_review_id"] != root["pull_request_review_id"]
    assert fake.reviews("acme", "widget", 1)[-1]["comments"] == [reply]
    status, fetched = await call(session, "GET", reply["url"], token)
    assert (status, fetched) == (200, reply)

    # Replies to replies are not supported; an unknown comment is not found.
    to_reply = f"{fake.url}/repos/acme/widget/pulls/1/comments/{reply['id']}/replies"
    assert (await call(session, "POST", to_reply, token, {"body": "x"}))[0] == 404
    unknown = f"{fake.url}/repos/acme/widget/pulls/1/comments/999999/replies"
    assert (await call(session, "POST", unknown, token, {"body": "x"}))[0] == 404
    assert (await call(session, "POST", url, token, {}))[0] == 422
    missing = f"{fake.url}/repos/acme/widget/pulls/comments/999999"
    assert (await call(session, "GET", missing, token))[0] == 404

    person = fake.reply("acme", "widget", 1, root["id"], "thanks", login="alice")
    assert (person["in_reply_to_id"], person["user"]["login"], person["author_association"]) == (
        root["id"],
        "alice",
        "CONTRIBUTOR",
    )
    with pytest.raises(KeyError):
        fake.reply("acme", "widget", 1, person["id"], "a reply to a reply")
    assert [c["body"] for c in fake.threads("acme", "widget", 1)[1]["comments"]] == [
        "added lines",
        "fixed in the next push",
        "thanks",
    ]


async def test_collaborator_permission_maps_roles_to_base_permissions(fake, session):
    fake.add_pull("acme", "widget", 1, files=FILES)
    token = fake.issue_token()
    for login, role in [
        ("ada", "admin"),
        ("mo", "maintain"),
        ("wu", "write"),
        ("ty", "triage"),
        ("rae", "read"),
    ]:
        fake.set_permission("acme", "widget", login, role)

    async def permission(login: str) -> tuple[int, dict]:
        url = f"{fake.url}/repos/acme/widget/collaborators/{login}/permission"
        return await call(session, "GET", url, token)

    answers = {login: (await permission(login))[1] for login in ["ada", "MO", "wu", "ty", "rae"]}
    assert {k: (v["permission"], v["role_name"]) for k, v in answers.items()} == {
        "ada": ("admin", "admin"),
        "MO": ("write", "maintain"),
        "wu": ("write", "write"),
        "ty": ("read", "triage"),
        "rae": ("read", "read"),
    }
    assert answers["MO"]["user"]["permissions"] == {
        "admin": False,
        "maintain": True,
        "push": True,
        "triage": True,
        "pull": True,
    }
    # Someone who is no collaborator of the private repository: 200, "none".
    status, stranger = await permission("stranger")
    assert (status, stranger["permission"], stranger["user"]["login"]) == (200, "none", "stranger")
    status, error = await permission("-not-a-login-")
    assert (status, error["message"]) == (404, "-not-a-login- is not a user")
    with pytest.raises(ValueError):
        fake.set_permission("acme", "widget", "ada", "owner")


async def test_review_threads_page_with_cursors_and_name_the_bot_without_its_suffix(fake, session):
    token = fake.issue_token()
    comments = await reviewed(fake, session, token)
    fake.reply("acme", "widget", 1, comments[0]["id"], "why?", login="alice")

    answer = await graphql(session, fake, THREADS, {"first": 2})
    threads = answer["data"]["repository"]["pullRequest"]["reviewThreads"]
    assert threads["totalCount"] == 3 and threads["pageInfo"]["hasNextPage"] is True
    [first, second] = threads["nodes"]
    assert (first["path"], first["line"], first["startLine"]) == ("src/app.py", 5, None)
    assert (second["line"], second["startLine"]) == (22, 21)
    assert first["comments"]["nodes"] == [
        {
            "id": comments[0]["node_id"],
            "databaseId": comments[0]["id"],
            "body": "on line five",
            "author": {"__typename": "Bot", "login": "second-look"},
            "replyTo": None,
        },
        {
            "id": fake.threads("acme", "widget", 1)[0]["comments"][1]["node_id"],
            "databaseId": fake.threads("acme", "widget", 1)[0]["comments"][1]["id"],
            "body": "why?",
            "author": {"__typename": "User", "login": "alice"},
            "replyTo": {"databaseId": comments[0]["id"]},
        },
    ]

    cursor = threads["pageInfo"]["endCursor"]
    rest = (await graphql(session, fake, THREADS, {"first": 2, "after": cursor}))["data"]
    page = rest["repository"]["pullRequest"]["reviewThreads"]
    assert [t["path"] for t in page["nodes"]] == ["docs/new.md"]
    assert page["pageInfo"]["hasNextPage"] is False
    ids = [t["id"] for t in [first, second, *page["nodes"]]]
    assert ids == [t["id"] for t in fake.threads("acme", "widget", 1)]
    assert all(i.startswith("PRRT_") for i in ids) and len(set(ids)) == 3

    too_many = await graphql(session, fake, THREADS, {"first": 101})
    assert "data" not in too_many
    [error] = too_many["errors"]
    assert error["type"] == "EXCESSIVE_PAGINATION"
    assert error["message"] == (
        "Requesting 101 records on the `reviewThreads` connection exceeds the `first` limit "
        "of 100 records."
    )


async def test_a_thread_is_outdated_when_a_push_changes_its_lines(fake, session):
    token = fake.issue_token()
    await reviewed(fake, session, token)
    pull = fake.pull("acme", "widget", 1)

    async def outdated() -> list[tuple[bool, int | None]]:
        answer = await graphql(session, fake, THREADS, {"first": 10})
        nodes = answer["data"]["repository"]["pullRequest"]["reviewThreads"]["nodes"]
        return [(t["isOutdated"], t["line"]) for t in nodes]

    pull.push({"docs/other.md": "unrelated\n"})
    assert await outdated() == [(False, 5), (False, 22), (False, 1)]
    pull.push({"src/app.py": NEW.replace("line five\n", "line 5 again\n")})
    assert await outdated() == [(True, None), (False, 22), (False, 1)]
    pull.push({"docs/new.md": None})
    assert await outdated() == [(True, None), (False, 22), (True, None)]
    assert [t["is_outdated"] for t in fake.threads("acme", "widget", 1)] == [True, False, True]


async def test_resolve_review_thread_mutation(fake, session):
    token = fake.issue_token()
    await reviewed(fake, session, token)
    thread_id = fake.threads("acme", "widget", 1)[1]["id"]
    mutation = """mutation($id: ID!) {
      resolveReviewThread(input: {threadId: $id, clientMutationId: "m1"}) {
        clientMutationId thread { id isResolved } } }"""

    for _ in range(2):  # resolving twice is fine
        answer = await graphql(session, fake, mutation, {"id": thread_id}, token)
        payload = {"clientMutationId": "m1", "thread": {"id": thread_id, "isResolved": True}}
        assert answer == {"data": {"resolveReviewThread": payload}}
    assert [t["is_resolved"] for t in fake.threads("acme", "widget", 1)] == [False, True, False]
    nodes = (await graphql(session, fake, THREADS, {"first": 10}))["data"]["repository"][
        "pullRequest"
    ]["reviewThreads"]["nodes"]
    assert [t["isResolved"] for t in nodes] == [False, True, False]

    answer = await graphql(session, fake, mutation, {"id": "PRRT_nope"}, token)
    assert answer["data"] == {"resolveReviewThread": None}
    assert [(e["type"], e["path"], e["message"]) for e in answer["errors"]] == [
        (
            "NOT_FOUND",
            ["resolveReviewThread"],
            "Could not resolve to a node with the global id of 'PRRT_nope'",
        )
    ]
    # Another installation cannot see the thread.
    other = await graphql(session, fake, mutation, {"id": thread_id}, fake.issue_token(2))
    assert other["data"] == {"resolveReviewThread": None}
    assert other["errors"][0]["type"] == "NOT_FOUND"


async def test_reactions_read_through_graphql(fake, session):
    token = fake.issue_token()
    comment = (await reviewed(fake, session, token))[0]
    url = f"{fake.url}/repos/acme/widget/pulls/comments/{comment['id']}/reactions"
    assert (await call(session, "POST", url, token, {"content": "+1"}))[0] == 201
    fake.react("acme", "widget", comment["id"], "+1", login="alice")
    fake.react("acme", "widget", comment["id"], "eyes", login="bob")
    query = """{ repository(owner: "acme", name: "widget") { pullRequest(number: 1) {
      reviewThreads(first: 1) { nodes { comments(first: 1) { nodes {
        all: reactions(first: 10) { totalCount viewerHasReacted nodes { content user { login } } }
        up: reactions(first: 10, content: THUMBS_UP) { totalCount }
        eyes: reactions(first: 1, content: EYES) { viewerHasReacted nodes { user { login } } }
      } } } } } } }"""

    answer = await graphql(session, fake, query, token=token)

    [node] = answer["data"]["repository"]["pullRequest"]["reviewThreads"]["nodes"][0]["comments"][
        "nodes"
    ]
    assert node["all"] == {
        "totalCount": 3,
        "viewerHasReacted": True,
        "nodes": [
            {"content": "THUMBS_UP", "user": None},  # Reaction.user is a User; the bot is not
            {"content": "THUMBS_UP", "user": {"login": "alice"}},
            {"content": "EYES", "user": {"login": "bob"}},
        ],
    }
    assert node["up"] == {"totalCount": 2}
    assert node["eyes"] == {"viewerHasReacted": False, "nodes": [{"user": {"login": "bob"}}]}
