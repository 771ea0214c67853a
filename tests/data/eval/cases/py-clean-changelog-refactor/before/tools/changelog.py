"""Draft release notes from Conventional Commit subjects since the last tag."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys

SECTIONS = {
    "feat": "Features",
    "fix": "Bug fixes",
    "perf": "Performance",
    "docs": "Documentation",
}


def git_subjects(since: str) -> list[str]:
    out = subprocess.run(
        ["git", "log", "--format=%s", f"{since}..HEAD"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [line for line in out.splitlines() if line.strip()]


def render(subjects: list[str]) -> str:
    grouped: dict[str, list[str]] = {}
    breaking: list[str] = []
    for subject in subjects:
        m = re.match(r"^(?P<type>\w+)(?:\((?P<scope>[^)]+)\))?(?P<bang>!)?: (?P<desc>.+)$", subject)
        if not m:
            continue
        kind = m.group("type")
        scope = m.group("scope")
        desc = m.group("desc").strip()
        if scope:
            entry = f"**{scope}:** {desc}"
        else:
            entry = desc
        if m.group("bang"):
            breaking.append(entry)
        if kind in SECTIONS:
            grouped.setdefault(kind, []).append(entry)
    lines: list[str] = []
    if breaking:
        lines.append("### Breaking changes")
        lines.extend(f"- {e}" for e in breaking)
        lines.append("")
    for kind, title in SECTIONS.items():
        if kind not in grouped:
            continue
        lines.append(f"### {title}")
        lines.extend(f"- {e}" for e in grouped[kind])
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("since", help="tag or commit to start from, e.g. v1.4.0")
    args = parser.parse_args(argv)
    sys.stdout.write(render(git_subjects(args.since)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
