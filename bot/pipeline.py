"""The one review pipeline: a source of changes in, a publisher out.

The App (bot/app/worker.py), the command line and the Action (bot/standalone/) each call `review`
with where the diff comes from (`Source`) and where results go (`Publisher`). Selection,
chunking, the agents, verification, checking against the diff and the summary are here
once; placement and rendering are the shared functions the publishers call
(bot/github/publish.py, bot/review/render.py, bot/output/), and the App and the Action publish
on the PR through one PR publisher (bot/publishing/pull_publisher.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from bot import incremental
from bot.github import sources
from bot.review.analyzers.run import Analyzed, analyze, head_texts, switches_of
from bot.review.changes import Diff
from bot.review.chunks import FileContext
from bot.review.coverage import Coverage
from bot.review.findings import Checked, Finding, check, dismiss
from bot.review.metering import Call, QuotaReached, bill, output_bill
from bot.review.pricing import Price
from bot.review.render import Summary
from bot.review.selection import Attributes, Selection
from bot.review.supervisor import ReviewSupervisor, SupervisorResult
from bot.review.walkthrough import Walkthrough, carry, merge
from bot.store.calls import Totals

HOLD_BYTES = 16 * 1024 * 1024  # raw diff held while choosing; far more than a budget reads
# Tokens of diff a review without the model reads: the analyzers are bounded by HOLD_BYTES and
# the file caps, not by a token budget.
WITHOUT_MODEL_TOKENS = HOLD_BYTES


class Deferred(QuotaReached):
    """A quota deferred the model's part, after the analyzers ran: their findings (checked
    against the diff), for the caller to post now; the full review runs when it frees."""

    def __init__(self, reached: QuotaReached, diff: Diff, findings: list[Finding]) -> None:
        super().__init__(reached.reason, until=reached.until, after=reached.after)
        self.diff = diff
        self.findings = findings


class Source(Protocol):
    """Where the changes come from: a PR on GitHub, a diff file, a git repository."""

    async def diff(self, selection: Selection) -> None:
        """Offer each changed file's section of the diff to `selection`."""

    async def heads(self, diff: Diff, paths: Sequence[str]) -> Mapping[str, FileContext]:
        """The context of each file the review reads, from its text at the head."""


class Publisher(Protocol):
    """Where results go, and what it remembers of the earlier reviews of the same changes."""

    async def prior(self) -> incremental.Prior:
        """The last review's findings, and the files changed since it (None: all)."""

    async def ready(self) -> None:
        """The diff is read; the agents run next (the App waits out a burst of pushes)."""

    async def dismissed(self) -> Mapping[str, str]:
        """Fingerprints people dismissed, and who did."""

    async def usage(self) -> Totals:
        """What the review's Gemini calls cost so far."""

    async def publish(self, reviewed: Reviewed) -> None:
        """Store, post or print the result."""


@dataclass(frozen=True)
class Reviewed:
    """A finished review, as every publisher gets it."""

    diff: Diff
    plan: incremental.Plan
    result: SupervisorResult
    checked: Checked  # every finding: shown, withheld by verification, dismissed, carried
    coverage: Coverage
    # What every output renders. A publisher does not change it: what it learns (the
    # findings posted inline, the threads resolved) goes into a new one it renders.
    summary: Summary
    caches: int = 0  # explicit Gemini caches the agents' calls created
    analyzed: Analyzed = field(default_factory=Analyzed)

    def stats(self) -> dict[str, int | bool]:
        """The review's figures, as the App stores them (`reviews.stats`)."""
        plan, result, checked, coverage = self.plan, self.result, self.checked, self.coverage
        return {
            "files": len(plan.files),
            "incremental": plan.incremental,
            "carried": len(plan.carried),
            "findings": len(checked.findings),
            "dropped": checked.dropped,
            "moved": checked.moved,
            "untouched": checked.untouched,
            "merged": checked.merged,
            "gemini_calls": result.calls,
            "reused_answers": result.reused,
            "prompt_tokens": result.prompt_tokens,
            "output_tokens": result.output_tokens,
            "partial": coverage.partial,
            "pr_files": coverage.files,
            "reviewed_files": coverage.reviewed_files,
            "pr_lines": coverage.lines,
            "reviewed_lines": coverage.reviewed_lines,
            "chunks": result.chunks,
            "context_chars": result.context_chars,
            "verified": result.verified,
            "withheld": sum(1 for f in checked.findings if f.withheld),
            "dismissed": sum(1 for f in checked.findings if f.dismissed_by),
            "unverified_parts": len(result.unverified),
            "caches": self.caches,
            "analyzer_findings": len(self.analyzed.findings),
            "analyzer_ms": round(self.analyzed.seconds * 1000),
        }


async def _findings(analyzing: asyncio.Task[Analyzed]) -> Sequence[Finding]:
    return (await analyzing).findings


async def review(
    source: Source,
    publisher: Publisher,
    base: sources.Base,
    supervisor: ReviewSupervisor | None,
    head_sha: str,
    *,
    label: str = "",
    fail_on: str | None = None,
    verdict_by: str = "the check",
    without_model: str | None = None,
) -> Reviewed:
    """Read the changes, run the agents and the verifier, check the findings, publish.

    `label` names the review in log lines. `fail_on` (None: the repository's) fails the review
    on a finding this severe, and the summary says that `verdict_by` fails then. QuotaReached
    from the meter propagates: nothing was published, and the caller decides (the App queues
    the review again).

    `supervisor` None: no model (`without_model` says why); the analyzers alone review the
    diff, and the summary says the model part is missing and why.
    """
    config = base.config.config
    prior = await publisher.prior()
    selection = Selection(
        supervisor.capacity() if supervisor is not None else WITHOUT_MODEL_TOKENS,
        hold_bytes=HOLD_BYTES,
        ignore=config.ignore,
        attributes=Attributes.parse(base.attributes),
        wanted=prior.wanted,
        keep=prior.keep,
    )
    await source.diff(selection)
    diff, _ = selection.choose()
    sent = [f.path for f in diff.files if prior.wanted(f.path)]
    agents = config.agents if supervisor is not None else ()
    plan = incremental.plan(prior, diff, sent, (*agents, *config.analyzers), label=label)
    await publisher.ready()
    heads = await source.heads(diff, plan.files)
    # The analyzers run while the agents do (measured: 0.3 s for 20 files, 8 s for click's
    # 150-file 7.0..8.5.0); the verifiers, the second round, read their findings.
    switches = switches_of(config.analyzers, base.analyzer_configs)
    texts = head_texts(diff, heads, plan.files)
    analyzing = asyncio.create_task(analyze(diff, texts, switches, label=label))
    try:
        result = SupervisorResult()
        if supervisor is not None:
            result = await supervisor.run(diff, plan.files, heads, evidence=_findings(analyzing))
        analyzed = await analyzing
    except QuotaReached as reached:
        analyzed = await analyzing
        found = check(analyzed.findings, diff, config.min_confidence).findings
        raise Deferred(reached, diff, dismiss(found, await publisher.dismissed())) from reached
    finally:
        if not analyzing.done():  # the review failed or was cancelled first
            analyzing.cancel()
    coverage = selection.final(
        diff, sent, result.trimmed, result.unfinished, result.failures, max(len(agents), 1)
    )
    # Findings checked against the diff, merged across agents and analyzers (severities are
    # mapped), and withheld when the verifier dropped or doubted them (an analyzer's never);
    # what was dismissed is kept apart.
    checked = check(result.findings + analyzed.findings, diff, config.min_confidence, texts)
    found = sorted(checked.findings + plan.carried, key=lambda f: f.rank)
    checked = replace(checked, findings=dismiss(found, await publisher.dismissed()))
    summary = summarize(
        base,
        supervisor,
        plan,
        result,
        checked,
        coverage,
        await publisher.usage(),
        head_sha,
        fail_on=fail_on,
        verdict_by=verdict_by,
        analyzed=analyzed,
        without_model=without_model,
    )
    caches = supervisor.caches if supervisor is not None else 0
    reviewed = Reviewed(diff, plan, result, checked, coverage, summary, caches, analyzed)
    await publisher.publish(reviewed)
    return reviewed


def summarize(
    base: sources.Base,
    supervisor: ReviewSupervisor | None,
    plan: incremental.Plan,
    result: SupervisorResult,
    checked: Checked,
    coverage: Coverage,
    usage: Totals,
    head_sha: str,
    *,
    fail_on: str | None = None,
    verdict_by: str = "the check",
    analyzed: Analyzed | None = None,
    without_model: str | None = None,
) -> Summary:
    """What the summary comment (and every output format) reports of the review."""
    notes: tuple[str, ...] = ()
    if supervisor is None:
        notes += (
            f"The model part of this review is missing: {without_model or 'no model'}. "
            "These are the analyzers' findings alone.",
        )
    for tool, why in (analyzed.failures if analyzed else {}).items():
        notes += (f"The {tool} analyzer did not finish: {why}.",)
    notes += tuple(
        f"The token budget ran out before {u.agent} on part {u.part}." for u in result.unfinished
    )
    notes += tuple(
        f"The verification of {part} failed: its findings are posted unverified."
        for part in result.unverified
    )
    # Partial when some agent calls failed or some files could not be parsed (the coverage
    # says which); failed when nothing at all was reviewed: every call failed, or no file of
    # the diff could be parsed. A failed review always says why (`error`).
    error = None
    if coverage.unread:
        error = coverage.unread_reason
    elif result.failures and result.answered == 0:
        error = f"every agent call failed; the first: {result.failures[0].reason}"
    failed_agents: dict[str, str] = {}
    for failure in result.failures:
        failed_agents.setdefault(failure.agent, failure.reason)
    return Summary(
        head_sha=head_sha,
        status="failed" if error else "completed",
        error=error,
        findings=tuple(f for f in checked.findings if not f.silenced),
        withheld=tuple(f for f in checked.findings if f.withheld and not f.dismissed_by),
        dismissed=tuple(f for f in checked.findings if f.dismissed_by),
        fail_on=fail_on or base.config.config.fail_on,
        verdict_by=verdict_by,
        guidance=base.guidance.named(),
        skipped=tuple(coverage.not_reviewed),
        failed_agents=failed_agents,
        agents=tuple(agent.name for agent in supervisor.agents) if supervisor else (),
        dropped=checked.dropped,
        moved=checked.moved,
        untouched=checked.untouched,
        calls=usage.calls,
        prompt_tokens=usage.prompt_tokens,
        cached_tokens=usage.cached_tokens,
        output_tokens=usage.output_tokens,
        thinking_tokens=usage.thinking_tokens,
        cost_usd=usage.cost_usd if supervisor and supervisor.price is not None else None,
        output_cost_usd=usage.output_cost_usd,
        unreached_calls=usage.unreached_calls,
        notes=notes,
        config_problems=tuple((p.key, p.message) for p in base.config.problems),
        reviewed_files=len(plan.files) if plan.incremental else None,
        resolved=tuple(incremental.resolved(plan.previous, checked.findings)),
        coverage=coverage,
        walkthrough=walkthrough_of(supervisor, plan, result),
    )


def walkthrough_of(
    supervisor: ReviewSupervisor | None, plan: incremental.Plan, result: SupervisorResult
) -> Walkthrough | None:
    """The chunks' walkthroughs merged; an incremental review keeps the last review's rows
    of the files it did not read again. None: the repository switched it off, or there is no
    model (the analyzers alone)."""
    if supervisor is None or not supervisor.walk:
        return None
    walk = merge(result.walked, result.walk_missing)
    if not plan.incremental:
        return walk
    return carry(walk, plan.walkthrough, plan.changed, plan.since)


def totals_of(calls: Sequence[Call], price: Price | None) -> Totals:
    """The usage of calls kept in this process (a LocalMeter's), as the App sums stored ones."""
    prompt = cached = output = thinking = 0
    usd = output_usd = 0.0
    for call in calls:
        usage = call.usage
        prompt += usage.prompt
        cached += usage.cached
        output += usage.output
        thinking += usage.thinking
        usd += bill(price, usage)
        output_usd += output_bill(price, usage)
    return Totals(
        len(calls),
        prompt,
        cached,
        output,
        usd,
        unpriced=price is None,
        thinking_tokens=thinking,
        output_cost_usd=output_usd,
        unreached_calls=sum(1 for call in calls if not call.reached),
    )
