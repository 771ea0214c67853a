"""Changes without GitHub: a unified diff (a file or standard input), or a git range; the
repository's config and guidance from the base commit or the working tree."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.github import sources
from bot.github.files import FileText
from bot.review.changes import (
    Diff,
    path_from_header,
    split_sections,
    too_large_reason,
)
from bot.review.chunks import FileContext
from bot.review.prompt import Intent
from bot.review.selection import Selection
from bot.standalone import git

Reader = Callable[[Sequence[str]], Awaitable[Mapping[str, FileText]]]  # paths -> their text


@dataclass
class DiffSource:
    """A unified diff's text, offered a file at a time, and a reader of head files."""

    text: str
    read_heads: Reader
    max_file_bytes: int = 1_000_000

    async def diff(self, selection: Selection) -> None:
        for section in split_sections(self.text):
            if len(section.encode()) <= self.max_file_bytes:
                selection.offer(section)
                continue
            lines = sum(1 for line in section.splitlines() if line[:1] in ("+", "-"))
            path = path_from_header(section) or "(unnamed file)"
            selection.too_large(path, lines, too_large_reason(self.max_file_bytes))

    async def heads(self, diff: Diff, paths: Sequence[str]) -> Mapping[str, FileContext]:
        wanted = sources.needing_context(diff, paths)
        if not wanted:
            return {}
        read = await self.read_heads([c.path for c in wanted])
        return await sources.contexts(wanted, {path: got.text for path, got in read.items()})


def tree_reader(root: Path, max_bytes: int) -> Reader:
    """Files from the working tree under `root` (a path that leaves it reads as absent)."""
    top = root.resolve()

    async def read(paths: Sequence[str]) -> Mapping[str, FileText]:
        return {path: _from_tree(top, path, max_bytes) for path in paths}

    return read


def _from_tree(top: Path, path: str, max_bytes: int) -> FileText:
    target = (top / path).resolve()
    if not target.is_relative_to(top) or not target.is_file():
        return FileText(path, "working tree", None)
    try:
        data = target.read_bytes()
    except OSError as exc:
        return FileText(path, "working tree", None, f"unreadable ({exc.strerror})")
    if len(data) > max_bytes:
        return FileText(path, "working tree", None, f"over {max_bytes:,} bytes")
    if b"\0" in data:
        return FileText(path, "working tree", None, "binary")
    try:
        return FileText(path, "working tree", data.decode("utf-8"))
    except UnicodeDecodeError:
        return FileText(path, "working tree", None, "not UTF-8 text")


def commit_reader(root: Path, commit: str, max_bytes: int) -> Reader:
    """Files at a commit, through one `git cat-file --batch` a call."""

    async def read(paths: Sequence[str]) -> Mapping[str, FileText]:
        return await git.read_files(root, commit, paths, max_bytes)

    return read


async def read_base(read: Reader, intent: Intent) -> sources.Base:
    """The config, .gitattributes and guidance the App reads from a PR's base branch."""
    got = await read(list(sources.BASE_FILES))
    return sources.base_of(got, intent)
