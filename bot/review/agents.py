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


# An agent's answer is bounded: at most MAX_FINDINGS findings (the schema's maxItems, and the
# task says so), each about FINDING_TOKENS (a path, four short fields, a title under 80
# characters, a few sentences of description, a replacement of a few lines: 1,000 to 1,400
# characters of JSON at about 4 a token). The request's maxOutputTokens is this answer's size
# plus the thinking budget; an answer cut there is a failed attempt, never "no findings".
MAX_FINDINGS = 10
FINDING_TOKENS = 350
ANSWER_TOKENS = 64 + MAX_FINDINGS * FINDING_TOKENS  # 3,564


class AgentAnswer(BaseModel):
    # maxItems goes to Gemini in the schema; a longer list is still parsed, not refused.
    findings: list[ModelFinding] = Field(json_schema_extra={"maxItems": MAX_FINDINGS})


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
numbers, at most {most} findings, the most important first, each described in a few \
sentences. Give `suggestion` only as replacement code for exactly line_start..line_end."""


def task(agent: Agent) -> str:
    """The end of an agent's request: the only part that differs between the agents."""
    return TASK_TEMPLATE.format(name=agent.name, focus=agent.focus, most=MAX_FINDINGS)


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
