"""Helpers for tests that run reviews: PR fixtures on FakeGitHub and review rows."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

import asyncpg

from bot.app.worker import process_review
from bot.github.repo_config import AGENT_NAMES
from bot.review.render import MARKER
from bot.store import queue, reviews
from tests.fakes.github import FakeGitHub, PullState

OWNER, REPO = "octo", "widgets"
MAINTAINER = "maintainer"

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


def summary_of(fake_github: FakeGitHub, number: int = 7) -> str:
    """The PR's one summary comment (among replies to commands and people's comments)."""
    comments = [
        c for c in fake_github.comments(OWNER, REPO, number) if c["body"].startswith(MARKER)
    ]
    assert len(comments) == 1, f"expected one summary comment, found {len(comments)}"
    return comments[0]["body"]


def open_pull(fake: FakeGitHub, number: int = 7, files: dict | None = None, **kw) -> PullState:
    """A PR on octo/widgets; by default one file that adds an eval. The person the tests
    act as, `maintainer`, has the maintain role on the repository (others have none)."""
    pull = fake.add_pull(OWNER, REPO, number, files=files or {"app.py": (OLD_APP, NEW_APP)}, **kw)
    fake.set_permission(OWNER, REPO, MAINTAINER, "maintain")
    return pull


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


def review_of(pull: PullState, trigger: str = "opened") -> queue.NewReview:
    """A review of the PR's current head, as a delivery would ask for it."""
    return queue.NewReview(
        id=uuid.uuid4(),
        installation_id=pull.installation_id,
        owner=pull.owner,
        repo=pull.repo,
        pr_number=pull.number,
        head_sha=pull.head_sha,
        base_ref=pull.base_ref,
        trigger=queue.Trigger(trigger),
        draft=pull.draft,
        supersede=trigger != queue.Trigger.EDITED,
    )


async def new_review(pool: asyncpg.Pool, pull: PullState, trigger: str = "opened") -> uuid.UUID:
    """A pending review of the PR's current head, created as a delivery would create it."""
    review = review_of(pull, trigger)
    async with pool.acquire() as conn:
        await queue.create(conn, [review])
    return review.id


async def raced_reviews(
    pool: asyncpg.Pool, pull: PullState, push: dict
) -> tuple[uuid.UUID, uuid.UUID]:
    """Two pushes recorded at the same moment by two replicas: neither supersedes the other.

    The older is created in a transaction that commits only after the newer's is done.
    """
    older = review_of(pull, "synchronize")
    pull.push(push)
    newer = review_of(pull, "synchronize")
    await create_racing(pool, older, newer)
    return older.id, newer.id


async def create_racing(pool: asyncpg.Pool, older: queue.NewReview, newer: queue.NewReview) -> None:
    """Create both as two processes would at one moment: the older commits after the newer."""
    async with pool.acquire() as first, pool.acquire() as second:
        transaction = first.transaction()
        await transaction.start()
        await queue.create(first, [older])  # not committed yet: invisible to the other
        await queue.create(second, [newer])
        await transaction.commit()


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
            # An unchanged line's finding names the changed line it comes from (else dropped).
            evidence = "Line 10 changed its value." if kind == "context" else ""
            findings.append(
                finding(
                    path, line=line, severity="medium", title=f"{kind} in {path}", evidence=evidence
                )
            )
    return files, findings


def spread(findings: list[dict], agents: tuple[str, ...] = AGENT_NAMES) -> dict[str, list[dict]]:
    """The findings dealt round-robin to the agents: a model answers at most MAX_FINDINGS a
    call (the schema's maxItems, which FakeGemini keeps to like Gemini)."""
    return {agent: findings[i :: len(agents)] for i, agent in enumerate(agents)}


async def until(condition: Callable[[], object], timeout: float = 10) -> None:
    """Poll `condition` (a fake's state) until it holds; fail after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"still not true after {timeout} s")
        await asyncio.sleep(0.02)


FINAL = ("completed", "failed", "skipped", "superseded")


async def wait_for(pool: asyncpg.Pool, review_id, statuses=FINAL, timeout: float = 30) -> str:
    """Poll the review's status until it is one of `statuses`; fail after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    status = None
    while loop.time() < deadline:
        status = await pool.fetchval("SELECT status FROM reviews WHERE id = $1::uuid", review_id)
        if status in statuses:
            return status
        await asyncio.sleep(0.05)
    raise AssertionError(f"review {review_id} still {status} after {timeout} s")
