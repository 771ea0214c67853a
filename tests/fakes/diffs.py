"""Build unified diffs the way `git diff` (and so GitHub) prints them, and read them back."""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

# A file's content: text, bytes for a binary file, None for "absent".
Content = str | bytes | None

NULL_SHA = "0" * 40
_HUNK_RE = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_NO_NEWLINE = "\\ No newline at end of file\n"
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\a": "\\a", "\b": "\\b", "\t": "\\t", "\n": "\\n",
            "\v": "\\v", "\f": "\\f", "\r": "\\r"}  # fmt: skip


def blob_sha(content: str | bytes) -> str:
    """Return git's blob id of `content` (what `index` lines and the contents API show)."""
    data = content.encode() if isinstance(content, str) else content
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def _quote(name: str) -> str:
    # git's core.quotePath (on by default): C-quote names with specials or non-ASCII bytes.
    if not any(c in _ESCAPES or ord(c) < 0x20 or ord(c) >= 0x7F for c in name):
        return name
    out = []
    for c in name:
        if c in _ESCAPES:
            out.append(_ESCAPES[c])
        elif ord(c) < 0x20 or ord(c) >= 0x7F:
            out.extend(f"\\{b:03o}" for b in c.encode())
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def _unquote(name: str) -> str:
    if not (len(name) >= 2 and name[0] == name[-1] == '"'):
        return name
    reverse = {v[1]: k for k, v in _ESCAPES.items()}
    raw = bytearray()
    body, i = name[1:-1], 0
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt in "01234567":
                raw.append(int(body[i + 1 : i + 4], 8))
                i += 4
                continue
            raw.extend(reverse.get(nxt, nxt).encode())
            i += 2
            continue
        raw.extend(c.encode())
        i += 1
    return raw.decode(errors="replace")


def _side(prefix: str, path: str) -> str:
    return _quote(prefix + path)


def _file_line(marker: str, prefix: str, path: str | None) -> str:
    if path is None:
        return f"{marker} /dev/null\n"
    # git ends the name with a tab when it contains a space, so the name can be told apart.
    tab = "\t" if " " in path else ""
    return f"{marker} {_side(prefix, path)}{tab}\n"


def split_lines(text: str) -> list[str]:
    """Split on "\\n" only (as git does), keeping the newlines."""
    if not text:
        return []
    parts = text.split("\n")
    lines = [p + "\n" for p in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def _range(start: int, length: int) -> str:
    # GNU/git hunk ranges: "-5" for one line, "-4,0" (the line before) for none.
    if length == 1:
        return str(start + 1)
    if length == 0:
        return f"{start},0"
    return f"{start + 1},{length}"


def _emit(prefix: str, line: str) -> str:
    if line.endswith("\n"):
        return prefix + line
    return prefix + line + "\n" + _NO_NEWLINE


def make_hunks(old: str, new: str, context: int = 3) -> str:
    """Return the hunks (from the first "@@") of a text change, with `context` lines around."""
    a, b = split_lines(old), split_lines(new)
    if a == b:
        return ""
    out: list[str] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for group in matcher.get_grouped_opcodes(context):
        i1, i2, j1, j2 = group[0][1], group[-1][2], group[0][3], group[-1][4]
        out.append(f"@@ -{_range(i1, i2 - i1)} +{_range(j1, j2 - j1)} @@\n")
        for tag, a1, a2, b1, b2 in group:
            if tag == "equal":
                out.extend(_emit(" ", line) for line in a[a1:a2])
                continue
            if tag in ("replace", "delete"):
                out.extend(_emit("-", line) for line in a[a1:a2])
            if tag in ("replace", "insert"):
                out.extend(_emit("+", line) for line in b[b1:b2])
    return "".join(out)


def make_file_diff(path: str, old: Content, new: Content) -> str:
    """Return one file's `git diff` section ("" when nothing changed).

    `old` None means the file is added, `new` None that it is deleted; bytes on either
    side make it a binary file ("Binary files a/x and b/x differ").
    """
    if old == new:
        return ""
    if old is None and new is None:
        return ""
    head = [f"diff --git {_side('a/', path)} {_side('b/', path)}\n"]
    short_old = blob_sha(old)[:7] if old is not None else "0000000"
    short_new = blob_sha(new)[:7] if new is not None else "0000000"
    if old is None:
        head += ["new file mode 100644\n", f"index {short_old}..{short_new}\n"]
    elif new is None:
        head += ["deleted file mode 100644\n", f"index {short_old}..{short_new}\n"]
    else:
        head.append(f"index {short_old}..{short_new} 100644\n")
    a_name = None if old is None else path
    b_name = None if new is None else path
    if isinstance(old, bytes) or isinstance(new, bytes):
        a_shown = "/dev/null" if a_name is None else _side("a/", path)
        b_shown = "/dev/null" if b_name is None else _side("b/", path)
        return "".join(head) + f"Binary files {a_shown} and {b_shown} differ\n"
    hunks = make_hunks(old or "", new or "")
    if not hunks:  # an empty file added or deleted: git prints no ---/+++ lines
        return "".join(head)
    head += [_file_line("---", "a/", a_name), _file_line("+++", "b/", b_name)]
    return "".join(head) + hunks


def make_diff(old_files: Mapping[str, Content], new_files: Mapping[str, Content]) -> str:
    """Return the whole diff between two snapshots, files in git's (byte) order."""
    paths = sorted(set(old_files) | set(new_files), key=lambda p: p.encode())
    return "".join(make_file_diff(p, old_files.get(p), new_files.get(p)) for p in paths)


@dataclass
class Hunk:
    """One "@@" hunk: which line numbers it covers on each side."""

    index: int
    header: str
    left: set[int] = field(default_factory=set)  # old-side lines: deleted or context
    right: set[int] = field(default_factory=set)  # new-side lines: added or context
    lines: list[str] = field(default_factory=list)  # the header, then its body lines


@dataclass
class FileDiff:
    """One file's section of a diff, as GitHub's "List pull requests files" describes it."""

    path: str
    status: str  # added | removed | modified | renamed
    previous_path: str | None = None
    binary: bool = False
    patch: str | None = None  # from the first "@@", without the final newline
    additions: int = 0
    deletions: int = 0
    blob_sha: str = ""
    hunks: list[Hunk] = field(default_factory=list)
    # diff position (GitHub's `position`) -> (side, line, hunk index); context lines as RIGHT
    positions: dict[int, tuple[str, int, int]] = field(default_factory=dict)
    _by_line: dict[tuple[str, int], int] = field(default_factory=dict, repr=False)

    def position_of(self, side: str, line: int) -> int | None:
        """Return the diff position showing `line` on `side`, if the diff shows it."""
        return self._by_line.get((side, line))

    def hunk_of(self, side: str, line: int) -> Hunk | None:
        """Return the hunk that shows `line` on `side` ("LEFT" or "RIGHT"), if any."""
        for hunk in self.hunks:
            if line in (hunk.left if side == "LEFT" else hunk.right):
                return hunk
        return None

    def diff_hunk(self, side: str, line: int) -> str:
        """Return the hunk text up to `line` (a review comment's `diff_hunk`)."""
        hunk = self.hunk_of(side, line)
        if hunk is None:
            return ""
        old_no, new_no, out = 0, 0, [hunk.header]
        m = _HUNK_RE.match(hunk.header)
        if m:
            old_no, new_no = int(m.group(1)), int(m.group(3))
        for text in hunk.lines[1:]:
            out.append(text)
            kind = text[:1]
            if kind == "\\":
                continue
            here = (side == "LEFT" and kind in " -" and old_no == line) or (
                side == "RIGHT" and kind in " +" and new_no == line
            )
            if kind in " -":
                old_no += 1
            if kind in " +":
                new_no += 1
            if here:
                break
        return "\n".join(line_.rstrip("\n") for line_ in out)


def _git_path(line: str, prefix: str) -> str | None:
    name = line.split(" ", 1)[1].rstrip("\n")
    if name.endswith("\t"):
        name = name[:-1]
    if name == "/dev/null":
        return None
    name = _unquote(name)
    return name[len(prefix) :] if name.startswith(prefix) else name


def _path_from_header(header: str) -> str:
    rest = header[len("diff --git ") :].rstrip("\n")
    if rest.startswith('"'):
        end = rest.index('" ', 1) + 1
        return _unquote(rest[:end])[2:]
    # "a/X b/X" with the same X on both sides: split in the middle.
    half = (len(rest) - 1) // 2
    return rest[2:half]


def parse_diff(text: str) -> list[FileDiff]:
    """Read a `git diff` text back into files, hunks and the lines each hunk shows."""
    files: list[FileDiff] = []
    sections = re.split(r"(?m)^(?=diff --git )", text)
    for section in sections:
        if not section.startswith("diff --git "):
            continue
        lines = section.splitlines(keepends=True)
        fd = FileDiff(path=_path_from_header(lines[0]), status="modified")
        old_path: str | None = fd.path
        new_path: str | None = fd.path
        i = 1
        while i < len(lines) and not lines[i].startswith("@@"):
            line = lines[i]
            if line.startswith("new file mode"):
                fd.status, old_path = "added", None
            elif line.startswith("deleted file mode"):
                fd.status, new_path = "removed", None
            elif line.startswith("rename from "):
                fd.status, old_path = "renamed", _unquote(line[12:].rstrip("\n"))
            elif line.startswith("rename to "):
                new_path = _unquote(line[10:].rstrip("\n"))
            elif line.startswith("index "):
                shas = line.split()[1].split("..")
                fd.blob_sha = shas[1] if shas[1].strip("0") else shas[0]
            elif line.startswith("--- "):
                old_path = _git_path(line, "a/")
            elif line.startswith("+++ "):
                new_path = _git_path(line, "b/")
            elif line.startswith("Binary files ") or line.startswith("GIT binary patch"):
                fd.binary = True
            i += 1
        fd.path = new_path or old_path or fd.path
        if fd.status == "renamed":
            fd.previous_path = old_path
        _read_hunks(fd, lines[i:])
        files.append(fd)
    return files


def _read_hunks(fd: FileDiff, lines: list[str]) -> None:
    old_no = new_no = 0
    position = 0
    patch: list[str] = []
    hunk: Hunk | None = None
    for line in lines:
        m = _HUNK_RE.match(line)
        if m:
            if hunk is not None:
                position += 1  # later hunk headers count as positions too
            hunk = Hunk(index=len(fd.hunks), header=line.rstrip("\n"), lines=[line])
            fd.hunks.append(hunk)
            old_no, new_no = int(m.group(1)), int(m.group(3))
            patch.append(line)
            continue
        if hunk is None:
            continue
        patch.append(line)
        hunk.lines.append(line)
        position += 1
        kind = line[:1]
        if kind == " ":
            hunk.left.add(old_no)
            hunk.right.add(new_no)
            fd.positions[position] = ("RIGHT", new_no, hunk.index)
            fd._by_line[("LEFT", old_no)] = fd._by_line[("RIGHT", new_no)] = position
            old_no += 1
            new_no += 1
        elif kind == "-":
            hunk.left.add(old_no)
            fd.positions[position] = ("LEFT", old_no, hunk.index)
            fd._by_line[("LEFT", old_no)] = position
            fd.deletions += 1
            old_no += 1
        elif kind == "+":
            hunk.right.add(new_no)
            fd.positions[position] = ("RIGHT", new_no, hunk.index)
            fd._by_line[("RIGHT", new_no)] = position
            fd.additions += 1
            new_no += 1
    if patch:
        joined = "".join(patch)
        fd.patch = joined[:-1] if joined.endswith("\n") else joined
