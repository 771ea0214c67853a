"""process_review(review_id): the seed's numbered steps, orchestration only."""

from __future__ import annotations

import dataclasses
import logging
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import gidgethub

from bot import incremental, logs, pipeline
from bot.app import leased_runner, review_meter
from bot.app.conversation import thread_sync
from bot.app.conversation.context import REPLY_MARKER
from bot.app.services import Services
from bot.app.stopped_checks import close_stopped_checks
from bot.config import Settings
from bot.github import checks, publish, replies, repo_config, sources
from bot.github.client import RetryingGitHubAPI, describe
from bot.github.compare import changed_since
from bot.github.threads import Threads
from bot.review.changes import Diff
from bot.review.findings import Finding
from bot.review.markdown import code
from bot.review.metering import Budget, QuotaReached
from bot.review.prompt import Brief
from bot.review.render import MARKER, Summary, render_summary, summary_json
from bot.review.supervisor import ReviewSupervisor
from bot.store import calls, db, pulls, queue, reviews
from bot.store.findings_table import FindingRepo
from bot.store.installations import InstallationStatus
from bot.store.queue import Standing, Status, Trigger
from bot.store.reviews import Review
from bot.store.standing import Check

log = logging.getLogger(__name__)

Cancel = Callable[[Sequence[uuid.UUID]], None]  # stop the tasks of these superseded reviews


class ReviewError(leased_runner.WorkError):
    """A review cannot run; the message is for the people reading the PR."""


class Superseded(leased_runner.NotOurs):
    """The review is no longer ours: a newer one replaced it, or another process took it."""

    said = "superseded; it publishes nothing more"


@dataclass
class Outcome:
    status: Status  # completed | failed | skipped, or pending: put back until `until`
    error: str | None = None
    until: datetime | None = None


def ceilings_of(settings: Settings) -> repo_config.Ceilings:
    return repo_config.Ceilings(settings.max_review_tokens, settings.max_review_usd)


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
    logs.bind(repository=f"{review.owner}/{review.repo}", pr=review.pr_number)
    log.info("review %s processing (attempt %d)", review_id, review.attempts)
    return ReviewRun(
        review,
        services,
        cancel,
        installation=gate.installation,
        pull=gate.pull,
        open_checks=gate.open_checks,
    )


async def finish_figures(
    services: Services, review: Review, claimed: float,
    known: tuple[Mapping[str, Any], calls.Totals] | None = None,
) -> str:  # fmt: skip
    """` in 41.2 s (38.0 s since claimed): 3 finding(s) (1 withheld, 0 dismissed), ...`:
    for the line a review ends with, from the stats and usage it published (`known`), else
    as stored."""
    since_claimed = time.monotonic() - claimed
    since_created = (services.clock() - review.created_at).total_seconds()
    if known is not None:
        stats, usage = known
    else:
        try:
            done = await reviews.get(services.pool, review.id)
            usage = await calls.totals(services.pool, review.id)
        except db.UNREACHABLE as exc:  # the status is recorded: the line goes without figures
            return f" in {since_created:.1f} s (figures not read: {type(exc).__name__})"
        stats = done.stats if done is not None else {}
    return (
        f" in {since_created:.1f} s ({since_claimed:.1f} s since claimed): "
        f"{stats.get('findings', 0)} finding(s) ({stats.get('withheld', 0)} withheld, "
        f"{stats.get('dismissed', 0)} dismissed), {usage.calls} call(s), tokens "
        f"{usage.prompt_tokens} in ({usage.cached_tokens} cached) {usage.output_tokens} out, "
        f"est. cost ${usage.cost_usd:.4f}"
    )


@dataclass
class ReviewRun(leased_runner.Work[Outcome, reviews.Timing]):
    """One claimed review, built from its row, and what it has published so far."""

    leased = queue.REVIEWS

    review: Review
    services: Services
    cancel: Cancel = _cancel_nothing
    gh: RetryingGitHubAPI | None = None
    check_run_id: int | None = field(init=False)
    base: sources.Base = field(
        default_factory=lambda: sources.Base(repo_config.LoadedConfig(repo_config.RepoConfig()))
    )
    supervisor: ReviewSupervisor | None = None
    meter: review_meter.ReviewMeter | None = None
    installation: InstallationStatus = InstallationStatus.ACTIVE  # as the claim read it
    pull: pulls.PullState = field(default_factory=pulls.PullState)  # as the claim read it
    open_checks: bool = True  # the claim saw check runs of stopped reviews left open
    threads: Threads = field(default_factory=Threads)  # ours on the PR, read as it starts
    dismissals: Mapping[str, str] = field(default_factory=dict)  # fingerprint -> by whom
    totals: calls.Totals | None = None  # the usage the summary shows
    earlier: calls.Totals | None = None  # what the review's earlier attempts' calls used
    figures: tuple[Mapping[str, Any], calls.Totals] | None = None  # stats, usage: published
    conclusion: str | None = None  # the check run's, once completed
    claimed: float = field(default_factory=time.monotonic)  # when, on the monotonic clock

    def __post_init__(self) -> None:
        self.check_run_id = self.review.check_run_id  # a resumed review has one already

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
            log.warning("review %s finished after losing its lease; result not recorded", review.id)
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

    async def read_base(self, *, config_only: bool = False) -> None:
        """The base branch's side (`config_only`: its config alone), clipped to the deployment's
        limits."""
        review, services = self.review, self.services
        if config_only:
            self.base = sources.Base(await sources.read_config(
                services.github, review.installation_id, review.owner, review.repo,
                review.base_ref,
            ))  # fmt: skip
        else:
            self.base = await sources.read_base(
                services.github, review.installation_id, review.owner, review.repo,
                review.base_ref, review.pr_number,
            )  # fmt: skip
        repo_config.clip(self.config, ceilings_of(services.settings))

    async def execute(self) -> Outcome:
        """The seed's steps 2 to 9; the config is read before the diff, which it filters."""
        review, services = self.review, self.services
        if services.gemini is None:
            raise ReviewError("GEMINI_API_KEY is not set on the Second Look server")
        # 2. An installation token (cached); close what superseded reviews left open.
        self.gh = await services.github.api(review.installation_id)
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
        started = await self.start_check()
        if review.draft and not config.review_drafts:
            notes = ("Draft pull request: it is reviewed when marked ready for review.",)
            await self.complete_check(Summary(review.head_sha, "skipped", notes=notes), [],
                                      started)  # fmt: skip
            return Outcome(Status.SKIPPED)
        if review.draft:  # reviewed after all (review_drafts): the rest of the base now
            await self.read_base()
        if self.pull.paused_by and review.trigger not in queue.ASKED:
            notes = (f"Automatic reviews of this pull request are paused ({self.pull.paused_by} "
                     "asked); `/second-look review` reviews it once.",)  # fmt: skip
            await self.complete_check(Summary(review.head_sha, "skipped", notes=notes), [])
            return Outcome(Status.SKIPPED, "automatic reviews are paused")
        # Our threads: the reactions on them stored, a maintainer's 👎 taken as a dismissal.
        await self.read_threads()
        self.earlier, reused = await calls.earlier(services.pool, review.id)
        spent = calls.Spent(self.earlier.prompt_tokens, self.earlier.cost_usd)
        self.supervisor = self.new_supervisor(
            await review_meter.budget_of(
                services, review.id, *self.limits(), services.gemini.model, spent=spent
            ),
            reused,
        )
        # 3, 6 and 7: the diff streamed into the selection, every agent over every chunk,
        # the verifier, the findings checked; then this run's publish(): steps 8 and 9.
        source = sources.PullSource(
            services.github, review.installation_id, review.owner, review.repo,
            review.pr_number, review.head_sha, services.settings.max_diff_file_bytes,
        )  # fmt: skip
        try:
            reviewed = await pipeline.review(
                source, self, self.base, self.supervisor, review.head_sha,
                label=f"review {review.id}",
            )  # fmt: skip
        except QuotaReached as reached:
            return await self.queued(reached)
        summary = reviewed.summary
        if summary.status == "failed":  # nothing could be reviewed; partial is completed
            return Outcome(Status.FAILED, (summary.error or "the review failed")[:1000])
        return Outcome(Status.COMPLETED)

    # The pipeline's Publisher: what earlier reviews of the PR left, and steps 8 and 9.

    async def prior(self) -> incremental.Prior:
        """The last completed review of the PR, from the table; on a plain push, the files
        changed since its head (incremental.following decides)."""
        review, services = self.review, self.services
        last = await reviews.last_completed(
            services.pool, review.owner, review.repo, review.pr_number, before=review.id
        )
        if last is None:
            return incremental.Prior()
        rows = await FindingRepo(services.pool).for_review(last.id)

        async def compare(base: str, head: str) -> set[str] | None:
            return await changed_since(services.github, review.installation_id, review.owner,
                                       review.repo, base, head)  # fmt: skip

        return await incremental.following(
            [Finding.from_mapping(row) for row in rows], last.head_sha, review.head_sha, compare,
            push=review.trigger == Trigger.SYNCHRONIZE, partial=bool(last.stats.get("partial")),
            last_id=last.id, label=f"review {review.id}",
        )  # fmt: skip

    async def ready(self) -> None:
        """A push that replaced a running review waits for the burst to settle."""
        await self.settle()

    async def dismissed(self) -> Mapping[str, str]:
        review = self.review
        self.dismissals = await pulls.dismissed(self.services.pool, review.owner, review.repo,
                                                review.pr_number)  # fmt: skip
        return self.dismissals

    async def usage(self) -> calls.Totals:
        """The review's usage: its earlier attempts' calls and those this run stored."""
        if self.earlier is not None and self.meter is not None:
            self.totals = self.earlier.and_(self.meter.recorded)
        else:
            self.totals = await calls.totals(self.services.pool, self.review.id)
        return self.totals

    async def publish(self, reviewed: pipeline.Reviewed) -> None:
        findings, summary = reviewed.checked.findings, reviewed.summary
        # 8. Stored.
        await self.store(findings)
        # Paused while this review ran: the summary it writes says so too.
        review = self.review
        self.pull = await pulls.state(self.services.pool, review.owner, review.repo,
                                      review.pr_number)  # fmt: skip
        summary = dataclasses.replace(summary, paused_by=self.pull.paused_by)
        # 9. Published: inline review, summary comment, check run.
        summary = await self.post_inline(reviewed.diff, findings, summary)
        summary = await self.resolve_threads(
            findings, reviewed.plan.files, self.dismissals, summary
        )
        found = await self.upsert_comment(summary)
        await self.complete_check(summary, findings, found)
        await self.reply_done(summary)
        stats = reviewed.stats() | {"conclusion": self.conclusion}  # as reviews.failing reads it
        await reviews.add_stats(self.services.pool, review.id, stats)
        if self.totals is not None:
            self.figures = (stats, self.totals)

    def limits(self) -> tuple[int, float]:
        """The review's input tokens and dollars: the repository's, under the deployment's."""
        limits = ceilings_of(self.services.settings).of(self.config.config)
        return limits.max_review_tokens, limits.max_review_usd

    def new_supervisor(self, budget: Budget, reused: calls.Answers) -> ReviewSupervisor:
        services, config = self.services, self.config.config
        assert services.gemini is not None
        self.meter = review_meter.ReviewMeter(services, self.review, budget, services.gemini.model)
        return ReviewSupervisor(
            services.gemini, self.meter, agents=config.agents,
            brief=Brief(self.base.intent, self.base.guidance), verify=config.verify,
            max_in_flight=services.settings.gemini_max_in_flight, reused=reused,
            price=self.meter.price,
        )  # fmt: skip

    async def settle(self) -> None:
        """Wait PUSH_SETTLE_SECONDS when this review replaced one that had started: a newer
        push meanwhile supersedes this one, whose task is then cancelled while it waits."""
        wait = self.services.settings.push_settle_seconds
        if wait and await queue.follows_running(self.services.pool, self.review.id):
            log.info("review %s: waiting %g s for further pushes", self.review.id, wait)
            await self.services.sleep(wait)
            await self.ensure_ours()

    async def queued(self, reached: QuotaReached) -> Outcome:
        """A quota or cap is reached: say so on the PR, and go back to the queue until then."""
        until = review_meter.until_of(reached, self.services.clock())
        log.info("review %s queued until %s: %s", self.review.id, until.isoformat(),
                 reached.reason)  # fmt: skip
        summary = Summary(self.review.head_sha, "queued", queued_until=until,
                          queued_reason=reached.reason)  # fmt: skip
        found = await self.upsert_comment(summary)
        if self.check_run_id is not None:
            assert self.gh is not None
            await self.ensure_ours(found)
            review = self.review
            await checks.queued(self.gh, review.owner, review.repo, self.check_run_id, summary)
        return Outcome(Status.PENDING, until=until)

    async def ensure_ours(self, found: Check | None = None) -> None:
        """Before each publishing step: stop if the review was superseded or taken over.
        `found`: the standing a statement of this step read already, just before."""
        if found is None:
            pool = self.services.pool
            found = await queue.standing(pool, self.review.id, self.services.lease_owner)
        if found.standing is Standing.OURS:
            return
        if found.newer is not None:  # REPLACED: ours among them, it can publish no more
            await self.supersede_by(found.newer)
        raise Superseded()

    async def supersede_by(self, newer: uuid.UUID) -> None:
        """Supersede what `newer` replaces, stop those tasks, close their check runs."""
        replaced = await queue.supersede(self.services.pool, [newer])
        if replaced:
            log.info("review %s supersedes %d earlier review(s)", newer, len(replaced))
            self.cancel([review_id for _, review_id in replaced if review_id != self.review.id])
            await self.close_superseded_checks()

    async def close_superseded_checks(self) -> None:
        """Complete as cancelled the check runs this PR's stopped reviews left open."""
        assert self.gh is not None
        review = self.review
        await close_stopped_checks(self.gh, self.services.pool, review.owner, review.repo,
                                   review.pr_number)  # fmt: skip

    async def store(self, findings: list[Finding]) -> None:
        if self.review.attempts == 1:  # a first attempt: nothing stored before, one statement
            await FindingRepo(self.services.pool).create_many(self.review.id, findings)
            return
        async with self.services.pool.acquire() as conn, conn.transaction():
            repo = FindingRepo(conn)
            await repo.delete_for_review(self.review.id)  # a resumed review stores them afresh
            await repo.create_many(self.review.id, findings)

    async def read_threads(self) -> None:
        """Read our threads on the PR; a failure leaves feedback for the next review."""
        review = self.review
        assert self.gh is not None
        try:
            synced = await thread_sync.sync(
                self.gh, self.services, review.installation_id, review.owner, review.repo,
                review.pr_number,
            )  # fmt: skip
            self.threads = synced.found
        except gidgethub.GitHubException as exc:
            log.warning("review %s: our threads not read: %s", review.id, describe(exc))

    async def resolve_threads(
        self, findings: list[Finding], reviewed: list[str], dismissed: Mapping[str, str],
        summary: Summary,
    ) -> Summary:  # fmt: skip
        """Resolve the threads of findings fixed since (or dismissed); the summary saying so."""
        chosen = thread_sync.to_resolve(self.threads, findings, reviewed, dismissed)
        if not chosen:
            return summary
        assert self.gh is not None
        await self.ensure_ours()
        resolved, refused = await thread_sync.resolve(self.gh, chosen, f"review {self.review.id}")
        summary = dataclasses.replace(summary, threads_resolved=frozenset(resolved))
        return summary.noted(refused) if refused else summary

    async def reply_done(self, summary: Summary) -> None:
        """Answer the command that asked for this review, now that it is done."""
        review = self.review
        if review.reply_to is None:
            return
        assert self.gh is not None
        shown = len(summary.findings)
        body = (f"{REPLY_MARKER}\nDone: reviewed {code(review.head_sha[:12])}, "
                f"{shown} finding(s); the summary comment has them.")  # fmt: skip
        if summary.status == "failed":
            body = (
                f"{REPLY_MARKER}\nThe review of {code(review.head_sha[:12])} failed; the "
                "summary comment says why."
            )
        try:
            await replies.comment(self.gh, review.owner, review.repo, review.pr_number, body)
        except gidgethub.GitHubException as exc:  # the summary says it all the same
            log.warning("review %s: the command was not answered: %s", review.id, describe(exc))

    async def post_inline(self, diff: Diff, findings: list[Finding], summary: Summary) -> Summary:
        """One COMMENT review for this head, without what earlier heads already had inline;
        the summary saying so."""
        review, pool = self.review, self.services.pool
        already = await FindingRepo(pool).posted_inline(review.owner, review.repo,
                                                         review.pr_number)  # fmt: skip
        chosen = publish.chosen_inline(findings, self.config.config, already)
        if not chosen:
            return summary
        assert self.gh is not None
        await self.ensure_ours()
        posted, summary = await publish.post_inline(self.gh, review.owner, review.repo,
                                                    review.pr_number, review.head_sha, diff,
                                                    chosen, summary)  # fmt: skip
        if posted:
            await FindingRepo(pool).mark_inline(review.id, [f.fingerprint for f in posted])
        return summary

    async def upsert_comment(self, summary: Summary) -> Check:
        """Post or edit the summary comment; the review's standing after, for the next step."""
        review, pool, owner = self.review, self.services.pool, self.services.lease_owner
        assert self.gh is not None
        known, found = await reviews.last_comment_standing(pool, review, owner)
        await self.ensure_ours(found)
        comment_id = await publish.upsert_comment(
            self.gh, review.owner, review.repo, review.pr_number, render_summary(summary),
            MARKER, known,
        )  # fmt: skip
        return await reviews.set_fields_standing(pool, review.id, owner, comment_id=comment_id,
                                                 summary=summary_json(summary))  # fmt: skip

    async def start_check(self) -> Check:
        """The check run, in progress; the review's standing after, for a step right after."""
        review = self.review
        assert self.gh is not None
        await self.ensure_ours()
        self.check_run_id = await checks.start(
            self.gh, review.owner, review.repo, review.head_sha, str(review.id),
            known_id=self.check_run_id,
        )  # fmt: skip
        return await reviews.set_fields_standing(
            self.services.pool, review.id, self.services.lease_owner,
            check_run_id=self.check_run_id,
        )  # fmt: skip

    async def complete_check(
        self, summary: Summary, findings: list[Finding], found: Check | None = None
    ) -> None:
        """Complete the check run; `found`: the standing the step before just read."""
        review = self.review
        assert self.gh is not None and self.check_run_id is not None
        await self.ensure_ours(found)
        config = self.config.config
        self.conclusion = await checks.complete_review(
            self.gh, review.owner, review.repo, self.check_run_id, summary, findings,
            config.fail_on, config,
        )  # fmt: skip
        await reviews.set_fields(self.services.pool, review.id, check_run_done=True)

    async def publish_failure(self, error: str) -> None:
        """Say on the PR that the review failed and why; GitHub may be the thing that is down."""
        summary = Summary(head_sha=self.review.head_sha, status="failed", error=error)
        try:
            if self.gh is None:
                self.gh = await self.services.github.api(self.review.installation_id)
            found = await self.upsert_comment(summary)
            if self.check_run_id is not None:
                await self.complete_check(summary, [], found)
            await self.reply_done(summary)
        except Superseded:
            log.info("review %s: superseded; its failure is not posted", self.review.id)
        except (gidgethub.GitHubException, OSError) as exc:
            log.warning("review %s: could not post the failure: %s", self.review.id,
                        leased_runner.describe_error(exc))  # fmt: skip
