"""The workflow's event file, read into a PullEvent; what is wrong with it, said in one line."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from bot.github.event import EventError, PullEvent, read_event

HEAD, BASE = "c0ffee" + "1" * 34, "ba5e" + "2" * 36


def repository(owner: str, name: str, repo_id: int, *, fork: bool = False) -> dict[str, Any]:
    """A repository as the pull_request payload embeds it (the fields around ours too)."""
    full = f"{owner}/{name}"
    return {
        "id": repo_id,
        "node_id": f"R_{repo_id}",
        "name": name,
        "full_name": full,
        "private": False,
        "owner": {"login": owner, "id": repo_id + 1, "type": "User"},
        "html_url": f"https://github.com/{full}",
        "fork": fork,
        "url": f"https://api.github.com/repos/{full}",
        "default_branch": "main",
    }


def event(action: str = "opened", **pull: Any) -> dict[str, Any]:
    """A pull_request event file as Actions writes it: the webhook payload."""
    base_repo = repository("octo", "widgets", 100)
    payload: dict[str, Any] = {
        "action": action,
        "number": 7,
        "pull_request": {
            "url": "https://api.github.com/repos/octo/widgets/pulls/7",
            "id": 5001,
            "node_id": "PR_5001",
            "number": 7,
            "state": "open",
            "locked": False,
            "title": "Add widgets",
            "body": "Adds the widget registry.",
            "user": {"login": "octocat", "id": 1, "type": "User"},
            "draft": False,
            "merged": False,
            "head": {
                "label": "octo:feature",
                "ref": "feature",
                "sha": HEAD,
                "user": {"login": "octo", "id": 101, "type": "User"},
                "repo": copy.deepcopy(base_repo),
            },
            "base": {
                "label": "octo:main",
                "ref": "main",
                "sha": BASE,
                "user": {"login": "octo", "id": 101, "type": "User"},
                "repo": base_repo,
            },
            "author_association": "OWNER",
        },
        "repository": copy.deepcopy(base_repo),
        "sender": {"login": "octocat", "id": 1, "type": "User"},
    }
    payload["pull_request"].update(pull)
    if action == "synchronize":
        payload["before"], payload["after"] = "d" * 40, HEAD
    return payload


def write(tmp_path: Path, payload: Any) -> str:
    path = tmp_path / "event.json"
    path.write_text(json.dumps(payload) if not isinstance(payload, str) else payload)
    return str(path)


def test_an_opened_pull_request(tmp_path):
    got = read_event("pull_request", write(tmp_path, event()))
    assert got == PullEvent(
        event="pull_request",
        action="opened",
        owner="octo",
        repo="widgets",
        number=7,
        head_sha=HEAD,
        base_ref="main",
        base_sha=BASE,
        draft=False,
        fork=False,
        title="Add widgets",
        body="Adds the widget registry.",
    )


def test_a_push_to_a_draft_with_an_empty_body(tmp_path):
    got = read_event("pull_request", write(tmp_path, event("synchronize", draft=True, body=None)))
    assert (got.action, got.draft, got.body, got.head_sha) == ("synchronize", True, "", HEAD)


def test_a_fork_pull_request_on_pull_request_target(tmp_path):
    payload = event()
    payload["pull_request"]["head"]["repo"] = repository("mallory", "widgets", 900, fork=True)
    payload["pull_request"]["head"]["label"] = "mallory:feature"
    got = read_event("pull_request_target", write(tmp_path, payload))
    assert (got.event, got.fork, got.owner, got.repo) == (
        "pull_request_target",
        True,
        "octo",
        "widgets",
    )


def test_a_deleted_head_repository_counts_as_a_fork(tmp_path):
    payload = event("reopened")
    payload["pull_request"]["head"]["repo"] = None
    assert read_event("pull_request", write(tmp_path, payload)).fork is True


def test_a_same_named_repository_without_ids_is_compared_by_name(tmp_path):
    payload = event()
    for side in ("head", "base"):
        del payload["pull_request"][side]["repo"]["id"]
    assert read_event("pull_request", write(tmp_path, payload)).fork is False
    payload["pull_request"]["head"]["repo"]["full_name"] = "other/widgets"
    assert read_event("pull_request", write(tmp_path, payload)).fork is True


@pytest.mark.parametrize("name", ["push", "issue_comment", "workflow_dispatch"])
def test_another_event_is_refused_by_name(tmp_path, name):
    with pytest.raises(EventError) as caught:
        read_event(name, write(tmp_path, event()))
    assert str(caught.value) == (
        "Second Look reviews pull_request and pull_request_target events; "
        f"this workflow ran on {name}"
    )


def test_no_event_name_is_refused(tmp_path):
    with pytest.raises(EventError, match="pull_request and pull_request_target"):
        read_event("", write(tmp_path, event()))


def test_a_missing_unreadable_or_broken_file(tmp_path):
    cases = {
        str(tmp_path / "nope.json"): "does not exist",
        str(tmp_path): "cannot read the event file",  # a directory
        "": "GITHUB_EVENT_PATH is not set",
        write(tmp_path, "{not json"): "is not JSON",
        write(tmp_path, "[1, 2]"): "is not a JSON object",
    }
    for path, message in cases.items():
        with pytest.raises(EventError) as caught:
            read_event("pull_request", path)
        assert message in str(caught.value) and "\n" not in str(caught.value)


def test_a_file_that_is_not_utf8(tmp_path):
    path = tmp_path / "event.json"
    path.write_bytes(b'{"action": "\xff"}')
    with pytest.raises(EventError, match="not UTF-8"):
        read_event("pull_request", str(path))


def drop(payload: dict[str, Any], dotted: str) -> dict[str, Any]:
    *parents, last = dotted.split(".")
    node = payload
    for key in parents:
        node = node[key]
    del node[last]
    return payload


@pytest.mark.parametrize(
    "field",
    [
        "pull_request",
        "repository",
        "action",
        "pull_request.number",
        "pull_request.head",
        "pull_request.head.sha",
        "pull_request.base.ref",
        "pull_request.base.sha",
        "pull_request.title",
        "repository.owner",
        "repository.owner.login",
        "repository.name",
    ],
)
def test_a_missing_field_is_named(tmp_path, field):
    with pytest.raises(EventError) as caught:
        read_event("pull_request", write(tmp_path, drop(event(), field)))
    assert f"has no {field}" in str(caught.value)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"number": "7"}, "pull_request.number is not a number"),
        ({"number": True}, "pull_request.number is not a number"),
        ({"number": -5}, "pull_request.number is not a positive number"),
        ({"draft": "yes"}, "pull_request.draft is not true or false"),
        ({"title": ["x"]}, "pull_request.title is not a string"),
        ({"head": "feature"}, "pull_request.head is not an object"),
        ({"head": {"sha": "main"}}, "pull_request.head.sha is not a commit sha"),
    ],
)
def test_a_field_of_the_wrong_type_is_named(tmp_path, change, message):
    with pytest.raises(EventError) as caught:
        read_event("pull_request", write(tmp_path, event(**change)))
    assert message in str(caught.value)
