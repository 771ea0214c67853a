"""`eval`'s labelled cases: one JSON object a line, read and checked (the error names the line).

A case is a PR (`id`, `title`, `body`, `base`, `diff`, `head_files`) with what it is (`language`,
`kind`: `bug`, `style` or `clean`), where it comes from (`source`: a commit URL or
`second-look:synthetic`, one token) under which `licence` (an SPDX id), and the findings it should
get (`expected`: path, lines, severity, `what` is wrong, and optionally the `agent` that should
find it). A `clean` case expects nothing; a `bug` or `style` case expects something.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib.resources.abc import Traversable
from typing import Any

from bot.review.agents import SEVERITIES

KINDS = ("bug", "style", "clean")


class EvalError(Exception):
    """The labelled file cannot be read; the message names the line."""


@dataclass(frozen=True)
class Expected:
    path: str
    line_start: int
    line_end: int
    severity: str
    what: str  # one sentence: what is wrong
    agent: str | None = None


@dataclass(frozen=True)
class Case:
    id: str
    diff: str
    title: str = ""
    body: str = ""
    base: str = "main"
    head_files: dict[str, str] = field(default_factory=dict)
    expected: tuple[Expected, ...] = ()
    language: str = "unknown"
    kind: str = "clean"
    source: str = "second-look:synthetic"
    licence: str = "MIT"

    def listed(self) -> str:
        """Its `eval --list` line: id, language, kind and source, whitespace-separated."""
        return f"{self.id} {self.language} {self.kind} {self.source}"


def _text(item: dict[str, Any], key: str, where: str, default: str | None = None) -> str:
    value = item.get(key, default)
    if not isinstance(value, str):
        raise EvalError(f"{where}: {key!r} must be text")
    return value


def _token(item: dict[str, Any], key: str, where: str) -> str:
    """A required value of one word: the --list line splits on whitespace."""
    value = item.get(key)
    if not isinstance(value, str) or not value or value.split() != [value]:
        raise EvalError(f"{where}: {key!r} must be one word without spaces")
    return value


def parse_case(line: str, where: str) -> Case:
    try:
        item = json.loads(line)
    except ValueError as exc:
        raise EvalError(f"{where}: not JSON ({exc})") from None
    if not isinstance(item, dict):
        raise EvalError(f"{where}: each line must be a JSON object")
    heads = item.get("head_files") or {}
    if not isinstance(heads, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in heads.items()
    ):
        raise EvalError(f"{where}: 'head_files' must map paths to text")
    expected = item.get("expected") or []
    if not isinstance(expected, list):
        raise EvalError(f"{where}: 'expected' must be a list")
    case_id = _token(item, "id", where)
    kind = item.get("kind")
    if kind not in KINDS:
        raise EvalError(f"{where}: 'kind' must be one of {', '.join(KINDS)}")
    if kind == "clean" and expected:
        raise EvalError(f"{where}: a clean case expects no finding")
    if kind != "clean" and not expected:
        raise EvalError(f"{where}: a {kind} case expects at least one finding")
    return Case(
        id=case_id,
        diff=_text(item, "diff", where),
        title=_text(item, "title", where, ""),
        body=_text(item, "body", where, ""),
        base=_text(item, "base", where, "main"),
        head_files=heads,
        expected=tuple(_expected(e, f"{where}, expected #{n}") for n, e in enumerate(expected, 1)),
        language=_token(item, "language", where).lower(),
        kind=kind,
        source=_token(item, "source", where),
        licence=_token(item, "licence", where),
    )


def _expected(item: object, where: str) -> Expected:
    if not isinstance(item, dict):
        raise EvalError(f"{where}: must be an object")
    start, end = item.get("line_start"), item.get("line_end", item.get("line_start"))
    if not isinstance(start, int) or not isinstance(end, int) or not 1 <= start <= end:
        raise EvalError(f"{where}: line_start and line_end must be lines, start <= end")
    severity = item.get("severity", "medium")
    if severity not in SEVERITIES:
        raise EvalError(f"{where}: severity must be one of {', '.join(SEVERITIES)}")
    what = item.get("what")
    if not isinstance(what, str) or not what.strip():
        raise EvalError(f"{where}: 'what' must say in a sentence what is wrong")
    agent = item.get("agent")
    if agent is not None and not isinstance(agent, str):
        raise EvalError(f"{where}: 'agent' must be text")
    return Expected(_text(item, "path", where), start, end, severity, what.strip(), agent)


def read_cases(path: Traversable) -> list[Case]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise EvalError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    cases: list[Case] = []
    lines_of: dict[str, int] = {}
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        case = parse_case(line, f"{path}:{number}")
        if case.id in lines_of:
            raise EvalError(f"{path}:{number}: id {case.id!r} is line {lines_of[case.id]}'s too")
        lines_of[case.id] = number
        cases.append(case)
    if not cases:
        raise EvalError(f"{path} holds no PR")
    return cases
