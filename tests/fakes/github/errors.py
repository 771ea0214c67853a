"""GitHub's error answers: the exception handlers raise, and the common 404 and 422."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

DOCS = "https://docs.github.com/rest"


class GitHubError(Exception):
    """An error answer in GitHub's shape; raised by handlers, rendered by the middleware."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        errors: list[Any] | None = None,
        docs: str = DOCS,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {"message": message}
        if errors is not None:
            self.body["errors"] = errors
        self.body["documentation_url"] = docs
        self.body["status"] = str(status)
        self.headers = dict(headers or {})


def _not_found(docs: str = DOCS) -> GitHubError:
    return GitHubError(404, "Not Found", docs=docs)


def _invalid(detail: str, docs: str = DOCS) -> GitHubError:
    # Schema failures answer "Invalid request.\n\n<what>" with no "errors" list.
    return GitHubError(422, f"Invalid request.\n\n{detail}", docs=docs)
