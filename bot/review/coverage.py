"""What share of a PR a review read: files and changed lines, and what it left out and why
(the budget, a size cap, an agent's call that failed): whether the review is partial."""

from __future__ import annotations

from dataclasses import dataclass

from bot.review.changes import Skipped


@dataclass(frozen=True)
class AgentFailure:
    """An agent's call for one part of the diff that failed after its retries: that agent
    did not review those files. `reason` is one clean line (no traceback, no repr)."""

    agent: str
    reason: str
    part: int = 0  # the chunk's number, 1-based (0: not known)
    paths: tuple[str, ...] = ()  # the files of that part


@dataclass(frozen=True)
class Coverage:
    """Files and changed lines (added plus removed) of the PR, and how many were reviewed."""

    files: int
    reviewed_files: int
    lines: int
    reviewed_lines: int
    not_reviewed: tuple[Skipped, ...] = ()
    # Agent calls that were planned but not made, the budget spent by retries before them.
    unfinished: int = 0
    # Agent calls that were made and failed after their retries.
    failed: tuple[AgentFailure, ...] = ()

    @property
    def partial(self) -> bool:
        """Something that would have been reviewed was cut by the budget or a size cap, or
        an agent's call for it failed."""
        return self.unfinished > 0 or bool(self.failed) or any(s.cut for s in self.not_reviewed)

    @property
    def line_percent(self) -> int:
        """Changed lines reviewed, in whole percent, rounded down (never 100 unless all)."""
        if self.lines == 0:
            return 100
        return self.reviewed_lines * 100 // self.lines

    def sentence(self) -> str:
        """'Reviewed 37 of 121 files, 12% of changed lines'."""
        return (
            f"Reviewed {self.reviewed_files} of {self.files} files, "
            f"{self.line_percent}% of changed lines"
        )
