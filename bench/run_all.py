"""Run every bench/bench_*.py in its own process and print one table of their results."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TIMEOUT = 900  # seconds per script; each stops by itself well before
COLUMNS = ("bench", "metric", "value", "unit", "target", "ok")


def run(script: Path) -> tuple[list[dict], str | None]:
    """Run one script; return its rows and, if it failed, why."""
    name = script.stem.removeprefix("bench_")
    print(f"== {name}", file=sys.stderr, flush=True)
    started = time.monotonic()
    proc = subprocess.Popen(  # noqa: S603
        [sys.executable, str(script)], stdout=subprocess.PIPE, text=True, cwd=HERE.parent
    )
    try:
        stdout, _ = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGTERM)  # the script cleans up on SIGTERM
        try:
            stdout, _ = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            stdout, _ = proc.communicate()
        return [], f"timed out after {TIMEOUT} s"
    print(f"== {name} took {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
    lines = [line for line in stdout.splitlines() if line.strip()]
    for line in lines[:-1]:
        print(f"   {line}", file=sys.stderr)
    if proc.returncode != 0:
        return [], f"exited with {proc.returncode}"
    try:
        result = json.loads(lines[-1])
        return [{"bench": result["bench"], **r} for r in result["rows"]], None
    except (IndexError, ValueError, KeyError, TypeError):
        return [], "printed no result line"


def cell(name: str, value: object) -> str:
    if name == "ok":
        return {True: "yes", False: "NO", None: "-"}.get(value, str(value))
    if isinstance(value, float):
        return f"{value:.0f}" if abs(value) >= 100 else f"{value:.3g}"
    return str(value)


def table(rows: list[dict]) -> str:
    cells = [[cell(c, r.get(c, "")) for c in COLUMNS] for r in rows]
    widths = [max(len(c), *(len(line[i]) for line in cells)) for i, c in enumerate(COLUMNS)]
    right = {"value"}

    def fmt(line: list[str]) -> str:
        triples = zip(COLUMNS, line, widths, strict=True)
        parts = [v.rjust(w) if c in right else v.ljust(w) for c, v, w in triples]
        return "  ".join(parts).rstrip()

    out = [fmt(list(COLUMNS)), fmt(["-" * w for w in widths])]
    return "\n".join(out + [fmt(line) for line in cells])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", help="run one benchmark, e.g. webhooks or bench_webhooks")
    args = parser.parse_args()
    scripts = sorted(HERE.glob("bench_*.py"))
    if args.only:
        wanted = Path(args.only).stem.removeprefix("bench_")
        scripts = [s for s in scripts if s.stem.removeprefix("bench_") == wanted]
        if not scripts:
            parser.error(f"no bench/bench_{wanted}.py")
    rows, failed = [], []
    for script in scripts:
        got, failure = run(script)
        rows.extend(got)
        if failure:
            name = script.stem.removeprefix("bench_")
            failed.append(name)
            rows.append({"bench": name, "metric": f"script {failure}", "ok": False})
    print(table(rows))
    missed = sum(r.get("ok") is False for r in rows)
    print(
        f"\n{len(rows)} rows, {missed} not meeting their target; failed scripts: "
        f"{', '.join(failed) or 'none'}"
    )
    sys.stdout.flush()
    return 1 if failed else 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
