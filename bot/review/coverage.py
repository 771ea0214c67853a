"""What share of a PR a review read: files and changed lines, and what it left out and why."""

from __future__ import annotations

from dataclasses import dataclass

from bot.review.changes import Skipped


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

    @property
    def partial(self) -> bool:
        """Something that would have been reviewed was cut by the budget or a size cap."""
        return self.unfinished > 0 or any(s.cut for s in self.not_reviewed)

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
