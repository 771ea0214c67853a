"""Draft release notes from Conventional Commit subjects since the last tag."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from dataclasses import dataclass

SECTIONS = {
    "feat": "Features",
    "fix": "Bug fixes",
    "perf": "Performance",
    "docs": "Documentation",
}

SUBJECT = re.compile(r"^(?P<type>\w+)(?:\((?P<scope>[^)]+)\))?(?P<bang>!)?: (?P<desc>.+)$")


@dataclass(frozen=True)
class Commit:
    kind: str
    scope: str | None
    description: str
    breaking: bool

    @property
    def entry(self) -> str:
        return f"**{self.scope}:** {self.description}" if self.scope else self.description


def parse_subject(subject: str) -> Commit | None:
    """A Conventional Commit subject, or None if the subject doesn't follow the convention."""
    m = SUBJECT.match(subject)
    if not m:
        return None
    return Commit(
        kind=m.group("type"),
        scope=m.group("scope"),
        description=m.group("desc").strip(),
        breaking=m.group("bang") is not None,
    )


def git_subjects(since: str) -> list[str]:
    out = subprocess.run(
        ["git", "log", "--format=%s", f"{since}..HEAD"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [line for line in out.splitlines() if line.strip()]


def _section(title: str, entries: list[str]) -> list[str]:
    return [f"### {title}", *(f"- {e}" for e in entries), ""]


def render(subjects: list[str]) -> str:
    commits = [c for c in map(parse_subject, subjects) if c is not None]
    lines: list[str] = []
    breaking = [c.entry for c in commits if c.breaking]
    if breaking:
        lines += _section("Breaking changes", breaking)
    for kind, title in SECTIONS.items():
        entries = [c.entry for c in commits if c.kind == kind]
        if entries:
            lines += _section(title, entries)
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("since", help="tag or commit to start from, e.g. v1.4.0")
    args = parser.parse_args(argv)
    sys.stdout.write(render(git_subjects(args.since)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
