"""The four agents: each an instruction over one shared finding schema."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, Field

SEVERITIES = ("critical", "high", "medium", "low", "info")


class ModelFinding(BaseModel):
    """One finding as the model states it; lines are new-side line numbers."""

    file_path: str = Field(description="Path of the file exactly as in its '=== File:' line")
    line_start: int = Field(description="First line, new-side number from the listing")
    line_end: int = Field(description="Last line, new-side number (same as line_start for one)")
    # The enum goes to Gemini in the schema; the answer is parsed as any text, then mapped.
    severity: str = Field(
        description="One of: critical, high, medium, low, info",
        json_schema_extra={"enum": list(SEVERITIES)},
    )
    title: str = Field(description="Short summary, under 80 characters")
    description: str = Field(description="What is wrong and why it matters")
    suggestion: str | None = Field(
        default=None,
        description="Replacement code for exactly lines line_start..line_end, or null",
    )


class AgentAnswer(BaseModel):
    findings: list[ModelFinding]


@dataclass(frozen=True)
class Agent:
    name: str
    focus: str


AGENTS: dict[str, Agent] = {
    agent.name: agent
    for agent in (
        Agent(
            "security",
            "Find security vulnerabilities: injection (SQL, shell, template), unsafe "
            "deserialization or eval, path traversal, SSRF, missing authentication or "
            "authorization checks, secrets in code, weak cryptography, unsafe defaults.",
        ),
        Agent(
            "bugs",
            "Find bugs: wrong logic, off-by-one errors, unhandled None or errors, race "
            "conditions, resource leaks, wrong types, broken edge cases, code that cannot "
            "do what its name or comment says.",
        ),
        Agent(
            "performance",
            "Find performance problems: needless work in loops, quadratic algorithms, "
            "repeated I/O or queries (N+1), blocking calls in async code, unbounded memory, "
            "missing batching or caching where it clearly matters.",
        ),
        Agent(
            "style",
            "Find readability and maintainability problems: unclear names, dead code, "
            "duplicated logic, overly complex functions, misleading comments, "
            "inconsistency with the surrounding code. Skip pure formatting nits.",
        ),
    )
}

TASK_TEMPLATE = """Your task, as one specialist of several:
Second Look agent: {name}
{focus}
Report only what is in your area, on "+" or " " lines of the diff above, with their new-side \
numbers. Give `suggestion` only as replacement code for exactly line_start..line_end."""


def task(agent: Agent) -> str:
    """The end of an agent's request: the only part that differs between the agents."""
    return TASK_TEMPLATE.format(name=agent.name, focus=agent.focus)


# Severities outside the schema: the seed's table (warning -> medium), and common synonyms.
SEVERITY_ALIASES = {"warning": "medium", "error": "high", "major": "high", "minor": "low"}
UNKNOWN_SEVERITY = "medium"  # never `info`: an unknown label must still be able to fail a check


def map_severity(severity: str) -> str:
    """Map an agent's severity onto the database's; unknown labels become `medium`."""
    value = severity.strip().lower()
    if value in SEVERITIES:
        return value
    return SEVERITY_ALIASES.get(value, UNKNOWN_SEVERITY)


def severity_note(severity: str) -> str | None:
    """What to tell the reader when the model's label was not one we know."""
    value = severity.strip().lower()
    if value in SEVERITIES or value in SEVERITY_ALIASES:
        return None
    return (
        f"(The model rated this {severity.strip()[:40]!r}, which is not a known severity; "
        f"it is shown as {UNKNOWN_SEVERITY}.)"
    )
