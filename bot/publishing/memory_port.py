"""What the PR publisher asks of whoever remembers what was published (`MemoryPort`): the App
keeps it in its tables (bot/app/table_memory.py), with what reached GitHub for its dashboard;
the Action in the hidden block of its summary comment (bot/standalone/comment_memory.py)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Protocol

from bot.review.render import Summary
from bot.store.publications import Publication
from bot.store.standing import Check


class MemoryPort(Protocol):
    """What the PR publisher reads and stores around each publishing step.

    A step that stores something may read the review's standing with the same statement and
    return it (a `Check`), for the next step's `ensure_ours`; None: not read."""

    async def ensure_ours(self, found: Check | None = None) -> None:
        """Before each publishing step: raise (the App: Superseded) when the review is no
        longer ours. `found`: the standing a statement of this step read already, just before."""

    async def posted_inline(self) -> Collection[str]:
        """The fingerprints earlier reviews of the PR posted as inline comments."""

    async def mark_inline(self, fingerprints: Sequence[str], posted: Publication) -> None:
        """These findings of this review are inline now (`posted`: the inline review)."""

    async def last_comment(self) -> tuple[int | None, Check | None]:
        """The summary comment's id, when known, and the review's standing."""

    def render(self, summary: Summary) -> str:
        """The summary comment's body (with what the memory keeps in it, if anything)."""

    async def comment_posted(
        self, comment_id: int, summary: Summary, posted: Publication
    ) -> Check | None:
        """Store the summary comment's id and the summary as published (`posted`: what
        reached GitHub)."""

    async def check_started(self, check_run_id: int, started: Publication) -> Check | None:
        """Store the check run's id, in progress."""

    async def check_done(self, done: Publication) -> None:
        """The check run is completed."""

    async def record(self, publication: Publication) -> None:
        """What reached GitHub, or did not and why, when the step stores nothing else (a
        failure, the check run saying it is queued). Never raises for the memory's own
        trouble: the step's outcome stands."""
