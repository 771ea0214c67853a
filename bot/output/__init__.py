"""A finished review as the command line prints it: text, markdown, json or sarif.

`python -m bot review` builds a `Report` (the summary the App's comment gets, the diff it
reviewed, and what that diff was) and prints `render(report, fmt)`.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.review.changes import Diff
from bot.review.render import Summary, render_summary

FORMATS = ("text", "markdown", "json", "sarif")


@dataclass(frozen=True)
class Report:
    """One finished review, for an output format."""

    # Exactly as the summary comment gets it: `findings` are the shown ones, `withheld` and
    # `dismissed` apart.
    summary: Summary
    diff: Diff  # what was reviewed: `file(path).new_text` holds the flagged code
    source: str  # what the diff was: "diff from standard input", "git main...HEAD", "o/r#7"


def render(report: Report, fmt: str, *, color: bool = False) -> str:
    """The report in `fmt` (one of FORMATS); `color` only changes `text`."""
    # Imported here: the formatters import this module for `Report`.
    from bot.output import report as json_output
    from bot.output import sarif, text

    if fmt == "text":
        return text.render_text(report, color=color)
    if fmt == "markdown":
        return render_summary(report.summary, marker=False)
    if fmt == "json":
        return json_output.render_json(report)
    if fmt == "sarif":
        return sarif.render_sarif(report)
    raise ValueError(f"unknown output format {fmt!r}: choose one of {', '.join(FORMATS)}")
