"""The one review pipeline: a source of changes in, a publisher out.

The App (bot/app/worker.py), the command line and the Action (bot/standalone/) each call `review`
with where the diff comes from (`Source`) and where results go (`Publisher`). Selection,
chunking, the agents, verification, checking against the diff and the summary are here
once; placement and rendering are the shared functions the publishers call
(bot/github/publish.py, bot/review/render.py, bot/output/).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from bot import incremental
from bot.github import sources
from bot.review.changes import Diff
from bot.review.chunks import FileContext
from bot.review.coverage import Coverage
from bot.review.findings import Checked, check, dismiss
from bot.review.metering import Call, bill, output_bill
from bot.review.pricing import Price
from bot.review.render import Summary
from bot.review.selection import Attributes, Selection
from bot.review.supervisor import ReviewSupervisor, SupervisorResult
from bot.store.calls import Totals

HOLD_BYTES = 16 * 1024 * 1024  # raw diff held while choosing; far more than a budget reads


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


@dataclass
class Reviewed:
    """A finished review, as every publisher gets it."""

    diff: Diff
    plan: incremental.Plan
    result: SupervisorResult
    checked: Checked  # every finding: shown, withheld by verification, dismissed, carried
    coverage: Coverage
    summary: Summary  # what the summary comment says; a publisher may add its notes


async def review(
    source: Source,
    publisher: Publisher,
    base: sources.Base,
    supervisor: ReviewSupervisor,
    head_sha: str,
    *,
    label: str = "",
) -> Reviewed:
    """Read the changes, run the agents and the verifier, check the findings, publish.

    `label` names the review in log lines. QuotaReached from the meter propagates: nothing
    was published, and the caller decides (the App queues the review again).
    """
    config = base.config.config
    prior = await publisher.prior()
    selection = Selection(
        supervisor.capacity(), hold_bytes=HOLD_BYTES, ignore=config.ignore,
        attributes=Attributes.parse(base.attributes), wanted=prior.wanted, keep=prior.keep,
    )  # fmt: skip
    await source.diff(selection)
    diff, _ = selection.choose()
    sent = [f.path for f in diff.files if prior.wanted(f.path)]
    plan = incremental.plan(prior, diff, sent, config.agents, label=label)
    await publisher.ready()
    heads = await source.heads(diff, plan.files)
    result = await supervisor.run(diff, plan.files, heads)
    coverage = selection.final(diff, sent, result.trimmed, len(result.unfinished),
                               result.failures)  # fmt: skip
    # Findings checked against the diff, merged across agents (severities are mapped), and
    # withheld when the verifier dropped or doubted them; what was dismissed is kept apart.
    checked = check(result.findings, diff, config.min_confidence)
    checked.findings = sorted(checked.findings + plan.carried, key=lambda f: f.rank)
    checked.findings = dismiss(checked.findings, await publisher.dismissed())
    summary = summarize(base, supervisor, plan, result, checked, coverage,
                        await publisher.usage(), head_sha)  # fmt: skip
    reviewed = Reviewed(diff, plan, result, checked, coverage, summary)
    await publisher.publish(reviewed)
    return reviewed


def summarize(
    base: sources.Base,
    supervisor: ReviewSupervisor,
    plan: incremental.Plan,
    result: SupervisorResult,
    checked: Checked,
    coverage: Coverage,
    usage: Totals,
    head_sha: str,
) -> Summary:
    """What the summary comment (and every output format) reports of the review."""
    notes = [f"The token budget ran out before {part}." for part in result.unfinished]
    notes += [
        f"The verification of {part} failed: its findings are posted unverified."
        for part in result.unverified
    ]
    # Partial when some agent calls failed (the coverage says which); failed only when every
    # call failed, so nothing at all was reviewed.
    failed = bool(result.failures) and result.answered == 0
    failed_agents: dict[str, str] = {}
    for failure in result.failures:
        failed_agents.setdefault(failure.agent, failure.reason)
    return Summary(
        head_sha=head_sha,
        status="failed" if failed else "completed",
        error=f"every agent call failed; the first: {result.failures[0].reason}"
        if failed
        else None,
        findings=[f for f in checked.findings if not f.silenced],
        withheld=[f for f in checked.findings if f.withheld and not f.dismissed_by],
        dismissed=[f for f in checked.findings if f.dismissed_by],
        fail_on=base.config.config.fail_on,
        guidance=base.guidance.named(),
        skipped=list(coverage.not_reviewed),
        failed_agents=failed_agents,
        agents=[agent.name for agent in supervisor.agents],
        dropped=checked.dropped,
        moved=checked.moved,
        calls=usage.calls,
        prompt_tokens=usage.prompt_tokens,
        cached_tokens=usage.cached_tokens,
        output_tokens=usage.output_tokens,
        thinking_tokens=usage.thinking_tokens,
        cost_usd=usage.cost_usd if supervisor.price is not None else None,
        output_cost_usd=usage.output_cost_usd,
        notes=notes,
        config_problems=[(p.key, p.message) for p in base.config.problems],
        reviewed_files=len(plan.files) if plan.incremental else None,
        resolved=incremental.resolved(plan.previous, checked.findings),
        coverage=coverage,
    )


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
    return Totals(len(calls), prompt, cached, output, usd, unpriced=price is None,
                  thinking_tokens=thinking, output_cost_usd=output_usd)  # fmt: skip
