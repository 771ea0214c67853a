"""The compare API: which paths changed between two heads, for incremental reviews."""

from __future__ import annotations

from http import HTTPStatus

import gidgethub

from bot.github.client import GitHubClient, has_status, url_vars
from bot.pull import Repo

COMPARE_FILES_CAP = 300  # the compare API lists at most this many files


async def changed_since(
    github: GitHubClient, repository: Repo, old: str, new: str
) -> set[str] | None:
    """Paths changed from commit `old` to `new` when `new` descends from `old`, else None.

    None also when GitHub's list may be cut short: then everything must be reviewed.
    """
    gh = await github.api(repository.installation_id)
    try:
        answer = await gh.getitem(
            "/repos/{owner}/{repo}/compare/{basehead}",
            url_vars=url_vars(repository, basehead=f"{old}...{new}"),
        )
    except gidgethub.BadRequest as exc:
        if has_status(exc, HTTPStatus.NOT_FOUND):  # the old head is gone (force-pushed, collected)
            return None
        raise
    files = answer.get("files") or []
    if answer.get("status") != "ahead" or len(files) >= COMPARE_FILES_CAP:
        return None
    changed = {f["filename"] for f in files}
    changed |= {f["previous_filename"] for f in files if f.get("previous_filename")}
    return changed
