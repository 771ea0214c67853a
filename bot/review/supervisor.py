"""ReviewSupervisor: every (agent, chunk) call at once, bounded, merged into one result."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.review.agents import AGENTS, Agent, AgentAnswer, system_prompt
from bot.review.changes import ChangedFile, Diff, Hunk
from bot.review.findings import Finding, from_model
from bot.review.gemini import AgentCallError, GeminiClient, prompt_digest
from bot.review.metering import BudgetSpent, Meter, QuotaReached
from bot.review.selection import CHARS_PER_TOKEN

log = logging.getLogger(__name__)

DEFAULT_CHUNK_TOKENS = 24_000  # diff read by one call of one agent
CALL_MARGIN = 16  # tokens a request adds to its counted texts (roles, framing)
RETRY_RESERVE = 0.1  # share of the budget kept for retries when planning


@dataclass
class AgentFailure:
    agent: str
    reason: str


@dataclass
class SupervisorResult:
    findings: list[Finding] = field(default_factory=list)
    failures: list[AgentFailure] = field(default_factory=list)
    calls: int = 0
    prompt_tokens: int = 0
    output_tokens: int = 0
    trimmed: list[str] = field(default_factory=list)  # files the exact count left out
    unfinished: list[str] = field(default_factory=list)  # "agent on part N": budget ran out
    reused: int = 0  # answers an earlier attempt of the review had already paid for


@dataclass(frozen=True)
class Chunk:
    """The diff one call reads: the same prompt for every agent."""

    number: int
    text: str

    @property
    def prompt(self) -> str:
        return f"Review this diff (part {self.number}).\n\n{self.text}"


def render_file(changed: ChangedFile, hunks: Iterable[Hunk] | None = None) -> str:
    """A file as the agents read it: every hunk line numbered on the new side."""
    lines = [f"=== File: {changed.path} ===", f"({changed.status} file)"]
    for hunk in changed.hunks if hunks is None else hunks:
        lines.append(hunk.header)
        lines.extend(_numbered(hunk.lines))
    return "\n".join(lines) + "\n"


def _numbered(lines: Iterable[tuple[str, int | None, str]]) -> list[str]:
    return [f"{'' if number is None else number:>6} {kind}| {text}" for kind, number, text in lines]


def _cut_hunk(changed: ChangedFile, hunk: Hunk, budget_chars: int) -> list[str]:
    """A hunk too large for one chunk, cut at line boundaries into parts that each fit."""
    head = f"=== File: {changed.path} ===\n({changed.status} file)\n{hunk.header}\n"
    parts: list[list[str]] = [[]]
    size = 0
    room = max(budget_chars - len(head) - 200, 200)  # 200: the note
    for line in _numbered(hunk.lines):
        if parts[-1] and size + len(line) + 1 > room:
            parts.append([])
            size = 0
        parts[-1].append(line[:room])  # a single line longer than a chunk is cut too
        size += len(line[:room]) + 1
    total = len(parts)
    return [
        head + f"(part {i} of {total} of this hunk: it is larger than one request, so it is "
        "cut at line boundaries; the other parts are read in other requests)\n"
        + "\n".join(part)
        + "\n"
        for i, part in enumerate(parts, start=1)
    ]


def chunk_diff(files: Iterable[ChangedFile], budget_chars: int) -> list[Chunk]:
    """Cut the files into chunks under the budget: a file too large alone is cut by hunks,
    and a hunk too large alone at line boundaries, with a note; nothing is dropped."""
    chunks: list[Chunk] = []
    current: list[str] = []
    size = 0

    def add(text: str) -> None:
        chunks.append(Chunk(len(chunks) + 1, text))

    def flush() -> None:
        nonlocal current, size
        if current:
            add("\n".join(current))
        current, size = [], 0

    for changed in files:
        text = render_file(changed)
        if len(text) > budget_chars:
            flush()
            part: list[Hunk] = []
            part_size = 0
            for hunk in changed.hunks:
                hunk_size = len(render_file(changed, [hunk]))
                if part and part_size + hunk_size > budget_chars:
                    add(render_file(changed, part))
                    part, part_size = [], 0
                if hunk_size > budget_chars:
                    for piece in _cut_hunk(changed, hunk, budget_chars):
                        add(piece)
                    continue
                part.append(hunk)
                part_size += hunk_size
            if part:
                add(render_file(changed, part))
            continue
        if size + len(text) > budget_chars:
            flush()
        current.append(text)
        size += len(text)
    flush()
    return chunks


Reused = Mapping[tuple[str, str], dict[str, Any]]  # (agent, prompt digest) -> stored answer


class ReviewSupervisor:
    """Runs the chosen agents over the diff's chunks, all at once under a bound, within the
    review's budget: the plan is counted before any call, and every call is metered."""

    def __init__(
        self,
        gemini: GeminiClient,
        meter: Meter,
        *,
        agents: Iterable[str] = tuple(AGENTS),
        max_in_flight: int = 8,
        chunk_tokens: int = DEFAULT_CHUNK_TOKENS,
        instructions: str = "",
        reused: Reused | None = None,
    ) -> None:
        self.gemini = gemini
        self.meter = meter
        self.agents: list[Agent] = [AGENTS[name] for name in agents]
        self.max_in_flight = max_in_flight
        self.chunk_tokens = chunk_tokens
        self.instructions = instructions
        self.reused: Reused = reused or {}
        self.cancelled = 0  # calls cut off in flight because the review was cancelled
        self._stop: QuotaReached | None = None
        self._systems = {agent.name: system_prompt(agent, instructions) for agent in self.agents}
        self._system_tokens: dict[str, int] = {}

    def capacity(self) -> int:
        """Tokens of diff each agent may read, planning with the budget left less a reserve
        for retries, and each chunk's system text counted per agent."""
        if not self.agents:
            return 0
        plan = int(self.meter.budget.left * (1 - RETRY_RESERVE))
        system = max(len(text) for text in self._systems.values()) // 3 + CALL_MARGIN
        per_agent = plan / len(self.agents) - system
        return max(int(per_agent / (1 + system / self.chunk_tokens)), 0)

    async def run(self, diff: Diff, files: list[str]) -> SupervisorResult:
        """Review `files` of the diff (in the order given: most important first).

        A failed agent is reported and the others still count; a reached quota stops new
        calls, lets those in flight finish (their answers are kept), and is raised.
        """
        result = SupervisorResult()
        wanted = [changed for path in files if (changed := diff.file(path)) is not None]
        if not wanted or not self.agents:
            return result
        chunks = await self._plan(wanted, result)
        gate = asyncio.Semaphore(self.max_in_flight)
        async with asyncio.TaskGroup() as group:
            for agent in self.agents:
                for chunk, tokens in chunks:
                    group.create_task(self._call(gate, agent, chunk, tokens, result))
        if self._stop is not None:
            raise self._stop
        result.findings.sort(key=lambda f: (f.file_path, f.line_start or 0, f.agent_type))
        return result

    async def _plan(
        self, files: list[ChangedFile], result: SupervisorResult
    ) -> list[tuple[Chunk, int]]:
        """Chunks with the tokens each call reserves; the least important files are left out
        until the counted plan fits the budget."""
        names = list(self._systems)
        counted = await asyncio.gather(*(self.gemini.count_tokens(self._systems[n]) for n in names))
        systems = dict(zip(names, counted, strict=True))
        self._system_tokens = systems
        limit = int(self.meter.budget.left * (1 - RETRY_RESERVE))
        while True:
            chunks = chunk_diff(files, self.chunk_tokens * CHARS_PER_TOKEN)
            sizes = await asyncio.gather(*(self.gemini.count_tokens(c.prompt) for c in chunks))
            planned = list(zip(chunks, sizes, strict=True))
            cost = sum(
                systems[agent.name] + tokens + CALL_MARGIN
                for agent in self.agents
                for chunk, tokens in planned
                if (agent.name, self._digest(agent, chunk)) not in self.reused
            )
            if cost <= limit or len(files) <= 1:
                if cost > limit:  # one file alone does not fit: nothing is sent
                    result.trimmed.append(files[0].path)
                    return []
                return [(chunk, tokens + CALL_MARGIN) for chunk, tokens in planned]
            dropped = files.pop()
            result.trimmed.append(dropped.path)
            log.info("budget: %s left out after counting (%d > %d tokens)", dropped.path,
                     cost, limit)  # fmt: skip

    def _digest(self, agent: Agent, chunk: Chunk) -> str:
        return prompt_digest(self._systems[agent.name], chunk.prompt)

    async def _call(
        self,
        gate: asyncio.Semaphore,
        agent: Agent,
        chunk: Chunk,
        tokens: int,
        result: SupervisorResult,
    ) -> None:
        stored = self.reused.get((agent.name, self._digest(agent, chunk)))
        if stored is not None:
            kept = AgentAnswer.model_validate(stored)
            result.findings.extend(from_model(agent.name, item) for item in kept.findings)
            result.reused += 1
            return
        async with gate:
            if self._stop is not None:
                return
            system = self._systems[agent.name]
            try:
                answer = await self.gemini.generate(
                    agent=agent.name, system=system, prompt=chunk.prompt, schema=AgentAnswer,
                    meter=self.meter, chunk=chunk.number,
                    tokens=self._system_tokens[agent.name] + tokens,
                )  # fmt: skip
            except asyncio.CancelledError:
                self.cancelled += 1
                raise
            except QuotaReached as reached:
                self._stop = self._stop or reached
                return
            except BudgetSpent as exc:
                log.warning("agent %s skipped part %d: %s", agent.name, chunk.number, exc)
                result.unfinished.append(f"{agent.name} on part {chunk.number}")
                return
            except AgentCallError as exc:
                log.warning("agent %s failed on chunk %d: %s", agent.name, chunk.number, exc)
                result.failures.append(AgentFailure(agent.name, str(exc)))
                result.calls += exc.attempts
                return
        result.calls += answer.attempts
        result.prompt_tokens += answer.prompt_tokens
        result.output_tokens += answer.output_tokens
        assert isinstance(answer.parsed, AgentAnswer)
        result.findings.extend(from_model(agent.name, item) for item in answer.parsed.findings)
