"""The labelled evaluation set in tests/data/eval: well-formed, consistent and up to date."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from unidiff import PatchSet

DATA = Path(__file__).parent / "data" / "eval"
PRS = Path(__file__).parents[1] / "bot" / "tools" / "eval_data" / "prs.jsonl"
CASES = DATA / "cases"

KEYS = [
    "id",
    "language",
    "kind",
    "source",
    "licence",
    "title",
    "body",
    "diff",
    "head_files",
    "expected",
]
EXPECTED_KEYS = ["path", "line_start", "line_end", "severity", "agent", "what"]
SYNTHETIC = "second-look:synthetic"
COMMIT = re.compile(r"https://github\.com/[\w.-]+/[\w.-]+/commit/[0-9a-f]{40}")
SEVERITIES = {"critical", "high", "medium", "low", "info"}
AGENTS = {"security", "bugs", "performance", "style"}
MIN_BUGGY = {"python": 8, "javascript": 6, "go": 6}
DIFF_HEADER = re.compile(r"^diff --git a/(?P<old>\S+) b/(?P<new>\S+)$")


def load_builder() -> ModuleType:
    spec = importlib.util.spec_from_file_location("eval_data_build", DATA / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def lines() -> list[str]:
    return PRS.read_text(encoding="utf-8").splitlines()


@pytest.fixture(scope="module")
def records(lines: list[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in lines]


def buggy(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in records if r["expected"]]


def added_lines(record: dict[str, Any]) -> dict[str, set[int]]:
    """New-side line numbers of added lines, by path, as unidiff reads the diff."""
    return {
        f.path: {line.target_line_no for hunk in f for line in hunk if line.is_added}
        for f in PatchSet(record["diff"])
        if not f.is_removed_file
    }


def test_every_line_is_a_json_object_with_the_expected_keys(lines: list[str]) -> None:
    assert lines, "prs.jsonl is empty"
    for number, line in enumerate(lines, 1):
        record = json.loads(line)
        assert isinstance(record, dict), f"line {number} is not an object"
        assert list(record) == KEYS, f"line {number}: keys {list(record)}"
        for key in ("id", "language", "kind", "source", "licence", "title", "diff"):
            assert isinstance(record[key], str) and record[key].strip(), (number, key)
        assert isinstance(record["body"], str), number
        assert isinstance(record["head_files"], dict) and record["head_files"], number
        assert isinstance(record["expected"], list), number


def test_prs_jsonl_is_up_to_date_with_the_cases(tmp_path: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not on PATH, so the diffs cannot be rebuilt")
    builder = load_builder()
    rebuilt = tmp_path / "prs.jsonl"
    rebuilt.write_text(builder.render(builder.build(CASES)), encoding="utf-8")
    assert rebuilt.read_text(encoding="utf-8") == PRS.read_text(encoding="utf-8"), (
        "prs.jsonl is stale: run `python tests/data/eval/build.py`"
    )


def test_ids_are_unique_sorted_and_match_the_case_directories(
    records: list[dict[str, Any]],
) -> None:
    ids = [r["id"] for r in records]
    assert len(ids) == len(set(ids)), [i for i, n in Counter(ids).items() if n > 1]
    assert ids == sorted(ids)
    assert set(ids) == {p.name for p in CASES.iterdir() if (p / "case.yaml").is_file()}


def real(records: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    """The cases of `kind` built from a public project's commit, not written for this one."""
    return [r for r in records if r["kind"] == kind and r["source"] != SYNTHETIC]


def test_the_set_is_mostly_real_history(records: list[dict[str, Any]]) -> None:
    """At least 100 bug cases from real bug-fix commits in at least three languages, 25 clean
    PRs from real commits to count false positives, and style cases labelled as style."""
    bugs = real(records, "bug")
    assert len(bugs) >= 100, len(bugs)
    by_language = Counter(r["language"] for r in bugs)
    assert sum(1 for n in by_language.values() if n >= 10) >= 3, by_language
    assert len(real(records, "clean")) >= 25
    assert len(real(records, "style")) >= 10
    repositories = {r["source"].split("/commit/")[0] for r in bugs}
    assert len(repositories) >= 9, repositories


def test_languages_and_counts(records: list[dict[str, Any]]) -> None:
    languages = {r["language"] for r in records}
    assert set(MIN_BUGGY) <= languages <= set(load_builder().LANGUAGES), languages
    counts = Counter(r["language"] for r in buggy(records))
    for language, minimum in MIN_BUGGY.items():
        assert counts[language] >= minimum, (language, counts[language])


def test_agents_and_severities_are_valid(records: list[dict[str, Any]]) -> None:
    for record in records:
        for finding in record["expected"]:
            assert list(finding) == EXPECTED_KEYS, (record["id"], finding)
            assert finding["severity"] in SEVERITIES, (record["id"], finding["severity"])
            assert finding["agent"] in AGENTS | {None}, (record["id"], finding["agent"])
            assert len(finding["what"].split()) >= 4, (record["id"], finding["what"])
    agents = Counter(f["agent"] for r in records for f in r["expected"])
    for agent in ("security", "bugs", "performance"):
        assert agents[agent] >= 3, agents


def test_diffs_are_in_github_format(records: list[dict[str, Any]]) -> None:
    for record in records:
        blocks = re.split(r"(?m)^(?=diff --git )", record["diff"])
        assert blocks[0] == "", f"{record['id']}: diff does not start with 'diff --git'"
        for block in blocks[1:]:
            header, *rest = block.splitlines()
            match = DIFF_HEADER.match(header)
            assert match, (record["id"], header)
            old, new = match["old"], match["new"]
            assert any(line.startswith("index ") for line in rest[:4]), (record["id"], header)
            if "new file mode 100644" in rest[:2]:
                assert f"--- /dev/null\n+++ b/{new}\n" in block, (record["id"], new)
            elif "deleted file mode 100644" in rest[:2]:
                assert f"--- a/{old}\n+++ /dev/null\n" in block, (record["id"], old)
            elif f"rename to {new}" in rest and "\n--- " not in block:
                continue  # a pure rename has no hunks
            else:
                assert f"--- a/{old}\n+++ b/{new}\n" in block, (record["id"], header)


def test_diffs_parse_and_added_lines_match_head_files(records: list[dict[str, Any]]) -> None:
    for record in records:
        patch = PatchSet(record["diff"])
        assert len(patch) >= 1, record["id"]
        kept = {f.path for f in patch if not f.is_removed_file}
        assert set(record["head_files"]) == kept, record["id"]
        for patched in patch:
            if patched.is_removed_file:
                continue
            head = record["head_files"][patched.path].splitlines()
            assert patched.added > 0 or patched.removed > 0 or patched.is_rename, patched.path
            for hunk in patched:
                for line in hunk:
                    if line.is_added or line.is_context:
                        where = f"{record['id']}: {patched.path}:{line.target_line_no}"
                        assert head[line.target_line_no - 1] == line.value.rstrip("\n"), where


def test_expected_findings_touch_the_change(records: list[dict[str, Any]]) -> None:
    """Each label is inside a hunk and holds an added line or borders a removed one."""
    for record in records:
        for patched in PatchSet(record["diff"]):
            if patched.is_removed_file:
                continue
            inside: set[int] = set()
            anchors: set[int] = set()
            for hunk in patched:
                previous = None
                for line in hunk:
                    if line.is_removed:
                        if previous is not None and not previous.is_removed:
                            anchors.add(previous.target_line_no)
                    else:
                        inside.add(line.target_line_no)
                        if line.is_added or (previous is not None and previous.is_removed):
                            anchors.add(line.target_line_no)
                    previous = line
            for finding in record["expected"]:
                if finding["path"] != patched.path:
                    continue
                span = set(range(finding["line_start"], finding["line_end"] + 1))
                where = f"{record['id']}: {patched.path}:{finding['line_start']}"
                assert span <= inside and span & anchors, where
        paths = {f.path for f in PatchSet(record["diff"]) if not f.is_removed_file}
        for finding in record["expected"]:
            assert finding["path"] in paths, (record["id"], finding["path"])


def test_every_case_names_its_kind_source_and_licence(records: list[dict[str, Any]]) -> None:
    for record in records:
        assert record["kind"] in {"bug", "style", "clean"}, record["id"]
        assert (record["kind"] == "clean") == (not record["expected"]), record["id"]
        if record["kind"] == "style":
            assert {f["agent"] for f in record["expected"]} <= {"style", None}, record["id"]
        assert record["source"] == SYNTHETIC or COMMIT.fullmatch(record["source"]), record["id"]
        assert re.fullmatch(r"[A-Za-z0-9.+-]+", record["licence"]), record["id"]


def test_cases_are_small_and_some_touch_several_files(records: list[dict[str, Any]]) -> None:
    for record in buggy(records):
        if record["source"] != SYNTHETIC:
            continue  # a real commit's files are as large as they were
        for finding in record["expected"]:
            size = len(record["head_files"][finding["path"]].splitlines())
            assert 20 <= size <= 140, (record["id"], finding["path"], size)
    file_counts = [len(PatchSet(r["diff"])) for r in records]
    assert sum(1 for n in file_counts if n >= 2) >= 5
    patches = [PatchSet(r["diff"]) for r in records]
    assert any(f.is_added_file for p in patches for f in p), "no case adds a file"
    assert any(f.is_removed_file for p in patches for f in p), "no case deletes a file"


def test_pr_bodies_include_template_comments_and_an_injection_attempt(
    records: list[dict[str, Any]],
) -> None:
    bodies = [r["body"] for r in records]
    assert sum(1 for body in bodies if "<!--" in body and "-->" in body) >= 2
    assert any("ignore all previous instructions" in body.lower() for body in bodies)


def test_builder_rejects_a_finding_on_a_context_line(tmp_path: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not on PATH, so the diffs cannot be rebuilt")
    builder = load_builder()
    case = tmp_path / "cases" / "py-example"
    (case / "before").mkdir(parents=True)
    (case / "after").mkdir()
    (case / "before" / "m.py").write_text("a = 1\nx = 0\ny = 0\nb = 2\n")
    (case / "after" / "m.py").write_text("a = 1\nx = 0\ny = 0\nb = 3\n")
    finding = "{path: m.py, line_start: LINE, line_end: LINE, severity: low, agent: bugs, "
    finding += "what: b is set to the wrong value}"
    meta = "title: t\nbody: b\nlanguage: python\nkind: bug\nsource: second-look:synthetic\n"
    meta += "licence: MIT\nexpected:\n  - " + finding + "\n"
    (case / "case.yaml").write_text(meta.replace("LINE", "4"))
    [record] = builder.build(tmp_path / "cases")
    assert record["expected"][0]["line_start"] == 4
    assert record["head_files"] == {"m.py": "a = 1\nx = 0\ny = 0\nb = 3\n"}
    (case / "case.yaml").write_text(meta.replace("LINE", "3"))  # borders the removed line
    assert builder.build(tmp_path / "cases")[0]["expected"][0]["line_start"] == 3
    (case / "case.yaml").write_text(meta.replace("LINE", "1"))
    with pytest.raises(builder.CaseError, match="hold no added line"):
        builder.build(tmp_path / "cases")


def test_every_project_the_set_holds_code_of_has_its_licence_shipped(
    records: list[dict[str, Any]],
) -> None:
    """The cases carry other projects' files: each project's licence text ships beside them."""
    shipped = (PRS.parent / "THIRD-PARTY-LICENSES.txt").read_text(encoding="utf-8")
    headers = dict(re.findall(r"(?m)^(\S+/\S+) \(https://github\.com/\S+\), (.+)$", shipped))
    for record in records:
        if record["source"] == SYNTHETIC:
            continue
        repository = record["source"].split("/commit/")[0].removeprefix("https://github.com/")
        assert repository in headers, f"{record['id']}: no licence of {repository} shipped"
        assert record["licence"] in headers[repository].split(", "), record["id"]
    assert shipped.count("Permission is hereby granted") >= 10  # the MIT texts themselves
