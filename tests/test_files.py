"""Reading files and a PR's intent: one GraphQL query a batch, bounded in bytes, REST behind it."""

from __future__ import annotations

import gidgethub
import pytest

from bot.github import files
from bot.github.files import FileText, PullIntent, graphql_url, read
from bot.pull import Repo
from tests.reviewing import OWNER, REPO, open_pull

BASE_FILES = (".github/second-look.yml", ".gitattributes", ".github/second-look.md", "AGENTS.md")
ODD_PATHS = (
    "docs/read me.md",
    'src/"quoted" name.py',
    "src/it's.py",
    "données/été ☃.txt",
    "bin/$HOME ${x} $e0.sh",
    'x") { __typename } #?.txt',
    "a%20b.txt",
)


def graphql_requests(fake):
    return fake.find_requests("POST", r"^/graphql$")


def contents_requests(fake):
    return fake.find_requests("GET", r"/contents/")


def intent_pull(fake, **kw):
    """A PR whose base has the config and attributes, AGENTS.md as a directory, no .md notes."""
    files = {
        ".gitattributes": ("*.lock linguist-generated\n", "*.lock linguist-generated\n"),
        "AGENTS.md/index.txt": ("agents\n", "agents\n"),
        "src/a.py": (None, "a = 1\n"),
        "src/b.py": ("b = 1\n", "b = 2\n"),
        **kw.pop("files", {}),
    }
    pull = open_pull(fake, files=files, title="Fix the parser", body="It **broke**.", **kw)
    fake.set_content(OWNER, REPO, pull.base_ref, ".github/second-look.yml", "agents: [bugs]\n")
    return pull


async def read_of(services, opened, wanted, **kw):
    return await read(services.github, Repo(opened.installation_id, OWNER, REPO), wanted, **kw)


async def test_one_query_reads_the_intent_base_files_and_head_files(services, fake_github):
    pull = intent_pull(fake_github)
    wanted = [(pull.base_ref, p) for p in BASE_FILES]
    wanted += [(pull.head_sha, "src/a.py"), (pull.head_sha, "src/b.py")]

    got = await read_of(services, pull, wanted, pull=pull.number)

    assert got.pull == PullIntent("Fix the parser", "It **broke**.", "main")
    assert list(got.files) == wanted
    assert [(f.text, f.problem) for f in got.files.values()] == [
        ("agents: [bugs]\n", None),
        ("*.lock linguist-generated\n", None),
        (None, None),
        (None, "not a file"),
        ("a = 1\n", None),
        ("b = 2\n", None),
    ]
    assert (got.calls, got.fallback) == (1, None)
    [post] = graphql_requests(fake_github)
    assert post.status == 200
    assert post.headers["authorization"].startswith("bearer ghs_")
    assert post.headers["user-agent"] == "second-look"
    assert post.json["variables"]["e5"] == f"{pull.head_sha}:src/b.py"
    assert "src/" not in post.json["query"] and "main" not in post.json["query"]
    assert not contents_requests(fake_github)
    assert not fake_github.find_requests("GET", r"/pulls/")


async def test_more_files_than_a_batch_take_one_query_per_batch(services, fake_github):
    changed = {f"pkg/m{i:03d}.py": (None, f"VALUE = {i}\n") for i in range(120)}
    pull = open_pull(fake_github, files=changed)
    wanted = [(pull.head_sha, path) for path in changed]

    got = await read_of(services, pull, wanted, pull=pull.number, max_batch=50)

    assert [f.text for f in got.files.values()] == [f"VALUE = {i}\n" for i in range(120)]
    assert got.pull is not None and got.calls == 3
    posts = graphql_requests(fake_github)
    assert [len(p.json["variables"]) for p in posts] == [2 + 1 + 50, 2 + 50, 2 + 20]
    assert ["pullRequest" in p.json["query"] for p in posts] == [True, False, False]


async def test_an_answer_over_the_bound_is_asked_in_halves(services, fake_github):
    small = {f"s{i}.txt": (None, f"{i}" * 10_000) for i in range(8)}
    pull = open_pull(fake_github, files={**small, "huge.txt": (None, "h" * 60_000)})
    wanted = [(pull.head_sha, path) for path in [*small, "huge.txt"]]

    got = await read_of(services, pull, wanted, pull=pull.number, max_response_bytes=45_000)

    assert [got.files[(pull.head_sha, p)].text for p in small] == [
        f"{i}" * 10_000 for i in range(8)
    ]
    huge = got.files[(pull.head_sha, "huge.txt")]
    assert (huge.text, huge.problem) == (
        None,
        "too large to read (over 45,000 bytes in one answer)",
    )
    assert got.pull is not None and got.pull.title == "Add a feature"
    posts = graphql_requests(fake_github)
    # 9 files, then 4 + 5, the 5 as 2 + 3, the 3 as 1 + 2, the 2 as 1 + 1: huge alone fails.
    assert [len(p.json["variables"]) - 2 for p in posts] == [10, 5, 5, 2, 3, 1, 2, 1, 1]
    assert got.calls == len(posts) and got.fallback is None


async def test_binary_oversized_empty_and_truncated_blobs(services, fake_github):
    fake_github.graphql_blob_limit = 1_000
    long = "".join(f"line {i}\n" for i in range(400))  # about 3,000 bytes
    pull = open_pull(
        fake_github,
        files={
            "logo.png": (None, b"\x89PNG\r\n\x1a\n\x00\x00"),
            "big.txt": (None, "b" * 5_000),
            "long.txt": (None, long),
            "empty.txt": (None, ""),
        },
    )
    wanted = [(pull.head_sha, p) for p in ("logo.png", "big.txt", "long.txt", "empty.txt")]

    got = await read_of(services, pull, wanted, max_file_bytes=4_000)

    assert [(f.text, f.problem) for f in got.files.values()] == [
        (None, "binary"),
        (None, "over 4,000 bytes"),
        (long, None),
        ("", None),
    ]
    # GitHub cut long.txt's text; REST read it whole, and only it.
    assert [r.path for r in contents_requests(fake_github)] == [
        f"/repos/{OWNER}/{REPO}/contents/long.txt"
    ]
    assert (got.calls, got.fallback) == (2, None)


async def test_graphql_failing_after_its_retries_falls_back_to_rest(services, fake_github):
    pull = intent_pull(
        fake_github, files={"logo.png": (None, b"\x00\x01"), "big.txt": (None, "b" * 500)}
    )
    wanted = [(pull.base_ref, p) for p in BASE_FILES]
    wanted += [(pull.head_sha, p) for p in ("src/a.py", "src/b.py", "logo.png", "big.txt")]
    by_graphql = await read_of(services, pull, wanted, pull=pull.number, max_file_bytes=100)
    attempts = services.github.policy.attempts
    fake_github.fail_next("POST", r"^/graphql$", 502, times=attempts)
    fake_github.requests.clear()

    by_rest = await read_of(services, pull, wanted, pull=pull.number, max_file_bytes=100)

    assert by_rest.files == by_graphql.files
    assert by_rest.files[(pull.head_sha, "big.txt")].problem == "over 100 bytes"
    assert by_rest.pull == by_graphql.pull == PullIntent("Fix the parser", "It **broke**.", "main")
    assert by_rest.fallback == (
        "GraphQL failed, read by REST: GitHub answered 502 to POST /graphql: Server Error"
    )
    assert [r.status for r in graphql_requests(fake_github)] == [502] * attempts
    assert len(contents_requests(fake_github)) == len(wanted)
    assert by_rest.calls == 1 + len(wanted) + 1


async def test_an_error_page_past_the_bound_is_still_an_error_not_a_split(services, fake_github):
    pull = intent_pull(fake_github)
    attempts = services.github.policy.attempts
    fake_github.fail_next("POST", r"^/graphql$", 502, times=attempts, body={"m": "x" * 1_000})

    got = await read_of(services, pull, [(pull.head_sha, "src/a.py")], max_response_bytes=300)

    assert got.files[(pull.head_sha, "src/a.py")].text == "a = 1\n"
    assert got.fallback is not None and "GitHub answered 502 to POST /graphql" in got.fallback
    assert [r.status for r in graphql_requests(fake_github)] == [502] * attempts


@pytest.mark.parametrize("broken", ["rate limited", "unknown field"])
async def test_errors_and_no_data_fall_back_to_rest(services, fake_github, monkeypatch, broken):
    pull = intent_pull(fake_github)
    if broken == "rate limited":  # GitHub's GraphQL rate limit: 200, errors, no data
        message = "API rate limit already exceeded for installation ID 1."
        body = {
            "errors": [{"type": "RATE_LIMITED", "code": "graphql_rate_limit", "message": message}]
        }
        fake_github.fail_next("POST", r"^/graphql$", 200, body=body)
    else:
        monkeypatch.setattr(files, "PULL_FIELDS", "pr: pullRequest(number: $number) { headline }")
        message = "Cannot query field 'headline' on type 'PullRequest'."
    wanted = [(pull.base_ref, ".gitattributes"), (pull.head_sha, "src/a.py")]

    got = await read_of(services, pull, wanted, pull=pull.number)

    assert got.fallback == f"GraphQL failed, read by REST: GraphQL answered no data: {message}"
    assert [f.text for f in got.files.values()] == ["*.lock linguist-generated\n", "a = 1\n"]
    assert got.pull == PullIntent("Fix the parser", "It **broke**.", "main")
    assert [r.status for r in graphql_requests(fake_github)] == [200]
    assert got.calls == 1 + 2 + 1


async def test_an_error_on_one_file_sends_only_that_file_to_rest(services, fake_github):
    pull = intent_pull(fake_github)
    fake_github.graphql_broken_expressions = {f"{pull.head_sha}:src/b.py"}
    wanted = [(pull.head_sha, "src/a.py"), (pull.head_sha, "src/b.py"), (pull.head_sha, "gone.py")]

    got = await read_of(services, pull, wanted, pull=pull.number)

    assert [(f.text, f.problem) for f in got.files.values()] == [
        ("a = 1\n", None),
        ("b = 2\n", None),
        (None, None),
    ]
    assert [r.path for r in contents_requests(fake_github)] == [
        f"/repos/{OWNER}/{REPO}/contents/src/b.py"
    ]
    assert got.fallback is not None
    assert got.fallback.startswith("GraphQL failed on 1 file(s), read by REST: Something went")
    assert got.pull is not None and got.calls == 2


async def test_odd_paths_are_read_as_variables_by_graphql_and_by_rest(services, fake_github):
    pull = open_pull(fake_github, files={p: (None, f"text of {p}\n") for p in ODD_PATHS})
    wanted = [(pull.head_sha, p) for p in ODD_PATHS]

    by_graphql = await read_of(services, pull, wanted)
    fake_github.fail_next("POST", r"^/graphql$", 401)
    by_rest = await read_of(services, pull, wanted)

    assert [f.text for f in by_graphql.files.values()] == [f"text of {p}\n" for p in ODD_PATHS]
    assert by_rest.files == by_graphql.files
    assert by_graphql.fallback is None and by_rest.fallback is not None
    query = graphql_requests(fake_github)[0].json["query"]
    assert not any(part in query for part in ("read me", "quoted", "été", "$HOME", "#?"))


async def test_the_token_is_not_in_the_fallback_even_if_github_echoes_it(
    services, fake_github, caplog
):
    pull = intent_pull(fake_github)
    token = await services.github.token(pull.installation_id)
    fake_github.fail_next("POST", r"^/graphql$", 401, body={"message": f"Bad credentials {token}"})

    got = await read_of(services, pull, [(pull.head_sha, "src/a.py")])

    assert got.fallback == (  # masked by errors.describe (bot/logs.redact), as every secret is
        "GraphQL failed, read by REST: GitHub answered 401 to POST /graphql: Bad credentials ***"
    )
    assert got.files[(pull.head_sha, "src/a.py")].text == "a = 1\n"
    assert token not in caplog.text


async def test_an_invisible_repository_reads_as_absent_and_its_pull_raises(services, fake_github):
    pull = intent_pull(fake_github)
    fake_github.add_pull("elsewhere", "secret", 1, files={"a": (None, "x")}, installation_id=9)

    elsewhere = Repo(pull.installation_id, "elsewhere", "secret")
    got = await read(services.github, elsewhere, [("main", "a")])
    with pytest.raises(gidgethub.BadRequest) as raised:
        await read(services.github, elsewhere, [], pull=1)

    assert got.files == {("main", "a"): FileText("a", "main", None)}
    assert got.fallback == (
        "GraphQL failed, read by REST: GraphQL answered no data: "
        "Could not resolve to a Repository with the name 'elsewhere/secret'."
    )
    assert raised.value.status_code == 404


async def test_nothing_wanted_asks_nothing(services, fake_github):
    got = await read(services.github, Repo(1, OWNER, REPO), [])

    assert (got.files, got.pull, got.calls, got.fallback) == ({}, None, 0, None)
    assert not fake_github.requests


def test_the_endpoint_beside_the_rest_api():
    assert graphql_url("https://api.github.com") == "https://api.github.com/graphql"
    assert graphql_url("https://ghe.example.com/api/v3/") == "https://ghe.example.com/api/graphql"
    assert graphql_url("http://127.0.0.1:8080") == "http://127.0.0.1:8080/graphql"
