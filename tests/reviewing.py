"""Helpers for tests that run reviews: PR fixtures on FakeGitHub and review rows."""

from __future__ import annotations

import uuid

import asyncpg

from bot.store import reviews
from bot.worker import process_review
from tests.fakes.github import FakeGitHub, PullState

OWNER, REPO = "octo", "widgets"

OLD_APP = "import os\n\n\ndef run(command):\n    return os.system(command)\n"
NEW_APP = (
    "import os\n\n\ndef run(command):\n    return os.system(command)\n\n\n"
    "def evaluate(user_input):\n    return eval(user_input)\n"
)


def finding(path: str = "app.py", line: int = 9, **fields) -> dict:
    """A finding as the model answers it."""
    return {
        "file_path": path,
        "line_start": line,
        "line_end": fields.pop("line_end", line),
        "severity": fields.pop("severity", "critical"),
        "title": fields.pop("title", "eval of user input"),
        "description": fields.pop("description", "eval runs whatever the user sends."),
        "suggestion": fields.pop("suggestion", None),
        **fields,
    }


def open_pull(fake: FakeGitHub, number: int = 7, files: dict | None = None, **kw) -> PullState:
    """A PR on octo/widgets; by default one file that adds an eval."""
    return fake.add_pull(OWNER, REPO, number, files=files or {"app.py": (OLD_APP, NEW_APP)}, **kw)


def many_files(count: int) -> dict[str, tuple[str, str]]:
    return {
        f"pkg/module_{i:03d}.py": (f"VALUE = {i}\n", f"VALUE = {i}\nDOUBLE = {i} * 2\n")
        for i in range(count)
    }


async def run_review(services, pull: PullState, trigger: str = "opened") -> reviews.Review:
    """Create a review of the PR's head as a delivery would, run it, and read it back."""
    review_id = await new_review(services.pool, pull, trigger)
    await process_review(review_id, services)
    return await reviews.get(services.pool, review_id)


async def new_review(pool: asyncpg.Pool, pull: PullState, trigger: str = "opened") -> uuid.UUID:
    """A pending review row for the PR's current head, as a delivery would create it."""
    async with pool.acquire() as conn:
        return await reviews.create(
            conn,
            delivery_id=None,
            installation_id=pull.installation_id,
            owner=pull.owner,
            repo=pull.repo,
            pr_number=pull.number,
            head_sha=pull.head_sha,
            base_ref=pull.base_ref,
            trigger=trigger,
            draft=pull.draft,
        )


def placement_fixture(count: int = 30) -> tuple[dict[str, tuple[str, str]], list[dict]]:
    """Files, and findings on every kind of line: added, unchanged context, deleted,
    outside any hunk, and past the end of the file."""
    old = "".join(f"line_{n} = {n}\n" for n in range(1, 61))
    new_lines = old.splitlines(keepends=True)
    new_lines[9] = "line_10 = 'changed'\n"  # line 10 replaced
    new_lines.insert(30, "added_after_30 = True\n")  # new line 31 added
    del new_lines[50]  # old line 50 deleted (new line 50 is old line 49... shifted by +1)
    new = "".join(new_lines)
    files: dict[str, tuple[str, str]] = {}
    findings: list[dict] = []
    for i in range(count):
        path = f"src/file_{i:02d}.py"
        files[path] = (old, new)
        kinds = {"added": 10, "context": 8, "deleted": 51, "outside": 20, "past-end": 500}
        for kind, line in kinds.items():
            findings.append(finding(path, line=line, severity="medium", title=f"{kind} in {path}"))
    return files, findings
