"""Deliveries shaped like GitHub's: payloads, signatures and headers."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid

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
) -> dict:
    """A pull_request payload with the fields GitHub sends that the App reads."""
    payload = {
        "action": action,
        "number": number,
        "pull_request": {
            "number": number,
            "state": "open",
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
    return payload


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
