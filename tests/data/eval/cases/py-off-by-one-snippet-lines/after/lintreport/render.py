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


def _excerpt(root: Path, problem: Problem, context: int = 1) -> str:
    """The offending lines plus `context` lines either side, as a fenced code block."""
    try:
        lines = (root / problem.path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return ""
    start = max(problem.line - context, 0)
    end = min(problem.end_line + context, len(lines))
    body = "\n".join(lines[start:end])
    return f"  ```\n{body}\n  ```"


def render_markdown(problems: list[Problem], root: Path, *, excerpts: bool = False) -> str:
    if not problems:
        return "No problems found. :tada:"
    sections = []
    for path, items in group_by_file(problems).items():
        sections.append(f"### `{path}`\n")
        for p in items:
            sections.append(f"- **{p.code}** (line {p.line}): {p.message}")
            if excerpts:
                snippet = _excerpt(root, p)
                if snippet:
                    sections.append(snippet)
        sections.append("")
    return "\n".join(sections).rstrip() + "\n"
