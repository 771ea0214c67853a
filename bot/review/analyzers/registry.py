"""The analyzers that ship, by name (the `analyzers` config key's names), and what a finding's
`agent_type` says of its analyzer: "ruff F821", or "ruff F821 · bugs" once an agent's twin
merged into it."""

from __future__ import annotations

import re

from bot.review.analyzers.base import Analyzer
from bot.review.analyzers.ruff import Ruff
from bot.review.analyzers.secrets import Secrets

ANALYZERS: dict[str, Analyzer] = {a.name: a for a in (Ruff(), Secrets())}
SEPARATOR = " · "  # between the sources of one finding
SECURITY_RULE_PREFIXES = ("S",)  # ruff's bandit rules: the security agent's twins


def tool_of(agent_type: str) -> str | None:
    """The analyzer that found it, or None for an agent's finding."""
    tool = agent_type.split(" ", 1)[0]
    return tool if tool in ANALYZERS and " " in agent_type else None


def sources_of(agent_type: str) -> tuple[str, ...]:
    """Who found it, by name: ("ruff", "bugs") for "ruff F821 · bugs", ("bugs",) for an
    agent's finding, ("secrets",) for an analyzer's alone."""
    first, *rest = agent_type.split(SEPARATOR)
    return (tool_of(first) or first, *rest)


def kin_of(agent_type: str) -> tuple[str, ...] | None:
    """The agents whose finding on the same lines is the same finding as this analyzer's
    (None: not an analyzer's): a leaked secret is the security agent's; a shell injection
    the security or the bugs agent's; a pyflakes or bugbear rule the bugs agent's."""
    tool = tool_of(agent_type)
    if tool is None:
        return None
    rule = agent_type.split(SEPARATOR, 1)[0].split(" ", 1)[1]
    if tool == "secrets":
        return ("security",)
    if rule.startswith(SECURITY_RULE_PREFIXES):
        return ("security", "bugs")
    return ("bugs",)


# The rule's documentation, as `run.finding_of` ends an analyzer finding's description; only
# these hosts and paths are ever made a link.
_DOCS = re.compile(
    r"\n\nRule \S+ \S+: (https://docs\.astral\.sh/ruff/rules/[a-z0-9-]+/?"
    r"|https://github\.com/Yelp/detect-secrets#[a-z0-9-]+)(?=\n|$)"
)


def docs_of(agent_type: str, description: str) -> str | None:
    """The documentation of an analyzer finding's rule, or None."""
    if tool_of(agent_type) is None:
        return None
    found = _DOCS.search(description)
    return found.group(1) if found else None


def without_docs(agent_type: str, description: str) -> str:
    """The description as shown beside the link: without its documentation line."""
    if docs_of(agent_type, description) is None:
        return description
    return _DOCS.sub("", description, count=1).strip()
