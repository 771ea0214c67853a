"""Build the labelled evaluation set `prs.jsonl` from the cases under `cases/`.

Each case is a directory `cases/<case-id>/` holding

- `before/` and `after/`: the repository files the pull request touches, at its base and at
  its head (a file missing from `before/` is added, one missing from `after/` is deleted);
- `case.yaml`: `title`, `body`, `language`, `kind` (`bug`, `style` or `clean`), `source` (one
  token: the commit a case was built from, `https://github.com/OWNER/REPO/commit/SHA`, or
  `second-look:synthetic` for a case written for this project), `licence` (the SPDX id of the
  source's licence) and `expected`, a list of findings a correct review should make (`path`,
  `line_start`, `line_end` on the new side, `severity`, `agent` or null, and `what`: one sentence
  saying what is wrong); clean cases have `expected: []`.

A case from a real bug-fix commit reverses the fix: `before/` holds the touched files as the fix
left them, `after/` as they were before it, so the PR introduces the bug the fix removed. Its
expected lines must touch the change: each is on the new side of a hunk, and the range holds an
added line or borders a removed one (a fix that only added a check becomes a PR that only
deletes it). A case from a project not yet in the set needs that project's licence text in
`bot/tools/eval_data/THIRD-PARTY-LICENSES.txt` (tests/test_eval_data.py checks).

The diff is made by real git: a throwaway repository gets one commit with `before/` and one
with `after/`, and `git diff HEAD~1 HEAD` gives what GitHub's `.diff` would show (`a/` and `b/`
prefixes, `index` lines, `/dev/null` for added and deleted files, 3 lines of context).

Usage, from the project root:

    python tests/data/eval/build.py            # rewrite bot/tools/eval_data/prs.jsonl
    python tests/data/eval/build.py --check    # exit 1 if prs.jsonl is out of date

Only the standard library, PyYAML and the `git` executable are needed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
CASES_DIR = HERE / "cases"
OUTPUT = HERE.parents[2] / "bot" / "tools" / "eval_data" / "prs.jsonl"  # shipped as package data

LANGUAGES = ("python", "javascript", "typescript", "go", "java", "rust", "ruby", "c", "cpp")
KINDS = ("bug", "style", "clean")
SOURCE = re.compile(
    r"^(?:https://github\.com/[\w.-]+/[\w.-]+/commit/[0-9a-f]{40}|second-look:synthetic)$"
)
LICENCE = re.compile(r"^[A-Za-z0-9.+-]+$")  # an SPDX id
SEVERITIES = ("critical", "high", "medium", "low", "info")
AGENTS = ("security", "bugs", "performance", "style")
CASE_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
EXPECTED_KEYS = ("path", "line_start", "line_end", "severity", "agent", "what")
SKIPPED_NAMES = {"__pycache__", ".DS_Store", ".pytest_cache"}
HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@")

# Pin everything that could make the diff depend on the machine: no user or system config,
# fixed prefixes, 7-character blob ids like GitHub's, rename detection on like GitHub's.
GIT_OPTIONS = (
    "-c",
    "core.autocrlf=false",
    "-c",
    "core.abbrev=7",
    "-c",
    "core.quotepath=true",
    "-c",
    "diff.renames=true",
    "-c",
    "diff.noprefix=false",
    "-c",
    "diff.mnemonicPrefix=false",
    "-c",
    "diff.algorithm=myers",
    "-c",
    "color.ui=never",
    "-c",
    "init.defaultBranch=main",
    "-c",
    "commit.gpgSign=false",
)


class CaseError(ValueError):
    """A case directory that cannot be built."""


def _git_env() -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("GIT_") or key == "GIT_EXEC_PATH"
    }
    env.update(
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_AUTHOR_NAME="eval",
        GIT_AUTHOR_EMAIL="eval@example.invalid",
        GIT_AUTHOR_DATE="2024-01-01T00:00:00Z",
        GIT_COMMITTER_NAME="eval",
        GIT_COMMITTER_EMAIL="eval@example.invalid",
        GIT_COMMITTER_DATE="2024-01-01T00:00:00Z",
        LC_ALL="C",
    )
    return env


def _git(repo: Path, *args: str) -> str:
    executable = shutil.which("git")
    if executable is None:
        raise CaseError("git is not on PATH")
    result = subprocess.run(  # noqa: S603 - git with fixed options on our own temp repository
        [executable, *GIT_OPTIONS, *args],
        cwd=repo,
        env=_git_env(),
        check=True,
        capture_output=True,
    )
    return result.stdout.decode("utf-8")


def read_tree(root: Path) -> dict[str, str]:
    """Every text file under `root`, keyed by its POSIX path relative to `root`."""
    files: dict[str, str] = {}
    if not root.is_dir():
        return files
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if any(part in SKIPPED_NAMES for part in relative.parts) or path.suffix == ".pyc":
            continue
        if path.is_file():
            files[relative.as_posix()] = path.read_bytes().decode("utf-8")
    return files


def _write_tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(text.encode("utf-8"))


def _clear_work_tree(repo: Path) -> None:
    for child in repo.iterdir():
        if child.name == ".git":
            continue
        if child.is_dir():
            shutil.rmtree(child)
        else:
            child.unlink()


def git_diff(before: dict[str, str], after: dict[str, str]) -> tuple[str, list[str]]:
    """The git-format diff from `before` to `after`, and the after-side paths it touches."""
    with tempfile.TemporaryDirectory(prefix="eval-case-") as tmp:
        repo = Path(tmp)
        _git(repo, "init", "--quiet")
        _write_tree(repo, before)
        _git(repo, "add", "--all")
        _git(repo, "commit", "--quiet", "--allow-empty", "--no-verify", "-m", "before")
        _clear_work_tree(repo)
        _write_tree(repo, after)
        _git(repo, "add", "--all")
        _git(repo, "commit", "--quiet", "--allow-empty", "--no-verify", "-m", "after")
        diff = _git(
            repo,
            "diff",
            "--no-color",
            "--no-ext-diff",
            "--no-textconv",
            "--unified=3",
            "--src-prefix=a/",
            "--dst-prefix=b/",
            "HEAD~1",
            "HEAD",
        )
        names = _git(repo, "diff", "--name-only", "--diff-filter=d", "-z", "HEAD~1", "HEAD")
    return diff, sorted(name for name in names.split("\0") if name)


def changed_lines(diff: str) -> dict[str, tuple[set[int], set[int]]]:
    """By new path: the new-side lines of its hunks, and the lines a label may anchor on (the
    `+` lines and the new-side lines either side of a run of `-` lines). Stdlib only."""
    changed: dict[str, tuple[set[int], set[int]]] = {}
    path: str | None = None
    line_no = 0
    in_hunk = False
    removed_before = False  # the previous line of the hunk was a `-` line
    for line in diff.splitlines():
        if line.startswith("diff --git "):
            path, in_hunk = None, False
        elif not in_hunk and line.startswith("+++ "):
            target = line[4:]
            path = target[2:] if target.startswith("b/") else None
            if path is not None:
                changed.setdefault(path, (set(), set()))
        elif match := HUNK.match(line):
            line_no, in_hunk, removed_before = int(match.group(1)), True, False
        elif in_hunk and path is not None:
            inside, anchors = changed[path]
            if line.startswith("-"):
                if not removed_before and line_no > 1:
                    anchors.add(line_no - 1)  # the line above the removed run
                removed_before = True
            elif line.startswith(("+", " ")):
                inside.add(line_no)
                if line.startswith("+") or removed_before:
                    anchors.add(line_no)  # an added line, or the line below a removed run
                removed_before = False
                line_no += 1
    return {path: (inside, anchors & inside) for path, (inside, anchors) in changed.items()}


def _expected(
    case_id: str, raw: Any, changed: dict[str, tuple[set[int], set[int]]]
) -> list[dict[str, Any]]:
    if not isinstance(raw, list):
        raise CaseError(f"{case_id}: expected must be a list")
    findings = []
    for index, item in enumerate(raw):
        where = f"{case_id}: expected[{index}]"
        if not isinstance(item, dict) or set(item) != set(EXPECTED_KEYS):
            raise CaseError(f"{where} must have exactly the keys {', '.join(EXPECTED_KEYS)}")
        finding = {key: item[key] for key in EXPECTED_KEYS}
        start, end = finding["line_start"], finding["line_end"]
        if not (isinstance(start, int) and isinstance(end, int) and 1 <= start <= end):
            raise CaseError(f"{where}: need 1 <= line_start <= line_end")
        if finding["severity"] not in SEVERITIES:
            raise CaseError(f"{where}: severity must be one of {', '.join(SEVERITIES)}")
        if finding["agent"] is not None and finding["agent"] not in AGENTS:
            raise CaseError(f"{where}: agent must be null or one of {', '.join(AGENTS)}")
        what = finding["what"]
        if not isinstance(what, str) or len(what.split()) < 4 or "\n" in what.strip():
            raise CaseError(f"{where}: what must be one sentence saying what is wrong")
        finding["what"] = what.strip()
        if finding["path"] not in changed:
            raise CaseError(f"{where}: {finding['path']} is not on the new side of the diff")
        inside, anchors = changed[finding["path"]]
        span = set(range(start, end + 1))
        if not span <= inside:
            raise CaseError(
                f"{where}: lines {sorted(span - inside)} of {finding['path']} are not in a hunk"
            )
        if not span & anchors:
            raise CaseError(
                f"{where}: lines {start}-{end} of {finding['path']} hold no added line and "
                "border no removed one"
            )
        findings.append(finding)
    return findings


def build_case(case_dir: Path) -> dict[str, Any]:
    """One JSON record for the case in `case_dir`."""
    case_id = case_dir.name
    if not CASE_ID.match(case_id):
        raise CaseError(f"{case_id}: case ids are lowercase words joined by '-'")
    meta = yaml.safe_load((case_dir / "case.yaml").read_text(encoding="utf-8"))
    if not isinstance(meta, dict):
        raise CaseError(f"{case_id}: case.yaml must be a mapping")
    for key in ("title", "language", "kind", "source", "licence"):
        if not isinstance(meta.get(key), str) or not meta[key].strip():
            raise CaseError(f"{case_id}: case.yaml needs a non-empty string {key!r}")
    if not isinstance(meta.get("body", ""), str):
        raise CaseError(f"{case_id}: body must be text (it may be empty)")
    if meta["language"] not in LANGUAGES:
        raise CaseError(f"{case_id}: language must be one of {', '.join(LANGUAGES)}")
    if meta["kind"] not in KINDS:
        raise CaseError(f"{case_id}: kind must be one of {', '.join(KINDS)}")
    if not SOURCE.match(meta["source"]):
        raise CaseError(
            f"{case_id}: source must be https://github.com/OWNER/REPO/commit/<40 hex> or "
            "second-look:synthetic"
        )
    if not LICENCE.match(meta["licence"]):
        raise CaseError(f"{case_id}: licence must be an SPDX id such as MIT or BSD-3-Clause")
    unknown = set(meta) - {"title", "body", "language", "kind", "source", "licence", "expected"}
    if unknown:
        raise CaseError(f"{case_id}: unknown keys in case.yaml: {', '.join(sorted(unknown))}")

    before = read_tree(case_dir / "before")
    after = read_tree(case_dir / "after")
    diff, touched = git_diff(before, after)
    if not diff:
        raise CaseError(f"{case_id}: before/ and after/ are identical")
    expected = _expected(case_id, meta.get("expected") or [], changed_lines(diff))
    if (meta["kind"] == "clean") != (not expected):
        raise CaseError(f"{case_id}: a clean case expects no finding, a bug or style case some")
    if meta["kind"] == "style" and any(e["agent"] not in (None, "style") for e in expected):
        raise CaseError(f"{case_id}: a style case's findings are the style agent's")
    return {
        "id": case_id,
        "language": meta["language"],
        "kind": meta["kind"],
        "source": meta["source"],
        "licence": meta["licence"],
        "title": meta["title"].strip(),
        "body": meta.get("body", ""),
        "diff": diff,
        "head_files": {path: after[path] for path in touched},
        "expected": expected,
    }


def build(cases_dir: Path = CASES_DIR) -> list[dict[str, Any]]:
    """Records for every case under `cases_dir`, sorted by id."""
    case_dirs = sorted(p for p in Path(cases_dir).iterdir() if (p / "case.yaml").is_file())
    return [build_case(case_dir) for case_dir in case_dirs]


def render(records: list[dict[str, Any]]) -> str:
    """The JSON Lines text for `records`, one object per line."""
    return "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build prs.jsonl from the evaluation cases.")
    parser.add_argument("--cases", type=Path, default=CASES_DIR, help="cases directory")
    parser.add_argument("--output", type=Path, default=OUTPUT, help="JSON Lines file to write")
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if the output is out of date"
    )
    args = parser.parse_args(argv)
    try:
        records = build(args.cases)
    except (CaseError, subprocess.CalledProcessError) as exc:
        print(f"build.py: {exc}", file=sys.stderr)
        return 2
    text = render(records)
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is out of date; run {sys.argv[0]}", file=sys.stderr)
            return 1
        print(f"{args.output} is up to date ({len(records)} cases)")
        return 0
    args.output.write_bytes(text.encode("utf-8"))
    clean = sum(1 for record in records if not record["expected"])
    print(f"wrote {len(records)} cases ({clean} without findings) to {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
