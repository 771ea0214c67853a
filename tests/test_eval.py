"""`python -m bot eval`: the shipped labelled set through the real pipeline on FakeGemini,
whose scripted answers make every figure of the report known in advance."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.eval import Case, CaseResult, Expected, report
from bot.review.findings import Finding

PRS = Path(__file__).parent / "data" / "eval" / "prs.jsonl"
CASES = [json.loads(line) for line in PRS.read_text().splitlines()]
TITLE = re.compile(r"^Title: (.*)$", re.MULTILINE)


def answer_key(fake_gemini) -> dict[str, int]:
    """Script FakeGemini: on every other PR with a bug, its agent reports the expected finding
    (the others are missed); on each PR without one, the bugs agent reports a false finding.
    The verifier drops the false finding of the first clean PR. Returns what eval must count."""
    by_title = {case["title"]: case for case in CASES}
    buggy = [case for case in CASES if case["expected"]]
    found = {case["id"] for case in buggy[::2]}
    clean = [case["id"] for case in CASES if not case["expected"]]

    def respond(seen):
        case = by_title[TITLE.search(seen.prompt).group(1)]
        if seen.agent == "verifier":
            listed = json.loads(seen.prompt.rsplit("Findings (JSON):\n", 1)[1])
            drop = case["id"] == clean[0]
            verdicts = [{"id": f["id"], "keep": not drop, "confidence": 0.9, "reason": "r"}
                        for f in listed]  # fmt: skip
            return {"verdicts": verdicts}
        findings = []
        if case["id"] in found:
            findings = [
                {"file_path": e["path"], "line_start": e["line_start"], "line_end": e["line_end"],
                 "severity": e["severity"], "title": f"{e['keyword']} problem",
                 "description": f"This is a {e['keyword']} bug."}
                for e in case["expected"] if e["agent"] == seen.agent
            ]  # fmt: skip
        elif not case["expected"] and seen.agent == "bugs":
            path = (
                next(iter(case["head_files"]), None)
                or re.findall(r"^\+\+\+ b/(.+)$", case["diff"], re.MULTILINE)[0]
            )
            findings = [{"file_path": path, "line_start": 1, "line_end": 1, "severity": "low",
                         "title": "Imagined problem", "description": "Not real."}]  # fmt: skip
        return {"findings": [f for f in findings if f["file_path"] in seen.files]}

    fake_gemini.responder = respond
    expected = sum(len(case["expected"]) for case in CASES)
    caught = sum(len(case["expected"]) for case in buggy if case["id"] in found)
    return {"expected": expected, "caught": caught, "false": len(clean) - 1, "withheld": 1}


async def run_eval(settings, tmp_path, *args: str) -> subprocess.CompletedProcess:
    env = {
        "PATH": "/usr/bin:/bin",
        "GEMINI_API_KEY": settings.gemini_api_key,
        "GOOGLE_GEMINI_BASE_URL": settings.gemini_base_url or "",
        "GEMINI_RPM": "100000",
    }
    return await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "bot", "eval", *args], cwd=tmp_path, env=env,
        capture_output=True, text=True, timeout=110,
    )  # fmt: skip


async def test_eval_of_the_shipped_set_counts_what_fake_gemini_was_told_to_say(
    base_settings, fake_gemini, tmp_path
):
    known = answer_key(fake_gemini)

    done = await run_eval(base_settings, tmp_path, str(PRS), "--format", "json")

    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    line = data["overall"]["by_line"]
    assert data["prs"] == len(CASES) and data["prs_without_bug"] >= 5
    assert (line["expected"], line["caught"]) == (known["expected"], known["caught"])
    assert line["findings"] == known["caught"] + known["false"]
    assert line["precision"] == round(known["caught"] / line["findings"], 3)
    assert line["recall"] == round(known["caught"] / known["expected"], 3)
    p, r = known["caught"] / line["findings"], known["caught"] / known["expected"]
    assert line["f1"] == round(2 * p * r / (p + r), 3)
    assert data["withheld"] == known["withheld"]
    assert data["false_positives_on_clean_prs"] == known["false"]
    created = sum(cache.tokens for cache in fake_gemini.caches.values())
    assert created > 0, "the larger chunks were read through an explicit cache"
    assert data["tokens"]["input"] == fake_gemini.seen_prompt_tokens() + created
    assert data["cost_usd"] > 0
    assert set(data["agents"]) == {"security", "bugs", "performance", "style"}


async def test_eval_prints_a_table_by_default(base_settings, fake_gemini, tmp_path):
    answer_key(fake_gemini)
    one = tmp_path / "one.jsonl"
    one.write_text(PRS.read_text().splitlines()[0] + "\n")

    done = await run_eval(base_settings, tmp_path, str(one))

    assert done.returncode == 0, done.stderr
    assert "overall, line" in done.stdout and "precision" in done.stdout
    assert "estimated cost $" in done.stdout


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json\n", "one.jsonl:1: not JSON"),
        ('{"id": "a"}\n', "one.jsonl:1: 'diff' must be text"),
        ('{"id": "a", "diff": "", "expected": [{"path": "x", "line_start": 0}]}\n',
         "expected #1: line_start and line_end must be lines"),
        ("", "holds no PR"),
    ],
)  # fmt: skip
async def test_a_malformed_file_is_named_with_its_line_and_exits_2(
    base_settings, tmp_path, content, message
):
    one = tmp_path / "one.jsonl"
    one.write_text(content)

    done = await run_eval(base_settings, tmp_path, str(one))

    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr


async def test_eval_without_a_key_says_so(base_settings, tmp_path):
    done = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "bot", "eval", str(PRS)], cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin"}, capture_output=True, text=True, timeout=60,
    )  # fmt: skip

    assert done.returncode == 2 and "GEMINI_API_KEY is not set" in done.stderr


def finding(path: str, line: int | None, agent: str = "bugs", title: str = "off by one") -> Finding:
    return Finding(agent, "high", path, line, line, title, "")


def test_a_finding_matches_within_three_lines_once_and_with_its_keyword():
    expected = Expected("a.py", 10, 10, "high", "bugs", "off")
    case = Case("c", "", expected=(expected,))
    results = [
        CaseResult(case, [finding("a.py", 13), finding("a.py", 12), finding("a.py", 30)]),
        CaseResult(Case("d", "", expected=(expected,)), [finding("a.py", 10, title="typo")]),
        CaseResult(Case("e", "", expected=(expected,)), [finding("a.py", None)]),
    ]

    data = report(results, ["bugs"], "m")

    line, by_file = data["overall"]["by_line"], data["overall"]["by_file"]
    assert (line["findings"], line["matched"], line["caught"]) == (5, 1, 1)
    assert (by_file["matched"], by_file["caught"]) == (3, 3), "file level ignores lines"
    assert data["agents"]["bugs"]["recall"] == round(1 / 3, 3)
