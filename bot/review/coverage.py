"""What share of a PR a review read: files and changed lines, and what it left out and why
(the budget, a size cap, a diff that does not parse, an agent's call that failed or was not
made): whether the review is partial, and the reasons, said once for every output."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from bot.review.changes import UNPARSABLE, Skipped

NAMED = 5  # files named in a reason, the rest counted


@dataclass(frozen=True)
class AgentFailure:
    """An agent's call for one part of the diff that failed after its retries, or was not
    made: that agent did not review those files. `reason` is one clean line (no traceback,
    no repr)."""

    agent: str
    reason: str
    part: int = 0  # the chunk's number, 1-based (0: not known)
    paths: tuple[str, ...] = ()  # the files of that part


@dataclass(frozen=True)
class Coverage:
    """Files and changed lines (added plus removed) of the PR, and how many were reviewed:
    read by every agent. A file some agents read and others did not (their call for its part
    failed or was not made) is `partly` reviewed, and not counted among the reviewed."""

    files: int
    reviewed_files: int
    lines: int
    reviewed_lines: int
    not_reviewed: tuple[Skipped, ...] = ()
    # Agent calls that were planned but not made, the budget spent by retries before them.
    unfinished: int = 0
    # Agent calls that were made and failed after their retries.
    failed: tuple[AgentFailure, ...] = ()
    partly_files: int = 0
    partly_lines: int = 0

    @property
    def partial(self) -> bool:
        """Something that would have been reviewed was cut by the budget or a size cap, could
        not be parsed, or an agent's call for it failed or was not made."""
        return self.unfinished > 0 or bool(self.failed) or any(s.cut for s in self.not_reviewed)

    @property
    def unparsable(self) -> tuple[Skipped, ...]:
        """The files whose diff could not be parsed."""
        return tuple(s for s in self.not_reviewed if s.unparsable)

    @property
    def unread(self) -> bool:
        """Nothing of the diff could be read: no file was reviewed, even in part, and some
        could not be parsed. Such a review failed: it did not pass what it could not read."""
        return self.reviewed_files == 0 and self.partly_files == 0 and bool(self.unparsable)

    @property
    def unread_reason(self) -> str:
        """Why nothing could be read: each file whose diff did not parse, and why."""
        said = "; ".join(
            f"{s.path} ({s.reason.removeprefix(UNPARSABLE)})" for s in self.unparsable[:NAMED]
        )
        more = len(self.unparsable) - NAMED
        return f"the diff could not be parsed: {said}" + (f"; and {more} more" if more > 0 else "")

    @property
    def line_percent(self) -> int:
        """Changed lines reviewed, in whole percent, rounded down: never 100 unless all, and
        never 100 for a partial review."""
        if self.lines == 0:
            return 0 if self.partial else 100
        percent = self.reviewed_lines * 100 // self.lines
        return min(percent, 99) if self.partial else percent

    def sentence(self) -> str:
        """'Reviewed 37 of 121 files, 12% of changed lines', and the files only some agents
        read: 'Reviewed 3 of 4 files (1 more by only some of the agents), 75% of ...'."""
        partly = (
            f" ({self.partly_files} more by only some of the agents)" if self.partly_files else ""
        )
        return (
            f"Reviewed {self.reviewed_files} of {self.files} files{partly}, "
            f"{self.line_percent}% of changed lines"
        )

    def reasons(self) -> tuple[str, ...]:
        """Why the review is partial, one line per cause (none when it is not): the files
        whose diff did not parse (named), those cut, the agent calls not made, and the calls
        that failed, grouped by their reason."""
        out = []
        unparsable = self.unparsable
        if unparsable:
            named = ", ".join(s.path for s in unparsable[:NAMED])
            if len(unparsable) > NAMED:
                named += f" and {len(unparsable) - NAMED} more"
            out.append(f"the diff of {len(unparsable)} file(s) could not be parsed: {named}")
        cut = sum(1 for s in self.not_reviewed if s.cut and not s.unparsable)
        if cut:
            out.append(
                f"{cut} file(s) it would have read were left out by its token budget or a size cap"
            )
        if self.unfinished:
            out.append(f"{self.unfinished} agent call(s) were not made: the token budget ran out")
        by_reason = Counter(failure.reason for failure in self.failed)
        out += [f"{count} agent call(s) failed: {why}" for why, count in by_reason.items()]
        return tuple(out)
