"""Render lint results as plain text for the terminal or as Markdown for CI comments."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    path: str
    line: int  # 1-based
    end_line: int  # 1-based, inclusive
    code: str
    message: str


def group_by_file(problems: list[Problem]) -> dict[str, list[Problem]]:
    grouped: dict[str, list[Problem]] = defaultdict(list)
    for problem in sorted(problems, key=lambda p: (p.path, p.line, p.code)):
        grouped[problem.path].append(problem)
    return dict(grouped)


def render_text(problems: list[Problem]) -> str:
    out = []
    for path, items in group_by_file(problems).items():
        for p in items:
            out.append(f"{path}:{p.line}: {p.code} {p.message}")
    return "\n".join(out)


def render_markdown(problems: list[Problem], root: Path) -> str:
    if not problems:
        return "No problems found. :tada:"
    sections = []
    for path, items in group_by_file(problems).items():
        sections.append(f"### `{path}`\n")
        for p in items:
            sections.append(f"- **{p.code}** (line {p.line}): {p.message}")
        sections.append("")
    return "\n".join(sections).rstrip() + "\n"
