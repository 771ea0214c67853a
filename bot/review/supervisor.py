"""ReviewSupervisor: every (agent, chunk) call at once, bounded, merged into one result."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.retry import Outage
from bot.review import caching, verify, walkthrough
from bot.review.agents import AGENTS, ANSWER_TOKENS, MAX_FINDINGS, Agent, AgentAnswer, task
from bot.review.changes import ChangedFile, Diff
from bot.review.chunks import CONTEXT_SHARE, Chunk, FileContext, chunk_diff
from bot.review.coverage import AgentFailure
from bot.review.findings import Finding, from_model, merge, off_the_change
from bot.review.gemini import AgentCallError, GeminiClient, prompt_digest
from bot.review.metering import BudgetSpent, Meter, QuotaReached, Worst
from bot.review.pricing import Price
from bot.review.prompt import SYSTEM, Brief
from bot.review.selection import CHARS_PER_TOKEN
from bot.review.walkthrough import WALKTHROUGH, WalkAnswer

log = logging.getLogger(__name__)

__all__ = ["AgentFailure", "ReviewSupervisor", "SupervisorResult"]
BUDGET_RAN_OUT = "the token budget ran out"  # why an agent call was not made

DEFAULT_CHUNK_TOKENS = 24_000  # diff read by one call of one agent
CALL_MARGIN = 16  # tokens a request adds to its counted texts (roles, framing)
RETRY_RESERVE = 0.1  # share of the budget kept for retries when planning


@dataclass
class SupervisorResult:
    findings: list[Finding] = field(default_factory=list)
    failures: list[AgentFailure] = field(default_factory=list)  # agent calls failed for good
    answered: int = 0  # agent calls answered (stored answers reused among them)
    calls: int = 0
    prompt_tokens: int = 0
    output_tokens: int = 0
    trimmed: list[str] = field(default_factory=list)  # files the exact count left out
    # Agent calls not made: the budget ran out (reason BUDGET_RAN_OUT).
    unfinished: list[AgentFailure] = field(default_factory=list)
    reused: int = 0  # answers an earlier attempt of the review had already paid for
    chunks: int = 0
    context_chars: int = 0  # context lines the agents read, over all chunks
    verified: int = 0  # findings the verification pass gave a verdict
    # "part N (why)": its verification failed, its findings are kept unverified
    unverified: list[str] = field(default_factory=list)
    walked: list[walkthrough.Part] = field(default_factory=list)  # walkthrough answers by part
    # "part N: why" for each part the walkthrough call did not describe (failed, budget)
    walk_missing: list[str] = field(default_factory=list)


Reused = Mapping[tuple[str, str], dict[str, Any]]  # (agent, prompt digest) -> stored answer


VERIFY_PLAN = 600  # tokens the plan keeps for the findings a verification call lists


@dataclass(frozen=True)
class _Part:
    """A chunk as it is sent: its shared prefix, with the tokens that prefix counts."""

    chunk: Chunk
    prefix: str
    tokens: int


class ReviewSupervisor:
    """Runs the chosen agents over the diff's chunks, all at once under a bound, then the
    verifier over each chunk's findings, within the review's budget: the plan is counted
    before any call, and every call is metered.

    Every request for a chunk is the common system text and one shared prefix (the PR, the
    guidance, the chunk), ended by the task of one agent or of the verifier.
    """

    def __init__(
        self,
        gemini: GeminiClient,
        meter: Meter,
        *,
        agents: Iterable[str] = tuple(AGENTS),
        max_in_flight: int = 8,
        chunk_tokens: int = DEFAULT_CHUNK_TOKENS,
        brief: Brief | None = None,
        verify: bool = True,
        reused: Reused | None = None,
        price: Price | None = None,
        defer_outages: bool = False,
        walk: bool = False,
    ) -> None:
        self.gemini = gemini
        self.meter = meter
        self.agents: list[Agent] = [AGENTS[name] for name in agents]
        self.max_in_flight = max_in_flight
        self.chunk_tokens = chunk_tokens
        self.brief = brief or Brief()
        self.verify = verify
        self.reused: Reused = reused or {}
        self.price = price  # the model's price, for explicit caching (None: never cache)
        self.cancelled = 0  # calls cut off in flight because the review was cancelled
        self.caches = 0  # explicit caches created
        self._stop: QuotaReached | None = None
        # The App (a queue to go back to) defers a review whose calls met Gemini away: raised
        # as retry.Outage once the run ends; the answers had are kept and reused.
        self.defer_outages = defer_outages
        self._outage: str | None = None  # the first call that failed on an outage: why
        self.walk = walk and bool(self.agents)  # one walkthrough call per chunk, beside them
        self._tasks = {agent.name: task(agent) for agent in self.agents}
        if self.walk:
            self._tasks[WALKTHROUGH] = walkthrough.TASK
        self._task_tokens: dict[str, int] = {}
        self._system_tokens = 0
        self._cached_parts: set[int] = set()  # chunks whose prefix goes into a cache
        self._verify_failed: dict[int, str] = {}  # chunk -> why its verification failed
        self._walk_failed: dict[int, str] = {}  # chunk -> why its walkthrough call failed
        # The analyzers' findings, for the verifier: they run while the agents do.
        self._evidence: Awaitable[Sequence[Finding]] | None = None
        self._diff = Diff()  # run()'s: which lines each finding is on

    def capacity(self) -> int:
        """Tokens of diff each agent may read, planning with the budget left less a reserve
        for retries: each chunk's fixed text (system, PR, guidance, task) counted per call,
        and, for the money, every call's worst-case output and thinking."""
        if not self.agents:
            return 0
        budget = self.meter.budget
        calls = len(self.agents) + (1 if self.verify else 0) + (1 if self.walk else 0)
        fixed = (len(SYSTEM) + len(self.brief.prefix("", ())) + 800) // 3 + CALL_MARGIN
        fixed += VERIFY_PLAN // calls if self.verify else 0
        fits = self._fit(budget.left * (1 - RETRY_RESERVE), calls, fixed, 1.0, 0.0)
        left_usd, price = budget.left_usd, budget.price
        if left_usd is not None and price is not None:
            by_money = self._fit(
                left_usd * (1 - RETRY_RESERVE), calls, fixed, price.input / 1e6, price.output / 1e6
            )
            fits = min(fits, by_money)
        return fits

    def _fit(self, plan: float, calls: int, fixed: int, per_input: float, per_output: float) -> int:
        """The most diff tokens D whose chunks cost at most `plan`: (D / chunk + 1) chunks'
        fixed cost (the +1: the last chunk is partly filled) and D tokens read by every call."""
        per_chunk = calls * fixed * per_input + self._chunk_output() * per_output
        diff = (plan - per_chunk) / (per_chunk / self.chunk_tokens + calls * per_input)
        return max(int(diff), 0)

    def _chunk_output(self) -> int:
        """The most output and thinking one chunk's calls can be billed."""
        agents = len(self.agents) * self.gemini.max_output(ANSWER_TOKENS)
        walk = self.gemini.max_output(walkthrough.ANSWER_TOKENS) if self.walk else 0
        return agents + walk + (self._verify_output() if self.verify else 0)

    def _verify_output(self) -> int:
        """The verifier's maxOutputTokens when every agent reports all it may."""
        return self.gemini.max_output(verify.answer_tokens(len(self.agents) * MAX_FINDINGS))

    async def run(
        self,
        diff: Diff,
        files: list[str],
        heads: Mapping[str, FileContext] | None = None,
        evidence: Awaitable[Sequence[Finding]] | None = None,
    ) -> SupervisorResult:
        """Review `files` of the diff (in the order given: most important first), with the
        head's context of each file in `heads` when there is room; the verifier of each chunk
        reads the analyzers' findings on its files (`evidence`: a task, awaited by the first
        verifier that needs it, so that the analyzers run while the agents do).

        A failed agent is reported and the others still count; a reached quota stops new
        calls, lets those in flight finish (their answers are kept), and is raised.
        """
        result = SupervisorResult()
        self._diff = diff
        # A task, so that every chunk's verifier may await it (a coroutine is awaited once).
        self._evidence = asyncio.ensure_future(evidence) if evidence is not None else None
        wanted = [changed for path in files if (changed := diff.file(path)) is not None]
        if not wanted or not self.agents:
            return result
        parts = await self._plan(wanted, heads or {}, result)
        result.chunks = len(parts)
        result.context_chars = sum(part.chunk.context_chars for part in parts)
        gate = asyncio.Semaphore(self.max_in_flight)
        async with asyncio.TaskGroup() as group:
            for part in parts:
                group.create_task(self._review_part(gate, part, result))
        if self._stop is not None:
            raise self._stop
        if self._outage is not None:
            raise Outage(self._outage)
        result.findings.sort(key=lambda f: (f.file_path, f.line_start or 0, f.agent_type))
        return result

    async def _plan(
        self, files: list[ChangedFile], heads: Mapping[str, FileContext], result: SupervisorResult
    ) -> list[_Part]:
        """The chunks with their counted prefixes. When the plan is over the budget, context
        gives way first (a smaller share, then none), then the least important files."""
        shares = [CONTEXT_SHARE, CONTEXT_SHARE / 2, 0.0] if heads else [0.0]
        # The fixed texts and the first plan's chunks are counted in one round of requests.
        _, planned = await asyncio.gather(self._count_fixed(), self._parts(files, heads, shares[0]))
        first: list[_Part] | None = planned
        budget = self.meter.budget
        limit = int(budget.left * (1 - RETRY_RESERVE))
        left_usd = budget.left_usd
        limit_usd = None if left_usd is None else left_usd * (1 - RETRY_RESERVE)
        while True:
            for share in shares:
                parts = first if first is not None else await self._parts(files, heads, share)
                first = None
                for cached in (self._worth_caching(parts), set()):
                    cost, usd = self._cost(parts, cached)
                    if cost <= limit and (limit_usd is None or usd <= limit_usd):
                        self._cached_parts = cached
                        return parts
            shares = [0.0]  # once files must go, context is the first thing that went
            if len(files) <= 1:  # one file alone does not fit: nothing is sent
                result.trimmed.append(files[0].path)
                return []
            dropped = files.pop()
            result.trimmed.append(dropped.path)
            log.info(
                "budget: %s left out after counting (%d tokens, $%.4f; limits %d, %s)",
                dropped.path,
                cost,
                usd,
                limit,
                limit_usd,
            )

    async def _count_fixed(self) -> None:
        """The tokens of the system text and of each agent's task."""
        names = list(self._tasks)
        system, *counted = await asyncio.gather(
            self.gemini.count_tokens(SYSTEM),
            *(self.gemini.count_tokens(self._tasks[n]) for n in names),
        )
        self._system_tokens = system
        self._task_tokens = dict(zip(names, counted, strict=True))

    async def _parts(
        self, files: list[ChangedFile], heads: Mapping[str, FileContext], share: float
    ) -> list[_Part]:
        chunks = chunk_diff(files, self.chunk_tokens * CHARS_PER_TOKEN, heads, share)
        total = len(chunks)
        prefixes = [
            self.brief.prefix(f"The diff, part {c.number} of {total}:\n\n{c.text}", c.paths)
            for c in chunks
        ]
        sizes = await asyncio.gather(*(self.gemini.count_tokens(p) for p in prefixes))
        return [_Part(c, p, n) for c, p, n in zip(chunks, prefixes, sizes, strict=True)]

    def _readers(self, part: _Part) -> int:
        """The calls that will read this chunk: agents not answered already, the verifier."""
        fresh = sum(
            1
            for agent in self.agents
            if (agent.name, self._digest(part, self._tasks[agent.name])) not in self.reused
        )
        walk = self.walk and (WALKTHROUGH, self._digest(part, walkthrough.TASK)) not in self.reused
        return fresh + (1 if self.verify and fresh else 0) + (1 if walk else 0)

    def _worth_caching(self, parts: Sequence[_Part]) -> set[int]:
        tokens = {part.chunk.number: self._system_tokens + part.tokens for part in parts}
        return {
            part.chunk.number
            for part in parts
            if caching.pays(
                self.price, self.gemini.model, tokens[part.chunk.number], self._readers(part)
            )
        }

    def _cost(self, parts: Sequence[_Part], cached: set[int]) -> tuple[int, float]:
        """Input tokens and dollars the plan may spend at worst: every call not answered
        already (its input, its maxOutputTokens), verification, and the creation of each
        cache (whose tokens are billed as input once more, and stored)."""
        worst: list[Worst] = []
        agent_output = self.gemini.max_output(ANSWER_TOKENS)
        for part in parts:
            base = self._system_tokens + part.tokens + CALL_MARGIN
            for agent in self.agents:
                if (agent.name, self._digest(part, self._tasks[agent.name])) not in self.reused:
                    worst.append(Worst(base + self._task_tokens[agent.name], agent_output))
            if self.walk and (WALKTHROUGH, self._digest(part, walkthrough.TASK)) not in self.reused:
                walk_output = self.gemini.max_output(walkthrough.ANSWER_TOKENS)
                worst.append(Worst(base + self._task_tokens[WALKTHROUGH], walk_output))
            if self.verify:
                worst.append(Worst(base + VERIFY_PLAN, self._verify_output()))
            if part.chunk.number in cached:
                worst.append(Worst(base, stored=base * caching.TTL_SECONDS / 3600))
        budget = self.meter.budget
        return sum(w.prompt for w in worst), sum(budget.cost(w) for w in worst)

    def _digest(self, part: _Part, ending: str) -> str:
        return prompt_digest(SYSTEM, part.prefix + ending)

    async def _review_part(
        self, gate: asyncio.Semaphore, part: _Part, result: SupervisorResult
    ) -> None:
        """Every agent and the walkthrough over one chunk at once, then the verifier over
        what the agents found (not waiting for the walkthrough); all of them through the
        chunk's cache when it has one."""
        cached = await self._cache(gate, part) if part.chunk.number in self._cached_parts else None
        try:
            await asyncio.gather(
                self._find(gate, part, result, cached), self._walk(gate, part, result, cached)
            )
        finally:
            if cached is not None:
                await self.gemini.delete_cache(cached)

    async def _find(
        self,
        gate: asyncio.Semaphore,
        part: _Part,
        result: SupervisorResult,
        cached: caching.Cached | None,
    ) -> None:
        answers = await asyncio.gather(
            *(self._ask_agent(gate, agent, part, result, cached) for agent in self.agents)
        )
        found = [finding for answer in answers for finding in answer]
        if not found:
            return
        in_part = [f for f in found if f.file_path in part.chunk.paths]
        elsewhere = [f for f in found if f.file_path not in part.chunk.paths]
        merged, _ = merge(in_part)
        # What check() drops as off the change is not worth a verdict: not paid for.
        off = [f for f in merged if off_the_change(f, self._diff)]
        weighed = [f for f in merged if f not in off]
        if self.verify and weighed and self._stop is None:
            weighed = await self._verify(gate, part, weighed, result, cached)
        result.findings.extend(weighed + off + elsewhere)

    async def _walk(
        self,
        gate: asyncio.Semaphore,
        part: _Part,
        result: SupervisorResult,
        cached: caching.Cached | None,
    ) -> None:
        """The walkthrough of one chunk; a failed or unmade call is noted, never fatal."""
        if not self.walk:
            return
        number = part.chunk.number
        tokens = self._system_tokens + part.tokens + self._task_tokens[WALKTHROUGH] + CALL_MARGIN
        answer = await self._ask(
            gate,
            WALKTHROUGH,
            part,
            walkthrough.TASK,
            WalkAnswer,
            tokens,
            walkthrough.ANSWER_TOKENS,
            result,
            cached,
        )
        if answer is None:
            if not any(m.startswith(f"part {number}:") for m in result.walk_missing):
                result.walk_missing.append(f"part {number}: {self._walk_failed.pop(number, '')}")
            return
        assert isinstance(answer, WalkAnswer)
        result.walked.append(walkthrough.Part(number, tuple(part.chunk.paths), answer))

    async def _cache(self, gate: asyncio.Semaphore, part: _Part) -> caching.Cached | None:
        async with gate:
            if self._stop is not None:
                return None
            tokens = self._system_tokens + part.tokens + CALL_MARGIN
            cached = await self.gemini.create_cache(
                SYSTEM, part.prefix, meter=self.meter, chunk=part.chunk.number, tokens=tokens
            )
        if cached is not None:
            self.caches += 1
        return cached

    async def _ask_agent(
        self,
        gate: asyncio.Semaphore,
        agent: Agent,
        part: _Part,
        result: SupervisorResult,
        cached: caching.Cached | None,
    ) -> list[Finding]:
        ending = self._tasks[agent.name]
        tokens = self._system_tokens + part.tokens + self._task_tokens[agent.name] + CALL_MARGIN
        answer = await self._ask(
            gate, agent.name, part, ending, AgentAnswer, tokens, ANSWER_TOKENS, result, cached
        )
        if answer is None:
            return []
        assert isinstance(answer, AgentAnswer)
        return [from_model(agent.name, item) for item in answer.findings]

    async def _verify(
        self,
        gate: asyncio.Semaphore,
        part: _Part,
        found: list[Finding],
        result: SupervisorResult,
        cached: caching.Cached | None,
    ) -> list[Finding]:
        paths = set(part.chunk.paths)
        evidence = await self._evidence if self._evidence is not None else ()
        ending = verify.task(found, [f for f in evidence if f.file_path in paths])
        tokens = self._system_tokens + part.tokens + len(ending.encode()) + CALL_MARGIN
        answer = await self._ask(
            gate,
            verify.VERIFIER,
            part,
            ending,
            verify.VerifyAnswer,
            tokens,
            verify.answer_tokens(len(found)),
            result,
            cached,
        )
        if answer is None:
            failed = self._verify_failed.pop(part.chunk.number, None)
            if failed is not None:
                result.unverified.append(f"part {part.chunk.number} ({failed})")
            return found
        assert isinstance(answer, verify.VerifyAnswer)
        checked = verify.apply(found, answer)
        result.verified += sum(1 for f in checked if f.verdict is not None)
        return checked

    async def _ask(
        self,
        gate: asyncio.Semaphore,
        name: str,
        part: _Part,
        ending: str,
        schema: type[AgentAnswer] | type[verify.VerifyAnswer] | type[WalkAnswer],
        tokens: int,
        answer_tokens: int,
        result: SupervisorResult,
        cached: caching.Cached | None = None,
    ) -> AgentAnswer | verify.VerifyAnswer | WalkAnswer | None:
        """One call (or its stored answer); None when it failed, was refused or not made.
        A failed agent call leaves its part unreviewed by that agent (the review is partial);
        a failed verifier leaves its findings unverified; a failed walkthrough call leaves
        its part undescribed, and never defers the review."""
        number = part.chunk.number
        agent = name not in (verify.VERIFIER, WALKTHROUGH)
        stored = self.reused.get((name, self._digest(part, ending)))
        if stored is not None:
            result.reused += 1
            result.answered += agent
            return schema.model_validate(stored)
        async with gate:
            if self._stop is not None:
                if name == WALKTHROUGH:
                    self._walk_failed[number] = "a quota stopped the review's calls"
                return None
            try:
                answer = await self.gemini.generate(
                    agent=name,
                    system=SYSTEM,
                    prompt=part.prefix + ending,
                    schema=schema,
                    meter=self.meter,
                    answer_tokens=answer_tokens,
                    chunk=number,
                    tokens=tokens,
                    cached=cached,
                )
            except asyncio.CancelledError:
                self.cancelled += 1
                raise
            except QuotaReached as reached:
                self._stop = self._stop or reached
                return None
            except BudgetSpent as exc:
                log.warning("%s skipped part %d: %s", name, number, exc)
                if name == WALKTHROUGH:
                    self._walk_failed[number] = BUDGET_RAN_OUT
                if agent:
                    paths = tuple(part.chunk.paths)
                    result.unfinished.append(AgentFailure(name, BUDGET_RAN_OUT, number, paths))
                return None
            except AgentCallError as exc:
                reason = str(exc)  # bot/errors.py's sentence
                log.warning("%s failed on part %d: %s", name, number, reason)
                if (
                    exc.outage
                    and self.defer_outages
                    and self._outage is None
                    and name != WALKTHROUGH
                ):
                    self._outage = f"{name} on part {number}: {reason}"
                if agent:
                    paths = tuple(part.chunk.paths)
                    result.failures.append(AgentFailure(name, reason, number, paths))
                elif name == WALKTHROUGH:
                    self._walk_failed[number] = reason
                else:
                    self._verify_failed[number] = reason
                result.calls += exc.attempts
                return None
        result.calls += answer.attempts
        result.answered += agent
        result.prompt_tokens += answer.prompt_tokens
        result.output_tokens += answer.output_tokens
        parsed = answer.parsed
        assert isinstance(parsed, schema)
        return parsed
