"""Commands in PR comments (`/second-look review` or `@<slug> review`), and the Re-run
button: parsed at intake, run as jobs."""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar

from pydantic import BaseModel, ConfigDict

from bot.app.conversation import access
from bot.app.conversation.context import Context, JobPayload
from bot.github import publish, replies
from bot.review.markdown import code
from bot.review.render import MARKER, state_block
from bot.store import pulls, reviews
from bot.store.jobs import Kind
from bot.store.queue import Trigger

log = logging.getLogger(__name__)

PREFIX = "/second-look"


class Name(StrEnum):
    REVIEW = "review"
    PAUSE = "pause"
    RESUME = "resume"
    IGNORE = "ignore"
    HELP = "help"


@dataclass(frozen=True)
class Parsed:
    name: Name | None  # None: a word we do not know
    word: str  # what was written, when it is a plain word ("" otherwise)


_WORD = re.compile(r"[a-z][a-z-]{0,19}")


def parse(body: str | None, slug: str | None) -> Parsed | None:
    """The command a comment's first line gives, or None when it gives none.

    `/second-look WORD` or `@<slug> WORD`, any case; nothing after the prefix means help.
    """
    line = (body or "").lstrip().split("\n", 1)[0].strip()
    lowered = line.lower()
    prefixes = [PREFIX] + ([f"@{slug.lower()}"] if slug else [])
    for prefix in prefixes:
        if lowered.startswith(prefix) and (len(line) == len(prefix) or line[len(prefix)].isspace()):
            words = lowered[len(prefix) :].split()
            word = words[0] if words else Name.HELP.value
            known = word if word in Name.__members__.values() else None
            return Parsed(Name(known) if known else None, word if _WORD.fullmatch(word) else "")
    return None


def help_text(slug: str | None) -> str:
    also = f" (`@{slug}` works in place of `/second-look`)" if slug else ""
    return "\n".join(
        [
            f"Second Look takes these commands in a comment on the pull request{also}, from "
            f"people with {access.NEEDS}:",
            "",
            "- `/second-look review`: review the current head again, in full",
            "- `/second-look pause`: no automatic reviews of this pull request until `resume`",
            "- `/second-look resume`: review it on every push again (ends `pause` and `ignore`)",
            "- `/second-look ignore`: stop reviewing this pull request",
            "- `/second-look help`: this list",
            "",
            "Reply in the thread of an inline comment to ask about its finding. A reply that says "
            "it is a false positive, won't fix or not a bug (or a 👎 on the comment), from someone "
            "with write access, dismisses it on this pull request at once.",
        ]
    )


class CommandJob(JobPayload):
    """A command in a PR comment: the comment, the command and who wrote it."""

    kind: ClassVar[Kind] = Kind.COMMAND
    comment_id: int
    command: str = ""  # a Name; empty: a word we do not know
    word: str = ""  # what was written, when it is a plain word
    login: str


class PullRef(BaseModel):
    model_config = ConfigDict(frozen=True)
    number: int
    base_ref: str


class RerunJob(JobPayload):
    """The Re-run button of our check run (or "Re-run all checks" of our suite)."""

    kind: ClassVar[Kind] = Kind.RERUN
    head_sha: str
    external_id: uuid.UUID | None = None  # the check run's: the review it ran for
    pulls: list[PullRef] = []  # the PRs GitHub lists for it (none for a fork's)


async def run(ctx: Context[CommandJob]) -> str:
    """Run one command job: act (👀 on the comment first) or refuse, and reply.

    The help text, an unknown command's answer and a refusal are given to a person without
    write access at most once per PR in `access.TOLD_EVERY`: after that, nothing at all.
    """
    pull, services = ctx.pull, ctx.services
    gh = await ctx.gh()
    asked = ctx.payload
    comment_id, login = asked.comment_id, asked.login
    name = Name(asked.command) if asked.command else None
    slug = services.github.identity.slug
    writer = await access.is_writer(services, gh, pull.repository, login)
    if not writer and await access.told_lately(services, pull, login):
        return "not answered: told within the hour"
    await replies.react(gh, pull.repository, comment_id, "eyes")
    if name is None:
        word = f" {code(asked.word)}" if asked.word else " that"
        await ctx.reply(f"I do not know the command{word}.\n\n{help_text(slug)}")
        return "unknown command"
    if name is Name.HELP:
        await ctx.reply(help_text(slug))
        return "help"
    if not access.allowed(access.Act(name.value), writer):
        await ctx.reply(
            f"Sorry, {code(PREFIX + ' ' + name.value)} needs {access.NEEDS}. Nothing was done."
        )
        return "refused"
    return await _ACTIONS[name](ctx, login)


async def _review(ctx: Context[CommandJob], login: str) -> str:
    state = await pulls.state(ctx.services.pool, ctx.pull)
    if state.ignored_by:
        await ctx.reply("This pull request is ignored: `/second-look resume` first.")
        return "ignored"
    now = await replies.pull(await ctx.gh(), ctx.pull)
    if not now.open:
        await ctx.reply("This pull request is closed: there is nothing to review.")
        return "closed"
    await ctx.start_review(
        now.head_sha,
        now.base_ref,
        Trigger.COMMAND,
        requested_by=login,
        reply_to=ctx.payload.comment_id,
    )
    return "review started"


async def _pause(ctx: Context[CommandJob], login: str) -> str:
    await _set(ctx, paused_by=login)
    await ctx.reply(
        "Paused: no automatic reviews of this pull request until `/second-look "
        "resume`. `/second-look review` still reviews it once."
    )
    return "paused"


async def _resume(ctx: Context[CommandJob], login: str) -> str:
    await _set(ctx)
    await ctx.reply(
        "Resumed: every push is reviewed again. `/second-look review` reviews the current head now."
    )
    return "resumed"


async def _ignore(ctx: Context[CommandJob], login: str) -> str:
    await _set(ctx, ignored_by=login)
    stopped = await ctx.stop_reviews("the pull request is ignored")
    await ctx.reply(
        "Ignored: Second Look no longer reviews this pull request or answers in it. "
        "`/second-look resume` undoes this."
    )
    return f"ignored ({stopped} review(s) stopped)"


async def _set(
    ctx: Context[CommandJob], paused_by: str | None = None, ignored_by: str | None = None
) -> None:
    """Record the PR's state and show it in the summary comment."""
    pull, pool = ctx.pull, ctx.services.pool
    await pulls.set_state(pool, pull, paused_by=paused_by, ignored_by=ignored_by)
    known = await reviews.last_comment_id(pool, pull)
    state = state_block(paused_by=paused_by, ignored_by=ignored_by)
    await publish.set_state(await ctx.gh(), pull, state, MARKER, known)


_ACTIONS = {Name.REVIEW: _review, Name.PAUSE: _pause, Name.RESUME: _resume, Name.IGNORE: _ignore}


async def rerun(ctx: Context[RerunJob]) -> str:
    """The Re-run button: a full review of that head, of each PR the run or suite is for."""
    repository, payload, pool = ctx.repository, ctx.payload, ctx.services.pool
    head_sha = payload.head_sha
    targets = [(p.number, p.base_ref) for p in payload.pulls]
    if not targets:  # a fork's PR: GitHub lists none; our earlier review of that head knows
        known = await reviews.of_head(pool, repository, head_sha, payload.external_id)
        targets = [(r.pr_number, r.base_ref) for r in known]
    if not targets:
        log.info(
            "re-run of %s in %s: no pull request of ours has that head", head_sha[:12], repository
        )
        return "no pull request"
    for number, base_ref in targets:
        state = await pulls.state(pool, repository.pull(number))
        if state.ignored_by:
            continue
        await ctx.start_review(head_sha, base_ref, Trigger.RERUN, number=number)
    return f"{len(targets)} review(s) started"
