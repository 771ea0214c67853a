"""The "Second Look" check run: in_progress when a review starts (and while it is queued),
completed with annotations, its conclusion decided here; cancelled when a newer review
replaces it.

Annotations are the findings shown on a line, as github/publish.chosen_inline decides for
inline comments (the repository's severity floor and cap), and their level follows the
check's verdict: `failure` only for a finding that fails the check."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.github.client import RetryingGitHubAPI, url_vars
from bot.github.publish import chosen_inline
from bot.github.repo_config import RepoConfig
from bot.pull import Repo
from bot.review.findings import Finding, reaches
from bot.review.markdown import code, plain
from bot.review.render import Summary, check_title, partial, render_summary

CHECK_NAME = "Second Look"
ANNOTATIONS_PER_REQUEST = 50  # GitHub's cap
MAX_TEXT = 65_535  # GitHub's cap on output.title/summary/text
# The level of an annotation whose finding does not fail the check; one that does is `failure`.
LEVELS = {
    "critical": "warning",
    "high": "warning",
    "medium": "warning",
    "low": "notice",
    "info": "notice",
}


@dataclass(frozen=True)
class Annotation:
    path: str
    start_line: int
    end_line: int
    level: str  # notice | warning | failure
    title: str
    message: str

    def as_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "start_line": self.start_line,
            "end_line": self.end_line,
            "annotation_level": self.level,
            "title": plain(self.title, 255),
            "message": plain(self.message or self.title, 64_000, multiline=True),
        }


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def start(
    gh: RetryingGitHubAPI,
    repository: Repo,
    head_sha: str,
    external_id: str,
    known_id: int | None = None,
) -> int:
    """Create the check run in_progress (or mark the known one so again); return its id."""
    data = {
        "name": CHECK_NAME,
        "head_sha": head_sha,
        "status": "in_progress",
        "started_at": _now(),
        "external_id": external_id,
        "output": {"title": "Reviewing…", "summary": "Second Look is reviewing this commit."},
    }
    if known_id is not None:
        await gh.patch(
            "/repos/{owner}/{repo}/check-runs/{id}",
            url_vars=url_vars(repository, id=str(known_id)),
            data={k: v for k, v in data.items() if k != "head_sha"},
        )
        return known_id

    async def created_before() -> dict[str, Any] | None:
        return await find_run(gh, repository, head_sha, external_id)

    created = await gh.create(
        "/repos/{owner}/{repo}/check-runs",
        url_vars=url_vars(repository),
        data=data,
        find=created_before,
    )
    return int(created["id"])


async def find_run(
    gh: RetryingGitHubAPI, repository: Repo, head_sha: str, external_id: str
) -> dict[str, Any] | None:
    """Our check run of this head with this `external_id` (each review's own), if any."""
    async for run in gh.getiter(
        "/repos/{owner}/{repo}/commits/{ref}/check-runs{?check_name,filter,per_page}",
        url_vars=url_vars(
            repository, ref=head_sha, check_name=CHECK_NAME, filter="all", per_page="100"
        ),
        iterable_key="check_runs",
    ):
        if run.get("name") == CHECK_NAME and run.get("external_id") == external_id:
            return dict(run)
    return None


async def complete(
    gh: RetryingGitHubAPI,
    repository: Repo,
    check_run_id: int,
    *,
    conclusion: str,
    title: str,
    summary: str,
    annotations: list[Annotation],
) -> None:
    """Complete the run; annotations go 50 per request, as GitHub allows."""
    output = {"title": plain(title, 255), "summary": summary[:MAX_TEXT]}
    batches = [
        annotations[i : i + ANNOTATIONS_PER_REQUEST]
        for i in range(0, len(annotations), ANNOTATIONS_PER_REQUEST)
    ] or [[]]
    run = url_vars(repository, id=str(check_run_id))
    # Every batch but the last is added while the run is still in progress, so the
    # run is completed once, with all its annotations there.
    for batch in batches[:-1]:
        await gh.patch(
            "/repos/{owner}/{repo}/check-runs/{id}",
            url_vars=run,
            data={"output": {**output, "annotations": [a.as_json() for a in batch]}},
        )
    await gh.patch(
        "/repos/{owner}/{repo}/check-runs/{id}",
        url_vars=run,
        data={
            "status": "completed",
            "conclusion": conclusion,
            "completed_at": _now(),
            "output": {**output, "annotations": [a.as_json() for a in batches[-1]]},
        },
    )


def conclusion(summary: Summary, findings: Sequence[Finding], fail_on: str) -> str:
    """failure (a failed review, or a finding at or above `fail_on`), else neutral for a
    skipped or partial review, else success.

    A queued review has no conclusion: its run stays in progress (see `queued`).
    """
    if summary.status == "queued":
        raise ValueError("a queued review's check run stays in progress: it has no conclusion")
    if summary.status == "skipped":
        return "neutral"
    if summary.status == "failed" or any(reaches(f, fail_on) for f in findings):
        return "failure"
    if partial(summary):
        return "neutral"  # a partial review is never a plain green check
    return "success"


def annotate(findings: list[Finding], config: RepoConfig, fail_on: str) -> list[Annotation]:
    """An annotation for each finding shown on a line (`chosen_inline`: the repository's
    floor and cap), `failure` when it fails the check (at `fail_on`), else by severity."""
    return [
        Annotation(
            f.file_path,
            f.line_start,
            f.line_end or f.line_start,
            "failure" if reaches(f, fail_on) else LEVELS[f.severity],
            f.title,
            f.description,
        )
        for f in chosen_inline(findings, config)
        if f.line_start is not None
    ]


async def complete_review(
    gh: RetryingGitHubAPI,
    repository: Repo,
    check_run_id: int,
    summary: Summary,
    findings: list[Finding],
    fail_on: str,
    config: RepoConfig,
) -> str:
    """Complete the review's check run: the summary, its conclusion, and annotations on the
    lines the repository's `config` shows findings on; the conclusion."""
    verdict = conclusion(summary, findings, fail_on)
    await complete(
        gh,
        repository,
        check_run_id,
        conclusion=verdict,
        title=check_title(summary),
        summary=render_summary(summary, MAX_TEXT, marker=False),
        annotations=annotate(findings, config, fail_on),
    )
    return verdict


async def queued(
    gh: RetryingGitHubAPI, repository: Repo, check_run_id: int, summary: Summary
) -> None:
    """Say on the in-progress run that the review is queued, and until when.

    Only the output changes: the run stays in progress until the review runs again.
    """
    if summary.status != "queued":
        raise ValueError(f"queued() is for a queued review, not a {summary.status} one")
    await gh.patch(
        "/repos/{owner}/{repo}/check-runs/{id}",
        url_vars=url_vars(repository, id=str(check_run_id)),
        data={
            "output": {
                "title": plain(check_title(summary), 255),
                "summary": render_summary(summary, MAX_TEXT, marker=False),
            }
        },
    )


async def cancel(
    gh: RetryingGitHubAPI,
    repository: Repo,
    check_run_id: int,
    newer_head: str | None,
    stopped: str | None = None,
) -> None:
    """Complete a superseded review's run as cancelled, naming the head that replaced it (or
    a stopped one's, saying why it stopped)."""
    if stopped:
        title, summary = "Stopped", f"This review was stopped: {plain(stopped, 500)}."
    else:
        newer = f"the review of {code(newer_head[:12])}" if newer_head else "a newer review"
        title = "Superseded"
        summary = f"This review was superseded by {newer} of the same pull request."
    await complete(
        gh,
        repository,
        check_run_id,
        conclusion="cancelled",
        title=title,
        summary=summary,
        annotations=[],
    )


async def conclude_again(
    gh: RetryingGitHubAPI, repository: Repo, check_run_id: int, summary: Summary
) -> str:
    """Complete a completed run again from its summary (after a dismissal): its conclusion,
    title and text now; the annotations it has stay (GitHub only adds to them)."""
    verdict = conclusion(summary, summary.findings, summary.fail_on)
    await complete(
        gh,
        repository,
        check_run_id,
        conclusion=verdict,
        title=check_title(summary),
        summary=render_summary(summary, MAX_TEXT, marker=False),
        annotations=[],
    )
    return verdict
