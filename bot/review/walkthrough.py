"""The walkthrough: what the PR does, its files grouped by purpose, the effort to review it
and where to look first. One more call per chunk, on the agents' shared prefix, beside them;
the chunks' answers are merged here without another call."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, replace

from pydantic import BaseModel, Field

WALKTHROUGH = "walkthrough"  # its calls are stored and metered under this name
MAX_ROWS = 40  # file rows one call describes (the schema's maxItems)
MAX_FOCUS = 5  # places to look first, per call and merged
SUMMARY_SENTENCES = 4  # the merged summary keeps at most this many, the first chunks' first
# Characters of each model text kept, so that the section stays a small part of the comment.
MAX_GROUP, MAX_LINE, MAX_SENTENCE = 40, 240, 400
# An answer: a summary of a few sentences (about 150 tokens), an effort and its reason
# (about 60), a row per file (a path, a group, one line: about 50) and a few places to look
# (about 50 each). The request's maxOutputTokens is this plus the thinking budget.
ROW_TOKENS = 50
ANSWER_TOKENS = 300 + MAX_ROWS * ROW_TOKENS + MAX_FOCUS * 50  # 2,550


class ModelRow(BaseModel):
    path: str = Field(description="Path of the file exactly as in its '=== File:' line")
    group: str = Field(description="What the change in this file is for, in 1-4 words")
    change: str = Field(description="One line: what changed in this file")


class ModelFocus(BaseModel):
    path: str = Field(description="Path of the file exactly as in its '=== File:' line")
    why: str = Field(description="One line: what a human reviewer should check there")


class WalkAnswer(BaseModel):
    summary: str = Field(
        description="2-4 sentences: what the change does; say so when the code does "
        "something the pull request's description does not mention"
    )
    files: list[ModelRow] = Field(json_schema_extra={"maxItems": MAX_ROWS})
    effort: int = Field(description="Effort to review this part, 1 (trivial) to 5 (hard)")
    effort_reason: str = Field(description="One line: why that effort")
    focus: list[ModelFocus] = Field(json_schema_extra={"maxItems": MAX_FOCUS})


TASK = f"""Your task:
Second Look walkthrough
Describe this part of the change for a human reviewer, from the diff and the pull request's \
stated intent: in `summary`, what it does in two to four sentences, saying plainly when the \
code does something the description does not mention; in `files`, one row per file of this \
part (at most {MAX_ROWS}) with what the change is for and one line on what changed; the \
effort to review it from 1 to 5 with a one-line reason; and in `focus`, at most {MAX_FOCUS} \
places a human reviewer should look first. Describe, do not review: no findings."""


@dataclass(frozen=True)
class FileRow:
    path: str
    group: str
    change: str


@dataclass(frozen=True)
class Focus:
    path: str
    why: str


@dataclass(frozen=True)
class Walkthrough:
    """The walkthrough a summary opens with: all model text, rendered escaped."""

    summary: str = ""
    files: tuple[FileRow, ...] = ()
    effort: int | None = None  # 1-5; None: no part was described
    effort_reason: str = ""
    focus: tuple[Focus, ...] = ()
    missing: tuple[str, ...] = ()  # "part 2: why" for each part not described
    kept_from: str = ""  # incremental: the last review's head ("" a full review)
    kept: int = 0  # rows of files unchanged since it, kept from its walkthrough

    @property
    def empty(self) -> bool:
        return not self.files and not self.summary


@dataclass(frozen=True)
class Part:
    """One chunk's answer, with the files that chunk holds."""

    number: int
    paths: tuple[str, ...]
    answer: WalkAnswer


def merge(parts: Iterable[Part], missing: Iterable[str] = ()) -> Walkthrough:
    """The chunks' answers as one walkthrough, in chunk order, without another call: the file
    rows concatenated (only files of their chunk, each once), the first chunks' summary
    sentences, the highest effort with its reason, the first places to look."""
    ordered = sorted(parts, key=lambda p: p.number)
    rows: dict[str, FileRow] = {}
    focus: list[Focus] = []
    sentences: list[str] = []
    effort: int | None = None
    reason = ""
    for part in ordered:
        answer = part.answer
        for row in answer.files:
            if row.path in part.paths and row.path not in rows:
                rows[row.path] = FileRow(
                    row.path, _short(row.group, MAX_GROUP), _short(row.change, MAX_LINE)
                )
        focus += [
            Focus(f.path, _short(f.why, MAX_LINE)) for f in answer.focus if f.path in part.paths
        ]
        sentences += [_short(s, MAX_SENTENCE) for s in _sentences(answer.summary)]
        value = min(max(answer.effort, 1), 5)
        if effort is None or value > effort:
            effort, reason = value, _short(answer.effort_reason, MAX_LINE)
    return Walkthrough(
        summary=" ".join(sentences[:SUMMARY_SENTENCES]),
        files=tuple(rows.values()),
        effort=effort,
        effort_reason=reason,
        focus=tuple(focus[:MAX_FOCUS]),
        missing=tuple(missing),
    )


def _short(value: str, limit: int) -> str:
    value = " ".join(value.split())
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _sentences(value: str) -> list[str]:
    out, start = [], 0
    value = " ".join(value.split())
    for i, char in enumerate(value):
        if char in ".!?" and (i + 1 == len(value) or value[i + 1] == " "):
            out.append(value[start : i + 1].strip())
            start = i + 1
    rest = value[start:].strip()
    return out + ([rest] if rest else [])


def carry(
    now: Walkthrough, previous: Walkthrough | None, changed: Collection[str], since: str
) -> Walkthrough:
    """An incremental review's walkthrough: the previous walkthrough's rows, in its order,
    the rows of the files changed since replaced by this review's (dropped when it has none:
    the file left the PR or was not read), this review's other rows after them. The summary,
    effort and places to look are this review's."""
    if previous is None:  # nothing kept: it describes only what changed since
        return replace(now, kept_from=since, kept=0)
    fresh = {row.path: row for row in now.files}
    files: list[FileRow] = []
    kept = 0
    for row in previous.files:
        if row.path not in changed:
            files.append(row)
            kept += 1
        elif row.path in fresh:
            files.append(fresh.pop(row.path))
    files += fresh.values()
    return replace(now, files=tuple(files), kept_from=since, kept=kept)
