"""Deliveries shaped like GitHub's: payloads, signatures and headers."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import uuid
import zlib

WEBHOOK_SECRET = "test-webhook-secret"


def sign(body: bytes, secret: str = WEBHOOK_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def pull_request_payload(
    action: str = "opened",
    *,
    number: int = 7,
    head_sha: str = "a" * 40,
    draft: bool = False,
    owner: str = "octo",
    repo: str = "widgets",
    installation_id: int = 1,
    changes: dict | None = None,
    state: str = "open",
    merged: bool | None = None,
) -> dict:
    """A pull_request payload with the fields GitHub sends that the App reads."""
    payload = {
        "action": action,
        "number": number,
        "pull_request": {
            "number": number,
            "state": state,
            "draft": draft,
            "title": "Add widgets",
            "body": "",
            "head": {"sha": head_sha, "ref": "feature"},
            "base": {"sha": "b" * 40, "ref": "main"},
            "user": {"login": "octocat"},
        },
        "repository": {
            "name": repo,
            "full_name": f"{owner}/{repo}",
            "owner": {"login": owner},
        },
        "installation": {"id": installation_id},
        "sender": {"login": "octocat"},
    }
    if changes is not None:
        payload["changes"] = changes
    if merged is not None or state == "closed":
        payload["pull_request"]["merged"] = bool(merged)
    return payload


_ids = itertools.count(9001)


def _id(name: str) -> int:
    """A stable numeric id for a login or repository name."""
    return zlib.crc32(name.encode()) % 10_000_000 + 1


def user(login: str = "octocat", user_type: str = "User") -> dict:
    """A user as webhooks and the REST API embed it."""
    return {"login": login, "id": _id(login), "type": user_type}


def _repository(owner: str, repo: str) -> dict:
    """The repository object, shaped as in pull_request_payload, plus its id."""
    full = f"{owner}/{repo}"
    return {"id": _id(full), "name": repo, "full_name": full, "owner": {"login": owner}}


def _envelope(action: str, owner: str, repo: str, installation_id: int, sender: str) -> dict:
    """The parts every repository event carries."""
    return {
        "action": action,
        "repository": _repository(owner, repo),
        "installation": {"id": installation_id},
        "sender": user(sender),
    }


def issue_comment_payload(
    body: str,
    *,
    action: str = "created",
    number: int = 7,
    login: str = "octocat",
    user_type: str = "User",
    association: str = "MEMBER",
    comment_id: int | None = None,
    on_pull: bool = True,
    owner: str = "octo",
    repo: str = "widgets",
    installation_id: int = 1,
    changes: dict | None = None,
) -> dict:
    """An issue_comment payload; `issue.pull_request` is there only for a PR's conversation."""
    cid = next(_ids) if comment_id is None else comment_id
    html = f"https://github.com/{owner}/{repo}/{'pull' if on_pull else 'issues'}/{number}"
    issue = {"number": number, "title": "Add widgets", "state": "open", "user": user()}
    if on_pull:
        api = f"https://api.github.com/repos/{owner}/{repo}/pulls/{number}"
        pr_html = f"https://github.com/{owner}/{repo}/pull/{number}"
        issue["pull_request"] = {
            "url": api,
            "html_url": pr_html,
            "diff_url": f"{pr_html}.diff",
            "patch_url": f"{pr_html}.patch",
        }
    payload = _envelope(action, owner, repo, installation_id, login)
    payload["sender"] = user(login, user_type)
    payload["issue"] = issue
    payload["comment"] = {
        "id": cid,
        "node_id": f"IC_{cid}",
        "body": body,
        "user": user(login, user_type),
        "author_association": association,
        "html_url": f"{html}#issuecomment-{cid}",
        "created_at": "2024-01-01T00:00:00Z",
    }
    if action == "edited":
        payload["changes"] = changes if changes is not None else {"body": {"from": ""}}
    elif changes is not None:
        payload["changes"] = changes
    return payload


def review_comment(
    body: str,
    *,
    comment_id: int | None = None,
    in_reply_to_id: int | None = None,
    path: str = "widgets.py",
    line: int = 3,
    start_line: int | None = None,
    side: str = "RIGHT",
    commit_id: str = "a" * 40,
    login: str = "octocat",
    user_type: str = "User",
    association: str = "MEMBER",
    review_id: int = 80,
    owner: str = "octo",
    repo: str = "widgets",
    number: int = 7,
) -> dict:
    """A pull request review comment as the REST API returns it; a reply has in_reply_to_id."""
    cid = next(_ids) if comment_id is None else comment_id
    comment = {
        "id": cid,
        "node_id": f"PRRC_{cid}",
        "body": body,
        "user": user(login, user_type),
        "author_association": association,
        "path": path,
        "line": line,
        "start_line": start_line,
        "side": side,
        "commit_id": commit_id,
        "original_commit_id": commit_id,
        "diff_hunk": f"@@ -1,{line} +1,{line} @@",
        "pull_request_review_id": review_id,
        "html_url": f"https://github.com/{owner}/{repo}/pull/{number}#discussion_r{cid}",
    }
    if in_reply_to_id is not None:
        comment["in_reply_to_id"] = in_reply_to_id
    return comment


def review_comment_payload(
    comment: dict,
    *,
    action: str = "created",
    number: int = 7,
    head_sha: str = "a" * 40,
    base_ref: str = "main",
    owner: str = "octo",
    repo: str = "widgets",
    installation_id: int = 1,
) -> dict:
    """A pull_request_review_comment payload carrying a REST-shaped review comment."""
    payload = _envelope(action, owner, repo, installation_id, comment["user"]["login"])
    payload["sender"] = dict(comment["user"])
    payload["comment"] = comment
    payload["pull_request"] = {
        "number": number,
        "state": "open",
        "draft": False,
        "title": "Add widgets",
        "body": "",
        "head": {"sha": head_sha, "ref": "feature"},
        "base": {"sha": "b" * 40, "ref": base_ref},
        "user": user(),
    }
    return payload


def _check_pulls(
    numbers: tuple[int, ...], head_sha: str, base_ref: str, owner: str, repo: str
) -> list[dict]:
    """check_run/check_suite `pull_requests`: empty in GitHub's payload for a fork's head."""
    repo_ref = {"id": _id(f"{owner}/{repo}"), "name": repo}
    api = f"https://api.github.com/repos/{owner}/{repo}/pulls"
    return [
        {
            "number": n,
            "id": 500_000 + n,
            "url": f"{api}/{n}",
            "head": {"ref": "feature", "sha": head_sha, "repo": repo_ref},
            "base": {"ref": base_ref, "sha": "b" * 40, "repo": repo_ref},
        }
        for n in numbers
    ]


def check_run_payload(
    *,
    action: str = "rerequested",
    head_sha: str = "a" * 40,
    external_id: str = "",
    app_id: int = 4242,
    name: str = "Second Look",
    pull_numbers: tuple[int, ...] = (7,),
    base_ref: str = "main",
    owner: str = "octo",
    repo: str = "widgets",
    installation_id: int = 1,
    requested_action: str | None = None,
) -> dict:
    """A check_run payload; `requested_action` appears only when an identifier is given."""
    payload = _envelope(action, owner, repo, installation_id, "octocat")
    payload["check_run"] = {
        "id": 7_000_000 + app_id,
        "name": name,
        "head_sha": head_sha,
        "external_id": external_id,
        "status": "completed",
        "conclusion": "success",
        "app": {"id": app_id, "slug": "second-look", "name": "Second Look"},
        "check_suite": {"id": 6_000_000 + app_id, "head_sha": head_sha},
        "pull_requests": _check_pulls(pull_numbers, head_sha, base_ref, owner, repo),
    }
    if requested_action is not None:
        payload["requested_action"] = {"identifier": requested_action}
    return payload


def check_suite_payload(
    *,
    action: str = "rerequested",
    head_sha: str = "a" * 40,
    app_id: int = 4242,
    pull_numbers: tuple[int, ...] = (7,),
    base_ref: str = "main",
    owner: str = "octo",
    repo: str = "widgets",
    installation_id: int = 1,
) -> dict:
    """A check_suite payload; head_branch is null when no pull request matches (a fork)."""
    payload = _envelope(action, owner, repo, installation_id, "octocat")
    payload["check_suite"] = {
        "id": 6_000_000 + app_id,
        "head_sha": head_sha,
        "head_branch": "feature" if pull_numbers else None,
        "status": "completed",
        "conclusion": "success",
        "app": {"id": app_id, "slug": "second-look"},
        "pull_requests": _check_pulls(pull_numbers, head_sha, base_ref, owner, repo),
    }
    return payload


def _repo_entries(full_names: tuple[str, ...]) -> list[dict]:
    """Repository entries as installation events list them."""
    return [
        {"id": _id(f), "name": f.split("/", 1)[1], "full_name": f, "private": False}
        for f in full_names
    ]


def installation_payload(
    action: str,
    *,
    installation_id: int = 1,
    account: str = "octo",
    repositories: tuple[str, ...] = ("octo/widgets",),
) -> dict:
    """An installation payload; `repositories` comes with created, suspended_at with suspend."""
    payload = {
        "action": action,
        "installation": {
            "id": installation_id,
            "account": {"login": account, "id": _id(account), "type": "Organization"},
            "app_id": 4242,
            "target_type": "Organization",
            "suspended_at": "2024-01-01T00:00:00Z" if action == "suspend" else None,
        },
        "sender": user(),
    }
    if action == "created":
        payload["repositories"] = _repo_entries(repositories)
    return payload


def installation_repositories_payload(
    action: str = "added",
    *,
    installation_id: int = 1,
    added: tuple[str, ...] = ("octo/widgets",),
    removed: tuple[str, ...] = (),
) -> dict:
    """An installation_repositories payload for repositories added to or removed from it."""
    return {
        "action": action,
        "installation": {
            "id": installation_id,
            "account": {"login": "octo", "type": "Organization"},
        },
        "repository_selection": "selected",
        "repositories_added": _repo_entries(added),
        "repositories_removed": _repo_entries(removed),
        "requester": None,
        "sender": user(),
    }


def delivery(
    payload: object, event: str = "pull_request", delivery_id: str | None = None
) -> tuple[bytes, dict[str, str]]:
    """A signed delivery: the body and the headers GitHub sends with it."""
    body = json.dumps(payload).encode()
    headers = {
        "Content-Type": "application/json",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery_id or str(uuid.uuid4()),
        "X-Hub-Signature-256": sign(body),
    }
    return body, headers
