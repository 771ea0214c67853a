"""ReviewSupervisor: every (agent, chunk) call at once, bounded, merged into one result."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from bot.review.agents import AGENTS, Agent, AgentAnswer, system_prompt
from bot.review.changes import ChangedFile, Diff, Hunk
from bot.review.findings import Finding, from_model
from bot.review.gemini import AgentCallError, GeminiClient

log = logging.getLogger(__name__)

CHARS_PER_TOKEN = 4  # a rough estimate for code; only used to size chunks
DEFAULT_TOKEN_BUDGET = 24_000


@dataclass
class AgentFailure:
    agent: str
    reason: str


@dataclass
class SupervisorResult:
    findings: list[Finding] = field(default_factory=list)
    failures: list[AgentFailure] = field(default_factory=list)
    calls: int = 0
    input_chars: int = 0
    prompt_tokens: int = 0
    output_tokens: int = 0


def render_file(changed: ChangedFile, hunks: Iterable[Hunk] | None = None) -> str:
    """A file as the agents read it: every hunk line numbered on the new side."""
    lines = [f"=== File: {changed.path} ===", f"({changed.status} file)"]
    for hunk in changed.hunks if hunks is None else hunks:
        lines.append(hunk.header)
        for kind, number, text in hunk.lines:
            lines.append(f"{'' if number is None else number:>6} {kind}| {text}")
    return "\n".join(lines) + "\n"


def chunk_diff(diff: Diff, budget_chars: int) -> list[str]:
    """Cut the diff into prompts under the budget; a file too large alone is cut by hunks."""
    chunks: list[str] = []
    current: list[str] = []
    size = 0

    def flush() -> None:
        nonlocal current, size
        if current:
            chunks.append("\n".join(current))
        current, size = [], 0

    for changed in diff.files:
        text = render_file(changed)
        if len(text) > budget_chars:
            flush()
            part: list[Hunk] = []
            part_size = 0
            for hunk in changed.hunks:
                hunk_size = len(render_file(changed, [hunk]))
                if part and part_size + hunk_size > budget_chars:
                    chunks.append(render_file(changed, part))
                    part, part_size = [], 0
                part.append(hunk)
                part_size += hunk_size
            if part:
                chunks.append(render_file(changed, part))
            continue
        if size + len(text) > budget_chars:
            flush()
        current.append(text)
        size += len(text)
    flush()
    return chunks


class ReviewSupervisor:
    """Runs the chosen agents over the diff's chunks, all at once under a bound."""

    def __init__(
        self,
        gemini: GeminiClient,
        *,
        agents: Iterable[str] = tuple(AGENTS),
        max_in_flight: int = 8,
        token_budget: int = DEFAULT_TOKEN_BUDGET,
        instructions: str = "",
    ) -> None:
        self.gemini = gemini
        self.agents: list[Agent] = [AGENTS[name] for name in agents]
        self.max_in_flight = max_in_flight
        self.budget_chars = token_budget * CHARS_PER_TOKEN
        self.instructions = instructions
        self.cancelled = 0  # calls cut off in flight because the review was cancelled

    async def run(self, diff: Diff, files: list[str]) -> SupervisorResult:
        """Review `files` of the diff; a failed agent is reported, the others still count."""
        wanted = set(files)
        reviewed = Diff(files=[f for f in diff.files if f.path in wanted])
        chunks = chunk_diff(reviewed, self.budget_chars)
        result = SupervisorResult()
        if not chunks or not self.agents:
            return result
        gate = asyncio.Semaphore(self.max_in_flight)
        async with asyncio.TaskGroup() as group:
            for agent in self.agents:
                system = system_prompt(agent, self.instructions)
                for number, chunk in enumerate(chunks, start=1):
                    group.create_task(self._call(gate, agent, system, chunk, number, result))
        result.findings.sort(key=lambda f: (f.file_path, f.line_start or 0, f.agent_type))
        return result

    async def _call(
        self,
        gate: asyncio.Semaphore,
        agent: Agent,
        system: str,
        chunk: str,
        number: int,
        result: SupervisorResult,
    ) -> None:
        prompt = f"Review this diff (part {number}).\n\n{chunk}"
        async with gate:
            try:
                answer = await self.gemini.generate(
                    agent=agent.name, system=system, prompt=prompt, schema=AgentAnswer
                )
            except asyncio.CancelledError:
                self.cancelled += 1
                raise
            except AgentCallError as exc:
                log.warning("agent %s failed on chunk %d: %s", agent.name, number, exc)
                result.failures.append(AgentFailure(agent.name, str(exc)))
                result.calls += exc.attempts
                return
        result.calls += answer.attempts
        result.input_chars += answer.input_chars
        result.prompt_tokens += answer.prompt_tokens
        result.output_tokens += answer.output_tokens
        parsed = answer.parsed
        assert isinstance(parsed, AgentAnswer)
        result.findings.extend(from_model(agent.name, item) for item in parsed.findings)
