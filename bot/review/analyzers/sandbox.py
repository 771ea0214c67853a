"""Run one analyzer: its files in a private temporary directory, the tool in a subprocess with
a time limit (killed past it), a memory and CPU limit (setrlimit), and an environment holding
nothing of ours (no key, no token reaches it)."""

from __future__ import annotations

import asyncio
import os
import resource
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from bot.review.analyzers.base import Run

ROOT = Path(__file__).resolve().parents[3]  # the directory holding `bot`, for `python -m`
MAX_OUTPUT = 8 * 1024 * 1024


class AnalyzerFailed(Exception):
    """The tool did not finish (time, memory, a crash); the message says which, never input."""


@dataclass(frozen=True)
class Output:
    stdout: str
    root: Path


def safe_path(path: str) -> bool:
    """A relative path that stays in the directory (no `..`, not absolute)."""
    parts = PurePosixPath(path).parts
    return bool(parts) and not path.startswith("/") and ".." not in parts and "\0" not in path


def _limits(run: Run) -> Callable[[], None]:
    def apply() -> None:  # in the child, before exec
        resource.setrlimit(resource.RLIMIT_AS, (run.memory_bytes, run.memory_bytes))
        cpu = int(run.seconds) + 1
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    return apply


def _write(directory: str, files: Mapping[str, str]) -> Path:
    root = Path(directory).resolve()
    for relative, text in files.items():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return root


async def execute(run: Run, parse: Callable[[Output], object]) -> object:
    """Write the files, run the command there, and parse its output before the directory goes."""
    with tempfile.TemporaryDirectory(prefix="second-look-analyzer-") as directory:
        root = await asyncio.to_thread(_write, directory, run.files)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(root),
               "PYTHONPATH": str(ROOT), "LANG": "C.UTF-8"}  # fmt: skip
        process = await asyncio.create_subprocess_exec(
            *run.argv,
            cwd=root,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            preexec_fn=_limits(run),  # noqa: PLW1509 - no threads are started between fork and exec
        )
        try:
            stdout, _ = await asyncio.wait_for(process.communicate(), run.seconds)
        except TimeoutError:
            process.kill()
            await process.wait()
            raise AnalyzerFailed(f"did not finish within {run.seconds:g} s") from None
        except asyncio.CancelledError:  # the review stopped: the analyzer goes with it
            process.kill()
            await process.wait()
            raise
        status = process.returncode or 0
        if status < 0:
            raise AnalyzerFailed(f"was stopped by signal {-status}")
        if status > 0:  # ruff runs with --exit-zero: any status but 0 is a failure
            raise AnalyzerFailed(f"exited with status {status}")
        if len(stdout) > MAX_OUTPUT:
            raise AnalyzerFailed("wrote more output than it may")
        return parse(Output(stdout.decode("utf-8", "replace"), root))
