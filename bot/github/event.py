"""The event a GitHub Actions workflow runs on, read from its event file.

GitHub writes the webhook payload of the event that started the run to the file named by
GITHUB_EVENT_PATH (the event's name is GITHUB_EVENT_NAME). For `pull_request` and
`pull_request_target` that is the `pull_request` webhook payload: the PR under
`pull_request`, the base repository under `repository`. Everything wrong with it is an
EventError whose message is one line for the job log.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.pull import Pull

PULL_EVENTS = ("pull_request", "pull_request_target")
_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")  # SHA-1, or a SHA-256 repository's


class EventError(Exception):
    """The workflow's event cannot be reviewed; the message is one line for the job log."""


@dataclass(frozen=True)
class PullEvent:
    """The pull request a workflow run is about, and what happened to it."""

    event: str  # "pull_request" | "pull_request_target"
    action: str  # opened | synchronize | reopened | ready_for_review | edited ...
    owner: str  # the base repository's
    repo: str
    number: int
    head_sha: str
    base_ref: str
    base_sha: str
    draft: bool
    fork: bool  # the head repository is another one, or gone (a deleted fork)
    title: str
    body: str

    @property
    def pull(self) -> Pull:
        """The PR, for the workflow's token (no installation's: installation 0)."""
        return Pull(0, self.owner, self.repo, self.number)


def read_event(event_name: str, path: str) -> PullEvent:
    """The PR event in the file at `path` (GITHUB_EVENT_PATH) of the event `event_name`
    (GITHUB_EVENT_NAME); EventError when it is no PR event or the file does not hold one."""
    if event_name not in PULL_EVENTS:
        ran = _one_line(event_name) or "an event GITHUB_EVENT_NAME does not name"
        raise EventError(
            f"Second Look reviews pull_request and pull_request_target events; "
            f"this workflow ran on {ran}"
        )
    return _pull_event(event_name, _load(path))


def _load(path: str) -> dict[str, Any]:
    """The event file's JSON object."""
    if not path:
        raise EventError("GITHUB_EVENT_PATH is not set: no event file to read")
    shown = _one_line(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise EventError(f"the event file {shown} does not exist") from None
    except UnicodeDecodeError:
        raise EventError(f"the event file {shown} is not UTF-8 JSON") from None
    except OSError as exc:
        raise EventError(f"cannot read the event file {shown}: {exc.strerror or exc}") from None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise EventError(f"the event file {shown} is not JSON") from None
    if not isinstance(data, dict):
        raise EventError(f"the event file {shown} is not a JSON object")
    return data


def _pull_event(event_name: str, data: dict[str, Any]) -> PullEvent:
    """The fields we use, each checked, named when missing or of the wrong type."""
    pull = _object(data, "pull_request")
    head, base = _object(pull, "head", "pull_request."), _object(pull, "base", "pull_request.")
    repository = _object(data, "repository")
    number = _value(pull, "number", int, "pull_request.")
    if number <= 0:
        raise EventError("the event's pull_request.number is not a positive number")
    return PullEvent(
        event=event_name,
        action=_value(data, "action", str),
        owner=_value(
            _object(repository, "owner", "repository."), "login", str, "repository.owner."
        ),
        repo=_value(repository, "name", str, "repository."),
        number=number,
        head_sha=_sha(head, "pull_request.head."),
        base_ref=_value(base, "ref", str, "pull_request.base."),
        base_sha=_sha(base, "pull_request.base."),
        draft=_optional(pull, "draft", bool, False, "pull_request."),
        fork=_is_fork(head, base),
        title=_value(pull, "title", str, "pull_request."),
        body=_optional(pull, "body", str, "", "pull_request."),  # null when left empty
    )


def _is_fork(head: dict[str, Any], base: dict[str, Any]) -> bool:
    """True when the head is in another repository than the base, or its repository is gone
    (`head.repo: null`, a deleted fork)."""
    head_repo, base_repo = head.get("repo"), base.get("repo")
    if not isinstance(head_repo, dict):
        return True
    if not isinstance(base_repo, dict):
        return bool(head_repo.get("fork", True))
    head_id, base_id = head_repo.get("id"), base_repo.get("id")
    if isinstance(head_id, int) and isinstance(base_id, int):
        return head_id != base_id
    head_name, base_name = head_repo.get("full_name"), base_repo.get("full_name")
    if isinstance(head_name, str) and isinstance(base_name, str):
        return head_name.lower() != base_name.lower()
    return True  # cannot tell: treat it as the less trusted case


def _object(data: dict[str, Any], key: str, where: str = "") -> dict[str, Any]:
    value = data.get(key)
    if value is None:
        raise EventError(f"the event has no {where}{key}: is this a pull_request event file?")
    if not isinstance(value, dict):
        raise EventError(f"the event's {where}{key} is not an object")
    return value


def _value(data: dict[str, Any], key: str, kind: type[Any], where: str = "") -> Any:
    if data.get(key) is None:
        raise EventError(f"the event has no {where}{key}")
    return _typed(data[key], key, kind, where)


def _optional(data: dict[str, Any], key: str, kind: type[Any], default: Any, where: str) -> Any:
    value = data.get(key)
    return default if value is None else _typed(value, key, kind, where)


def _typed(value: Any, key: str, kind: type[Any], where: str) -> Any:
    # bool is an int to Python; not to JSON.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        names = {str: "a string", int: "a number", bool: "true or false"}
        raise EventError(f"the event's {where}{key} is not {names.get(kind, kind.__name__)}")
    return value


def _sha(data: dict[str, Any], where: str) -> str:
    sha: str = _value(data, "sha", str, where)
    if not _SHA.fullmatch(sha):
        raise EventError(f"the event's {where}sha is not a commit sha")
    return sha


def _one_line(text: str) -> str:
    return " ".join(text.split())
