"""Run the analyzers on the head text of the files a review reads, keep what they report on
added lines (reviewdog's `added` filter: a hit on any other line is dropped, never posted),
and turn each hit into a finding named by its tool and rule ("ruff F821")."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from bot.review.analyzers.base import Analyzer, Hit, Options
from bot.review.analyzers.registry import ANALYZERS
from bot.review.analyzers.sandbox import AnalyzerFailed, Output, execute, safe_path
from bot.review.changes import ChangedFile, Diff
from bot.review.chunks import FileContext
from bot.review.findings import Finding

log = logging.getLogger(__name__)

Switches = Mapping[str, Options]  # the analyzers that run (absent: off), with their options


def switches_of(
    analyzers: Mapping[str, Sequence[str]], configs: Mapping[str, tuple[str, str]]
) -> dict[str, Options]:
    """The analyzers the repository's `analyzers` key leaves on, with the rules it ignores and
    the analyzer's own configuration from the base branch."""
    return {
        name: Options(frozenset(ignored), configs.get(name))
        for name, ignored in analyzers.items()
        if name in ANALYZERS
    }


@dataclass
class Analyzed:
    findings: list[Finding] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)  # analyzer -> why it did not finish
    dropped: int = 0  # hits on lines the PR did not add
    seconds: float = 0.0


def head_texts(
    diff: Diff, heads: Mapping[str, FileContext], paths: Sequence[str]
) -> dict[str, str]:
    """Each file's text at the head, as the review already has it: an added file is all in the
    diff; another from its context (none when its text did not match the diff)."""
    texts: dict[str, str] = {}
    for path in paths:
        changed = diff.file(path)
        if changed is None or not safe_path(path):
            continue
        if changed.status == "added" and _whole(changed):
            texts[path] = "".join(changed.new_text[n] + "\n" for n in sorted(changed.new_text))
        elif path in heads:
            texts[path] = "".join(line + "\n" for line in heads[path].lines)
    return texts


def _whole(changed: ChangedFile) -> bool:
    lines = sorted(changed.new_text)
    return bool(lines) and lines == list(range(1, len(lines) + 1))


async def analyze(
    diff: Diff, texts: Mapping[str, str], switches: Switches, *, label: str = ""
) -> Analyzed:
    """Every analyzer switched on, at once, each on the files it takes."""
    started = time.monotonic()
    result = Analyzed()
    chosen = [(ANALYZERS[name], options) for name, options in switches.items()]
    added = {changed.path: changed.added for changed in diff.files}
    hits = await asyncio.gather(*(_one(a, o, texts, added, result, label) for a, o in chosen))
    for (analyzer, options), found in zip(chosen, hits, strict=True):
        for hit in found:
            changed = diff.file(hit.path)
            if changed is None or hit.line not in changed.added or hit.rule in options.ignore:
                result.dropped += 1
                continue
            result.findings.append(finding_of(analyzer.name, hit))
    result.seconds = time.monotonic() - started
    return result


async def _one(
    analyzer: Analyzer,
    options: Options,
    texts: Mapping[str, str],
    added: Mapping[str, frozenset[int]],
    result: Analyzed,
    label: str,
) -> list[Hit]:
    taken = {path: text for path, text in texts.items() if analyzer.takes(path)}
    if not taken:
        return []
    numbers: dict[str, list[int]] = {}  # an added_only tool's line -> the file's line
    if analyzer.added_only:
        for path, text in taken.items():
            taken[path], numbers[path] = only_added(text, added.get(path, frozenset()))

    def parse(output: Output) -> list[Hit]:
        return analyzer.hits(output.stdout, output.root)

    try:
        found = await execute(analyzer.command(taken, options), parse)
    except AnalyzerFailed as exc:
        why = str(exc)
    except (ValueError, KeyError, TypeError, OSError) as exc:  # no output we can read
        why = f"it could not run or its output could not be read ({type(exc).__name__})"
    else:
        assert isinstance(found, list)
        if not analyzer.added_only:
            return found
        return [
            replace(hit, line=numbers[hit.path][hit.line - 1])
            for hit in found
            if hit.path in numbers and 0 < hit.line <= len(numbers[hit.path])
        ]
    log.warning("%s: analyzer %s failed: %s", label or "review", analyzer.name, why)
    result.failures[analyzer.name] = why
    return []


def only_added(text: str, added: frozenset[int]) -> tuple[str, list[int]]:
    """The lines the PR added, one after another, and the file's number of each."""
    lines = text.split("\n")
    numbers = [n for n in sorted(added) if n <= len(lines)]
    return "".join(lines[n - 1] + "\n" for n in numbers), numbers


def finding_of(tool: str, hit: Hit) -> Finding:
    """A hit as a finding: its source is the tool and rule, its description ends with the
    rule's documentation."""
    message = " ".join(hit.message.split())
    title = message.split(". ")[0][:200] or f"{tool} {hit.rule}"
    description = message if message != title else ""
    if hit.docs:  # shown as the link of the finding's source (render.source)
        description += f"\n\nRule {tool} {hit.rule}: {hit.docs}"
    return Finding(
        agent_type=f"{tool} {hit.rule}",
        severity=hit.severity,
        file_path=hit.path,
        line_start=hit.line,
        line_end=hit.line,
        title=title,
        description=description,
    )
