"""Which files a review reads within its budget, decided while the diff streams in.

Priority, most important first: source code, then tests, then docs and config, then generated
or data files (by path, by `linguist-generated` in the base branch's .gitattributes, or by
content: very long lines). Within a class the smaller change comes first, so the most files
fit. A file is parsed only when it is chosen; until then at most `hold_bytes` of raw diff
text is held, and a file that cannot be chosen is counted and named, not kept.
"""

from __future__ import annotations

import fnmatch
import heapq
import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from enum import IntEnum

from bot.review.changes import ChangedFile, Diff, Skipped, parse_file, path_from_header, skip_reason
from bot.review.coverage import AgentFailure, Coverage

CHARS_PER_TOKEN = 4  # code averages about 4 characters a token; only for planning
RENDER_OVERHEAD = 9  # characters the agents' rendering adds to each diff line (its number)
LONG_LINE = 1_000  # a changed line this long is data or generated, not code a person wrote
BUDGET = "over this review's token budget (max_review_tokens)"
GENERATED = "generated or data file"


class Kind(IntEnum):
    """A file's class, in review order."""

    SOURCE = 0
    TEST = 1
    DOCS = 2  # docs and config
    GENERATED = 3  # generated or data


_DOCS = {".md", ".rst", ".txt", ".adoc", ".org", ".tex"}
_CONFIG = {".yml", ".yaml", ".toml", ".ini", ".cfg", ".conf", ".json", ".xml", ".properties",
           ".env", ".editorconfig", ".gitignore", ".gitattributes", ".dockerignore"}  # fmt: skip
_DATA = {".csv", ".tsv", ".jsonl", ".ndjson", ".parquet", ".svg", ".map", ".snap", ".pbtxt",
         ".dat", ".bin", ".lock", ".sum", ".po", ".pot", ".ipynb", ".geojson", ".har"}  # fmt: skip
_GENERATED = ("*_pb2.py", "*_pb2_grpc.py", "*.pb.go", "*.pb.cc", "*.pb.h", "*.generated.*",
              "*_generated.*", "*.g.dart", "*.freezed.dart", "*.designer.cs", "*.g.cs",
              "*/__snapshots__/*", "*/generated/*", "*/gen/*")  # fmt: skip
_TEST_DIRS = {"test", "tests", "spec", "specs", "__tests__", "testing", "testdata", "fixtures"}
_TEST_NAMES = ("test_*", "*_test.*", "*.test.*", "*.spec.*", "*Test.*", "*Tests.*", "*_spec.*")
_CONFIG_NAMES = {"Dockerfile", "Makefile", "Procfile", "Jenkinsfile", "CODEOWNERS", "LICENSE"}


def kind_of(path: str, generated: Callable[[str], bool] = lambda path: False) -> Kind:
    """The class of a file by its path (content can still make it GENERATED)."""
    name = path.rsplit("/", 1)[-1]
    suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if generated(path) or suffix in _DATA or _matches(path, _GENERATED):
        return Kind.GENERATED
    if suffix in _DOCS or suffix in _CONFIG or name in _CONFIG_NAMES or path.startswith("docs/"):
        return Kind.DOCS
    directories = set(path.split("/")[:-1])
    if directories & _TEST_DIRS or any(fnmatch.fnmatchcase(name, p) for p in _TEST_NAMES):
        return Kind.TEST
    return Kind.SOURCE


def _matches(path: str, patterns: Iterable[str]) -> bool:
    rooted = "/" + path
    return any(
        fnmatch.fnmatchcase(rooted, "*" + p.lstrip("*"))
        if p.startswith("*/")
        else fnmatch.fnmatchcase(path.rsplit("/", 1)[-1], p)
        for p in patterns
    )


@dataclass(frozen=True)
class Attributes:
    """`linguist-generated` from a .gitattributes: the patterns that set and unset it."""

    rules: tuple[tuple[str, bool], ...] = ()

    @classmethod
    def parse(cls, text: str) -> Attributes:
        rules = []
        for line in text.splitlines():
            parts = line.split()
            if not parts or parts[0].startswith("#"):
                continue
            for attribute in parts[1:]:
                if attribute in ("linguist-generated", "linguist-generated=true"):
                    rules.append((parts[0], True))
                elif attribute in ("-linguist-generated", "linguist-generated=false"):
                    rules.append((parts[0], False))
        return cls(tuple(rules))

    def generated(self, path: str) -> bool:
        """The last matching rule wins, as in git."""
        verdict = False
        for pattern, value in self.rules:
            if _git_match(pattern, path):
                verdict = value
        return verdict


def _git_match(pattern: str, path: str) -> bool:
    """A .gitattributes pattern: no slash matches the name at any depth, else from the root."""
    if pattern.endswith("/**"):
        return path.startswith(pattern.removesuffix("/**").lstrip("/") + "/")
    if "/" not in pattern:
        return fnmatch.fnmatchcase(path.rsplit("/", 1)[-1], pattern)
    return fnmatch.fnmatchcase(path, pattern.lstrip("/").replace("**/", "*"))


@dataclass(frozen=True)
class Section:
    """What is known of one file's diff without parsing it."""

    path: str
    lines: int  # changed lines, added and removed
    cost: int  # estimated tokens of its rendering for the agents
    longest: int  # the longest changed line, in characters


def measure(path: str, text: str) -> Section:
    body = text[text.find("\n@@") :] if "\n@@" in text else ""
    changed = [line for line in body.split("\n") if line[:1] in ("+", "-")]
    longest = max((len(line) for line in changed), default=0)
    chars = len(text) + RENDER_OVERHEAD * body.count("\n")
    return Section(path, len(changed), chars // CHARS_PER_TOKEN + 1, longest)


@dataclass(order=True)
class _Held:
    rank: tuple[int, int, int]  # the worst first in a heap: (-kind, -cost, -arrival)
    section: Section = field(compare=False)
    kind: Kind = field(compare=False)
    text: str = field(compare=False)


class Selection:
    """Offered one file at a time; keeps what may fit the budget, then chooses and parses.

    `capacity`: tokens of diff the agents may read (each agent reads all of it). `wanted`:
    whether a file is sent to the agents (an incremental review sends only the files changed
    since the last one); a file not sent costs nothing and is kept parsed when `keep` says
    so (it carries findings forward), else only counted as reviewed before.
    """

    def __init__(
        self,
        capacity: int,
        *,
        hold_bytes: int,
        ignore: tuple[str, ...] = (),
        attributes: Attributes = Attributes(),
        wanted: Callable[[str], bool] = lambda path: True,
        keep: Callable[[str], bool] = lambda path: False,
    ) -> None:
        self.capacity = capacity
        self.hold_bytes = hold_bytes
        self.ignore = ignore
        self.attributes = attributes
        self.wanted = wanted
        self.keep = keep
        self._held: list[_Held] = []  # a heap, the worst candidate on top
        self._held_bytes = 0
        self._arrival = itertools.count()
        self.skipped: list[Skipped] = []
        self.carried: list[ChangedFile] = []  # not sent, kept for the findings they carry
        self.files = 0
        self.lines = 0
        self.reviewed_before = 0  # files not sent: unchanged since the last review
        self.reviewed_before_lines = 0

    def offer(self, text: str) -> None:
        """One file's section of a unified diff (`diff --git` ... up to the next)."""
        path = path_from_header(text)
        if path is None:  # text before the first file, if any: no file in it
            return
        section = measure(path, text)
        self.files += 1
        self.lines += section.lines
        reason = skip_reason(path, self.ignore) or _policy(text)
        if reason:
            self.skipped.append(Skipped(path, reason, section.lines))
            return
        if not self.wanted(path):
            self.reviewed_before += 1
            self.reviewed_before_lines += section.lines
            if self.keep(path):
                parsed = parse_file(text, self.ignore)
                if isinstance(parsed, ChangedFile):
                    self.carried.append(parsed)
            return
        kind = kind_of(path, self.attributes.generated)
        if section.longest >= LONG_LINE:
            kind = Kind.GENERATED
        if section.cost > self.capacity:
            self._skip(section, kind)
            return
        arrival = next(self._arrival)
        heapq.heappush(self._held, _Held((-kind, -section.cost, -arrival), section, kind, text))
        self._held_bytes += len(text)
        while self._held_bytes > self.hold_bytes:
            worst = heapq.heappop(self._held)
            self._held_bytes -= len(worst.text)
            self._skip(worst.section, worst.kind)

    def too_large(self, path: str, lines: int, reason: str) -> None:
        """A file over the per-file size cap, counted without its text."""
        self.files += 1
        self.lines += lines
        if not self.wanted(path):
            self.reviewed_before += 1
            self.reviewed_before_lines += lines
            return
        self.skipped.append(Skipped(path, reason, lines, cut=True))

    def note(self, skipped: Skipped) -> None:
        """Something not reviewed that is not a file of the diff (GitHub's 3,000-file cap)."""
        self.skipped.append(skipped)

    def choose(self) -> tuple[Diff, Coverage]:
        """Parse the chosen files, most important first; the rest is skipped and named."""
        chosen: list[ChangedFile] = []
        room = self.capacity
        for held in sorted(self._held, key=lambda h: (h.kind, h.section.cost, -h.rank[2])):
            if held.section.cost > room:
                self._skip(held.section, held.kind)
                continue
            parsed = parse_file(held.text, self.ignore)
            if isinstance(parsed, ChangedFile):
                room -= held.section.cost
                chosen.append(parsed)
            elif parsed is not None:
                self.skipped.append(replace(parsed, lines=held.section.lines))
        self._held, self._held_bytes = [], 0
        diff = Diff(files=chosen + self.carried, skipped=self.skipped)
        return diff, self.coverage(chosen)

    def final(
        self,
        diff: Diff,
        sent: list[str],
        trimmed: list[str],
        unfinished: Sequence[AgentFailure] = (),
        failed: Sequence[AgentFailure] = (),
        agents: int = 1,
    ) -> Coverage:
        """The coverage once the agents ran: `trimmed` files, left out when the plan was
        counted exactly, join the files not reviewed for the budget. A file of a part for
        which an agent's call failed or was not made (`failed`, `unfinished`) was not read by
        that agent: it is partly reviewed, or not at all when none of the `agents` read it."""
        left_out = set(trimmed)
        missed: dict[str, set[str]] = {}  # path -> the agents that did not read it
        for call in (*unfinished, *failed):
            for path in call.paths:
                missed.setdefault(path, set()).add(call.agent)
        read: list[ChangedFile] = []
        partly: list[ChangedFile] = []
        for path in sent:
            changed = diff.file(path)
            if changed is None:
                continue
            if path in left_out:
                self.skipped.append(Skipped(path, BUDGET, changed.changed_lines, cut=True))
            elif path not in missed:
                read.append(changed)
            elif len(missed[path]) < agents:
                partly.append(changed)
        return replace(
            self.coverage(read, len(unfinished), tuple(failed)),
            partly_files=len(partly),
            partly_lines=sum(f.changed_lines for f in partly),
        )

    def coverage(
        self,
        chosen: list[ChangedFile],
        unfinished: int = 0,
        failed: tuple[AgentFailure, ...] = (),
    ) -> Coverage:
        return Coverage(
            files=self.files,
            reviewed_files=len(chosen) + self.reviewed_before,
            lines=self.lines,
            reviewed_lines=sum(f.changed_lines for f in chosen) + self.reviewed_before_lines,
            not_reviewed=tuple(sorted(self.skipped, key=lambda s: (not s.cut, s.path))),
            unfinished=unfinished,
            failed=failed,
        )

    def _skip(self, section: Section, kind: Kind) -> None:
        if kind is Kind.GENERATED:
            self.skipped.append(Skipped(section.path, GENERATED, section.lines))
        else:
            self.skipped.append(Skipped(section.path, BUDGET, section.lines, cut=True))


def _policy(text: str) -> str | None:
    """Binary and deleted files, from the section's header lines."""
    header = text.split("\n@@", 1)[0]
    if "\nBinary files " in header or "\nGIT binary patch" in header:
        return "binary"
    if "\ndeleted file mode " in header:
        return "deleted"
    return None
