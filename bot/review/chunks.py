"""The diff as the agents read it: files numbered on the new side, each hunk with the code
around it (its enclosing scope at the head, marked as context), cut into chunks that fit one
request, where context never takes more than a set share."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from bot.review.changes import ChangedFile, Hunk
from bot.review.scopes import enclosing

CONTEXT_SHARE = 0.4  # at most this share of each chunk (and of each file in it) is context
CUT_NOTE = 200  # room kept for the note on a hunk cut at line boundaries
ELIDED = "       ~| ..."  # context lines left out between the signature and the nearest ones


@dataclass(frozen=True)
class Chunk:
    """The diff one call reads: the same text for every agent."""

    number: int
    text: str
    paths: tuple[str, ...] = ()
    context_chars: int = 0  # of `text`, the context lines


@dataclass(frozen=True)
class Around:
    """The context of one hunk: head lines before and after it, within its scope."""

    label: str
    before: tuple[int, int]  # inclusive range; empty when start > end
    after: tuple[int, int]


@dataclass(frozen=True)
class FileContext:
    """A file at the head, and the context of each of its hunks (by index)."""

    lines: tuple[str, ...]
    around: dict[int, Around] = field(default_factory=dict)


def context_of(changed: ChangedFile, head: str, *, max_lines: int = 150) -> FileContext | None:
    """Each hunk's enclosing scope in the head text; None when the text does not match the
    diff (another commit, other line endings), since wrong context is worse than none."""
    split = head.split("\n")
    if split and split[-1] == "":  # the newline that ends the last line starts none
        split.pop()
    lines = tuple(line.rstrip("\r") for line in split)
    if any(n > len(lines) or lines[n - 1] != text for n, text in changed.new_text.items()):
        return None
    around: dict[int, Around] = {}
    shown = 0  # the last head line already shown, by a hunk or its context
    hunks = changed.hunks
    for index, hunk in enumerate(hunks):
        start, end = _changed_range(hunk)
        scope = enclosing(changed.path, head, start, end, max_lines=max_lines)
        limit = hunks[index + 1].new_start - 1 if index + 1 < len(hunks) else len(lines)
        before = (max(scope.start, shown + 1), hunk.new_start - 1)
        after = (hunk.new_end + 1, min(scope.end, limit))
        around[index] = Around(scope.label, before, after)
        shown = max(hunk.new_end, after[1])
    return FileContext(lines, around)


def _changed_range(hunk: Hunk) -> tuple[int, int]:
    """The new-side lines a hunk changes (not its unchanged lines, which may reach into the
    next function); for a hunk that only deletes, the line after the deletion."""
    added = [number for kind, number, _ in hunk.lines if kind == "+" and number is not None]
    if added:
        return min(added), max(added)
    following = hunk.new_start
    for kind, number, _ in hunk.lines:
        if kind == "-":
            break
        if number is not None:
            following = number + 1
    return following, following


def _numbered(lines: Iterable[tuple[str, int | None, str]]) -> list[str]:
    return [f"{'' if number is None else number:>6} {kind}| {text}" for kind, number, text in lines]


def _context_lines(context: FileContext, first: int, last: int) -> list[str]:
    return _numbered(("~", n, context.lines[n - 1]) for n in range(first, last + 1))


def _header(changed: ChangedFile) -> list[str]:
    return [f"=== File: {changed.path} ===", f"({changed.status} file)"]


class _Room:
    """What context may still take in the piece being rendered."""

    def __init__(self, chars: int) -> None:
        self.chars = chars
        self.used = 0

    def fits(self, line: str) -> bool:
        return self.used + len(line) + 1 <= self.chars

    def take(self, lines: list[str], *, nearest_last: bool) -> list[str]:
        """As many of `lines` as fit, those nearest the hunk first."""
        kept: list[str] = []
        for line in reversed(lines) if nearest_last else lines:
            if not self.fits(line):
                break
            kept.append(line)
            self.used += len(line) + 1
        return kept[::-1] if nearest_last else kept

    def take_scope(self, lines: list[str]) -> list[str]:
        """The lines above a hunk: all when they fit, else the scope's first line (its
        signature), a mark, and as many of those nearest the hunk as fit."""
        total = sum(len(line) + 1 for line in lines)
        if self.used + total <= self.chars:
            self.used += total
            return list(lines)
        head = len(lines[0]) + len(ELIDED) + 2 if lines else 0
        if len(lines) < 3 or self.used + head > self.chars:
            return self.take(lines, nearest_last=True)
        self.used += head
        return [lines[0], ELIDED, *self.take(lines[1:], nearest_last=True)]


def render_file(
    changed: ChangedFile,
    hunks: Iterable[int] | None = None,
    context: FileContext | None = None,
    room: _Room | None = None,
) -> str:
    """A file as the agents read it: every hunk numbered on the new side, with as much of
    its context as `room` allows."""
    lines = _header(changed)
    for index in range(len(changed.hunks)) if hunks is None else hunks:
        hunk = changed.hunks[index]
        around = context.around.get(index) if context else None
        before: list[str] = []
        after: list[str] = []
        if around is not None and context is not None and room is not None:
            label = f"~ context: {around.label}"
            room.used += len(label) + 1
            before = room.take_scope(_context_lines(context, *around.before))
            after = room.take(_context_lines(context, *around.after), nearest_last=False)
            if before or after:
                lines.append(label)
            else:
                room.used -= len(label) + 1
        lines += before
        lines.append(hunk.header)
        lines += _numbered(hunk.lines)
        lines += after
    return "\n".join(lines) + "\n"


def _cut_hunk(changed: ChangedFile, hunk: Hunk, budget_chars: int) -> list[str]:
    """A hunk too large for one chunk, cut at line boundaries into parts that each fit."""
    head = "\n".join(_header(changed)) + f"\n{hunk.header}\n"
    parts: list[list[str]] = [[]]
    size = 0
    room = max(budget_chars - len(head) - CUT_NOTE, 40)  # at least a line's start, to go on
    for line in _numbered(hunk.lines):
        if parts[-1] and size + len(line) + 1 > room:
            parts.append([])
            size = 0
        parts[-1].append(line[:room])  # a single line longer than a chunk is cut too
        size += len(line[:room]) + 1
    total = len(parts)
    return [
        head + f"(part {i} of {total} of this hunk: it is larger than one request, so it is "
        "cut at line boundaries; the other parts are read in other requests)\n"
        + "\n".join(part)
        + "\n"
        for i, part in enumerate(parts, start=1)
    ]


class _Builder:
    def __init__(self, budget_chars: int, share: float) -> None:
        self.budget = budget_chars
        self.share = share
        self.chunks: list[Chunk] = []
        self.texts: list[str] = []
        self.paths: list[str] = []
        self.size = 0
        self.context = 0  # chars of context lines in the chunk being built

    def left(self) -> int:
        return self.budget - self.size

    def add(self, path: str, render: _Render, plain_size: int) -> None:
        """Add a rendered piece with context of at most `share` of the piece (so of the
        chunk too), within the room the chunk has left."""
        ratio = self.share / (1 - self.share) if self.share < 1 else 0.0
        room = _Room(min(int(plain_size * ratio), self.left() - plain_size))
        text = render(room)
        self.texts.append(text)
        self.paths.append(path)
        self.size += len(text)
        self.context += room.used

    def whole(self, text: str, path: str) -> None:
        """A piece that is a chunk of its own."""
        self.flush()
        self.chunks.append(Chunk(len(self.chunks) + 1, text, (path,)))

    def flush(self) -> None:
        if self.texts:
            paths = tuple(dict.fromkeys(self.paths))
            chunk = Chunk(len(self.chunks) + 1, "\n".join(self.texts), paths, self.context)
            self.chunks.append(chunk)
        self.texts, self.paths, self.size, self.context = [], [], 0, 0


class _Render:
    def __init__(self, changed: ChangedFile, hunks: list[int] | None, ctx: FileContext | None):
        self.changed, self.hunks, self.ctx = changed, hunks, ctx

    def __call__(self, room: _Room | None = None) -> str:
        return render_file(self.changed, self.hunks, self.ctx, room)


def chunk_diff(
    files: Iterable[ChangedFile],
    budget_chars: int,
    heads: Mapping[str, FileContext] | None = None,
    share: float = CONTEXT_SHARE,
) -> list[Chunk]:
    """Cut the files into chunks under the budget: a file too large alone is cut by hunks,
    and a hunk too large alone at line boundaries, with a note; nothing is dropped. Context
    (from `heads`) fills at most `share` of each chunk, and only room the diff leaves."""
    heads = heads or {}
    build = _Builder(budget_chars, share)
    for changed in files:
        ctx = heads.get(changed.path) if share > 0 else None
        whole = _Render(changed, None, ctx)
        plain = len(whole())
        if plain <= budget_chars:
            if plain > build.left():
                build.flush()
            build.add(changed.path, whole, plain)
            continue
        build.flush()
        part: list[int] = []
        part_size = 0
        for index, hunk in enumerate(changed.hunks):
            hunk_size = len(render_file(changed, [index]))
            if part and part_size + hunk_size > budget_chars:
                build.add(changed.path, _Render(changed, part, ctx), part_size)
                build.flush()
                part, part_size = [], 0
            if hunk_size > budget_chars:
                for piece in _cut_hunk(changed, hunk, budget_chars):
                    build.whole(piece, changed.path)
                continue
            part.append(index)
            part_size += hunk_size
        if part:
            build.add(changed.path, _Render(changed, part, ctx), part_size)
            build.flush()
    build.flush()
    return build.chunks
