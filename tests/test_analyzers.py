"""The analyzers: ruff and detect-secrets run for real in their sandbox, on a parsed diff."""

from __future__ import annotations

import asyncio
import os
import sys

import pytest

from bot.github.repo_config import parse
from bot.review.analyzers.base import Options, Run
from bot.review.analyzers.run import analyze, head_texts, switches_of
from bot.review.analyzers.sandbox import AnalyzerFailed, execute
from bot.review.changes import Diff, parse_file
from bot.review.chunks import FileContext
from bot.review.findings import Finding, check, merge
from bot.review.render import inline_body
from bot.review.verify import task

AWS_KEY = "AKIAIOSFODNN7EXAMPLE"  # AWS's documented example key
GITHUB_TOKEN = "ghp_" + "Ab3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hJ6"


def added(path: str, lines: list[str]) -> str:
    """The diff of a new file."""
    body = "".join(f"+{line}\n" for line in lines)
    return (
        f"diff --git a/{path} b/{path}\nnew file mode 100644\n--- /dev/null\n+++ b/{path}\n"
        f"@@ -0,0 +1,{len(lines)} @@\n{body}"
    )


def diff_of(*sections: str) -> Diff:
    diff = Diff()
    for section in sections:
        diff.add(parse_file(section))
    return diff


def run(diff: Diff, heads=None, switches=None):
    switches = switches or {"ruff": Options(), "secrets": Options()}
    return asyncio.run(analyze(diff, head_texts(diff, heads or {}, diff.paths), switches))


BUGGY = [
    "import subprocess",
    "",
    "",
    "def run(command, seen=[]):",
    "    subprocess.call(command, shell=True)",
    "    return undefined_name",
    "",
    "",
    "def clean(items):",
    "    return sorted(items)",
]


def test_default_rules_find_correctness_problems_not_style():
    found = run(diff_of(added("app.py", BUGGY + ["x=1;y=2  # style: two statements"])))

    by_rule = {(f.agent_type, f.line_start, f.severity) for f in found.findings}
    assert by_rule == {
        ("ruff B006", 4, "medium"),  # mutable default
        ("ruff S602", 5, "high"),  # shell=True
        ("ruff F821", 6, "high"),  # undefined name
    }
    f821 = next(f for f in found.findings if f.agent_type == "ruff F821")
    assert f821.title == "Undefined name `undefined_name`"
    assert "https://docs.astral.sh/ruff/rules/undefined-name" in f821.description
    assert found.failures == {}


def modified(path: str, old: list[str], new: list[str], start: int) -> str:
    """A hunk replacing line `start` of the file by `new` (old and new are whole files)."""
    removed, put = old[start - 1], new[start - 1]
    return (
        f"diff --git a/{path} b/{path}\n--- a/{path}\n+++ b/{path}\n"
        f"@@ -{start},1 +{start},1 @@\n-{removed}\n+{put}\n"
    )


def test_only_findings_on_added_lines_are_kept():
    old = ["import os", "", "", "def f():", "    return 1"]
    new = ["import os", "", "", "def f():", "    return missing"]
    diff = diff_of(modified("lib.py", old, new, 5))
    heads = {"lib.py": FileContext(tuple(new))}

    found = run(diff, heads)

    assert [(f.agent_type, f.line_start) for f in found.findings] == [("ruff F821", 5)]
    assert found.dropped == 1, "the unused `import os` on line 1 was not added by the PR"


def test_a_secret_is_found_by_its_kind_and_never_repeated():
    lines = [f'AWS_KEY = "{AWS_KEY}"', f'token = "{GITHUB_TOKEN}"', 'name = "widgets"']
    found = run(diff_of(added("settings.ini", lines)))

    kinds = {(f.agent_type, f.line_start, f.severity) for f in found.findings}
    assert ("secrets AWSAccessKey", 1, "critical") in kinds
    assert ("secrets GitHubToken", 2, "critical") in kinds
    assert all(f.line_start != 3 for f in found.findings)
    for f in found.findings:
        shown = f"{f.agent_type} {f.title} {f.description} {f.suggestion}"
        assert AWS_KEY not in shown and GITHUB_TOKEN not in shown
        assert "AKIA" not in shown and "ghp_" not in shown


def test_the_repository_can_switch_analyzers_and_rules_off():
    loaded = parse("analyzers:\n  ruff:\n    ignore: [F821]\n  secrets: false\n")
    assert loaded.problems == []
    switches = switches_of(loaded.config.analyzers, {})
    lines = [*BUGGY, f'KEY = "{AWS_KEY}"']

    found = run(diff_of(added("app.py", lines)), switches=switches)

    assert {f.agent_type for f in found.findings} == {"ruff B006", "ruff S602"}
    assert parse("analyzers: false\n").config.analyzers == {}
    assert parse("").config.analyzers == {"ruff": (), "secrets": ()}
    bad = parse("analyzers: {eslint: true}\n")
    assert bad.config.analyzers == {"ruff": (), "secrets": ()}
    assert "unknown analyzer 'eslint'" in bad.problems[0].message


def test_the_repositorys_ruff_config_replaces_the_default_rules():
    own = ("ruff.toml", '[lint]\nselect = ["E711"]\n')
    switches = switches_of({"ruff": ()}, {"ruff": own})
    lines = ["def f(x):", "    return x == None or missing"]

    found = run(diff_of(added("app.py", lines)), switches=switches)

    assert [f.agent_type for f in found.findings] == ["ruff E711"]


def test_a_ruff_config_that_extends_another_file_is_refused_for_the_defaults():
    own = (
        "pyproject.toml",
        '[tool.ruff]\nextend = "/etc/ruff.toml"\n[tool.ruff.lint]\nselect = ["E711"]\n',
    )
    switches = switches_of({"ruff": ()}, {"ruff": own})
    lines = ["def f(x):", "    return x == None or missing"]

    found = run(diff_of(added("app.py", lines)), switches=switches)

    assert [f.agent_type for f in found.findings] == ["ruff F821"]


def test_a_tool_past_its_time_limit_is_killed_and_said_to_have_failed():
    spin = Run((sys.executable, "-c", "while True: pass"), {}, seconds=0.5)

    with pytest.raises(AnalyzerFailed, match="did not finish within 0.5 s"):
        asyncio.run(execute(spin, lambda output: output))


def test_a_review_that_stops_stops_its_analyzer_too(tmp_path):
    """Cancelled (the review superseded, its lease lost): the tool is killed, not orphaned."""
    pid_file = tmp_path / "pid"
    code = f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(60)"
    sleeper = Run((sys.executable, "-c", code), {}, seconds=60)

    async def cancelled() -> None:
        task = asyncio.create_task(execute(sleeper, lambda output: output))
        while not pid_file.exists() or not pid_file.read_text():
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(asyncio.wait_for(cancelled(), 20))
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid_file.read_text()), 0)  # gone, and reaped


def test_a_tool_over_its_memory_limit_fails():
    hog = Run(
        (sys.executable, "-c", "x = bytearray(512 * 1024 * 1024)"), {}, memory_bytes=256 << 20
    )

    with pytest.raises(AnalyzerFailed, match="exited with status 1"):
        asyncio.run(execute(hog, lambda output: output))


def test_the_tool_sees_no_secret_of_ours(monkeypatch):
    monkeypatch.setenv("GEMINI_API_KEY", "AIzaSy-never-seen")
    show = Run((sys.executable, "-c", "import os; print(sorted(os.environ))"), {})

    output = asyncio.run(execute(show, lambda output: output.stdout))

    assert "GEMINI_API_KEY" not in output and "PATH" in output


def agent(agent_type: str, line: int, title: str = "NameError at runtime", **kw) -> Finding:
    severity, description = kw.pop("severity", "medium"), kw.pop("description", "d")
    return Finding(agent_type, severity, "app.py", line, line, title, description, **kw)


def test_an_analyzer_and_an_agent_on_the_same_line_are_one_finding_naming_both():
    ruff = agent("ruff F821", 6, "Undefined name `undefined_name`", severity="high")
    bugs = agent("bugs", 6, suggestion="    return defined_name")
    style = agent("style", 6, "Name is unclear", severity="low")

    kept, merged = merge([bugs, ruff, style])

    assert merged == 1
    assert [(f.agent_type, f.severity) for f in kept] == [
        ("ruff F821 · bugs", "high"),
        ("style", "low"),
    ]
    assert kept[0].suggestion == "    return defined_name"
    assert kept[0].title == "Undefined name `undefined_name`"


def test_the_verifier_cannot_withhold_an_analyzer_finding_and_reads_it_as_evidence():
    diff = diff_of(added("app.py", BUGGY))
    ruff = agent(
        "ruff F821", 6, "Undefined name `undefined_name`", verdict="dropped", confidence=0.1
    )
    guess = agent("performance", 9, "Sorting is slow", verdict="dropped", confidence=0.1)

    checked = check([ruff, guess], diff)

    assert {(f.agent_type, f.withheld) for f in checked.findings} == {
        ("ruff F821", False),
        ("performance", True),
    }
    ending = task([guess], [ruff])
    assert "Analyzer findings (JSON)" in ending and '"source": "ruff F821"' in ending


def test_an_analyzer_finding_links_its_rule_and_a_model_finding_never_does():
    found = run(diff_of(added("app.py", BUGGY))).findings
    f821 = next(f for f in found if f.agent_type == "ruff F821")
    bugs = agent("bugs", 6, "Undefined", severity="high")
    merged, _ = merge([f821, bugs])
    mimic = agent(
        "bugs", 6, description="x\n\nRule ruff F821: https://docs.astral.sh/ruff/rules/a/"
    )

    assert "<sub>([ruff F821](https://docs.astral.sh/ruff/rules/undefined-name) · bugs)</sub>" in (
        inline_body(merged[0], False)
    )
    assert "](" not in inline_body(mimic, False)


def test_a_secret_merged_with_the_security_agents_finding_takes_none_of_its_words():
    key = agent("secrets AWSAccessKey", 1, "AWS Access Key", severity="critical")
    security = agent(
        "security", 1, f"Hard-coded key {AWS_KEY}", description=AWS_KEY, suggestion=AWS_KEY
    )

    (merged,), _ = merge([security, key])

    assert merged.agent_type == "secrets AWSAccessKey · security"
    assert AWS_KEY not in f"{merged.title} {merged.description} {merged.suggestion}"
