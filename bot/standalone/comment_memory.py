"""The PR publisher's memory for the Action, which has no database: the hidden block at the
end of our own summary comment (bot/review/memory.py), read back only from that comment (by
`github-actions[bot]`, starting with MARKER) and written with it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.github import publish
from bot.github.client import RetryingGitHubAPI
from bot.pull import Pull
from bot.review.findings import Finding
from bot.review.memory import Memory, decode, with_memory
from bot.review.render import MARKER, MAX_BODY, Summary, render_summary
from bot.store.publications import Publication
from bot.store.standing import Check

ACTIONS_BOT = "github-actions[bot]"  # who a workflow's GITHUB_TOKEN writes as
MEMORY_CHARS = 16_000  # of the summary comment kept for the memory block


@dataclass
class CommentMemory:
    """What the Action publishes and remembers, in our summary comment."""

    head_sha: str  # the head this run reviews
    comment: dict[str, Any] | None  # our summary comment, as the run found it
    last: Memory | None  # what the last run left in it
    inline: frozenset[str] = frozenset()  # fingerprints posted inline, by any run
    findings: tuple[Finding, ...] = ()  # this run's, for the next one to carry forward
    complete: bool = True  # False: no base for an incremental review (partial, failed)

    @classmethod
    async def read(cls, gh: RetryingGitHubAPI, pull: Pull, head_sha: str) -> CommentMemory:
        """What our summary comment on the PR remembers, if there is one."""
        comment = await publish.our_comment(gh, pull, MARKER, author=ACTIONS_BOT)
        last = decode(comment.get("body") or "") if comment else None
        return cls(head_sha, comment, last, last.inline if last else frozenset())

    async def ensure_ours(self, found: Check | None = None) -> None:
        return None  # one run, one review: nothing else publishes it

    async def posted_inline(self) -> frozenset[str]:
        return self.inline

    async def mark_inline(self, fingerprints: Sequence[str], posted: Publication) -> None:
        self.inline = self.inline | set(fingerprints)

    async def last_comment(self) -> tuple[int | None, None]:
        known = self.comment.get("id") if self.comment else None
        return (int(str(known)) if known is not None else None), None

    def render(self, summary: Summary) -> str:
        """The summary, and the block of what the next run needs at its end."""
        remembered = Memory(self.head_sha, self.inline, self.findings, complete=self.complete)
        body = render_summary(summary, MAX_BODY - MEMORY_CHARS)
        return with_memory(body, remembered, MEMORY_CHARS)

    async def comment_posted(self, comment_id: int, summary: Summary, posted: Publication) -> None:
        return None  # the block went with the comment

    async def check_started(self, check_run_id: int, started: Publication) -> None:
        return None  # the Action creates no check run: the job's own is its verdict

    async def check_done(self, done: Publication) -> None:
        return None

    async def record(self, publication: Publication) -> None:
        return None  # the job's log says what failed
