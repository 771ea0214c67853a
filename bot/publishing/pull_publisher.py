"""The PR publisher: a review's result on its pull request, for the App and the Action.

In order: the inline review (without what earlier reviews posted inline), the threads of
findings fixed or dismissed since resolved, the summary comment, the check run completed, the
command that asked for the review answered. The check run is started (and shown queued) here
too. Before each step the memory says whether the review is still ours to publish
(`MemoryPort.ensure_ours`); what it stores and reads back is the memory's business. Each
step's outcome goes to the memory too: posted or updated with what it shows (`says`), or what
GitHub refused or could not be reached for, and why (`recording`). What publishing learns (the
findings posted inline, the threads resolved) goes into a new summary, the one the comment shows.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace

import gidgethub

from bot.errors import describe
from bot.github import checks, publish, replies
from bot.github.client import RetryingGitHubAPI
from bot.github.repo_config import RepoConfig
from bot.github.threads import Threads
from bot.publishing import resolution
from bot.publishing.memory_port import MemoryPort
from bot.pull import Pull
from bot.review.changes import Diff
from bot.review.findings import Finding
from bot.review.markdown import code
from bot.review.render import MARKER, Summary, check_title
from bot.store.publications import Action, Publication, Target
from bot.store.standing import Check

log = logging.getLogger(__name__)


@dataclass
class PullPublisher:
    """Publishes one review of one head of a PR."""

    gh: RetryingGitHubAPI
    pull: Pull
    head_sha: str
    memory: MemoryPort
    label: str  # names the review in log lines
    author: str | None = None  # whose summary comment is ours; None: any bot's
    reply_to: int | None = None  # the command that asked for the review, answered when done
    check_run_id: int | None = None  # ours, once started (a resumed review's already)
    rerun: str | None = None  # without a check run of ours: how to review again (the Action)
    threads: Threads = field(default_factory=Threads)  # ours on the PR, as the review started
    conclusion: str | None = None  # the check run's, once completed

    async def publish(
        self,
        diff: Diff,
        findings: list[Finding],
        summary: Summary,
        config: RepoConfig,
        *,
        reviewed: Collection[str] = (),
        dismissed: Collection[str] = (),
    ) -> Summary:
        """The review's result: inline review, threads resolved, summary comment, check run,
        the command answered; the summary as published. `reviewed`: the files the review
        read; `dismissed`: the fingerprints people dismissed."""
        summary = await self.post_inline(diff, findings, summary, config)
        summary = await self.resolve_threads(findings, reviewed, dismissed, summary)
        if self.rerun is not None:
            summary = summary.noted(self.rerun)
        found = await self.upsert_comment(summary)
        await self.complete_check(summary, findings, config, found)
        await self.reply_done(summary)
        return summary

    async def failed(self, summary: Summary, config: RepoConfig) -> None:
        """A review that failed: the summary comment and check run say why. The check run is
        tried even when the comment could not be (the first failure is raised after)."""
        found: Check | None = None
        refused: gidgethub.GitHubException | None = None
        try:
            found = await self.upsert_comment(summary)
        except gidgethub.GitHubException as exc:
            refused = exc
        try:
            await self.complete_check(summary, [], config, found)
        except gidgethub.GitHubException as exc:
            refused = refused or exc
        if refused is not None:
            raise refused
        await self.reply_done(summary)

    async def queued(self, summary: Summary) -> None:
        """A review waiting for a quota (or for GitHub or Gemini to come back): the summary
        comment says until when, the check run stays in progress and says so."""
        found = await self.upsert_comment(summary)
        if self.check_run_id is not None:
            await self.memory.ensure_ours(found)
            shows = f"in progress: {says(summary)}"
            async with self.recording(Target.CHECK, shows, self.check_run_id):
                await checks.queued(self.gh, self.pull.repository, self.check_run_id, summary)
            await self.memory.record(
                Publication(Target.CHECK, Action.UPDATED, shows, self.check_run_id)
            )

    async def post_inline(
        self, diff: Diff, findings: list[Finding], summary: Summary, config: RepoConfig
    ) -> Summary:
        """One COMMENT review for this head, without what earlier heads already had inline;
        the summary saying so."""
        already = await self.memory.posted_inline()
        chosen = publish.chosen_inline(findings, config, already)
        if not chosen:
            return summary
        await self.memory.ensure_ours()
        shows = f"{len(chosen)} inline comment(s)"
        async with self.recording(Target.INLINE, shows):
            inline = await publish.post_inline(
                self.gh, self.pull, self.head_sha, diff, chosen, summary
            )
        if inline.refused is not None:
            refused = f"{inline.refused}; the summary comment lists every finding instead"
            await self.memory.record(
                Publication(Target.INLINE, Action.FAILED, shows, None, refused)
            )
        elif inline.posted:
            shows = f"{len(inline.posted)} inline comment(s)"
            posted = Publication(Target.INLINE, Action.POSTED, shows, inline.review_id)
            await self.memory.mark_inline([f.fingerprint for f in inline.posted], posted)
        return inline.summary

    async def resolve_threads(
        self,
        findings: list[Finding],
        reviewed: Collection[str],
        dismissed: Collection[str],
        summary: Summary,
    ) -> Summary:
        """Resolve the threads of findings fixed since (or dismissed); the summary saying so."""
        chosen = resolution.to_resolve(self.threads, findings, reviewed, dismissed)
        if not chosen:
            return summary
        await self.memory.ensure_ours()
        resolved, refused = await resolution.resolve(self.gh, chosen, self.label)
        summary = replace(summary, threads_resolved=frozenset(resolved))
        return summary.noted(refused) if refused else summary

    async def upsert_comment(self, summary: Summary) -> Check | None:
        """Post or edit the summary comment; the review's standing after, for the next step."""
        known, found = await self.memory.last_comment()
        await self.memory.ensure_ours(found)
        shows = says(summary)
        async with self.recording(Target.COMMENT, shows, known):
            comment = await publish.upsert_comment(
                self.gh,
                self.pull,
                self.memory.render(summary),
                MARKER,
                known,
                author=self.author,
            )
        action = Action.POSTED if comment.created else Action.UPDATED
        posted = Publication(Target.COMMENT, action, shows, comment.id)
        return await self.memory.comment_posted(comment.id, summary, posted)

    async def start_check(self, external_id: str) -> Check | None:
        """The check run, in progress; the review's standing after, for a step right after."""
        await self.memory.ensure_ours()
        known = self.check_run_id
        async with self.recording(Target.CHECK, IN_PROGRESS, known):
            self.check_run_id = await checks.start(
                self.gh,
                self.pull.repository,
                self.head_sha,
                external_id,
                known_id=known,
            )
        action = Action.POSTED if known is None else Action.UPDATED
        started = Publication(Target.CHECK, action, IN_PROGRESS, self.check_run_id)
        return await self.memory.check_started(self.check_run_id, started)

    async def complete_check(
        self,
        summary: Summary,
        findings: list[Finding],
        config: RepoConfig,
        found: Check | None = None,
    ) -> None:
        """Complete our check run, when one was started; `found`: the standing the step
        before just read."""
        if self.check_run_id is None:
            return
        await self.memory.ensure_ours(found)
        async with self.recording(Target.CHECK, f"completed: {says(summary)}", self.check_run_id):
            self.conclusion = await checks.complete_review(
                self.gh,
                self.pull.repository,
                self.check_run_id,
                summary,
                findings,
                config.fail_on,
                config,
            )
        shows = f"completed ({self.conclusion}): {says(summary)}"
        await self.memory.check_done(
            Publication(Target.CHECK, Action.UPDATED, shows, self.check_run_id)
        )

    @asynccontextmanager
    async def recording(
        self, target: Target, shows: str, github_id: int | None = None
    ) -> AsyncIterator[None]:
        """A publishing step: when GitHub refuses it or cannot be reached, the memory records
        that `target` (`github_id` on GitHub, if it exists) did not come to show `shows`,
        and why; the failure goes on."""
        try:
            yield
        except gidgethub.GitHubException as exc:
            failed = Publication(target, Action.FAILED, shows, github_id, describe(exc))
            await self.memory.record(failed)
            raise

    async def reply_done(self, summary: Summary) -> None:
        """Answer the command that asked for this review, now that it is done."""
        if self.reply_to is None:
            return
        head = code(self.head_sha[:12])
        body = (
            f"{replies.REPLY_MARKER}\nDone: reviewed {head}, {len(summary.findings)} "
            "finding(s); the summary comment has them."
        )
        if summary.status == "failed":
            body = (
                f"{replies.REPLY_MARKER}\nThe review of {head} failed; the summary "
                "comment says why."
            )
        try:
            await replies.comment(self.gh, self.pull, body)
        except gidgethub.GitHubException as exc:  # the summary says it all the same
            log.warning("%s: the command was not answered: %s", self.label, describe(exc))


IN_PROGRESS = "in progress"
FAILED_SAYS = "Review failed"


def says(summary: Summary) -> str:
    """What publishing `summary` shows on the PR, in a few words (the check run's title; a
    failure without its reason, which the review's error holds)."""
    return FAILED_SAYS if summary.status == "failed" else check_title(summary)
