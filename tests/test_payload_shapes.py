"""The payload builders give GitHub's shapes, and delivery() signs what it sends."""

from __future__ import annotations

import json

from tests import payloads
from tests.payloads import (
    WEBHOOK_SECRET,
    check_run_payload,
    check_suite_payload,
    delivery,
    installation_payload,
    installation_repositories_payload,
    issue_comment_payload,
    pull_request_payload,
    review_comment,
    review_comment_payload,
    sign,
)


def _assert_repository(payload: dict, owner: str = "octo", repo: str = "widgets") -> None:
    repository = payload["repository"]
    assert repository["name"] == repo
    assert repository["full_name"] == f"{owner}/{repo}"
    assert repository["owner"] == {"login": owner}
    assert isinstance(repository["id"], int)
    assert isinstance(payload["installation"]["id"], int)
    assert isinstance(payload["sender"]["login"], str)


def _assert_user(u: dict) -> None:
    assert set(u) >= {"login", "id", "type"}
    assert isinstance(u["login"], str) and isinstance(u["id"], int)
    assert u["type"] in {"User", "Bot", "Organization"}


def test_pull_request_payload_keeps_its_defaults() -> None:
    payload = pull_request_payload()
    assert payload["pull_request"]["state"] == "open"
    assert "merged" not in payload["pull_request"]
    assert set(payload) == {
        "action",
        "number",
        "pull_request",
        "repository",
        "installation",
        "sender",
    }


def test_pull_request_payload_closed_says_whether_merged() -> None:
    assert pull_request_payload("closed", state="closed")["pull_request"]["merged"] is False
    merged = pull_request_payload("closed", state="closed", merged=True)["pull_request"]
    assert merged["state"] == "closed" and merged["merged"] is True


def test_issue_comment_on_a_pull_request() -> None:
    payload = issue_comment_payload("/review", comment_id=55, owner="acme", repo="tools")
    assert payload["action"] == "created"
    comment = payload["comment"]
    assert set(comment) == {
        "id",
        "node_id",
        "body",
        "user",
        "author_association",
        "html_url",
        "created_at",
    }
    assert comment["id"] == 55 and comment["body"] == "/review"
    assert comment["author_association"] == "MEMBER"
    assert comment["html_url"].endswith("/acme/tools/pull/7#issuecomment-55")
    _assert_user(comment["user"])
    issue = payload["issue"]
    assert issue["number"] == 7 and issue["state"] == "open"
    assert set(issue["pull_request"]) == {"url", "html_url", "diff_url", "patch_url"}
    assert issue["pull_request"]["url"].endswith("/repos/acme/tools/pulls/7")
    _assert_repository(payload, "acme", "tools")
    assert "changes" not in payload


def test_issue_comment_on_a_plain_issue_has_no_pull_request() -> None:
    payload = issue_comment_payload("hello", on_pull=False)
    assert "pull_request" not in payload["issue"]
    assert "/issues/7#issuecomment-" in payload["comment"]["html_url"]


def test_issue_comment_by_a_bot_and_edited() -> None:
    payload = issue_comment_payload(
        "new",
        action="edited",
        login="other[bot]",
        user_type="Bot",
        association="NONE",
        changes={"body": {"from": "old"}},
    )
    assert payload["comment"]["user"]["type"] == "Bot"
    assert payload["sender"]["login"] == "other[bot]"
    assert payload["comment"]["author_association"] == "NONE"
    assert payload["changes"] == {"body": {"from": "old"}}
    assert issue_comment_payload("x", action="edited")["changes"]["body"]["from"] == ""


def test_issue_comment_ids_differ_unless_given() -> None:
    assert (
        issue_comment_payload("a")["comment"]["id"] != issue_comment_payload("b")["comment"]["id"]
    )


def test_review_comment_payload_carries_the_rest_comment() -> None:
    top = review_comment("Looks off", comment_id=100, start_line=1, line=3)
    assert "in_reply_to_id" not in top
    payload = review_comment_payload(top, head_sha="c" * 40, base_ref="dev")
    assert payload["action"] == "created"
    assert payload["comment"] is top
    for key in (
        "id",
        "node_id",
        "body",
        "user",
        "author_association",
        "path",
        "line",
        "start_line",
        "side",
        "commit_id",
        "original_commit_id",
        "diff_hunk",
        "pull_request_review_id",
        "html_url",
    ):
        assert key in top, key
    assert isinstance(top["line"], int) and top["side"] == "RIGHT"
    pull = payload["pull_request"]
    assert pull["number"] == 7 and pull["state"] == "open" and pull["draft"] is False
    assert pull["head"] == {"sha": "c" * 40, "ref": "feature"}
    assert pull["base"]["ref"] == "dev" and len(pull["base"]["sha"]) == 40
    assert {"user", "title", "body"} <= set(pull)
    assert payload["sender"]["login"] == top["user"]["login"]
    _assert_repository(payload)


def test_a_reply_has_in_reply_to_id() -> None:
    reply = review_comment("Fixed", in_reply_to_id=100)
    assert reply["in_reply_to_id"] == 100
    assert review_comment_payload(reply)["comment"]["in_reply_to_id"] == 100


def test_check_run_payload() -> None:
    payload = check_run_payload(external_id="pr-7", pull_numbers=(7, 8))
    assert payload["action"] == "rerequested"
    assert "requested_action" not in payload
    run = payload["check_run"]
    assert {"id", "name", "head_sha", "external_id", "status", "conclusion"} <= set(run)
    assert run["name"] == "Second Look" and run["external_id"] == "pr-7"
    assert run["app"]["id"] == 4242 and {"slug", "name"} <= set(run["app"])
    assert run["check_suite"]["head_sha"] == run["head_sha"]
    assert [p["number"] for p in run["pull_requests"]] == [7, 8]
    first = run["pull_requests"][0]
    assert {"number", "id", "url", "head", "base"} <= set(first)
    assert first["head"]["sha"] == run["head_sha"] and first["base"]["ref"] == "main"
    assert isinstance(first["head"]["repo"]["id"], int)
    _assert_repository(payload)


def test_check_run_from_a_fork_and_a_requested_action() -> None:
    fork = check_run_payload(pull_numbers=())
    assert fork["check_run"]["pull_requests"] == []
    asked = check_run_payload(action="requested_action", requested_action="fix")
    assert asked["requested_action"] == {"identifier": "fix"}


def test_check_suite_payload() -> None:
    payload = check_suite_payload(app_id=99, base_ref="dev")
    suite = payload["check_suite"]
    assert {"id", "head_sha", "head_branch", "status", "conclusion", "app"} <= set(suite)
    assert suite["app"] == {"id": 99, "slug": "second-look"}
    assert suite["pull_requests"][0]["base"]["ref"] == "dev"
    assert check_suite_payload(pull_numbers=())["check_suite"]["head_branch"] is None
    _assert_repository(payload)


def test_installation_payloads() -> None:
    created = installation_payload("created", repositories=("octo/a", "octo/b"))
    inst = created["installation"]
    assert inst["id"] == 1 and inst["app_id"] == 4242
    assert inst["account"]["login"] == "octo" and inst["account"]["type"] in {
        "User",
        "Organization",
    }
    assert inst["target_type"] == inst["account"]["type"] and inst["suspended_at"] is None
    assert [r["full_name"] for r in created["repositories"]] == ["octo/a", "octo/b"]
    assert all({"id", "name", "full_name", "private"} == set(r) for r in created["repositories"])
    assert "repository" not in created and "login" in created["sender"]
    suspended = installation_payload("suspend")
    assert suspended["installation"]["suspended_at"] and "repositories" not in suspended
    assert "repositories" not in installation_payload("deleted")


def test_installation_repositories_payload() -> None:
    payload = installation_repositories_payload("removed", added=(), removed=("octo/old",))
    assert payload["action"] == "removed"
    assert payload["repository_selection"] in {"all", "selected"}
    assert payload["repositories_added"] == []
    assert payload["repositories_removed"][0]["name"] == "old"
    assert payload["installation"]["id"] == 1 and "sender" in payload


def test_delivery_signs_each_payload() -> None:
    for event, payload in [
        ("issue_comment", issue_comment_payload("hi")),
        ("pull_request_review_comment", review_comment_payload(review_comment("x"))),
        ("check_run", check_run_payload()),
        ("check_suite", check_suite_payload()),
        ("installation", installation_payload("created")),
        ("installation_repositories", installation_repositories_payload()),
    ]:
        body, headers = delivery(payload, event, delivery_id="d-1")
        assert json.loads(body) == payload
        assert headers["X-GitHub-Event"] == event
        assert headers["X-GitHub-Delivery"] == "d-1"
        assert headers["X-Hub-Signature-256"] == sign(body, WEBHOOK_SECRET)
        assert headers["X-Hub-Signature-256"] != sign(body, "another secret")


def test_user_ids_are_stable() -> None:
    assert payloads.user("octocat") == payloads.user("octocat")
    assert payloads.user("a")["id"] != payloads.user("b")["id"]
