"""The git commands a local review needs: the merge base, the diff, files at a commit."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.github.files import FileText

MAX_DIFF_BYTES = 256 * 1024 * 1024  # a diff longer than this is refused, not held


class GitError(Exception):
    """git is missing, this is not a repository, or a revision does not exist: one line."""


@dataclass(frozen=True)
class Range:
    """What `--git BASE[..HEAD]` reviews: the merge base of BASE and HEAD, to HEAD."""

    base: str  # as given, for the intent and the output
    merge_base: str  # commit id
    head: str  # commit id


async def run(cwd: Path, *args: str, stdin: bytes | None = None) -> bytes:
    """git's standard output; GitError with git's own first line of complaint."""
    try:
        process = await asyncio.create_subprocess_exec(
            "git",
            *args,
            cwd=cwd,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
    except FileNotFoundError:
        raise GitError("git is not installed (or not on PATH)") from None
    except OSError as exc:
        raise GitError(f"cannot run git in {cwd}: {exc.strerror}") from None
    out, err = await process.communicate(stdin)
    if process.returncode != 0:
        said = err.decode("utf-8", "replace").strip().splitlines()
        reason = said[0] if said else f"exit status {process.returncode}"
        raise GitError(f"git {args[0]}: {reason.removeprefix('fatal: ')}")
    return out


async def resolve(cwd: Path, spec: str) -> Range:
    """`BASE` or `BASE..HEAD` (or `BASE...HEAD`) to the merge base and the head commit."""
    base, dots, head = spec.partition("...") if "..." in spec else spec.partition("..")
    base, head = base.strip(), (head.strip() if dots else "") or "HEAD"
    if not base:
        raise GitError(f"--git needs a base revision, e.g. main or main..HEAD; got {spec!r}")
    head_id = await _commit(cwd, head)
    base_id = await _commit(cwd, base)
    merge_base = (await run(cwd, "merge-base", base_id, head_id)).decode().strip()
    if not merge_base:
        raise GitError(f"{base} and {head} have no common ancestor")
    return Range(base, merge_base, head_id)


async def _commit(cwd: Path, revision: str) -> str:
    if revision.startswith("-"):
        raise GitError(f"not a revision: {revision!r}")
    try:
        out = await run(
            cwd, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{revision}^{{commit}}"
        )
    except GitError:
        raise GitError(f"{revision!r} is not a commit of this repository") from None
    return out.decode().strip()


async def diff(cwd: Path, span: Range) -> str:
    """The unified diff from the merge base to the head, as GitHub shows a PR's (whatever
    the user's diff settings: no prefix, other context, textconv)."""
    out = await run(
        cwd,
        "-c",
        "core.quotePath=false",
        "diff",
        "--no-color",
        "--no-ext-diff",
        "--no-textconv",
        "--src-prefix=a/",
        "--dst-prefix=b/",
        "--unified=3",
        "--find-renames",
        "--full-index",
        span.merge_base,
        span.head,
    )
    if len(out) > MAX_DIFF_BYTES:
        raise GitError(f"the diff is over {MAX_DIFF_BYTES // (1024 * 1024)} MiB")
    return out.decode("utf-8", "replace")


async def subjects(cwd: Path, span: Range, limit: int = 50) -> list[str]:
    """The subjects of the commits under review, newest first."""
    out = await run(
        cwd, "log", f"--max-count={limit}", "--format=%s", f"{span.merge_base}..{span.head}"
    )
    return [line for line in out.decode("utf-8", "replace").splitlines() if line.strip()]


async def read_files(
    cwd: Path, commit: str, paths: Sequence[str], max_bytes: int
) -> dict[str, FileText]:
    """Each path's text at `commit`, in one `git cat-file --batch`: None when absent, binary
    or over `max_bytes` (with the problem said)."""
    if not paths:
        return {}
    request = "".join(f"{commit}:{path}\n" for path in paths).encode()
    out = await run(cwd, "cat-file", "--batch", stdin=request)
    found: dict[str, FileText] = {}
    at = 0
    for path in paths:
        end = out.index(b"\n", at)
        header = out[at:end].decode("utf-8", "replace").split()
        at = end + 1
        if len(header) != 3 or header[1] != "blob":  # "<name> missing", or a tree
            found[path] = FileText(path, commit, None)
            continue
        size = int(header[2])
        data = out[at : at + size]
        at += size + 1
        found[path] = _text(path, commit, data, max_bytes)
    return found


def _text(path: str, commit: str, data: bytes, max_bytes: int) -> FileText:
    if len(data) > max_bytes:
        return FileText(path, commit, None, f"over {max_bytes:,} bytes")
    if b"\0" in data:
        return FileText(path, commit, None, "binary")
    try:
        return FileText(path, commit, data.decode("utf-8"))
    except UnicodeDecodeError:
        return FileText(path, commit, None, "not UTF-8 text")
