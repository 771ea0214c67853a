"""`second-look action`: review the PR of a GitHub Actions `pull_request` (or
`pull_request_target`) event with the workflow's token, and publish as the App does (summary
comment, inline review), with no database. The job's own check run carries the verdict (its
exit status, and the findings as annotations): a check run created with a workflow's token
belongs to GitHub Actions, whose Re-run button never reaches this code (docs/architecture.md).

It publishes through the App's PR publisher (bot/publishing/pull_publisher.py); what the next run
needs (the head reviewed, the fingerprints posted inline, the findings to carry forward) is
kept in a hidden block of our own summary comment (bot/standalone/comment_memory.py).
"""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path

import aiohttp
import gidgethub

from bot import incremental, pipeline
from bot.config import ConfigError, GeminiSettings, GitHubAccess, github_access
from bot.errors import describe
from bot.github import sources
from bot.github.checks import annotate
from bot.github.client import GitHubClient, has_status
from bot.github.compare import changed_since
from bot.github.event import EventError, PullEvent, read_event
from bot.github.repo_config import RepoConfig
from bot.logs import setup_logging
from bot.output import Report, render
from bot.publishing.pull_publisher import PullPublisher
from bot.retry import Sleep
from bot.review.findings import SEVERITY_RANK, Finding
from bot.review.markdown import workflow_command
from bot.review.memory import Memory
from bot.standalone import local
from bot.standalone.comment_memory import ACTIONS_BOT, CommentMemory
from bot.store.calls import Totals

log = logging.getLogger(__name__)

RERUN = "The job's own check carries the verdict; to review again, re-run this job."
NEEDS = "The job needs `permissions:` `contents: read` and `pull-requests: write`."
NO_KEY = "Second Look: not reviewed: {missing} is empty. {why}"
WHY_NO_KEY = {
    "dependabot": "GitHub gives a Dependabot pull request's workflow no Actions secrets; add "
    "the key as a Dependabot secret to review them.",
    "fork": "GitHub gives a fork's `pull_request` workflow no secrets.",
    "": "Pass `gemini-api-key: ${{ secrets.GEMINI_API_KEY }}` and set that secret.",
}
ANNOTATIONS_PER_LEVEL = 10  # GitHub shows 10 warning and 10 error annotations per step
LEVELS = {"failure": "error", "warning": "warning", "notice": "notice"}  # checks' -> commands


class ActionError(Exception):
    """The workflow is not set up for the Action: one line for the job log, exit 2."""


@dataclass
class Run:
    """The Action's settings, from the environment a workflow provides."""

    event: PullEvent
    access: GitHubAccess  # the workflow's token, GITHUB_API_URL, MAX_DIFF_FILE_BYTES
    gemini: GeminiSettings
    fail_on: str | None
    sarif: Path | None
    step_summary: Path | None
    without_model: str | None = None  # no Gemini key: the analyzers alone, and why


def run(fail_on: str | None, sarif: str | None, environ: Mapping[str, str] | None = None) -> int:
    """0: reviewed (a check run carries the verdict) or nothing to do; 1: a finding at or
    above fail_on and no check run to say so; 2: the workflow is misconfigured; 3: the review
    could not run."""
    env = os.environ if environ is None else environ
    try:
        event = read_event(env.get("GITHUB_EVENT_NAME", ""), env.get("GITHUB_EVENT_PATH", ""))
    except EventError as exc:
        return _error(str(exc))
    if not env.get("GITHUB_TOKEN") and not (event.fork and event.event == "pull_request"):
        return _error("GITHUB_TOKEN is not set: pass `github-token: ${{ github.token }}`")
    missing = [name for name in ("GITHUB_TOKEN", "GEMINI_API_KEY") if not env.get(name)]
    without_model = None
    if missing == ["GEMINI_API_KEY"] and not _cause(env, event):
        # A token that can post, and no key: the analyzers review alone, and say so.
        without_model = "GEMINI_API_KEY is empty"
        print(f"::notice::{NO_KEY.format(missing=missing[0], why=WHY_NO_KEY[''])}")
        print("::notice::Second Look: the analyzers review alone (no model)")
    elif missing:
        return _not_reviewed(env, event, " and ".join(missing))
    full_name = event.pull.full_name
    repository = env.get("GITHUB_REPOSITORY", full_name)
    if repository.lower() != full_name.lower():
        return _error(f"the event's PR is in {full_name}, not {repository}")
    try:
        access, gemini = github_access(env, dotenv=None, model=without_model is None)
    except ConfigError as exc:
        return _error(str(exc))
    setup_logging([gemini.api_key, env["GITHUB_TOKEN"]], level="INFO")
    settings = Run(
        event,
        access,
        gemini,
        fail_on,
        Path(sarif) if sarif else None,
        Path(env["GITHUB_STEP_SUMMARY"]) if env.get("GITHUB_STEP_SUMMARY") else None,
        without_model,
    )
    try:
        return asyncio.run(review(settings))
    except gidgethub.GitHubException as exc:
        if has_status(exc, HTTPStatus.FORBIDDEN):  # the workflow's `permissions:` lack one
            print(f"::error::Second Look: {describe(exc)}. {NEEDS}")
            return local.USAGE
        print(f"::error::Second Look: {describe(exc)}")
        return local.COULD_NOT_RUN
    except OSError as exc:  # e.g. the --sarif file cannot be written
        print(f"::error::Second Look: {exc}")
        return local.COULD_NOT_RUN


def _not_reviewed(env: Mapping[str, str], event: PullEvent, missing: str) -> int:
    """No secrets (Dependabot, a fork, or none set): a notice, the job's summary, exit 0."""
    message = NO_KEY.format(missing=missing, why=WHY_NO_KEY[_cause(env, event)])
    print(f"::notice::{message}")
    if env.get("GITHUB_STEP_SUMMARY"):
        with Path(env["GITHUB_STEP_SUMMARY"]).open("a", encoding="utf-8") as out:
            out.write(f"{message}\n")
    return local.CLEAN


def _cause(env: Mapping[str, str], event: PullEvent) -> str:
    """Why a workflow has no secrets: Dependabot's, a fork's, or none known ("")."""
    if env.get("GITHUB_ACTOR") == "dependabot[bot]":
        return "dependabot"
    return "fork" if event.fork and event.event == "pull_request" else ""


def _error(message: str) -> int:
    print(f"::error::Second Look: {message}")
    return local.USAGE


async def review(settings: Run, sleep: Sleep = asyncio.sleep) -> int:
    """Read what the last run left, review, publish; the exit status. `sleep` waits
    between GitHub's and Gemini's retries."""
    event = settings.event
    pull = event.pull
    async with aiohttp.ClientSession() as http:
        access = settings.access
        github = GitHubClient.with_token(
            http, api_url=access.api_url, token=access.token, sleep=sleep
        )
        gh = await github.api(pull.installation_id)
        memory = await CommentMemory.read(gh, pull, event.head_sha)
        base = await sources.read_base(github, pull, event.base_ref)
        config = base.config.config
        if event.draft and not config.review_drafts:
            print("::notice::Second Look: a draft pull request is reviewed when marked ready")
            return local.CLEAN
        label = str(pull)
        source = sources.PullSource(github, pull, event.head_sha, access.max_diff_file_bytes)
        # No check run of ours: the job's own is the verdict, and re-running it reviews again.
        pr = PullPublisher(gh, pull, event.head_sha, memory, label, author=ACTIONS_BOT, rerun=RERUN)
        published: list[ActionPublisher] = []

        def publisher(kept: local.Kept) -> ActionPublisher:
            out = ActionPublisher(kept, pr, memory, settings, label, config)
            published.append(out)
            return out

        prior = await _prior(github, event, memory.last)
        reviewed = await local.review(
            source,
            base,
            settings.gemini,
            event.head_sha,
            label=label,
            prior=prior,
            publisher=publisher,
            fail_on=settings.fail_on,
            verdict_by="the job",
            sleep=sleep,
            without_model=settings.without_model,
        )
    # The job's status is the verdict: 1 on a finding at or above fail_on (--fail-on, else
    # the repository's), 3 when the review failed, saying why in the job's log.
    summary = reviewed.summary
    if summary.status == "failed":
        why = workflow_command(f"the review could not run: {summary.error or ''}")
        print(f"::error::Second Look: {why}")
    return local.exit_code_of(summary)


def annotation_commands(findings: list[Finding], config: RepoConfig, fail_on: str) -> list[str]:
    """The findings shown on a line (`annotate`: the repository's floor and cap, `failure`
    only at `fail_on`) as workflow commands, which annotate the job's own check run: the most
    severe first, at most ANNOTATIONS_PER_LEVEL of each level (GitHub drops the rest)."""
    lines: list[str] = []
    shown = dict.fromkeys(LEVELS.values(), 0)
    ranked = sorted(findings, key=lambda f: SEVERITY_RANK[f.severity])
    for note in annotate(ranked, config, fail_on):
        data = note.as_json()
        level = LEVELS[data["annotation_level"]]
        if shown[level] == ANNOTATIONS_PER_LEVEL:
            continue
        shown[level] += 1
        where = ",".join(
            f"{key}={workflow_command(str(value), prop=True)}"
            for key, value in (
                ("file", data["path"]),
                ("line", data["start_line"]),
                ("endLine", data["end_line"]),
                ("title", data["title"]),
            )
        )
        lines.append(f"::{level} {where}::{workflow_command(data['message'])}")
    return lines


async def _prior(
    github: GitHubClient, event: PullEvent, memory: Memory | None
) -> incremental.Prior:
    """The last run's findings, and on a push the files changed since its head. With no
    review row to name, a finding carried forward names the last run by its head."""
    if memory is None:
        return incremental.Prior()

    async def compare(base: str, head: str) -> set[str] | None:
        return await changed_since(github, event.pull.repository, base, head)

    return await incremental.following(
        list(memory.findings),
        memory.head_sha,
        event.head_sha,
        compare,
        push=event.action == "synchronize" and bool(memory.head_sha),
        partial=not memory.complete,
        label=f"#{event.number}",
        last_id=uuid.uuid5(uuid.NAMESPACE_URL, f"second-look:{memory.head_sha}"),
    )


@dataclass
class ActionPublisher:
    """Publishes as the App does, remembering in the summary comment instead of a table."""

    kept: local.Kept
    pr: PullPublisher
    memory: CommentMemory
    settings: Run
    label: str
    config: RepoConfig

    async def prior(self) -> incremental.Prior:
        return await self.kept.prior()

    async def ready(self) -> None:
        return None

    async def dismissed(self) -> Mapping[str, str]:
        return {}

    async def usage(self) -> Totals:
        return await self.kept.usage()

    async def publish(self, reviewed: pipeline.Reviewed) -> None:
        await self.kept.publish(reviewed)
        findings = reviewed.checked.findings
        self.memory.findings = tuple(findings)
        # A partial or failed review is no base for an incremental one: the next is full.
        failed = reviewed.summary.status == "failed"
        self.memory.complete = not (reviewed.coverage.partial or failed)
        summary = await self.pr.publish(reviewed.diff, findings, reviewed.summary, self.config)
        for line in annotation_commands(findings, self.config, summary.fail_on):
            print(line)
        self._files(Report(summary, reviewed.diff, self.label))

    def _files(self, report: Report) -> None:
        """SARIF when asked, and the summary on the job's page."""
        if self.settings.sarif is not None:
            self.settings.sarif.write_text(render(report, "sarif"), encoding="utf-8")
        if self.settings.step_summary is not None:
            with self.settings.step_summary.open("a", encoding="utf-8") as out:
                out.write(render(report, "markdown"))
