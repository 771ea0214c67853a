"""process_review(review_id): the seed's processor, orchestration only."""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass, field

import asyncpg

from bot import incremental
from bot.github import checks, publish, repo_config
from bot.github.client import GitHubError, RetryingGitHubAPI
from bot.github.diff import fetch_diff
from bot.logs import redact
from bot.review.changes import Diff
from bot.review.findings import (
    Checked,
    Finding,
    check,
    inline_candidates,
    reaches,
    suggestion_fits,
)
from bot.review.gemini import AgentCallError
from bot.review.render import MARKER, Summary, check_title, inline_body, render_summary
from bot.review.supervisor import ReviewSupervisor, SupervisorResult
from bot.services import Services
from bot.store import reviews
from bot.store.findings import FindingRepo
from bot.store.reviews import Review

log = logging.getLogger(__name__)


MAX_ATTEMPTS = 5


class ReviewError(Exception):
    """A review cannot run; the message is for the people reading the PR."""


class Superseded(Exception):
    """The review is no longer ours: a newer one replaced it, or another process took it."""


@dataclass
class Outcome:
    status: str  # completed | failed | skipped
    error: str | None = None


async def process_review(review_id: uuid.UUID, services: Services) -> None:
    """Claim the review and run it to a final status; never raises for a review failure."""
    settings = services.settings
    review = await reviews.claim(
        services.pool, review_id, services.lease_owner, settings.lease_seconds
    )
    if review is None:
        log.info("review %s not claimed: another process has it or it is finished", review_id)
        return
    log.info("review %s processing (attempt %d)", review_id, review.attempts)
    if review.attempts > MAX_ATTEMPTS:
        # Each earlier attempt ended with its process gone: do not let one review crash-loop.
        error = f"gave up after {MAX_ATTEMPTS} attempts: the process running it stopped each time"
        await ReviewRun(review, services).publish_failure(error)
        await reviews.finish(services.pool, review_id, services.lease_owner, "failed", error)
        log.warning("review %s failed: %s", review_id, error)
        return
    run = ReviewRun(review, services)
    keeper = asyncio.create_task(run.keep_lease(asyncio.current_task()))
    try:
        outcome = await run.execute()
    except Superseded:
        log.info("review %s superseded; it publishes nothing more", review_id)
        return
    except asyncio.CancelledError:
        await run.record_cancelled()
        if run.lease_lost:  # our own keeper cancelled us: the review is someone else's now
            asyncio.current_task().uncancel()
            log.info("review %s lost its lease; stopped", review_id)
            return
        raise
    except Exception as exc:
        outcome = Outcome("failed", describe_error(exc))
        log.warning("review %s failed: %s", review_id, outcome.error)
        await run.publish_failure(outcome.error)
    finally:
        keeper.cancel()
    finished = await reviews.finish(
        services.pool, review_id, services.lease_owner, outcome.status, outcome.error
    )
    if finished:
        log.info("review %s %s", review_id, outcome.status)
    else:
        log.warning("review %s finished after losing its lease; result not recorded", review_id)


@dataclass
class ReviewRun:
    """One claimed review and what it has published so far."""

    review: Review
    services: Services
    gh: RetryingGitHubAPI | None = None
    check_run_id: int | None = None
    config: repo_config.LoadedConfig = field(
        default_factory=lambda: repo_config.LoadedConfig(repo_config.RepoConfig())
    )
    supervisor: ReviewSupervisor | None = None
    lease_lost: bool = False

    async def execute(self) -> Outcome:
        """The seed's steps 2 to 9."""
        review, services = self.review, self.services
        if services.gemini is None:
            raise ReviewError("GEMINI_API_KEY is not set on the Second Look server")
        self.gh = await services.github.api(review.installation_id)
        self.config = await repo_config.load(self.gh, review.owner, review.repo, review.base_ref)
        config = self.config.config
        if review.trigger == "edited":
            if not config.rerun_on_edit:
                log.info("review %s: rerun_on_edit is off for this repository", review.id)
                return Outcome("skipped")
            async with services.pool.acquire() as conn:
                await reviews.supersede_before(conn, [review.id])
        await self.start_check()
        if review.draft and not config.review_drafts:
            notes = ["Draft pull request: it is reviewed when marked ready for review."]
            await self.complete_check(Summary(review.head_sha, "skipped", notes=notes), [])
            return Outcome("skipped")

        diff = await fetch_diff(
            services.github, review.installation_id, review.owner, review.repo,
            review.pr_number, max_file_bytes=services.settings.max_diff_file_bytes,
            ignore=config.ignore,
        )  # fmt: skip
        plan = await incremental.plan(review, diff, services, config.agents)
        self.supervisor = ReviewSupervisor(
            services.gemini, agents=config.agents, instructions=config.instructions,
            max_in_flight=services.settings.gemini_max_in_flight,
        )  # fmt: skip
        result = await self.supervisor.run(diff, plan.files)
        checked = check(result.findings, diff)
        checked.findings = sorted(checked.findings + plan.carried, key=lambda f: f.rank)
        await self.store(checked.findings)

        summary = self.summary(diff, result, checked)
        summary.resolved = incremental.resolved(plan.previous, checked.findings)
        if plan.incremental:
            summary.reviewed_files = len(plan.files)
        await self.post_inline(diff, checked.findings, summary)
        await self.upsert_comment(summary)
        await self.complete_check(summary, checked.findings)
        await reviews.add_stats(services.pool, review.id, self.stats(plan, result, checked))
        if summary.failed_agents:
            return Outcome("failed", "; ".join(summary.failed_agents.values())[:1000])
        return Outcome("completed")

    async def keep_lease(self, task: asyncio.Task | None) -> None:
        """Renew the lease while the review runs; cancel the review when it is not ours."""
        settings = self.services.settings
        while True:
            await asyncio.sleep(settings.lease_seconds / 3)
            try:
                ours = await reviews.renew_lease(
                    self.services.pool, self.review.id, self.services.lease_owner,
                    settings.lease_seconds,
                )  # fmt: skip
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                # The database is away for a moment; the lease has two more chances.
                log.warning("review %s: lease not renewed: %s", self.review.id, exc)
                continue
            if not ours and task is not None:
                self.lease_lost = True
                task.cancel()
                return

    async def ensure_ours(self) -> None:
        """Before each publishing step: stop if the review was superseded or taken over."""
        if not await reviews.still_ours(
            self.services.pool, self.review.id, self.services.lease_owner
        ):
            raise Superseded()

    async def record_cancelled(self) -> None:
        cancelled = self.supervisor.cancelled if self.supervisor else 0
        await reviews.add_stats(self.services.pool, self.review.id, {"gemini_cancelled": cancelled})

    async def store(self, findings: list[Finding]) -> None:
        async with self.services.pool.acquire() as conn, conn.transaction():
            repo = FindingRepo(conn)
            await repo.delete_for_review(self.review.id)  # a resumed review stores them afresh
            await repo.create_many(self.review.id, findings)

    def summary(self, diff: Diff, result: SupervisorResult, checked: Checked) -> Summary:
        assert self.supervisor is not None
        return Summary(
            head_sha=self.review.head_sha,
            status="failed" if result.failures else "completed",
            findings=checked.findings,
            skipped=diff.skipped,
            failed_agents={f.agent: f.reason for f in result.failures},
            agents=[agent.name for agent in self.supervisor.agents],
            dropped=checked.dropped,
            moved=checked.moved,
            calls=result.calls,
            input_chars=result.input_chars,
            tokens=result.prompt_tokens + result.output_tokens,
            config_problems=[(p.key, p.message) for p in self.config.problems],
        )

    async def post_inline(self, diff: Diff, findings: list[Finding], summary: Summary) -> None:
        """One COMMENT review for this head, without what earlier heads already had inline."""
        review, pool = self.review, self.services.pool
        already = await FindingRepo(pool).posted_inline(review.owner, review.repo,
                                                         review.pr_number)  # fmt: skip
        fresh = [f for f in findings if f.fingerprint not in already]
        chosen = inline_candidates(fresh, self.config.config.max_inline_comments)
        if not chosen:
            return
        comments = [
            publish.InlineComment(f.file_path, f.line_start, f.line_end or f.line_start,
                                  inline_body(f, suggestion_fits(f, diff)))
            for f in chosen if f.line_start is not None
        ]  # fmt: skip
        assert self.gh is not None
        await self.ensure_ours()
        try:
            await publish.post_review(
                self.gh, review.owner, review.repo, review.pr_number, review.head_sha,
                f"Second Look: {len(comments)} inline comment(s); the summary has them all.",
                comments,
            )  # fmt: skip
        except GitHubError as exc:
            if exc.status != 422:
                raise
            log.warning("review %s: GitHub refused the inline comments: %s", review.id, exc)
            summary.notes.append(
                "GitHub refused the inline comments; every finding is listed here instead."
            )
            return
        await FindingRepo(pool).mark_inline(review.id, [f.fingerprint for f in chosen])
        summary.inline = len(comments)

    async def upsert_comment(self, summary: Summary) -> None:
        review, pool = self.review, self.services.pool
        assert self.gh is not None
        known = await reviews.last_comment_id(pool, review.owner, review.repo, review.pr_number)
        await self.ensure_ours()
        comment_id = await publish.upsert_comment(
            self.gh, review.owner, review.repo, review.pr_number, render_summary(summary),
            MARKER, known,
        )  # fmt: skip
        await reviews.set_fields(pool, review.id, comment_id=comment_id)

    async def start_check(self) -> None:
        review = self.review
        assert self.gh is not None
        await self.ensure_ours()
        self.check_run_id = await checks.start(
            self.gh, review.owner, review.repo, review.head_sha, str(review.id),
            known_id=review.check_run_id,
        )  # fmt: skip
        await reviews.set_fields(self.services.pool, review.id, check_run_id=self.check_run_id)

    async def complete_check(self, summary: Summary, findings: list[Finding]) -> None:
        review, fail_on = self.review, self.config.config.fail_on
        assert self.gh is not None and self.check_run_id is not None
        if summary.status == "skipped":
            conclusion = "neutral"
        elif summary.status == "failed" or any(reaches(f, fail_on) for f in findings):
            conclusion = "failure"
        else:
            conclusion = "success"
        annotations = [
            checks.Annotation(f.file_path, f.line_start, f.line_end or f.line_start, f.severity,
                              f.title, f.description)
            for f in findings if f.line_start is not None
        ]  # fmt: skip
        body = render_summary(summary, limit=checks.MAX_TEXT).replace(MARKER + "\n", "", 1)
        await self.ensure_ours()
        await checks.complete(
            self.gh, review.owner, review.repo, self.check_run_id, conclusion=conclusion,
            title=check_title(summary), summary=body, annotations=annotations,
        )  # fmt: skip

    async def publish_failure(self, error: str) -> None:
        """Say on the PR that the review failed and why; GitHub may be the thing that is down."""
        summary = Summary(head_sha=self.review.head_sha, status="failed", error=error)
        try:
            if self.gh is None:
                self.gh = await self.services.github.api(self.review.installation_id)
            await self.upsert_comment(summary)
            if self.check_run_id is not None:
                await self.complete_check(summary, [])
        except Superseded:
            log.info("review %s: superseded; its failure is not posted", self.review.id)
        except (GitHubError, OSError) as exc:
            log.warning("review %s: could not post the failure: %s", self.review.id,
                        describe_error(exc))  # fmt: skip

    def stats(
        self, plan: incremental.Plan, result: SupervisorResult, checked: Checked
    ) -> dict[str, int | bool]:
        return {
            "files": len(plan.files), "incremental": plan.incremental,
            "carried": len(plan.carried), "findings": len(checked.findings),
            "dropped": checked.dropped, "moved": checked.moved, "merged": checked.merged,
            "gemini_calls": result.calls, "input_chars": result.input_chars,
            "prompt_tokens": result.prompt_tokens, "output_tokens": result.output_tokens,
        }  # fmt: skip


def describe_error(exc: BaseException) -> str:
    """A readable one-line reason for a failed review, with no secret in it."""
    text = str(exc).strip()
    if not isinstance(exc, (GitHubError, AgentCallError, ReviewError)):
        text = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return redact(text.splitlines()[0])[:1000]
