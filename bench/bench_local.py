"""`python -m bot review --diff` without the App: wall time on a 20-file diff while FakeGemini
takes 1 s an answer (and countTokens 0 s, or 0.2 s as Google's may), and the time from
starting the process to its first output."""

from __future__ import annotations

import os
import pty
import select
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import common

from tests.reviewing import finding

RUNS, FILES, GEMINI_LATENCY = 5, 20, 1.0
COUNT_LATENCY = 0.2  # a countTokens round trip to Google, roughly
WALL_TARGET, FIRST_OUTPUT_TARGET = 2.0, 1.0


def module(index: int, changed: bool) -> str:
    """A small Python module; `changed` adds a function of 30 lines to it."""
    lines = [f'"""Module {index}."""', "", "import os", "", ""]
    lines += [f"def base_{index}_{n}(value):\n    return value + {n}\n\n" for n in range(10)]
    if changed:
        body = "\n".join(f"    total += value * {n}" for n in range(30))
        lines.append(f"def added_{index}(value):\n    total = 0\n{body}\n    return total\n")
    return "\n".join(lines)


def twenty_file_diff(root: Path) -> str:
    """The diff of a branch that changes FILES modules of a repository, made with git."""

    def git(*args: str) -> str:
        return subprocess.run(  # noqa: S603
            ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com", *args],  # noqa: S607
            cwd=root,
            check=True,
            capture_output=True,
            text=True,
        ).stdout

    git("init", "-q", "-b", "main")
    for index in range(FILES):
        (root / f"pkg/mod_{index}.py").parent.mkdir(exist_ok=True)
        (root / f"pkg/mod_{index}.py").write_text(module(index, changed=False))
    git("add", ".")
    git("commit", "-q", "-m", "base")
    for index in range(FILES):
        (root / f"pkg/mod_{index}.py").write_text(module(index, changed=True))
    git("commit", "-q", "-am", "change every module")
    return git("diff", "main~1", "main")


def environment(fake: common.Fakes, rpm: int) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(common.ROOT),  # the tree this bench is in, not the installed one
        "GEMINI_API_KEY": common.GEMINI_KEY,
        "GOOGLE_GEMINI_BASE_URL": fake.gemini.url,
        "GEMINI_RPM": str(rpm),
    }


def review_seconds(diff: str, cwd: Path, env: dict[str, str]) -> tuple[float, int]:
    """One `review --diff -` from start to exit; its exit status."""
    started = time.perf_counter()
    done = subprocess.run(  # noqa: S603
        [common.PYTHON, "-m", "bot", "review", "--diff", "-", "--format", "json"],
        input=diff,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise RuntimeError(f"review exited {done.returncode}: {done.stderr[-500:]}")
    return elapsed, done.returncode


def first_output_seconds(diff_file: Path, cwd: Path, env: dict[str, str]) -> float:
    """From starting the process to the first byte of its progress line (stderr a terminal)."""
    leader, follower = pty.openpty()
    started = time.perf_counter()
    process = subprocess.Popen(  # noqa: S603
        [common.PYTHON, "-m", "bot", "review", "--diff", str(diff_file), "--format", "json"],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=follower,
        stdin=subprocess.DEVNULL,
    )
    os.close(follower)
    try:
        ready, _, _ = select.select([leader], [], [], 30)
        if not ready:
            raise RuntimeError("no output within 30 s")
        os.read(leader, 1024)
        return time.perf_counter() - started
    finally:
        process.wait(timeout=60)
        os.close(leader)


def main() -> None:
    common.stop_on_sigterm()
    rows = []
    with common.fakes() as fake, tempfile.TemporaryDirectory() as workdir:
        root = Path(workdir) / "repo"
        root.mkdir()
        diff = twenty_file_diff(root)
        diff_file = Path(workdir) / "change.diff"
        diff_file.write_text(diff)
        fake.gemini.latency = GEMINI_LATENCY
        outside = Path(workdir)  # no config or guidance there: the defaults
        cases = [
            ("no finding", 1000, [], 0.0),
            ("one finding (then the verifier)", 1000, [finding(path="pkg/mod_3.py", line=40)], 0.0),
            ("no finding, GEMINI_RPM=60 (the default)", 60, [], 0.0),
            ("no finding, countTokens answering in 0.2 s", 1000, [], COUNT_LATENCY),
        ]
        for name, rpm, found, counting in cases:
            fake.gemini.findings = {"bugs": found} if found else {}
            fake.gemini.count_latency = counting
            env = environment(fake, rpm)
            review_seconds(diff, outside, env)  # warm the interpreter's file cache
            times = [review_seconds(diff, outside, env)[0] for _ in range(RUNS)]
            common.note(f"{name}: " + ", ".join(f"{t:.2f}" for t in times))
            median = statistics.median(times)
            target = f"< {WALL_TARGET} s" if rpm == 1000 and not found and not counting else ""
            rows.append(
                common.row(
                    f"review --diff, {FILES} files, {name}: median",
                    median,
                    "s",
                    target,
                    median < WALL_TARGET if target else None,
                )
            )
            rows.append(common.row(f"review --diff, {FILES} files, {name}: max", max(times), "s"))
        fake.gemini.findings = {}
        fake.gemini.count_latency = 0.0
        env = environment(fake, 1000)
        firsts = [first_output_seconds(diff_file, outside, env) for _ in range(RUNS)]
        common.note("first output: " + ", ".join(f"{t:.3f}" for t in firsts))
        median = statistics.median(firsts)
        rows.append(
            common.row(
                "process start to first output (progress line): median",
                median,
                "s",
                f"< {FIRST_OUTPUT_TARGET} s",
                median < FIRST_OUTPUT_TARGET,
            )
        )
        calls = len(fake.gemini.requests)
        common.note(f"FakeGemini answered {calls} generateContent requests in all")
    common.emit("local", rows)


if __name__ == "__main__":
    main()
