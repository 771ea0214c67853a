"""A reply in one of our inline threads: one answer from Gemini, or, when it says the finding
is wrong and its author may say so, a dismissal."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from typing import ClassVar

from bot.app import app_identity, review_meter
from bot.app.conversation import access, dismissal
from bot.app.conversation.context import Context, JobPayload
from bot.github import files, replies, sources, threads
from bot.publishing import resolution
from bot.review.answer import (
    ANSWER_TOKENS,
    MAX_ANSWER,
    THINKS,
    Said,
    ThreadAnswer,
    code_around,
    prompt,
)
from bot.review.findings import Finding
from bot.review.markdown import text
from bot.review.metering import BudgetSpent, QuotaReached
from bot.store import feedback, jobs, pulls, reviews
from bot.store.findings_table import FindingRepo
from bot.store.jobs import Kind

log = logging.getLogger(__name__)

ANSWER_MARKER = "<!-- second-look:answer -->"
# What a reply says when it means the finding is wrong (any case, anywhere in the reply).
_WRONG = re.compile(
    r"\b(false[\s-]+positive|won'?t[\s-]+fix|will[\s-]+not[\s-]+fix|not[\s-]+a[\s-]+bug)\b",
    re.IGNORECASE,
)


def says_wrong(body: str | None) -> bool:
    """Whether a reply says the finding is wrong ("false positive", "won't fix", "not a bug")."""
    return bool(_WRONG.search((body or "").replace("’", "'")))


class AnswerJob(JobPayload):
    """A person's reply in a review thread (perhaps one of ours: the job finds out)."""

    kind: ClassVar[Kind] = Kind.ANSWER
    comment_id: int
    root_id: int  # the thread's first comment
    login: str
    dismisses: bool = False  # it says the finding is wrong (`says_wrong`)
    head_sha: str  # the PR's head as the reply was written


async def run(ctx: Context[AnswerJob]) -> str:
    """Answer one reply in a thread (or dismiss its finding); the outcome in a few words."""
    pull, services, payload = ctx.pull, ctx.services, ctx.payload
    finding_repo = FindingRepo(services.pool)
    if not await finding_repo.posted_inline(pull):
        return "not our thread"  # no inline comment of ours on the PR: no call at all
    if (await pulls.state(services.pool, pull)).ignored_by:
        return "ignored"
    off = app_identity.off(services.github.identity)
    if off is not None:  # whether the thread is ours cannot be told
        log.warning("job %s: %s: reply not answered: %s", ctx.job.id, pull, off)
        return "off: the App's slug is not known"
    gh = await ctx.gh()
    found = await threads.ours(gh, services.github.identity, pull, conversation=True)
    thread = found.by_root(payload.root_id)
    if thread is None:
        return "not our thread"
    row = await finding_repo.latest(pull, thread.fingerprint)
    if row is None:
        return "finding unknown"
    finding = Finding.from_mapping(row)
    login = payload.login
    writer = await access.is_writer(services, gh, pull.repository, login)
    if payload.dismisses:
        if writer:
            return await _dismiss(ctx, thread, finding, login)
        await feedback.said_wrong(services.pool, pull, finding.fingerprint, finding.agent_type)
        return await _refuse(
            ctx,
            thread,
            login,
            "dismiss a finding; it stays until one of them does, and your reply is counted",
        )
    opened = False if writer else await _open(ctx)  # the config is read only when it matters
    if not access.allowed(access.Act.ANSWER, writer, answers_open=opened):
        return await _refuse(
            ctx,
            thread,
            login,
            "get an answer from Second Look here (the repository's `thread_answers`)",
        )
    limit = services.settings.answers_per_hour
    since = services.clock() - timedelta(hours=1)
    if limit == 0 or await jobs.answers_since(services.pool, pull, since) >= limit:
        log.info(
            "job %s: %s had %d answer(s) this hour; this reply is not answered",
            ctx.job.id,
            pull,
            limit,
        )
        return "over the hourly limit"
    return await _answer(ctx, thread, finding)


async def _open(ctx: Context[AnswerJob]) -> bool:
    """Whether the repository's config opens thread answers to everyone who can comment."""
    review = await reviews.latest(ctx.services.pool, ctx.pull)
    if review is None:
        return False
    loaded = await sources.read_config(ctx.services.github, ctx.repository, review.base_ref)
    return loaded.config.thread_answers == "everyone"


async def _refuse(ctx: Context[AnswerJob], thread: threads.Thread, login: str, what: str) -> str:
    """Say once per person, PR and hour what it takes; after that, nothing."""
    if await access.told_lately(ctx.services, ctx.pull, login):
        return "not answered: told within the hour"
    body = f"{ANSWER_MARKER}\nOnly people with {access.NEEDS} can {what}."
    await replies.reply_in_thread(await ctx.gh(), ctx.pull, thread.root_id, body)
    return "refused"


async def _dismiss(
    ctx: Context[AnswerJob], thread: threads.Thread, finding: Finding, login: str
) -> str:
    gh = await ctx.gh()
    effect = await dismissal.dismiss(
        ctx.services, gh, ctx.pull, finding.fingerprint, login, "reply"
    )
    body = (
        f"{ANSWER_MARKER}\nDismissed: this finding no longer fails the check and is not "
        "posted again on this pull request."
    )
    await replies.reply_in_thread(gh, ctx.pull, thread.root_id, body)
    _, refused = await resolution.resolve(gh, [thread], f"job {ctx.job.id}")
    return f"dismissed ({effect})" if refused is None else f"dismissed ({effect}; thread open)"


async def _answer(ctx: Context[AnswerJob], thread: threads.Thread, finding: Finding) -> str:
    services, payload = ctx.services, ctx.payload
    if services.gemini is None:
        return "no Gemini key"
    review = await reviews.latest(services.pool, ctx.pull)
    assert review is not None  # a finding of ours on the PR means a review of it
    head = payload.head_sha
    read = await files.read(services.github, ctx.repository, [(head, finding.file_path)])
    head_text = read.files[(head, finding.file_path)].text
    said = [Said(c.author, c.body) for c in thread.comments[1:]]
    system, request = prompt(finding, code_around(finding, head_text), said)
    settings, model = services.settings, services.gemini.model
    budget = await review_meter.budget_of(
        services, review.id, settings.max_review_tokens, settings.max_review_usd, model
    )
    meter = review_meter.ReviewMeter(services, review, budget, model)
    try:
        result = await services.gemini.generate(
            agent="answer",
            system=system,
            prompt=request,
            schema=ThreadAnswer,
            meter=meter,
            answer_tokens=ANSWER_TOKENS,
            think=THINKS,
        )
    except (BudgetSpent, QuotaReached) as exc:
        log.info("job %s: no answer: %s", ctx.job.id, exc)
        return "no budget left"
    assert isinstance(result.parsed, ThreadAnswer)
    answer = result.parsed.answer.strip()[:MAX_ANSWER] or "I have nothing to add."
    body = f"{ANSWER_MARKER}\n{text(answer, multiline=True)}"
    await replies.reply_in_thread(await ctx.gh(), ctx.pull, thread.root_id, body)
    return "answered"
