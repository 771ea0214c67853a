"""How values read: times in UTC, durations, token counts, costs, links to GitHub (on the
web host of GITHUB_API_URL).

Plain text only; the templates escape it, the script sets it as textContent. The list's rows
are dicts so that the page and its JSON endpoint say exactly the same.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from bot.publishing.pull_publisher import FAILED_SAYS
from bot.pull import Pull
from bot.store.dashboard import SEVERITIES, Finding, RepositoryTotals, ReviewSummary, Usage
from bot.store.publications import Action, Published, Target
from bot.store.queue import FINISHED


def review_url(review_id: object) -> str:
    return f"/dashboard/reviews/{review_id}"


def pull_url(github: str, pull: Pull) -> str:
    """The PR's page on `github`, the web host of the configured API (`Dashboard.github`)."""
    return f"{github}/{quote(pull.owner, safe='')}/{quote(pull.repo, safe='')}/pull/{pull.number}"


def files_url(github: str, pull: Pull, finding: Finding | None = None) -> str:
    """The PR's files on GitHub; with a finding, at its file (and line: the new side)."""
    url = pull_url(github, pull) + "/files"
    if finding is None:
        return url
    anchor = "diff-" + hashlib.sha256(finding.file_path.encode()).hexdigest()
    if finding.line_start is not None:
        anchor += f"R{finding.line_start}"
    return f"{url}#{anchor}"


def when(moment: datetime | None) -> str:
    if moment is None:
        return ""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def iso(moment: datetime | None) -> str:
    return moment.astimezone(UTC).isoformat() if moment is not None else ""


def seconds(value: float) -> str:
    """12.3 s, 4 min 05 s, 2 h 03 min."""
    if value < 60:
        return f"{max(value, 0):.1f} s"
    whole = int(value)
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"


def duration(review: ReviewSummary, now: datetime) -> str:
    """Creation to finish; for one still going, the time so far, marked so."""
    if review.finished_at is not None:
        return seconds((review.finished_at - review.created_at).total_seconds())
    if review.status in FINISHED:
        return ""
    return seconds((now - review.created_at).total_seconds()) + " so far"


def findings(review: ReviewSummary) -> str:
    """ "1 critical, 2 medium", "+3 withheld" after them; "0" when none was posted."""
    posted = [f"{review.severities[s]} {s}" for s in SEVERITIES if review.severities.get(s)]
    withheld = [f"+{review.withheld} withheld"] if review.withheld else []
    return ", ".join((posted or ["0"]) + withheld)


def count(value: int) -> str:
    return f"{value:,}"


def tokens(usage: Usage) -> str:
    """Input (cached included), cached and output (thinking included) tokens; zeros shown."""
    return (
        f"{count(usage.prompt_tokens)} in · {count(usage.cached_tokens)} cached"
        f" · {count(usage.output_tokens)} out"
    )


def cost(usage: Usage | Decimal) -> str:
    value = usage.cost_usd if isinstance(usage, Usage) else usage
    return f"${value:.4f}"


def row(review: ReviewSummary, now: datetime, github: str) -> dict[str, Any]:
    """One row of the list, as the page shows it and the JSON endpoint sends it; its PR's link
    on `github`."""
    return {
        "id": str(review.id),
        "url": review_url(review.id),
        "status": review.status,
        "finished": review.status in FINISHED,
        "repository": review.pull.full_name,
        "pr": f"#{review.pr_number}",
        "pr_url": pull_url(github, review.pull),
        "head": review.head_sha[:12],
        "trigger": review.trigger,
        "started": when(review.created_at),
        "started_at": iso(review.created_at),
        "duration": duration(review, now),
        "findings": findings(review),
        "tokens": tokens(review.usage),
        "cost": cost(review.usage),
    }


def waiting(review: ReviewSummary) -> str | None:
    """Why a pending review is not taken yet, and until when: a quota or cap, or an outage
    (bot/app/outage.py) with since when and how many tries it has had; None when it may run."""
    if review.status != "pending" or review.not_before is None:
        return None
    until = f"Not taken before {when(review.not_before)}"
    if review.outage_since is None:
        return f"{until}: a Gemini quota or cap."
    tries = review.outage_retries
    return (
        f"{until}: GitHub or Gemini was away (deferred {tries} time{'s' if tries != 1 else ''} "
        f"since {when(review.outage_since)}; see What reached GitHub)."
    )


def repository(totals: RepositoryTotals) -> dict[str, Any]:
    return {
        "name": f"{totals.owner}/{totals.repo}",
        "reviews": count(totals.reviews),
        "by_status": {status: count(n) for status, n in totals.by_status.items()},
        "findings": count(totals.findings),
        "tokens": tokens(totals.usage),
        "cost": cost(totals.usage),
        "last": when(totals.last_review_at),
    }


def location(finding: Finding) -> str:
    """path, path:12 or path:12-14."""
    if finding.line_start is None:
        return finding.file_path
    if finding.line_end is None or finding.line_end == finding.line_start:
        return f"{finding.file_path}:{finding.line_start}"
    return f"{finding.file_path}:{finding.line_start}-{finding.line_end}"


# ------------------------------------------------------------------------ what reached GitHub

LABELS = {
    Target.COMMENT: "Summary comment",
    Target.INLINE: "Inline review",
    Target.CHECK: "Check run",
}


def published_url(github: str, pull: Pull, target: Target, github_id: int | None) -> str:
    """Where `target` is on `github` ("" when its id is not known)."""
    if github_id is None:
        return ""
    if target is Target.COMMENT:
        return f"{pull_url(github, pull)}#issuecomment-{github_id}"
    if target is Target.INLINE:
        return f"{pull_url(github, pull)}#pullrequestreview-{github_id}"
    repo = f"{quote(pull.owner, safe='')}/{quote(pull.repo, safe='')}"
    return f"{github}/{repo}/runs/{github_id}"


def reached(github: str, pull: Pull, found: Mapping[Target, Published]) -> list[dict[str, str]]:
    """For each of the summary comment, the inline review and the check run, one sentence:
    what the PR shows from this review, or what could not be posted and why."""
    rows = []
    for target, label in LABELS.items():
        published = found.get(target)
        rows.append(
            {
                "target": str(target),
                "label": label,
                "state": _state(published),
                "said": said(published),
                "url": published_url(github, pull, target, published.github_id)
                if published
                else "",
            }
        )
    return rows


def _state(published: Published | None) -> str:
    if published is None:
        return "none"
    return "failed" if published.action is Action.FAILED else "ok"


def said(published: Published | None) -> str:
    """One readable sentence: posted, updated, or could not be and why (and what GitHub
    still shows instead)."""
    if published is None:
        return "Nothing recorded as posted."
    says, at = _quoted(published.says), when(published.at)
    if published.action is Action.POSTED:
        return f"Posted at {at}: {says}."
    if published.action is Action.UPDATED:
        return f"Updated at {at}: {says}."
    why = (published.error or "no reason given").rstrip(".")
    if published.shown is not None:
        return (
            f"Could not be updated at {at} to show {says} ({why}); GitHub still shows "
            f"{_quoted(published.shown)}, from {when(published.shown_at)}."
        )
    if published.github_id is not None:
        return (
            f"Could not be updated at {at} to show {says} ({why}); GitHub still shows what "
            "an earlier review put there."
        )
    return f"Could not be posted at {at} ({says}): {why}; the PR has nothing of it."


def _quoted(text: str) -> str:
    return f"“{text.rstrip('.')}”"


def untold(review: ReviewSummary, found: Mapping[Target, Published]) -> bool:
    """Whether the review failed and its summary comment is known not to say so (the
    failure could not be posted)."""
    comment = found.get(Target.COMMENT)
    if review.status != "failed" or comment is None:
        return False
    return not (comment.shown or "").startswith(FAILED_SAYS)
