"""The four agents: each an instruction over one shared finding schema."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

SEVERITIES = ("critical", "high", "medium", "low", "info")


def asked_in_order(schema: dict[str, Any]) -> None:
    """Every property is asked for, in the order declared: Gemini writes the required ones
    first, in `required`'s order, so a defaulted one (kept for answers stored before it) would
    otherwise come last; the properties' own order says it again (bot/review/gemini.json_schema)."""
    schema["required"] = list(schema.get("properties", {}))


class ModelFinding(BaseModel):
    """One finding as the model states it; lines are new-side line numbers."""

    # The docstring goes to Gemini as the schema's description. The fields' order is the
    # order the model writes them in: where and what first, then the evidence (the lines and
    # why the change breaks), only then the severity and the fix, and the model's confidence
    # last, once it has made its case. `evidence` and `confidence` have defaults so that an
    # answer stored before they existed (reused on a resumed review) still parses.
    model_config = ConfigDict(json_schema_extra=asked_in_order)

    file_path: str = Field(description="Path of the file exactly as in its '=== File:' line")
    line_start: int = Field(description="First line, new-side number from the listing")
    line_end: int = Field(description="Last line, new-side number (same as line_start for one)")
    title: str = Field(description="Short summary, under 80 characters")
    evidence: str = Field(
        default="",
        description="The lines involved, by new-side number and quoting their code, and why "
        "the change breaks them; name the changed ('+') line the problem comes from",
    )
    description: str = Field(description="What is wrong and why it matters")
    # The enum goes to Gemini in the schema; the answer is parsed as any text, then mapped.
    severity: str = Field(
        description="One of: critical, high, medium, low, info",
        json_schema_extra={"enum": list(SEVERITIES)},
    )
    suggestion: str | None = Field(
        default=None,
        description="Replacement code for exactly lines line_start..line_end, or null",
    )
    confidence: float | None = Field(
        default=None, description="How sure you are that the finding is real, 0 to 1"
    )


# An agent's answer is bounded: at most MAX_FINDINGS findings (the schema's maxItems, and the
# task says so), each about FINDING_TOKENS (a path, four short fields, a title under 80
# characters, the evidence (a line or two quoted and a sentence: 300 to 500 characters), a
# few sentences of description, a replacement of a few lines and a confidence: 1,400 to 1,850
# characters of JSON at about 4 a token). The request's maxOutputTokens is this answer's size
# plus the thinking budget; an answer cut there is a failed attempt, never "no findings".
MAX_FINDINGS = 10
FINDING_TOKENS = 460
ANSWER_TOKENS = 64 + MAX_FINDINGS * FINDING_TOKENS  # 4,664


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
Report only what is in your area and what this change causes, with new-side line numbers, at \
most {most} findings, the most important first. For each, first give the evidence: the lines \
involved (their numbers and code) and why the change breaks them. A finding on unchanged \
(" ") lines must name in its evidence the changed ("+") line it comes from; without one, do \
not report it. Then describe it in a few sentences and rate it. Give `suggestion` only as \
replacement code for exactly line_start..line_end, and `confidence` last."""


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
