"""The GitHub fake answers like GitHub: auth, diffs and their limits, reviews, checks, paging."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import AsyncIterator, Iterator
from urllib.parse import parse_qs, urlsplit

import aiohttp
import jwt
import pytest
import unidiff
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from gidgethub import apps
from gidgethub.aiohttp import GitHubAPI

from tests.fakes.diffs import make_diff
from tests.fakes.github import FakeGitHub, make_rsa_keypair
from tests.fakes.loop import BackgroundLoop

APP_ID = "4242"
OLD = "".join(f"line {i}\n" for i in range(1, 31))
# Line 5 replaced, two lines added after 20: hunks cover new lines 2-8 and 18-25.
NEW = OLD.replace("line 5\n", "line five\n").replace("line 20\n", "line 20\nadded a\nadded b\n")
FILES = {"src/app.py": (OLD, NEW), "docs/new.md": (None, "# Title\n"), "old.txt": ("bye\n", None)}


@pytest.fixture(scope="session")
def fake() -> Iterator[FakeGitHub]:
    bg = BackgroundLoop()
    github = FakeGitHub(APP_ID, make_rsa_keypair()[1])
    github.start(bg)
    yield github
    bg.close()


@pytest.fixture(autouse=True)
def clean(fake: FakeGitHub) -> None:
    fake.reset()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


def app_jwt(private_pem: str, iss: object = APP_ID, *, exp_in: int = 540) -> str:
    """Sign an App JWT; a non-str `iss` is encoded by hand since PyJWT refuses it."""
    now = int(time.time())
    payload = {"iat": now - 60, "exp": now + exp_in, "iss": iss}
    if isinstance(iss, str):
        return jwt.encode(payload, private_pem, algorithm="RS256")
    return jwt.PyJWS().encode(json.dumps(payload).encode(), private_pem, algorithm="RS256")


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"token {token}", "Accept": "application/vnd.github+json"}


async def test_token_exchange_accepts_a_jwt_signed_by_the_app_key(fake, session):
    fake.add_pull("acme", "widget", 1, files=FILES)
    gh = GitHubAPI(session, "second-look-tests", base_url=fake.url)
    answer = await apps.get_installation_access_token(
        gh, installation_id="1", app_id=APP_ID, private_key=make_rsa_keypair()[0]
    )
    assert answer["token"].startswith("ghs_")
    assert answer["expires_at"].endswith("Z")
    assert [t.token for t in fake.tokens_issued] == [answer["token"]]
    async with session.get(
        f"{fake.url}/repos/acme/widget/pulls/1", headers=auth(answer["token"])
    ) as r:
        assert r.status == 200
        assert (await r.json())["head"]["sha"] == fake.pull("acme", "widget", 1).head_sha


async def test_token_exchange_refuses_a_wrong_key_an_int_iss_and_unknown_tokens(fake, session):
    fake.add_pull("acme", "widget", 1, files=FILES)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    other_pem = other.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    private = make_rsa_keypair()[0]
    url = f"{fake.url}/app/installations/1/access_tokens"
    refusals = {
        app_jwt(other_pem): "A JSON web token could not be decoded",
        app_jwt(private, iss=int(APP_ID)): "'Issuer' claim ('iss') must be a String",
        app_jwt(private, exp_in=-5): "'Expiration time' claim ('exp') must be a numeric value",
    }
    for bad, message in refusals.items():
        async with session.post(url, headers={"Authorization": f"Bearer {bad}"}) as r:
            assert r.status == 401
            assert (await r.json())["message"].startswith(message)
    assert fake.tokens_issued == []
    async with session.get(f"{fake.url}/repos/acme/widget/pulls/1", headers=auth("ghs_x")) as r:
        assert r.status == 401
        assert (await r.json())["message"] == "Bad credentials"
    assert [r.status for r in fake.requests] == [401, 401, 401, 401]


async def test_diff_is_streamed_chunked_and_matches_the_files(fake, session):
    fake.add_pull("acme", "widget", 1, files=FILES)
    headers = {**auth(fake.issue_token()), "Accept": "application/vnd.github.v3.diff"}
    async with session.get(f"{fake.url}/repos/acme/widget/pulls/1", headers=headers) as r:
        assert r.status == 200
        assert r.headers["Transfer-Encoding"] == "chunked"
        assert r.headers["Content-Type"] == "application/vnd.github.diff; charset=utf-8"
        text = (await r.read()).decode()
    expected = make_diff(
        {p: old for p, (old, _) in FILES.items() if old is not None},
        {p: new for p, (_, new) in FILES.items() if new is not None},
    )
    assert text == expected
    assert text.startswith("diff --git a/docs/new.md b/docs/new.md\nnew file mode 100644\n")
    patch = unidiff.PatchSet(text)
    assert {(f.path, f.added, f.removed) for f in patch} == {
        ("docs/new.md", 1, 0),
        ("old.txt", 0, 1),
        ("src/app.py", 3, 1),
    }


async def test_over_300_files_answers_406_and_the_files_api_pages_with_links(fake, session):
    files = {f"f/{i:03}.txt": (None, f"{i}\n") for i in range(301)}
    fake.add_pull("acme", "widget", 2, files=files)
    headers = auth(fake.issue_token())
    diff_headers = {**headers, "Accept": "application/vnd.github.diff"}
    async with session.get(f"{fake.url}/repos/acme/widget/pulls/2", headers=diff_headers) as r:
        assert r.status == 406
        body = await r.json()
    assert body["message"].startswith("Sorry, the diff exceeded the maximum number of files (300)")
    assert body["errors"] == [{"resource": "PullRequest", "field": "diff", "code": "too_large"}]

    names: list[str] = []
    url: str | None = f"{fake.url}/repos/acme/widget/pulls/2/files?per_page=100"
    links = []
    while url:
        async with session.get(url, headers=headers) as r:
            assert r.status == 200
            names += [f["filename"] for f in await r.json()]
            links.append(r.links)
            url = str(r.links["next"]["url"]) if "next" in r.links else None
    assert names == sorted(files)
    assert len(links) == 4
    assert str(links[0]["last"]["url"]).endswith("/pulls/2/files?per_page=100&page=4")
    assert str(links[0]["next"]["url"]).startswith(fake.url)
    assert "next" not in links[-1] and "prev" in links[-1]


def review_payload(sha: str, *comments: dict) -> dict:
    return {"commit_id": sha, "body": "Second Look", "event": "COMMENT", "comments": list(comments)}


async def test_a_review_comment_off_the_diff_refuses_the_whole_review(fake, session):
    pull = fake.add_pull("acme", "widget", 3, files=FILES)
    url = f"{fake.url}/repos/acme/widget/pulls/3/reviews"
    good = {"path": "src/app.py", "line": 21, "side": "RIGHT", "body": "fine"}
    off = {"path": "src/app.py", "line": 12, "side": "RIGHT", "body": "not in a hunk"}
    payload = review_payload(pull.head_sha, good, off)
    async with session.post(url, json=payload, headers=auth(fake.issue_token())) as r:
        assert r.status == 422
        body = await r.json()
    assert body["message"] == "Unprocessable Entity"
    assert "line must be part of the diff" in body["errors"][0]
    assert fake.reviews("acme", "widget", 3) == []
    assert fake.review_comments("acme", "widget", 3) == []
    assert fake.rejected_comments == 1


async def test_a_range_comment_on_added_lines_is_stored(fake, session):
    pull = fake.add_pull("acme", "widget", 3, files=FILES)
    token = fake.issue_token()
    comment = {
        "path": "src/app.py",
        "start_line": 21,
        "start_side": "RIGHT",
        "line": 22,
        "side": "RIGHT",
        "body": "these two",
    }
    deleted = {"path": "src/app.py", "line": 5, "side": "LEFT", "body": "was line 5"}
    url = f"{fake.url}/repos/acme/widget/pulls/3/reviews"
    async with session.post(
        url, json=review_payload(pull.head_sha, comment, deleted), headers=auth(token)
    ) as r:
        assert r.status == 200  # GitHub answers 200 to "Create a review"
        review = await r.json()
    assert review["state"] == "COMMENTED" and review["commit_id"] == pull.head_sha
    async with session.get(
        f"{fake.url}/repos/acme/widget/pulls/3/comments", headers=auth(token)
    ) as r:
        listed = await r.json()
    assert [(c["start_line"], c["line"], c["side"]) for c in listed] == [
        (21, 22, "RIGHT"),
        (None, 5, "LEFT"),
    ]
    assert listed[0]["diff_hunk"].endswith("+added a\n+added b")
    assert fake.reviews("acme", "widget", 3)[0]["comments"][0]["body"] == "these two"
    # A range across the two hunks is refused.
    across = {"path": "src/app.py", "start_line": 5, "line": 21, "body": "x"}
    async with session.post(
        url, json=review_payload(pull.head_sha, across), headers=auth(token)
    ) as r:
        assert r.status == 422
    assert len(fake.reviews("acme", "widget", 3)) == 1


async def test_check_runs_cap_annotations_at_50_per_request_and_accumulate(fake, session):
    pull = fake.add_pull("acme", "widget", 4, files=FILES)
    token = fake.issue_token()
    url = f"{fake.url}/repos/acme/widget/check-runs"

    def output(n: int) -> dict:
        note = {"path": "src/app.py", "start_line": 5, "end_line": 5, "annotation_level": "warning"}
        notes = [{**note, "message": f"note {i}"} for i in range(n)]
        return {"title": "Second Look", "summary": "s", "annotations": notes}

    create = {"name": "Second Look", "head_sha": pull.head_sha, "status": "in_progress"}
    async with session.post(url, json={**create, "output": output(51)}, headers=auth(token)) as r:
        assert r.status == 422
        assert "No more than 50 items are allowed; 51 were supplied." in (await r.json())["message"]
    async with session.post(url, json={**create, "output": output(50)}, headers=auth(token)) as r:
        assert r.status == 201
        run_id = (await r.json())["id"]
    async with session.patch(
        f"{url}/{run_id}", json={"status": "completed"}, headers=auth(token)
    ) as r:
        assert r.status == 422  # completed needs a conclusion
    finish = {"conclusion": "neutral", "output": output(30)}
    async with session.patch(f"{url}/{run_id}", json=finish, headers=auth(token)) as r:
        assert r.status == 200
        run = await r.json()
    assert (run["status"], run["conclusion"]) == ("completed", "neutral")
    [stored] = fake.check_runs("acme", "widget", pull.head_sha)
    assert len(stored["output"]["annotations"]) == 80


async def test_issue_comments_over_65536_characters_are_refused(fake, session):
    fake.add_pull("acme", "widget", 5, files=FILES)
    token = fake.issue_token()
    url = f"{fake.url}/repos/acme/widget/issues/5/comments"
    async with session.post(url, json={"body": "x" * 65537}, headers=auth(token)) as r:
        assert r.status == 422
        error = (await r.json())["errors"][0]
    assert error["message"] == "Body is too long (maximum is 65536 characters)"
    async with session.post(url, json={"body": "x" * 65536}, headers=auth(token)) as r:
        assert r.status == 201
        comment = await r.json()
    assert comment["user"] == {**comment["user"], "login": "second-look[bot]", "type": "Bot"}
    edit = f"{fake.url}/repos/acme/widget/issues/comments/{comment['id']}"
    async with session.patch(edit, json={"body": "short"}, headers=auth(token)) as r:
        assert r.status == 200
    async with session.patch(edit + "0", json={"body": "short"}, headers=auth(token)) as r:
        assert r.status == 404
    assert [c["body"] for c in fake.comments("acme", "widget", 5)] == ["short"]


async def test_issue_comments_page_with_link_headers(fake, session):
    fake.add_pull("acme", "widget", 6, files=FILES)
    fake.seed_comments("acme", "widget", 6, 65)
    token = fake.issue_token()
    url = f"{fake.url}/repos/acme/widget/issues/6/comments"
    async with session.get(url, headers=auth(token)) as r:
        assert len(await r.json()) == 30
        assert str(r.links["next"]["url"]) == f"{url}?page=2"
        assert str(r.links["last"]["url"]) == f"{url}?page=3"
    async with session.get(url, params={"page": "3"}, headers=auth(token)) as r:
        assert len(await r.json()) == 5
        assert "next" not in r.links and str(r.links["first"]["url"]) == f"{url}?page=1"
    gh = GitHubAPI(session, "second-look-tests", oauth_token=token, base_url=fake.url)
    bodies = [c["body"] async for c in gh.getiter("/repos/acme/widget/issues/6/comments")]
    assert len(bodies) == 65 and bodies[-1] == "Comment 65 by octocat"


async def test_compare_says_ahead_after_a_push_and_diverged_after_a_force_push(fake, session):
    pull = fake.add_pull("acme", "widget", 7, files=FILES)
    first = pull.head_sha
    second = pull.push({"src/app.py": NEW + "more\n"})
    forced = pull.push({"src/app.py": NEW + "other\n"}, force=True)
    token = fake.issue_token()

    async def compare(base: str, head: str) -> dict:
        url = f"{fake.url}/repos/acme/widget/compare/{base}...{head}"
        async with session.get(url, headers=auth(token)) as r:
            assert r.status == 200
            return await r.json()

    ahead = await compare(first, second)
    assert (ahead["status"], ahead["ahead_by"], ahead["behind_by"]) == ("ahead", 1, 0)
    assert [f["filename"] for f in ahead["files"]] == ["src/app.py"]
    assert ahead["files"][0]["patch"].endswith("+more")
    diverged = await compare(second, forced)
    assert (diverged["status"], diverged["ahead_by"], diverged["behind_by"]) == ("diverged", 1, 2)
    assert diverged["merge_base_commit"]["sha"] == pull.base_sha
    assert (await compare(forced, forced))["status"] == "identical"


async def test_faults_and_contents(fake, session):
    fake.add_pull("acme", "widget", 8, files=FILES)
    fake.set_content(
        "acme", "widget", "main", ".github/second-look.yml", "agents: [security]\n" * 9
    )
    fake.fail_next("GET", r"/contents/", 403)
    token = fake.issue_token()
    url = f"{fake.url}/repos/acme/widget/contents/.github/second-look.yml"
    base_sha = fake.pull("acme", "widget", 8).base_sha
    async with session.get(url, params={"ref": base_sha}, headers=auth(token)) as r:
        assert (r.status, r.headers["Retry-After"]) == (403, "1")
        assert "secondary rate limit" in (await r.json())["message"]
    async with session.get(url, params={"ref": base_sha}, headers=auth(token)) as r:
        assert r.status == 200
        body = await r.json()
    assert all(len(line) <= 60 for line in body["content"].splitlines())
    assert base64.b64decode(body["content"]).decode() == "agents: [security]\n" * 9
    raw = {**auth(token), "Accept": "application/vnd.github.raw"}
    async with session.get(url, headers=raw) as r:
        assert await r.text() == "agents: [security]\n" * 9
    async with session.get(url + ".missing", headers=auth(token)) as r:
        assert (r.status, (await r.json())["message"]) == (404, "Not Found")
    assert [(r.method, r.status) for r in fake.find_requests(path="/contents/")] == [
        ("GET", 403),
        ("GET", 200),
        ("GET", 200),
        ("GET", 404),
    ]


async def graphql(session, fake, query, variables=None, headers=None):
    """POST a GraphQL query with an installation token: (status, answer)."""
    headers = headers if headers is not None else {"Authorization": f"bearer {fake.issue_token()}"}
    payload = {"query": query, "variables": variables or {}}
    async with session.post(f"{fake.url}/graphql", json=payload, headers=headers) as r:
        return r.status, await r.json()


async def test_graphql_authenticates_and_answers_bad_queries_with_errors_and_no_data(fake, session):
    fake.add_pull("acme", "widget", 1, files=FILES)
    query = '{ repository(owner: "acme", name: "widget") { name } }'

    assert await graphql(session, fake, query, headers={}) == (
        401,
        {
            "message": "This endpoint requires you to be authenticated.",
            "documentation_url": "https://docs.github.com/graphql/guides/forming-calls-with-graphql"
            "#authenticating-with-graphql",
            "status": "401",
        },
    )
    status, answer = await graphql(session, fake, query, headers=auth("ghs_not-a-token"))
    assert (status, answer["message"]) == (401, "Bad credentials")
    assert await graphql(session, fake, query) == (
        200,
        {"data": {"repository": {"name": "widget"}}},
    )

    status, answer = await graphql(session, fake, "{ repository(owner: ")
    assert status == 200 and "data" not in answer
    [error] = answer["errors"]
    assert error["message"].startswith("Syntax Error") and error["locations"] == [
        {"line": 1, "column": 21}
    ]
    status, answer = await graphql(
        session, fake, 'query { repository(owner: "acme", name: "widget") { nope } }'
    )
    assert status == 200 and "data" not in answer
    # graphql-core's wording; GitHub says "Field 'nope' doesn't exist on type 'Repository'".
    [error] = answer["errors"]
    assert error["message"].startswith("Cannot query field 'nope' on type 'Repository'.")
    assert error["locations"] == [{"line": 1, "column": 53}]


async def test_graphql_reads_blobs_trees_and_pulls_and_misses_like_github(fake, session):
    pull = fake.add_pull("acme", "widget", 1, files={**FILES, "logo.png": (None, b"\x89PNG\0")})
    fake.graphql_blob_limit = 100
    query = """query($app: String!, $png: String!, $dir: String!, $head: String!) {
      repository(owner: "acme", name: "widget") {
        pr: pullRequest(number: 1) { title baseRefName headRefOid }
        missing: pullRequest(number: 99) { title }
        text: object(expression: "main:old.txt") { __typename ... on Blob { text byteSize } }
        long: object(expression: $app) { ...blob }
        png: object(expression: $png) { ...blob }
        dir: object(expression: $dir) { __typename oid }
        none: object(expression: "main:nope.txt") { __typename }
        head: object(expression: $head) { __typename oid } } }
    fragment blob on Blob { byteSize isBinary isTruncated text }
    """
    sha = pull.head_sha
    variables = {
        "app": f"{sha}:src/app.py",
        "png": f"{sha}:logo.png",
        "dir": f"{sha}:src",
        "head": sha,
    }

    status, answer = await graphql(session, fake, query, variables)

    repo = answer["data"]["repository"]
    assert status == 200
    assert repo["pr"] == {
        "title": "Add a feature",
        "baseRefName": "main",
        "headRefOid": pull.head_sha,
    }
    assert repo["missing"] is None
    assert answer["errors"] == [
        {
            "type": "NOT_FOUND",
            "message": "Could not resolve to a PullRequest with the number of 99.",
            "locations": [{"line": 4, "column": 9}],
            "path": ["repository", "missing"],
        }
    ]
    assert repo["text"] == {"__typename": "Blob", "text": "bye\n", "byteSize": 4}
    assert repo["long"] == {
        "byteSize": len(NEW),
        "isBinary": False,
        "isTruncated": True,
        "text": NEW.encode()[:100].decode(),
    }
    assert repo["png"] == {"byteSize": 5, "isBinary": True, "isTruncated": False, "text": None}
    assert repo["dir"]["__typename"] == "Tree"
    assert repo["none"] is None
    assert repo["head"] == {"__typename": "Commit", "oid": pull.head_sha}

    invisible = '{ repository(owner: "acme", name: "gadget") { name } }'
    status, answer = await graphql(session, fake, invisible)
    assert answer["data"] == {"repository": None}
    assert [(e["type"], e["path"], e["message"]) for e in answer["errors"]] == [
        (
            "NOT_FOUND",
            ["repository"],
            "Could not resolve to a Repository with the name 'acme/gadget'.",
        )
    ]

    fake.fail_next("POST", r"^/graphql$", 502)
    assert (await graphql(session, fake, invisible))[0] == 502
    assert [r.status for r in fake.find_requests("POST", "/graphql")] == [200, 200, 502]


async def test_contents_of_a_directory_lists_it(fake, session):
    fake.add_pull("acme", "widget", 1, files=FILES)
    url = f"{fake.url}/repos/acme/widget/contents/src"
    async with session.get(url, params={"ref": "main"}, headers=auth(fake.issue_token())) as r:
        assert r.status == 200
        listing = await r.json()
    assert [(e["type"], e["path"], e["size"]) for e in listing] == [
        ("file", "src/app.py", len(OLD))
    ]


@pytest.mark.parametrize("status", [502, None])
async def test_fail_after_creates_the_comment_then_loses_the_answer(fake, session, status):
    fake.add_pull("acme", "widget", 1, files=FILES)
    fake.fail_after("POST", r"/issues/1/comments$", status)
    url = f"{fake.url}/repos/acme/widget/issues/1/comments"
    headers = auth(fake.issue_token())
    if status is None:
        with pytest.raises(aiohttp.ServerDisconnectedError):
            async with session.post(url, json={"body": "hello"}, headers=headers):
                pass
    else:
        async with session.post(url, json={"body": "hello"}, headers=headers) as r:
            assert r.status == 502
    assert [c["body"] for c in fake.comments("acme", "widget", 1)] == ["hello"], "it was created"

    async with session.post(url, json={"body": "again"}, headers=headers) as r:
        assert r.status == 201, "the fault is spent"
    assert len(fake.comments("acme", "widget", 1)) == 2


async def test_the_manifest_pages_redirect_with_a_code_that_converts_to_the_app(fake, session):
    spec = {"name": "Mine", "url": "https://b.example", "redirect_url": "https://b.example/cb"}
    form = {"manifest": json.dumps(spec)}

    async with session.post(
        f"{fake.url}/organizations/octo-org/settings/apps/new?state=s%2F1", data=form
    ) as page:
        assert page.status == 200
        confirm = await page.text()
    assert 'name="state" value="s/1"' in confirm and "Create GitHub App for octo-org" in confirm
    created = {"manifest": json.dumps(spec), "state": "s/1", "name": "Mine renamed"}
    async with session.post(
        f"{fake.url}/settings/apps/new/create?owner=octo-org", data=created, allow_redirects=False
    ) as response:
        assert response.status == 302
        location = response.headers["Location"]
    assert location.startswith("https://b.example/cb?code=")
    query = parse_qs(urlsplit(location).query)
    assert query["state"] == ["s/1"]
    code = query["code"][0]
    async with session.post(f"{fake.url}/app-manifests/{code}/conversions") as converted:
        assert converted.status == 201
        app = await converted.json()
    assert (app["name"], app["owner"]["login"]) == ("Mine renamed", "octo-org")
    async with session.post(f"{fake.url}/settings/apps/new", data={"manifest": "{"}) as bad:
        assert bad.status == 422
