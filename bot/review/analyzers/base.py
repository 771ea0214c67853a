"""The one shape every analyzer has: what it takes, how it runs, how its output maps to hits."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class Hit:
    """One thing a tool reported: a file, a new-side line, its rule and what it says.

    `message` never holds the flagged text when that text may be a secret."""

    path: str
    line: int
    rule: str  # the tool's rule id: "F821", "AWSKeyDetector"
    message: str
    severity: str  # one of agents.SEVERITIES, from the analyzer's table
    docs: str | None = None  # the rule's documentation


@dataclass(frozen=True)
class Run:
    """How to run a tool: the command, in a private directory holding the files (and the
    analyzer's config), and the limits it runs under."""

    argv: tuple[str, ...]
    files: Mapping[str, str]  # relative path in the directory -> text
    seconds: float = 30.0
    memory_bytes: int = 1024 * 1024 * 1024


class Analyzer(Protocol):
    """One tool. Adding eslint, golangci-lint or semgrep is one module with these four."""

    name: str  # the tool's name in a finding ("ruff") and the `analyzers` config key
    # True: the tool judges each line alone, so it reads only the added lines, one after
    # another (its line numbers mapped back): the same findings, for a fraction of the work
    added_only: bool

    def takes(self, path: str) -> bool:
        """Whether the tool reads this changed file."""

    def command(self, texts: Mapping[str, str], options: Options) -> Run:
        """How to run it on the files' head text ({path: text})."""

    def hits(self, stdout: str, root: Path) -> list[Hit]:
        """Its output (paths under `root`) as hits, paths relative again."""


@dataclass(frozen=True)
class Options:
    """What the repository said about one analyzer: rules off, and its own config."""

    ignore: frozenset[str] = frozenset()
    config: tuple[str, str] | None = None  # (file name, text) from the base branch
