"""Webhook payloads: decoded within limits, and the part we use validated strictly, per event.

Nothing is coerced: a list is not a head SHA, `true` is not installation 1, `-5` is not a PR
number. A delivery that fails here gets a 400 with the one-line reason and creates no review.
"""

from __future__ import annotations

import json
import math
import re
import urllib.parse
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    StringConstraints,
    model_validator,
)
from pydantic import ValidationError as _ValidationError

from bot.store.values import INT4_MAX, INT8_MAX, printable

MAX_DEPTH = 64  # GitHub's payloads nest about 6 deep


class PayloadError(ValueError):
    """A delivery we refuse; the message is one line that names the field."""


# ------------------------------------------------------------------------------------ decoding


def decode(content_type: str, body: bytes) -> dict[str, Any]:
    """The payload, sent as JSON or as a form with a `payload` field (both are GitHub options).

    Refused: not UTF-8 or not JSON, not an object, NaN/Infinity or a number too large for a
    float, or nested deeper than MAX_DEPTH.
    """
    try:
        text = body.decode("utf-8")
        if content_type.startswith("application/x-www-form-urlencoded"):
            form = urllib.parse.parse_qs(text, strict_parsing=bool(body))
            if "payload" not in form:
                raise PayloadError("form body has no payload field")
            text = form["payload"][0]
        data = _DECODER.decode(text)
    except PayloadError:
        raise
    except RecursionError:
        raise PayloadError(f"body is nested deeper than {MAX_DEPTH} levels") from None
    except ValueError:  # not UTF-8, not JSON, a malformed form, an integer of 4,300+ digits
        raise PayloadError("body is not JSON") from None
    if not isinstance(data, dict):
        raise PayloadError("body is not a JSON object")
    # Fewer containers than the limit cannot nest deeper than it: most bodies skip the walk.
    if text.count("{") + text.count("[") > MAX_DEPTH and _deeper_than(data, MAX_DEPTH):
        raise PayloadError(f"body is nested deeper than {MAX_DEPTH} levels")
    return data


def _non_finite(name: str) -> float:
    raise PayloadError(f"body has a non-finite number ({name})")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise PayloadError("body has a number too large for a float")
    return value


_DECODER = json.JSONDecoder(parse_constant=_non_finite, parse_float=_finite_float)


def _deeper_than(data: object, limit: int) -> bool:
    """True when containers nest more than `limit` levels (walked without recursion)."""
    stack = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        for child in node.values() if isinstance(node, dict) else node:  # type: ignore[attr-defined]
            if isinstance(child, (dict, list)):
                stack.append((child, depth + 1))
    return False


# ------------------------------------------------------------------------------ field kinds
# Patterns run in pydantic-core (no Python call per field); a delivery arrives every few ms.

_LOGIN = r"[A-Za-z0-9][A-Za-z0-9_-]{0,38}"  # GitHub's rule; `_` for managed users
# 1-100 of letters, digits, '.', '-', '_', but not "." or "..".
_REPO_NAME = (
    r"(?:[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}"
    r"|\.[A-Za-z0-9_-][A-Za-z0-9._-]{0,98}|\.\.[A-Za-z0-9._-]{1,98})"
)
_BAD_REF = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]|\.\.|@\{|//|^/|/$|\.$|\.lock(/|$)|(^|/)\.")


def _ref(value: str) -> str:
    if _BAD_REF.search(value) or value == "@":
        raise ValueError("must be a git branch name (git's rules)")
    return value


def _pattern(regex: str) -> StringConstraints:
    return StringConstraints(pattern=f"^{regex}$")


Login = Annotated[StrictStr, _pattern(_LOGIN)]
ActorLogin = Annotated[StrictStr, _pattern(_LOGIN + r"(?:\[bot\])?")]  # an App: "name[bot]"
RepoName = Annotated[StrictStr, _pattern(_REPO_NAME)]
FullName = Annotated[StrictStr, _pattern(f"{_LOGIN}/{_REPO_NAME}")]
Sha = Annotated[StrictStr, _pattern("[0-9a-f]{40}")]
Ref = Annotated[StrictStr, StringConstraints(min_length=1, max_length=255), AfterValidator(_ref)]
Action = Annotated[StrictStr, _pattern("[a-z_]{1,64}")]
Id64 = Annotated[StrictInt, Field(gt=0, le=INT8_MAX)]
Number32 = Annotated[StrictInt, Field(gt=0, le=INT4_MAX)]


# ----------------------------------------------------------------------------------- models


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, frozen=True, extra="ignore")


class Installation(_Strict):
    id: Id64


class RepositoryRef(_Strict):
    full_name: FullName


class Envelope(_Strict):
    """What every delivery may carry and we record: its action, installation and repository."""

    action: Action | None = None
    installation: Installation | None = None
    repository: RepositoryRef | None = None


class Account(_Strict):
    login: Login


class Repository(_Strict):
    id: Id64 | None = None
    name: RepoName
    full_name: FullName
    owner: Account

    @model_validator(mode="after")
    def _one_name(self) -> Repository:
        if self.full_name != f"{self.owner.login}/{self.name}":
            raise ValueError("full_name is not owner.login/name")
        return self


class Head(_Strict):
    sha: Sha


class Base(_Strict):
    ref: Ref


class PullRequest(_Strict):
    number: Number32
    head: Head
    base: Base
    draft: StrictBool = False


class RepositoryEvent(Envelope):
    """A delivery about one repository of an installation, with an action."""

    action: Action
    installation: Installation
    repository: Repository  # type: ignore[assignment]


class PullRequestEvent(RepositoryEvent):
    """A `pull_request` delivery that may ask for a review."""

    pull_request: PullRequest
    changes: dict[StrictStr, Any] = Field(default_factory=dict)


class User(_Strict):
    login: ActorLogin
    type: StrictStr = "User"  # "Bot" for an App, ours included

    @property
    def bot(self) -> bool:
        return self.type == "Bot" or self.login.endswith("[bot]")


Association = Annotated[StrictStr, _pattern("[A-Z_]{1,32}")]


class IssueComment(_Strict):
    id: Id64
    body: StrictStr | None = None  # null for an empty comment
    user: User
    author_association: Association = "NONE"


class Issue(_Strict):
    number: Number32
    # Present (an object of links) when the issue is a pull request.
    pull_request: dict[StrictStr, Any] | None = None


class IssueCommentEvent(RepositoryEvent):
    """An `issue_comment` delivery: perhaps a command, when the issue is a pull request."""

    issue: Issue
    comment: IssueComment


class ReviewComment(_Strict):
    id: Id64
    in_reply_to_id: Id64 | None = None  # set on a reply: the thread's first comment
    body: StrictStr | None = None
    user: User
    author_association: Association = "NONE"


class ReviewCommentEvent(RepositoryEvent):
    """A `pull_request_review_comment` delivery: perhaps a reply in one of our threads."""

    pull_request: PullRequest
    comment: ReviewComment


class App(_Strict):
    id: Id64


class CheckPull(_Strict):
    """A PR of a check run or suite (GitHub lists only those of the same repository)."""

    number: Number32
    base: Base


class CheckRun(_Strict):
    id: Id64
    name: StrictStr
    head_sha: Sha
    external_id: StrictStr | None = None  # ours: the review's id
    app: App
    pull_requests: list[CheckPull] = Field(default_factory=list, max_length=100)


class CheckRunEvent(RepositoryEvent):
    check_run: CheckRun


class CheckSuite(_Strict):
    id: Id64
    head_sha: Sha
    app: App
    pull_requests: list[CheckPull] = Field(default_factory=list, max_length=100)


class CheckSuiteEvent(RepositoryEvent):
    check_suite: CheckSuite


class InstallationAccount(_Strict):
    login: Login


class InstallationFull(_Strict):
    id: Id64
    account: InstallationAccount | None = None


class RepositoryName(_Strict):
    full_name: FullName


class InstallationEvent(Envelope):
    action: Action
    installation: InstallationFull  # type: ignore[assignment]
    repositories: list[RepositoryName] = Field(default_factory=list)  # on `created`


class InstallationRepositoriesEvent(Envelope):
    action: Action
    installation: InstallationFull  # type: ignore[assignment]
    repositories_added: list[RepositoryName] = Field(default_factory=list)
    repositories_removed: list[RepositoryName] = Field(default_factory=list)


class MemberEvent(RepositoryEvent):
    """`member`: a collaborator added to, removed from or changed on a repository."""

    member: User


class Membership(_Strict):
    user: User | None = None  # null for an invitation by email


class OrganizationEvent(Envelope):
    """`organization` member_added / member_removed: someone joined or left the org."""

    action: Action
    installation: Installation
    membership: Membership | None = None


class MembershipEvent(Envelope):
    """`membership` added / removed: someone joined or left a team."""

    action: Action
    installation: Installation
    member: User | None = None


class TeamEvent(Envelope):
    """`team`: a team's repository access or the team itself changed."""

    action: Action
    installation: Installation
    repository: Repository | None = None  # type: ignore[assignment]


def validate(model: type[Envelope], data: dict[str, Any]) -> Envelope:
    """`data` as `model`; PayloadError names the first bad field in one line."""
    try:
        return model.model_validate(data)
    except _ValidationError as exc:
        raise PayloadError(describe(exc)) from None


def describe(exc: _ValidationError) -> str:
    """`pull_request.head.sha: must be 40 hexadecimal characters`, for the first error."""
    error = exc.errors(include_url=False, include_input=False)[0]
    where = ".".join(str(part) for part in error["loc"]) or "body"
    message = str(error["msg"]).removeprefix("Value error, ")
    more = len(exc.errors()) - 1
    tail = f" (and {more} more)" if more else ""
    return printable(f"{where}: {message[:1].lower()}{message[1:]}{tail}", limit=300)
