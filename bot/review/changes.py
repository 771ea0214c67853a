"""The diff as the review sees it: changed files, their new-side lines, and skipped files."""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field

from unidiff.constants import RE_HUNK_HEADER
from unidiff.errors import UnidiffParseError
from unidiff.patch import PatchedFile, PatchSet

# Reviewing these costs tokens and finds nothing a person wrote.
LOCK_FILES = {
    "package-lock.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "poetry.lock",
    "Pipfile.lock",
    "Cargo.lock",
    "go.sum",
    "composer.lock",
    "Gemfile.lock",
    "uv.lock",
    "mix.lock",
    "packages.lock.json",
    "flake.lock",
}
VENDORED = ("vendor/", "third_party/", "node_modules/", "dist/", "vendored/")
UNPARSABLE = "its diff could not be parsed: "  # the reason of a file's, then why


@dataclass(frozen=True)
class Hunk:
    """One hunk: its header, its lines with new-side numbers, and the new-side range it covers."""

    header: str
    new_start: int
    new_end: int  # inclusive; new_end < new_start for a hunk that only deletes
    lines: tuple[tuple[str, int | None, str], ...]  # (" ", "+" or "-"; new line number; text)


@dataclass(frozen=True)
class ChangedFile:
    path: str
    status: str  # added | modified | removed | renamed
    hunks: tuple[Hunk, ...]
    new_text: dict[int, str] = field(repr=False)  # new-side line number -> text, within hunks
    added: frozenset[int]

    @property
    def changed_lines(self) -> int:
        """Lines added and removed."""
        return sum(1 for hunk in self.hunks for kind, _, _ in hunk.lines if kind != " ")

    def hunk_of(self, line: int) -> Hunk | None:
        for hunk in self.hunks:
            if hunk.new_start <= line <= hunk.new_end and line in self.new_text:
                return hunk
        return None

    def in_one_hunk(self, start: int, end: int) -> bool:
        """True when every line start..end is on the new side of one hunk."""
        hunk = self.hunk_of(start)
        return hunk is not None and all(
            n in self.new_text and hunk.new_start <= n <= hunk.new_end
            for n in range(start, end + 1)
        )


@dataclass(frozen=True)
class Skipped:
    """A file not reviewed: why, how many lines it changed, and whether it was cut.

    `cut`: the file would have been reviewed but for the review's token budget, a size cap
    or its diff not parsing (`unparsable`), so the review is partial. Binary, deleted, lock,
    vendored, generated and ignored files are not reviewed by choice.
    """

    path: str
    reason: str
    lines: int = 0
    cut: bool = False
    unparsable: bool = False


@dataclass
class Diff:
    files: list[ChangedFile] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    @property
    def paths(self) -> list[str]:
        """The changed file paths that are reviewed (the seed's step 3)."""
        return [f.path for f in self.files]

    def add(self, parsed: ChangedFile | Skipped | None) -> None:
        """Keep a parsed file as reviewed or skipped (None: the section held no file)."""
        if isinstance(parsed, Skipped):
            self.skipped.append(parsed)
        elif parsed is not None:
            self.files.append(parsed)

    def file(self, path: str) -> ChangedFile | None:
        for changed in self.files:
            if changed.path == path:
                return changed
        return None


def skip_reason(path: str, ignore: tuple[str, ...] = ()) -> str | None:
    """Why a file is not reviewed by default, or None to review it."""
    name = path.rsplit("/", 1)[-1]
    if name in LOCK_FILES:
        return "lock file"
    if name.endswith((".min.js", ".min.css")) or ".min." in name:
        return "minified"
    if any(path.startswith(prefix) or f"/{prefix}" in path for prefix in VENDORED):
        return "vendored"
    for pattern in ignore:
        if fnmatch.fnmatchcase(path, pattern) or fnmatch.fnmatchcase(name, pattern):
            return f"ignored by config ({pattern})"
    return None


def parse_file(text: str, ignore: tuple[str, ...] = ()) -> ChangedFile | Skipped | None:
    """Parse one file's section of a unified diff; None when it holds no file. A section the
    parser refuses, or of which it read fewer changed lines than the section holds (it skips
    what it does not know, such as a line under a malformed hunk header), is `unparsable`."""
    try:
        patch = PatchSet(text)
    except UnidiffParseError as exc:
        path = path_from_header(text)
        return unparsable(path, str(exc)) if path else None
    if not patch:
        path, unread = path_from_header(text), _unread(text, 0)
        return unparsable(path, unread) if path and unread else None
    patched = patch[0]
    path = unquote(patched.path)
    if patched.is_binary_file:
        return Skipped(path, "binary")
    if patched.is_removed_file:
        return Skipped(path, "deleted")
    reason = skip_reason(path, ignore)
    if reason:
        return Skipped(path, reason)
    changed = _changed_file(patched)
    unread = _unread(text, changed.changed_lines)
    if unread:
        return unparsable(path, unread)
    if not len(patched):
        return Skipped(path, "no changed lines (rename or mode change)")
    return changed


def unparsable(path: str, why: str) -> Skipped:
    """A file whose diff could not be parsed: not reviewed, so the review is partial."""
    return Skipped(path, UNPARSABLE + why, cut=True, unparsable=True)


def _unread(text: str, parsed: int) -> str | None:
    """Why the section holds changed lines the parser did not read (`parsed` were read), or
    None when it read them all. The lines counted are those after the `+++` line that start
    with `+` or `-`: in a diff git writes, only the hunks' added and removed lines."""
    lines = text.split("\n")
    start = next((i + 1 for i, line in enumerate(lines) if line.startswith("+++ ")), None)
    if start is None:
        return None
    body = lines[start:]
    while body and not body[-1].strip():
        body.pop()
    if len(body) >= 2 and body[-2] == "-- ":  # git format-patch's signature, after the last file
        body = body[:-2]
    changed = sum(1 for line in body if line[:1] in ("+", "-"))
    if changed <= parsed:
        return None
    header = next(
        (line for line in body if line.startswith("@@") and not RE_HUNK_HEADER.match(line)), None
    )
    if header is not None:
        return f"a hunk header does not parse: {header[:80]!r}"
    return f"{changed - parsed} changed line(s) outside any hunk"


def _changed_file(patched: PatchedFile) -> ChangedFile:
    hunks = []
    new_text: dict[int, str] = {}
    added: set[int] = set()
    for hunk in patched:
        lines = []
        for line in hunk:
            kind = line.line_type
            if kind not in ("+", "-", " "):
                continue  # "\ No newline at end of file"
            text = line.value.rstrip("\n")
            number = line.target_line_no
            lines.append((kind, number, text))
            if number is not None:
                new_text[number] = text
                if kind == "+":
                    added.add(number)
        header = str(hunk).split("\n", 1)[0]
        hunks.append(
            Hunk(
                header, hunk.target_start, hunk.target_start + hunk.target_length - 1, tuple(lines)
            )
        )
    if patched.is_added_file:
        status = "added"
    elif patched.is_rename:
        status = "renamed"
    else:
        status = "modified"
    return ChangedFile(unquote(patched.path), status, tuple(hunks), new_text, frozenset(added))


_ESCAPES = {"\\": b"\\", '"': b'"', "t": b"\t", "n": b"\n", "a": b"\a", "b": b"\b",
            "f": b"\f", "r": b"\r", "v": b"\v"}  # fmt: skip


def unquote(path: str) -> str:
    """Undo git's C-style quoting of unusual paths ("caf\\303\\251.md" is café.md)."""
    if len(path) < 2 or not (path.startswith('"') and path.endswith('"')):
        return path
    raw = path[1:-1]
    out = bytearray()
    i = 0
    while i < len(raw):
        char = raw[i]
        if char != "\\" or i + 1 == len(raw):
            out += char.encode()
            i += 1
        elif raw[i + 1 : i + 4].isdigit() and len(raw[i + 1 : i + 4]) == 3:
            out.append(int(raw[i + 1 : i + 4], 8) & 0xFF)
            i += 4
        else:
            out += _ESCAPES.get(raw[i + 1], raw[i + 1].encode())
            i += 2
    return out.decode("utf-8", errors="replace")


def too_large_reason(cap: int) -> str:
    return f"size cap: the diff of this file is over {cap:,} bytes (MAX_DIFF_FILE_BYTES)"


def path_from_header(text: str) -> str | None:
    """The new path named by a section's `diff --git` line (quoted by git when unusual)."""
    first = text.split("\n", 1)[0]
    if not first.startswith("diff --git "):
        return None
    if ' "b/' in first:
        return unquote('"' + first.rsplit(' "b/', 1)[1])
    if " b/" in first:
        return first.rsplit(" b/", 1)[1]
    return None


def split_sections(diff: str) -> list[str]:
    """A whole unified diff held in memory, as its files' sections (`diff --git` ... up to
    the next); github/diff.py does the same while the diff streams in."""
    starts = [0] + [m.start() + 1 for m in re.finditer(r"\ndiff --git ", diff)]
    return [diff[a:b] for a, b in zip(starts, starts[1:] + [len(diff)], strict=True) if diff[a:b]]


def section_text(path: str, status: str, patch: str | None) -> str:
    """A file of the files API as a section of a unified diff (`patch` holds only hunks)."""
    old = "/dev/null" if status == "added" else f"a/{path}"
    new = "/dev/null" if status == "removed" else f"b/{path}"
    header = f"diff --git a/{path} b/{path}\n"
    if status == "removed":
        header += "deleted file mode 100644\n"
    if patch is None:
        return header + f"Binary files {old} and {new} differ\n"
    return header + f"--- {old}\n+++ {new}\n{patch}\n"
