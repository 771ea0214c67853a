"""process_review(review_id): the seed's numbered steps, orchestration only."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import gidgethub

from bot import logs, pipeline
from bot.app import leased_runner, outage, review_meter
from bot.app.conversation import thread_sync
from bot.app.review_meter import ReviewMeter
from bot.app.review_publisher import AppPublisher, finish_figures
from bot.app.services import Services
from bot.app.stopped_checks import close_stopped_checks
from bot.app.table_memory import Superseded, TableMemory
from bot.errors import describe
from bot.github import repo_config, sources
from bot.publishing.pull_publisher import PullPublisher, says
from bot.review.metering import QuotaReached
from bot.review.prompt import Brief
from bot.review.render import Summary
from bot.review.supervisor import ReviewSupervisor
from bot.store import calls, db, pulls, queue, reviews
from bot.store.installations import InstallationStatus
from bot.store.publications import Action, Publication, Target
from bot.store.queue import Status, Trigger
from bot.store.reviews import Review

log = logging.getLogger(__name__)

Cancel = Callable[[Sequence[uuid.UUID]], None]  # stop the tasks of these superseded reviews


class ReviewError(leased_runner.WorkError):
    """A review cannot run; the message is for the people reading the PR."""


@dataclass
class Outcome:
    status: Status  # completed | failed | skipped, or pending: put back until `until`
    error: str | None = None
    until: datetime | None = None


NO_KEY = "GEMINI_API_KEY is not set on the Second Look server"


def _cancel_nothing(ids: Sequence[uuid.UUID]) -> None:
    return None


async def process_review(
    review_id: uuid.UUID, services: Services, cancel: Cancel = _cancel_nothing
) -> reviews.Timing | None:
    """Claim the review and run it to a final status; never raises for a review failure.
    Its Timing when this call gave it its final status (for the metrics), else None.

    `cancel` receives the reviews this one supersedes once it runs (an edit's review, or a
    newer push that raced this one), so that their tasks stop spending Gemini calls.
    Every line it logs names the review (and, once claimed, its repository and PR).
    """
    with logs.bound(review_id=review_id):
        return await leased_runner.run(claim(review_id, services, cancel))


async def claim(review_id: uuid.UUID, services: Services, cancel: Cancel) -> ReviewRun | None:
    """1. Claim the row: pending -> processing, under our lease, its gate read with it."""
    settings = services.settings
    claimed = await queue.claim_gated(
        services.pool, review_id, services.lease_owner, settings.lease_seconds, services.clock()
    )
    if claimed is None:
        log.info("review %s not claimed: another process has it or it is finished", review_id)
        return None
    review, gate = claimed
    logs.bind(repository=review.pull.full_name, pr=review.pr_number)
    log.info("review %s processing (attempt %d)", review_id, review.attempts)
    return ReviewRun(
        review,
        services,
        cancel,
        installation=gate.installation,
        pull=gate.pull,
        open_checks=gate.open_checks,
    )


@dataclass
class ReviewRun(leased_runner.Work[Outcome, reviews.Timing]):
    """One claimed review, built from its row: its steps, and how it ends."""

    leased = queue.REVIEWS

    review: Review
    services: Services
    cancel: Cancel = _cancel_nothing
    base: sources.Base = field(
        default_factory=lambda: sources.Base(repo_config.LoadedConfig(repo_config.RepoConfig()))
    )
    supervisor: ReviewSupervisor | None = None
    meter: ReviewMeter | None = None
    installation: InstallationStatus = InstallationStatus.ACTIVE  # as the claim read it
    pull: pulls.PullState = field(default_factory=pulls.PullState)  # as the claim read it
    open_checks: bool = True  # the claim saw check runs of stopped reviews left open
    figures: tuple[Mapping[str, Any], calls.Totals] | None = None  # stats, usage: published
    claimed: float = field(default_factory=time.monotonic)  # when, on the monotonic clock
    memory: TableMemory = field(init=False)
    pr: PullPublisher | None = field(default=None, init=False)  # once a token was had

    def __post_init__(self) -> None:
        self.memory = TableMemory(
            self.services.pool, self.review, self.services.lease_owner, self.supersede_by
        )

    # As leased work (bot/app/leased_runner.py): what comes before, around and after execute().

    @property
    def row_id(self) -> uuid.UUID:
        return self.review.id

    @property
    def attempts(self) -> int:
        return self.review.attempts

    @property
    def label(self) -> str:
        return f"review {self.review.id}"

    @property
    def lease_seconds(self) -> float:
        return self.services.settings.lease_seconds

    async def refusal(self) -> Outcome | None:
        """Skipped without running when its installation is gone or the PR is ignored."""
        review = self.review
        if self.installation is not InstallationStatus.ACTIVE:
            self.services.github.forget(review.installation_id)
            blocked = f"the App's installation {review.installation_id} is {self.installation}"
        elif self.pull.ignored_by:
            blocked = f"the pull request is ignored ({self.pull.ignored_by} asked)"
        else:
            return None
        log.info("review %s skipped: %s", review.id, blocked)
        return Outcome(Status.SKIPPED, blocked)

    async def failed(self, error: str) -> Outcome:
        await self.publish_failure(error)
        return Outcome(Status.FAILED, error)

    async def interrupted(self) -> None:
        """Calls cut off in flight are billed: store them with the review's usage."""
        cancelled = self.supervisor.cancelled if self.supervisor else 0
        if self.meter is not None:
            await self.meter.flush()
        await reviews.add_stats(self.services.pool, self.review.id, {"gemini_cancelled": cancelled})

    @property
    def outage_since(self) -> datetime | None:
        return self.review.outage_since

    @property
    def outage_retries(self) -> int:
        return self.review.outage_retries

    async def deferring(self, deferral: outage.Deferral) -> None:
        """GitHub or Gemini is away: the check run stays in progress and, like the summary
        comment, says when the review is tried again (when GitHub takes it: it may be away)."""
        summary = Summary(
            self.review.head_sha,
            "queued",
            queued_until=deferral.until,
            queued_reason=deferral.says(),
        )
        await self.tell_pr(summary, lambda pr: pr.queued(summary), "that it is deferred")

    async def give_up(self, reason: str) -> None:
        """A review whose process kept dying: fail it, and say so where it was in progress."""
        await self.publish_failure(reason)
        await queue.give_up(self.services.pool, self.review, self.services.lease_owner)

    async def finish(self, ended: Outcome) -> reviews.Timing | None:
        """10. The final status, refused if the lease was lost meanwhile; or back to the
        queue until a quota frees."""
        review, pool, owner = self.review, self.services.pool, self.services.lease_owner
        if ended.until is not None:
            if not await queue.defer(pool, review.id, owner, ended.until):
                log.warning("review %s lost its lease before it was queued again", review.id)
            return None
        finished = await queue.finish(pool, review.id, owner, ended.status, ended.error)
        if not finished:
            await self.not_recorded(ended)
            return None
        known = self.figures
        if known is None and ended.status is Status.SKIPPED:
            known = ({}, calls.Totals())  # skipped before any Gemini call: nothing to read
        figures = await finish_figures(self.services, review, self.claimed, known)
        log.info("review %s %s%s", review.id, ended.status, figures)
        return finished

    @property
    def config(self) -> repo_config.LoadedConfig:
        """The repository's config, as read from the base branch (defaults until then)."""
        return self.base.config

    async def publisher(self) -> PullPublisher:
        """The PR publisher, with an installation token (cached) the first time."""
        if self.pr is None:
            review = self.review
            gh = await self.services.github.api(review.installation_id)
            self.pr = PullPublisher(
                gh,
                review.pull,
                review.head_sha,
                self.memory,
                label=f"review {review.id}",
                reply_to=review.reply_to,
                check_run_id=review.check_run_id,  # a resumed review has one already
            )
        return self.pr

    async def read_base(self, *, config_only: bool = False) -> None:
        """The base branch's side (`config_only`: its config alone), clipped to the deployment's
        limits."""
        review, services = self.review, self.services
        if config_only:
            config = await sources.read_config(
                services.github, review.pull.repository, review.base_ref
            )
            self.base = sources.Base(config)
        else:
            self.base = await sources.read_base(services.github, review.pull, review.base_ref)
        repo_config.clip(self.config, review_meter.ceilings_of(services.settings))

    async def execute(self) -> Outcome:
        """The seed's steps 2 to 9; the config is read before the diff, which it filters."""
        review, services = self.review, self.services
        # Without a Gemini key the analyzers review alone, and the summary says so.
        without_model = NO_KEY if services.gemini is None else None
        # 2. An installation token (cached); close what superseded reviews left open.
        pr = await self.publisher()
        if self.open_checks:
            await self.close_superseded_checks()
        # 4. The repository's config and guidance from the base branch, the PR's intent (for a
        # draft its config alone first: most drafts are skipped on it).
        await self.read_base(config_only=review.draft)
        config = self.config.config
        if review.trigger == Trigger.EDITED:
            if not config.rerun_on_edit:
                log.info("review %s: rerun_on_edit is off for this repository", review.id)
                return Outcome(Status.SKIPPED)
            await self.supersede_by(review.id)  # an edit replaces the others once it runs
        # 5. The check run, in progress.
        started = await pr.start_check(str(review.id))
        if review.draft and not config.review_drafts:
            notes = ("Draft pull request: it is reviewed when marked ready for review.",)
            skipped = Summary(review.head_sha, "skipped", notes=notes)
            await pr.complete_check(skipped, [], config, started)
            return Outcome(Status.SKIPPED)
        if review.draft:  # reviewed after all (review_drafts): the rest of the base now
            await self.read_base()
        if self.pull.paused_by and review.trigger not in queue.ASKED:
            notes = (
                f"Automatic reviews of this pull request are paused ({self.pull.paused_by} "
                "asked); `/second-look review` reviews it once.",
            )
            skipped = Summary(review.head_sha, "skipped", notes=notes)
            await pr.complete_check(skipped, [], self.config.config)
            return Outcome(Status.SKIPPED, "automatic reviews are paused")
        # Our threads: the reactions on them stored, a maintainer's 👎 taken as a dismissal.
        pr.threads = await thread_sync.at_start(pr.gh, services, review)
        model = services.gemini.model if services.gemini else services.settings.gemini_model
        self.meter, earlier, reused = await review_meter.for_review(
            services, review, self.config.config, model
        )
        supervisor = None
        if without_model is None:
            supervisor = self.supervisor = self.new_supervisor(self.meter, reused)
        # 3, 6 and 7: the diff streamed into the selection, every agent over every chunk,
        # the verifier, the findings checked; then the App's publisher: steps 8 and 9.
        source = sources.PullSource(
            services.github, review.pull, review.head_sha, services.settings.max_diff_file_bytes
        )
        out = AppPublisher(
            review, services, self.memory, pr, self.config.config, self.meter, earlier
        )
        try:
            reviewed = await pipeline.review(
                source,
                out,
                self.base,
                supervisor,
                review.head_sha,
                label=f"review {review.id}",
                without_model=without_model,
            )
        except QuotaReached as reached:
            return await self.queued(reached)
        self.figures = out.figures
        summary = reviewed.summary
        if summary.status == "failed":  # nothing could be reviewed; partial is completed
            return Outcome(Status.FAILED, (summary.error or "the review failed")[:1000])
        return Outcome(Status.COMPLETED)

    def new_supervisor(self, meter: ReviewMeter, reused: calls.Answers) -> ReviewSupervisor:
        services, config = self.services, self.config.config
        assert services.gemini is not None
        return ReviewSupervisor(
            services.gemini,
            meter,
            agents=config.agents,
            brief=Brief(self.base.intent, self.base.guidance),
            verify=config.verify,
            walk=config.walkthrough,
            max_in_flight=services.settings.gemini_max_in_flight,
            reused=reused,
            price=meter.price,
            defer_outages=True,  # bot/app/outage.py: back to the queue, not failed
        )

    async def queued(self, reached: QuotaReached) -> Outcome:
        """A quota or cap is reached: say so on the PR, and go back to the queue until then.
        The analyzers' findings, when they ran first, are posted now (inline, and in the
        summary and the check run that say the review waits); the full review later skips
        what is already inline."""
        until = review_meter.until_of(reached, self.services.clock())
        log.info("review %s queued until %s: %s", self.review.id, until.isoformat(), reached.reason)
        summary = Summary(
            self.review.head_sha, "queued", queued_until=until, queued_reason=reached.reason
        )
        pr = await self.publisher()
        if isinstance(reached, pipeline.Deferred) and reached.findings:
            shown = [f for f in reached.findings if not f.silenced]
            summary = replace(
                summary,
                findings=tuple(shown),
                notes=(
                    "The model part of this review waits for the quota; these are the "
                    "analyzers' findings, and the full review follows.",
                ),
            )
            summary = await pr.post_inline(reached.diff, shown, summary, self.config.config)
        await pr.queued(summary)
        return Outcome(Status.PENDING, until=until)

    async def supersede_by(self, newer: uuid.UUID) -> None:
        """Supersede what `newer` replaces, stop those tasks, close their check runs."""
        replaced = await queue.supersede(self.services.pool, [newer])
        if replaced:
            log.info("review %s supersedes %d earlier review(s)", newer, len(replaced))
            self.cancel([review_id for _, review_id in replaced if review_id != self.review.id])
            await self.close_superseded_checks()

    async def close_superseded_checks(self) -> None:
        """Complete as cancelled the check runs this PR's stopped reviews left open."""
        gh = (await self.publisher()).gh
        await close_stopped_checks(gh, self.services.pool, self.review.pull)

    async def publish_failure(self, error: str) -> None:
        """Say on the PR that the review failed and why; GitHub may be the thing that is down
        (what reached it, and what did not, is recorded for the dashboard)."""
        summary = Summary(head_sha=self.review.head_sha, status="failed", error=error)
        config = self.config.config
        await self.tell_pr(summary, lambda pr: pr.failed(summary, config), "that it failed")

    async def tell_pr(
        self, summary: Summary, post: Callable[[PullPublisher], Awaitable[None]], what: str
    ) -> None:
        """Post `summary` on the PR with `post`, GitHub perhaps being the one away: a failure
        to is logged and recorded (`unreached`), not raised."""
        try:
            await post(await self.publisher())
        except Superseded:
            log.info("review %s: no longer ours; not telling the PR %s", self.review.id, what)
        except (gidgethub.GitHubException, OSError) as exc:
            log.warning(
                "review %s: could not tell the PR %s: %s", self.review.id, what, describe(exc)
            )
            await self.unreached(summary, describe(exc))

    async def unreached(self, summary: Summary, error: str) -> None:
        """GitHub could not even be asked (no installation token): record that what `summary`
        was to show on the PR did not reach it. Once asked, the publisher recorded each step."""
        if self.pr is not None:
            return
        shows = says(summary)
        await self.memory.record(
            Publication(Target.COMMENT, Action.FAILED, shows, self.review.comment_id, error)
        )
        check_run_id = self.review.check_run_id
        if check_run_id is not None:
            state = "in progress" if summary.status == "queued" else "completed"
            failed = Publication(
                Target.CHECK, Action.FAILED, f"{state}: {shows}", check_run_id, error
            )
            await self.memory.record(failed)

    async def not_recorded(self, ended: Outcome) -> None:
        """The review's end was refused (it was no longer ours): log what the table says it
        is, so that the log and the dashboard agree."""
        review = self.review
        ending = f"{ended.status}: {ended.error}" if ended.error else str(ended.status)
        try:
            now = await reviews.get(self.services.pool, review.id)
        except db.UNREACHABLE as exc:
            log.warning(
                "review %s lost its lease; its end here (%s) is not recorded (its status not "
                "read: %s)",
                review.id,
                ending,
                describe(exc),
            )
            return
        if now is None:
            table = "gone from the table"
        elif now.superseded_by is not None and now.status == Status.SUPERSEDED:
            table = f"superseded by review {now.superseded_by}"
        else:
            table = str(now.status)
        log.warning(
            "review %s is %s; its end here (%s) is not recorded: it was no longer ours",
            review.id,
            table,
            ending,
        )
