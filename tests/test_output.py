"""The command line's output formats: text for a terminal, markdown, json and SARIF."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import jsonschema
import pytest

from bot.output import FORMATS, Report, render
from bot.output.report import as_json
from bot.output.sarif import artifact_uri, as_sarif
from bot.output.text import render_text, safe
from bot.review.changes import Diff, Skipped, parse_file, split_sections
from bot.review.coverage import Coverage
from bot.review.findings import Finding, check
from bot.review.render import Summary, render_summary

SCHEMA = json.loads((Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text())
AGENTS = ["security", "bugs", "performance", "style"]
SPACED = "my docs/read me.py"
DIFF_TEXT = """\
diff --git a/src/db.py b/src/db.py
index 1111111..2222222 100644
--- a/src/db.py
+++ b/src/db.py
@@ -1,3 +1,10 @@
 import sqlite3
-def find(name):
+def find(conn, name):
+    return conn.execute("SELECT * FROM users WHERE name = '" + name + "'")
+
+def count(conn):
+    total = 0
+    for row in conn.execute("SELECT * FROM users"):
+        total += 1
+    return total
 # end
diff --git a/my docs/read me.py b/my docs/read me.py
new file mode 100644
index 0000000..3333333
--- /dev/null
+++ b/my docs/read me.py
@@ -0,0 +1,2 @@
+x = 1
+print("\x1b[2J\x1b]0;pwned\x07 hi")
"""
# RFC 3986 relative-ref (a path only): segments of unreserved, percent-encoded, sub-delims,
# ":" and "@" characters, none in the first segment a ":".
_NC = r"(?:[A-Za-z0-9\-._~!$&'()*+,;=@]|%[0-9A-F]{2})"
RELATIVE_URI = re.compile(rf"{_NC}+(?:/(?:{_NC}|:)*)*")


def a_diff(text: str = DIFF_TEXT) -> Diff:
    diff = Diff()
    for section in split_sections(text):
        diff.add(parse_file(section))
    return diff


def raw(agent="security", severity="high", path="src/db.py", start=3, end=None, **kw) -> Finding:
    fields = dict(
        agent_type=agent,
        severity=severity,
        file_path=path,
        line_start=start,
        line_end=end if end is not None else start,
        title="SQL built from input",
        description="The name goes into the query as it is.",
    )
    return Finding(**(fields | kw))


def a_report(findings: list[Finding], **summary) -> Report:
    """A report of a completed review whose findings went through `check` (fingerprints)."""
    diff = a_diff()
    checked = check(findings, diff).findings
    fields = dict(
        head_sha="0123456789abcdef0123",
        status="completed",
        agents=list(AGENTS),
        findings=[f for f in checked if not f.silenced],
        fail_on="high",
        withheld=[f for f in checked if f.withheld],
        coverage=Coverage(files=2, reviewed_files=2, lines=11, reviewed_lines=11),
        calls=8,
        prompt_tokens=51_200,
        cached_tokens=1_024,
        output_tokens=900,
        cost_usd=0.0123,
    )
    return Report(Summary(**(fields | summary)), diff, "diff from standard input")


MIXED = [
    raw(),  # security, high, src/db.py:3
    raw("performance", "medium", start=7, end=8, title="Counts rows one by one"),
    raw("style", "low", path=SPACED, start=1, title="Name says nothing"),
    raw("bugs", "critical", path=SPACED, start=None, end=None, title="Module does nothing"),
    raw("bugs", "info", start=6, title="Doubted", verdict="dropped", confidence=0.1),
]


def validate(log: dict) -> None:
    jsonschema.Draft7Validator(SCHEMA).validate(log)
    for result in log["runs"][0]["results"]:
        uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        assert RELATIVE_URI.fullmatch(uri), uri  # the schema's uri-reference, checked here


def test_the_shipped_schema_is_the_real_sarif_2_1_0_one():
    jsonschema.Draft7Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert SCHEMA["properties"]["version"]["enum"] == ["2.1.0"]
    assert {"result", "reportingDescriptor", "physicalLocation"} <= set(SCHEMA["definitions"])
    # It is strict: a log it should refuse is refused.
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft7Validator(SCHEMA).validate({"version": "2.1.0", "runs": [{}]})


@pytest.mark.parametrize(
    "findings",
    [
        pytest.param(MIXED, id="lines, ranges, file-level, a spaced path"),
        pytest.param([MIXED[3]], id="file-level only"),
        pytest.param([], id="no findings"),
    ],
)
def test_sarif_validates_against_the_schema(findings):
    log = json.loads(render(a_report(findings), "sarif"))

    validate(log)
    assert log["version"] == "2.1.0"
    assert log["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    assert len(log["runs"]) == 1
    assert len(log["runs"][0]["results"]) == sum(1 for f in findings if not f.verdict)


def test_sarif_results_rules_levels_fingerprints_and_regions():
    report = a_report(MIXED)
    log = as_sarif(report)
    run = log["runs"][0]
    driver = run["tool"]["driver"]
    rules = [r["id"] for r in driver["rules"]]
    results = {r["message"]["text"].split("\n")[0]: r for r in run["results"]}

    assert driver["name"] == "Second Look" and driver["version"]
    assert rules == AGENTS
    assert driver["rules"][0]["properties"] == {"tags": ["security"]}
    assert all("properties" not in r for r in driver["rules"][1:])
    assert "Doubted" not in results  # withheld: not a result
    assert len(results) == 4
    by_fingerprint = {f.fingerprint: f for f in report.summary.findings}
    for result in run["results"]:
        finding = by_fingerprint[result["partialFingerprints"]["secondLook/v1"]]
        assert result["ruleId"] == finding.agent_type
        assert rules[result["ruleIndex"]] == finding.agent_type
        assert result["properties"]["severity"] == finding.severity

    sql = results["SQL built from input"]
    assert sql["level"] == "error"
    assert (
        sql["message"]["text"] == "SQL built from input\n\nThe name goes into the query as it is."
    )
    assert sql["properties"]["security-severity"] == "8.0"
    assert location(sql) == ("src/db.py", {"startLine": 3, "endLine": 3})

    rows = results["Counts rows one by one"]
    assert rows["level"] == "warning"
    assert "security-severity" not in rows["properties"]
    assert location(rows) == ("src/db.py", {"startLine": 7, "endLine": 8})

    assert results["Name says nothing"]["level"] == "note"
    assert location(results["Name says nothing"]) == (
        "my%20docs/read%20me.py",
        {"startLine": 1, "endLine": 1},
    )
    module = results["Module does nothing"]
    assert module["level"] == "error"  # critical
    assert location(module) == ("my%20docs/read%20me.py", {"startLine": 1})


def location(result: dict) -> tuple[str, dict]:
    physical = result["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
    return physical["artifactLocation"]["uri"], physical["region"]


def test_sarif_has_a_rule_for_an_agent_outside_the_review_and_a_clean_message():
    hostile = raw("secrets", "low", title="Key\x1b[2J here\u202e", description="a\x07b\x00c")
    report = a_report([hostile])
    run = as_sarif(report)["runs"][0]

    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == AGENTS + ["secrets"]
    assert run["results"][0]["ruleIndex"] == 4
    assert run["results"][0]["message"]["text"] == "Key[2J here\n\nabc"
    validate(as_sarif(report))


def test_sarif_paths_are_relative_uri_references():
    assert artifact_uri("my docs/café #1 50%.py") == "my%20docs/caf%C3%A9%20%231%2050%25.py"
    assert artifact_uri("a:b/c?.py") == "a%3Ab/c%3F.py"
    assert RELATIVE_URI.fullmatch(artifact_uri("a:b/[x] {y}.py"))
    assert not RELATIVE_URI.fullmatch("my docs/a.py")  # the check itself can fail


def test_sarif_security_severity_follows_githubs_mapping():
    findings = [
        raw(severity=s, start=n, title=f"t{n}")
        for n, s in enumerate(["critical", "high", "medium", "low", "info"], start=2)
    ]
    results = as_sarif(a_report(findings))["runs"][0]["results"]

    assert sorted((r["level"], r["properties"]["security-severity"]) for r in results) == [
        ("error", "8.0"),
        ("error", "9.5"),
        ("note", "2.0"),
        ("note", "2.0"),
        ("warning", "5.5"),
    ]


def test_sarif_says_a_failed_review_did_not_succeed():
    report = a_report(
        [], status="failed", error="Gemini refused the key", failed_agents={"bugs": "timed out"}
    )
    log = as_sarif(report)
    invocation = log["runs"][0]["invocations"][0]

    validate(log)
    assert invocation["executionSuccessful"] is False
    assert [n["message"]["text"] for n in invocation["toolExecutionNotifications"]] == [
        "Gemini refused the key",
        "The bugs agent failed: timed out",
    ]


FINDING_KEYS = {"agent", "severity", "path", "line_start", "line_end", "title", "description",
                "suggestion", "evidence", "suggestion_offered", "fingerprint", "verdict",
                "confidence"}  # fmt: skip
TOP_KEYS = {"version", "source", "head", "status", "error", "partial", "partial_reasons",
            "fail_on", "findings", "withheld", "dismissed", "coverage", "usage", "agents",
            "failed_agents", "notes", "config_problems", "walkthrough"}  # fmt: skip


def test_json_has_the_documented_shape_and_round_trips():
    report = a_report(
        MIXED,
        notes=["Guidance: AGENTS.md"],
        config_problems=[("fail_on", "not a severity"), (None, "bad YAML")],
        failed_agents={"style": "timed out"},
        skipped=[Skipped("poetry.lock", "lock file", lines=40)],
    )
    sql = next(f for f in report.summary.findings if f.title == "SQL built from input")
    dismissed = replace(sql, dismissed_by="octocat")
    shown = tuple(f for f in report.summary.findings if f is not sql)
    report = replace(
        report, summary=replace(report.summary, findings=shown, dismissed=(dismissed,))
    )
    out = json.loads(render(report, "json"))

    assert out == as_json(report)
    assert set(out) == TOP_KEYS
    assert out["version"] == 4
    assert (out["partial"], out["partial_reasons"]) == (False, [])
    assert out["source"] == "diff from standard input"
    assert out["head"] == "0123456789abcdef0123"
    assert (out["status"], out["error"], out["fail_on"]) == ("completed", None, "high")
    assert [set(f) for f in out["findings"]] == [FINDING_KEYS] * 3
    assert [set(f) for f in out["withheld"]] == [FINDING_KEYS]
    assert out["withheld"][0]["verdict"] == "dropped" and out["withheld"][0]["confidence"] == 0.1
    assert [set(f) for f in out["dismissed"]] == [FINDING_KEYS | {"dismissed_by"}]
    assert out["dismissed"][0]["dismissed_by"] == "octocat"
    assert out["dismissed"][0]["fingerprint"] == dismissed.fingerprint != ""
    file_level = next(f for f in out["findings"] if f["title"] == "Module does nothing")
    assert (file_level["path"], file_level["line_start"], file_level["line_end"]) == (
        SPACED,
        None,
        None,
    )
    assert out["coverage"] == {
        "files": 2,
        "reviewed_files": 2,
        "lines": 11,
        "reviewed_lines": 11,
        "line_percent": 100,
        "partly_reviewed_files": 0,
        "partly_reviewed_lines": 0,
        "partial": False,
        "not_reviewed": [{"path": "poetry.lock", "reason": "lock file", "lines": 40, "cut": False}],
        "failed_calls": [],
    }
    assert out["usage"] == {
        "calls": 8,
        "unreached_calls": 0,
        "prompt_tokens": 51_200,
        "cached_tokens": 1_024,
        "output_tokens": 900,
        "thinking_tokens": 0,
        "cost_usd": 0.0123,
        "output_cost_usd": 0.0,
    }
    assert out["agents"] == AGENTS
    assert out["failed_agents"] == {"style": "timed out"}
    assert out["notes"] == ["Guidance: AGENTS.md"]
    assert out["config_problems"] == [
        {"key": "fail_on", "message": "not a severity"},
        {"key": None, "message": "bad YAML"},
    ]


def test_json_of_a_review_that_read_nothing_has_null_coverage_and_ascii_only():
    report = a_report([raw(title="Ti\x1b]0;x\x07tle \u202e")], coverage=None, cost_usd=None)
    rendered = render(report, "json")

    assert rendered.isascii() and "\x1b" not in rendered
    out = json.loads(rendered)
    assert out["coverage"] is None
    assert out["usage"]["cost_usd"] is None
    assert out["findings"][0]["title"] == "Ti\x1b]0;x\x07tle \u202e"  # data kept as it is


def test_text_shows_each_finding_with_its_code_and_no_escape_without_color():
    report = a_report(
        MIXED
        + [
            raw(
                "bugs",
                "low",
                start=5,
                end=10,
                title="Long",
                suggestion="def count(conn):\n    return 0",
            )
        ]
    )
    out = render(report, "text")

    assert "\x1b" not in out
    assert "Second Look review of diff from standard input at 0123456789ab" in out
    assert "5 finding(s): 1 critical, 1 high, 1 medium, 2 low. 2 at or above high (fail_on)." in out
    assert "  HIGH     src/db.py:3  security · SQL built from input" in out
    assert (
        '       3 │     return conn.execute("SELECT * FROM users WHERE name = \'" + name + "\'")'
    ) in out
    assert "      The name goes into the query as it is." in out
    assert "src/db.py:7-8  performance · Counts rows one by one" in out
    assert "       7 │     for row in conn.execute" in out
    assert "  CRITICAL my docs/read me.py  bugs · Module does nothing" in out
    # Six flagged lines: five shown, the sixth counted.
    assert "       9 │     return total" in out
    assert "      10 │" not in out
    assert "│ … 1 more line(s)" in out
    assert "      Suggestion:\n        def count(conn):\n            return 0" in out
    assert "1 finding(s) withheld after verification." in out
    assert "Reviewed 2 of 2 files, 100% of changed lines." in out
    assert out.rstrip().endswith(
        "Usage: 8 Gemini call(s), 51,200 input tokens (1,024 cached), 900 output tokens, "
        "0 thinking tokens, est. cost $0.0123 ($0.0000 output and thinking)."
    )


def test_text_orders_files_by_their_most_severe_finding_and_findings_by_severity_then_line():
    out = render_text(a_report(MIXED))
    headers = [line for line in out.splitlines() if line in ("src/db.py", SPACED)]
    titles = re.findall(r"· (.+)$", out, re.M)

    assert headers == [SPACED, "src/db.py"]  # a critical finding beats a high one
    assert titles == [
        "Module does nothing",
        "Name says nothing",
        "SQL built from input",
        "Counts rows one by one",
    ]


def test_text_with_color_has_ansi_around_severity_paths_and_code():
    out = render_text(a_report(MIXED), color=True)

    assert "\x1b[31mHIGH    \x1b[0m" in out
    assert "\x1b[1;31mCRITICAL\x1b[0m" in out
    assert "\x1b[1msrc/db.py:3\x1b[0m" in out
    assert "\x1b[2m       3 │ " in out


@pytest.mark.parametrize("color", [False, True])
def test_text_strips_escape_sequences_from_model_text_paths_and_code(color):
    hostile = raw(
        "style",
        "low",
        path=SPACED,
        start=2,
        title="Title\x1b]0;pwned\x07\x1b[2J done\u202e\x9b31m",
        description="line one\x1b[8m\nline\rtwo\x1bP+q\x1b\\",
        suggestion='print("\x1b[5m")',
    )
    report = a_report([hostile], notes=["\x1b[2Jnote"], failed_agents={"bugs": "\x1b]8;;x\x07"})
    out = render_text(report, color=color)
    ours = re.sub(r"\x1b\[[0-9;]*m", "", out)  # the colours we add, when asked for

    assert "\x1b" not in ours and "\x9b" not in ours and "\x07" not in ours
    assert "\u202e" not in out and "\r" not in out
    assert "pwned" not in out  # the OSC title sequence went whole
    assert "low · Title done" not in out and "style · Title done" in ours
    assert "      line one\n      line\n      two" in ours
    assert '        print("")' in ours
    assert '       2 │ print(" hi")' in ours  # the code line of the diff, cleaned
    assert "note: note" in ours


def test_safe_removes_every_kind_of_terminal_sequence():
    assert safe("a\x1b[1;31mb\x1b[0m") == "ab"
    assert safe("a\x1b]0;title\x07b\x1b]8;;http://x\x1b\\c") == "abc"
    assert safe("a\x1bPdata\x1b\\b\x1b_apc\x1b\\c\x1bcd") == "abcd"
    assert safe("a\x9b2Jb\x9d0;t\x9cc") == "abc"
    assert safe("a\x1b") == "a"
    assert safe("x\u200by\u2066z\tw") == "xyz    w"


def test_text_of_a_clean_review_says_no_findings():
    out = render_text(a_report([], calls=0, cost_usd=None))

    assert "\nNo findings.\n" in out
    assert "finding(s)" not in out
    assert out.rstrip().endswith("Usage: no Gemini calls.")


def test_text_of_a_failed_review_says_why_and_not_no_findings():
    report = a_report(
        [],
        status="failed",
        error="Gemini refused the key",
        coverage=None,
        cost_usd=None,
        config_problems=[("fail_on", "not a severity")],
    )
    out = render_text(report)

    assert "The review failed: Gemini refused the key" in out
    assert "No findings" not in out
    assert "config fail_on: not a severity" in out
    assert "Reviewed" not in out  # no coverage
    assert "est. cost" not in out


def test_text_of_a_partial_review_says_so_and_names_what_was_left_out():
    cut = Skipped("big.py", "size cap", lines=900, cut=True)
    report = a_report([], coverage=Coverage(3, 2, 911, 11, not_reviewed=(cut,)))
    out = render_text(report)

    assert "Partial review. Reviewed 2 of 3 files, 1% of changed lines." in out
    assert "  big.py (size cap, left out: the review is partial)" in out


def test_markdown_is_the_summary_comment_without_its_marker():
    report = a_report(MIXED)

    assert render(report, "markdown") == render_summary(report.summary, marker=False)
    assert "second-look:summary" not in render(report, "markdown")


def test_every_format_renders_and_an_unknown_one_is_refused():
    report = a_report(MIXED)

    assert all(render(report, fmt).strip() for fmt in FORMATS)
    with pytest.raises(ValueError, match="unknown output format 'xml'"):
        render(report, "xml")


def test_every_format_carries_a_findings_evidence_and_escapes_it():
    evidence = "Line 3 `query(name)` puts the name into the SQL \x1b[31mas it is\x1b[0m."
    report = a_report([raw(evidence=evidence)])

    (shown,) = as_json(report)["findings"]
    assert shown["evidence"] == evidence and shown["suggestion_offered"] is False
    (result,) = as_sarif(report)["runs"][0]["results"]
    assert result["properties"]["evidence"].startswith("Line 3 `query(name)` puts the name")
    assert "\x1b" not in result["properties"]["evidence"]
    text = render_text(report, color=False)
    assert "Evidence:" in text and "puts the name into the SQL as it is." in text
    assert "\x1b" not in text
    plain = as_json(a_report([raw()]))["findings"][0]
    assert plain["evidence"] == "" and "evidence" not in json.dumps(
        as_sarif(a_report([raw()]))["runs"][0]["results"][0]["properties"]
    )
