"""`python -m bot eval`: the shipped labelled set through the real pipeline on FakeGemini,
whose scripted answers make every figure of the report known in advance."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import gemini_settings
from bot.review.findings import Finding
from bot.tools.eval_cases import read_cases
from bot.tools.eval_results import CaseResult, ResultsFile, prompt_version
from bot.tools.eval_run import evaluate
from tests.fakes.gemini import judged_pair
from tests.processes import CHECKOUT

PRS = Path(__file__).parents[1] / "bot" / "tools" / "eval_data" / "prs.jsonl"
CASES = [json.loads(line) for line in PRS.read_text().splitlines()]
TITLE = re.compile(r"^Title: (.*)$", re.MULTILINE)


def answer_key(fake_gemini, cases: list[dict] = CASES) -> dict[str, int]:
    """Script FakeGemini for `cases`: on every other PR with a bug, its agent reports the
    expected finding (the others are missed); on each PR without one, the bugs agent reports a
    false finding. The verifier drops the false finding of the first clean PR. Returns what
    eval must count."""
    by_title = {case["title"]: case for case in cases}
    buggy = [case for case in cases if case["expected"]]
    found = {case["id"] for case in buggy[::2]}
    clean = [case["id"] for case in cases if not case["expected"]]

    def respond(seen):
        if seen.agent == "walkthrough":
            return fake_gemini.walkthrough(seen)
        if seen.agent == "judge":  # eval --judge: the test's own rule, else not the same
            candidate, golden = judged_pair(seen.prompt)
            same = bool(fake_gemini.judge and fake_gemini.judge(candidate, golden))
            return {"reason": "Scripted by the test.", "same_issue": same}
        case = by_title[TITLE.search(seen.prompt).group(1)]
        if seen.agent == "verifier":
            listed = json.loads(seen.prompt.rsplit("Findings (JSON):\n", 1)[1])
            drop = case["id"] == clean[0]
            verdicts = [
                {"id": f["id"], "keep": not drop, "confidence": 0.9, "reason": "r"} for f in listed
            ]
            return {"verdicts": verdicts}
        findings = []
        if case["id"] in found:
            findings = [
                {
                    "file_path": e["path"],
                    "line_start": e["line_start"],
                    "line_end": e["line_end"],
                    "severity": e["severity"],
                    "title": "a problem here",
                    "description": e["what"],
                }
                for e in case["expected"]
                if e["agent"] == seen.agent
            ]
        elif not case["expected"] and seen.agent == "bugs":
            path = (
                next(iter(case["head_files"]), None)
                or re.findall(r"^\+\+\+ b/(.+)$", case["diff"], re.MULTILINE)[0]
            )
            findings = [
                {
                    "file_path": path,
                    "line_start": 1,
                    "line_end": 1,
                    "severity": "low",
                    "title": "Imagined problem",
                    "description": "Not real.",
                }
            ]
        return {"findings": [f for f in findings if f["file_path"] in seen.files]}

    fake_gemini.responder = respond
    expected = sum(len(case["expected"]) for case in cases)
    caught = sum(len(case["expected"]) for case in buggy if case["id"] in found)
    return {"expected": expected, "caught": caught, "false": len(clean) - 1, "withheld": 1}


async def run_eval(settings, tmp_path, *args: str) -> subprocess.CompletedProcess:
    env = {
        "PATH": "/usr/bin:/bin",
        **CHECKOUT,
        "GEMINI_API_KEY": settings.gemini_api_key,
        "GOOGLE_GEMINI_BASE_URL": settings.gemini_base_url or "",
        "GEMINI_RPM": "100000",
    }
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "bot", "eval", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=110,
    )


async def test_eval_of_the_shipped_set_counts_what_fake_gemini_was_told_to_say(
    base_settings, fake_gemini, tmp_path
):
    # The whole shipped set, the default FILE (some 4 s on FakeGemini).
    sample = CASES
    known = answer_key(fake_gemini, sample)

    done = await run_eval(base_settings, tmp_path, "--format", "json")

    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    line = data["overall"]["by_line"]
    assert data["prs"] == len(sample) and data["prs_without_bug"] >= 3
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
    assert data["cost_per_case_usd"] == pytest.approx(data["cost_usd"] / len(sample), abs=1e-6)
    assert data["cost_per_true_finding_usd"] == pytest.approx(
        data["cost_usd"] / known["caught"], abs=1e-6
    )
    assert set(data["agents"]) == {"security", "bugs", "performance", "style"}
    assert data["bootstrap"] == {
        "cases": len(sample),
        "resamples": 2000,
        "seed": 27,
        "confidence": 0.95,
    }
    for name in ("precision", "recall", "f1"):
        low, high = line["interval"][name]
        assert low <= line[name] <= high and low < high, name
    assert data["kinds"]["clean"] == data["prs_without_bug"]
    languages = data["languages"]
    assert set(languages) == {c["language"] for c in sample}
    for name in ("expected", "caught", "findings"):
        assert sum(s[name] for s in languages.values()) == line[name], name
        assert sum(s[name] for s in data["by_kind"].values()) == line[name], name
    clean = data["by_kind"]["clean"]
    assert clean["expected"] == 0 and clean["recall"] is None
    assert clean["findings"] == known["false"] and clean["precision"] == 0
    again = await run_eval(base_settings, tmp_path, "--format", "json")
    assert json.loads(again.stdout)["overall"] == data["overall"], "a fixed seed: reproducible"
    assert json.loads(again.stdout)["resumed"] == len(CASES)


async def test_judge_decides_the_same_issue_at_a_labels_place(base_settings, fake_gemini, tmp_path):
    # Three bug cases whose expected findings the agents report; the judge says the third one
    # is another issue (the kind rule would have matched it), and no pair elsewhere is asked.
    three = [c for c in CASES if c["kind"] == "bug" and len(c["expected"]) == 1][:3]
    some = tmp_path / "three.jsonl"
    some.write_text("".join(json.dumps(case) + "\n" for case in three))
    known = answer_key(fake_gemini, three)
    assert known["caught"] == 2, "answer_key reports the first and the third case's finding"
    other = three[2]["expected"][0]["what"]
    fake_gemini.judge = lambda candidate, golden: golden != other and golden in candidate

    plain = await run_eval(base_settings, tmp_path, str(some), "--format", "json")
    judged = await run_eval(base_settings, tmp_path, str(some), "--judge", "--format", "json")
    again = await run_eval(base_settings, tmp_path, str(some), "--judge", "--format", "json")

    assert plain.returncode == judged.returncode == again.returncode == 0, judged.stderr
    assert json.loads(plain.stdout)["overall"]["by_line"]["caught"] == 2
    assert json.loads(plain.stdout)["judge"] is None
    data = json.loads(judged.stdout)
    assert data["overall"]["by_line"]["caught"] == 1, "the judge refused the third"
    assert data["overall"]["by_line"]["findings"] == 2
    assert data["judge"]["model"] == "gemini-2.5-flash" and data["judge"]["asked"] >= 2
    assert (tmp_path / ".data" / "eval" / "judge.jsonl").is_file()
    rerun = json.loads(again.stdout)
    assert rerun["overall"] == data["overall"]
    assert rerun["judge"]["asked"] == 0 and rerun["judge"]["from_cache"] >= 2


async def test_eval_prints_a_table_by_default(base_settings, fake_gemini, tmp_path):
    answer_key(fake_gemini)
    one = tmp_path / "one.jsonl"
    one.write_text(PRS.read_text().splitlines()[0] + "\n")

    done = await run_eval(base_settings, tmp_path, str(one))

    assert done.returncode == 0, done.stderr
    assert "overall, line" in done.stdout and "precision" in done.stdout
    assert "estimated cost $" in done.stdout and "per true finding" in done.stdout
    assert "95% bootstrap interval over the 1 cases" in done.stdout


def _label(**changes) -> dict:
    label = {"path": "a.py", "line_start": 3, "line_end": 4, "severity": "high", "what": "w."}
    return {k: v for k, v in {**label, **changes}.items() if v is not None}


def _line(**changes) -> str:
    case = {
        "id": "a",
        "language": "python",
        "kind": "clean",
        "source": "second-look:synthetic",
        "licence": "MIT",
        "diff": "",
        "expected": [],
    }
    return json.dumps({k: v for k, v in {**case, **changes}.items() if v is not None}) + "\n"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json\n", "one.jsonl:1: not JSON"),
        ('{"id": "a"}\n', "one.jsonl:1: 'kind' must be one of bug, style, clean"),
        (_line(diff=1), "one.jsonl:1: 'diff' must be text"),
        (_line(source="two words"), "one.jsonl:1: 'source' must be one word without spaces"),
        (_line(licence=None), "one.jsonl:1: 'licence' must be one word"),
        (_line(language=""), "one.jsonl:1: 'language' must be one word"),
        (_line(kind="bug"), "one.jsonl:1: a bug case expects at least one finding"),
        (_line(expected=[_label()]), "one.jsonl:1: a clean case expects no finding"),
        (
            _line(kind="bug", expected=[_label(line_start=0)]),
            "expected #1: line_start and line_end must be lines",
        ),
        (
            _line(kind="bug", expected=[_label(what=None, keyword="sql")]),
            "expected #1: 'what' must say in a sentence what is wrong",
        ),
        ("", "holds no PR"),
        (_line() + "\n" + _line(), "one.jsonl:3: id 'a' is line 1's"),
    ],
)
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
        subprocess.run,
        [sys.executable, "-m", "bot", "eval", str(PRS)],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", **CHECKOUT},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 2 and "GEMINI_API_KEY is not set" in done.stderr


async def test_list_prints_one_line_per_case_and_needs_no_key(tmp_path):
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "bot", "eval", "--list"],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", **CHECKOUT},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 0, done.stderr
    rows = [line.split() for line in done.stdout.splitlines()]
    assert rows == [[c["id"], c["language"], c["kind"], c["source"]] for c in CASES]
    assert done.stderr == ""


async def test_list_of_a_malformed_file_names_the_line(tmp_path):
    one = tmp_path / "one.jsonl"
    one.write_text(_line() + '{"id": "b", "kind": "odd"}\n')
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "bot", "eval", str(one), "--list"],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", **CHECKOUT},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 2 and done.stdout == ""
    assert "one.jsonl:2: 'kind' must be one of bug, style, clean" in done.stderr


def finding(path: str, line: int | None, agent: str = "bugs", title: str = "off by one") -> Finding:
    return Finding(agent, "high", path, line, line, title, "")


# ------------------------------------------------------------------ quota stops and resuming

DAY = "86400s"


def first_cases(tmp_path: Path, count: int, name: str = "some.jsonl") -> tuple[Path, list[dict]]:
    path = tmp_path / name
    lines = PRS.read_text().splitlines()[:count]
    path.write_text("\n".join(lines) + "\n")
    return path, [json.loads(line) for line in lines]


def quota_gone_at(fake_gemini, title: str) -> None:
    """From the first request about the PR titled `title` on, every request is answered 429
    with a RetryInfo of a day (a free tier's day used up)."""
    respond = fake_gemini.responder
    hit: list[bool] = []

    def responder(seen):
        if not hit and f"Title: {title}\n" in seen.prompt:
            hit.append(True)
            fake_gemini.fail_next(429, times=10_000, retry_delay=DAY)
        return respond(seen)

    fake_gemini.responder = responder


def titled(fake_gemini, title: str) -> int:
    return sum(1 for r in fake_gemini.requests if f"Title: {title}\n" in r.prompt)


async def test_a_long_quota_wait_stops_with_what_it_has_and_the_next_run_resumes(
    base_settings, fake_gemini, tmp_path
):
    path, cases = first_cases(tmp_path, 3)
    answer_key(fake_gemini)
    quota_gone_at(fake_gemini, cases[1]["title"])

    stopped = await run_eval(
        base_settings, tmp_path, str(path), "--format", "json", "--parallel", "1"
    )

    assert stopped.returncode == 75, stopped.stderr
    assert "Traceback" not in stopped.stderr
    assert "asked to wait 24 h 00 min" in stopped.stderr
    assert (
        "1 of 3 PRs reviewed" in stopped.stderr and "run the same command again" in stopped.stderr
    )
    partial = json.loads(stopped.stdout)
    assert (partial["prs"], partial["prs_in_file"], partial["resumed"]) == (1, 3, 0)
    assert partial["stopped"]["wait_seconds"] == 86400
    assert partial["cases"][0]["id"] == cases[0]["id"]
    saved = tmp_path / ".data" / "eval" / "some.results.jsonl"
    lines = [json.loads(line) for line in saved.read_text().splitlines()]
    assert [(item["id"], item["complete"]) for item in lines] == [(cases[0]["id"], True)]
    assert titled(fake_gemini, cases[2]["title"]) == 0  # never started

    # The next day: the quota is back, and the first PR is not paid for again.
    fake_gemini.reset()
    known = answer_key(fake_gemini)
    resumed = await run_eval(base_settings, tmp_path, str(path), "--format", "json")

    assert resumed.returncode == 0, resumed.stderr
    data = json.loads(resumed.stdout)
    assert (data["prs"], data["resumed"], data["stopped"]) == (3, 1, None)
    assert "1 of 3 PRs read from .data/eval/some.results.jsonl" in resumed.stderr
    assert titled(fake_gemini, cases[0]["title"]) == 0
    assert titled(fake_gemini, cases[1]["title"]) > 0 and titled(fake_gemini, cases[2]["title"]) > 0
    assert [c["id"] for c in data["cases"]] == [c["id"] for c in cases]
    assert data["overall"]["by_line"]["expected"] == sum(len(c["expected"]) for c in cases)
    assert known  # the same answer key as a run in one go

    # --fresh forgets them: every PR is reviewed again.
    fresh = await run_eval(base_settings, tmp_path, str(path), "--format", "json", "--fresh")
    assert fresh.returncode == 0 and json.loads(fresh.stdout)["resumed"] == 0
    assert titled(fake_gemini, cases[0]["title"]) > 0


async def test_a_stop_prints_the_partial_table(base_settings, fake_gemini, tmp_path):
    path, cases = first_cases(tmp_path, 2)
    answer_key(fake_gemini)
    quota_gone_at(fake_gemini, cases[1]["title"])
    out = tmp_path / "mine.jsonl"

    done = await run_eval(
        base_settings, tmp_path, str(path), "--parallel", "1", "--results", str(out)
    )

    assert done.returncode == 75
    assert "overall, line" in done.stdout and "partial: 1 of 2 PRs" in done.stdout
    assert len(out.read_text().splitlines()) == 1


async def test_a_quota_wait_up_to_max_wait_is_waited_out(base_settings, fake_gemini, tmp_path):
    settings = gemini_settings(
        {
            "GEMINI_API_KEY": base_settings.gemini_api_key,
            "GOOGLE_GEMINI_BASE_URL": base_settings.gemini_base_url or "",
            "GEMINI_RPM": "100000",
        },
        dotenv=None,
    )
    path, cases = first_cases(tmp_path, 1)
    answer_key(fake_gemini)
    fake_gemini.fail_next(429, times=1, retry_delay="3600s")
    results = ResultsFile(tmp_path / "r.jsonl", settings.model, "v1")
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    outcome = await evaluate(read_cases(path), settings, results, max_wait=3600, sleep=sleep)

    assert waits == [3600]
    assert outcome.stopped is None and len(outcome.results) == 1
    assert not outcome.results[0].failures
    assert titled(fake_gemini, cases[0]["title"]) > 1  # the PR was reviewed again after


def test_a_saved_result_stands_for_the_same_case_model_and_prompt(tmp_path, capsys):
    path, _ = first_cases(tmp_path, 2)
    first, second = read_cases(path)
    result = CaseResult(first, [finding("a.py", 3)], withheld=1, prompt_tokens=10, cost_usd=0.5)
    file = tmp_path / "r.jsonl"
    ResultsFile(file, "m", "p").save(first, result.as_json(), complete=True)
    failed = CaseResult(second, [], failures=["bugs: 500"])
    ResultsFile(file, "m", "p").save(second, failed.as_json(), complete=False)
    with file.open("a") as out:
        out.write('{"format": 1, "id": "cut off by a cra')  # a crash mid-line

    again = ResultsFile(file, "m", "p")
    again.load()
    saved = again.done(first)
    assert saved is not None
    back = CaseResult.from_json(first, saved["result"])
    assert back is not None and back.as_json() == result.as_json()
    assert again.done(second) is None  # a failed call: reviewed again
    assert "r.jsonl:3: not a result, skipped" in capsys.readouterr().err

    relabelled = dataclasses.replace(first, expected=())
    assert again.done(relabelled) is not None  # labels are scored again, not reviewed again
    assert again.done(dataclasses.replace(first, diff=first.diff + " ")) is None
    for model, prompt in (("other", "p"), ("m", "other")):
        other = ResultsFile(file, model, prompt)
        other.load()
        assert other.done(first) is None


def test_the_prompt_version_follows_every_request_text():
    from bot.tools.eval_configs import DEFAULTS

    agents, config = list(DEFAULTS.agents), DEFAULTS.model_dump_json()
    assert prompt_version(agents, config) == prompt_version(agents, config)
    assert prompt_version(agents[:2], config) != prompt_version(agents, config)
    assert prompt_version(agents, config.replace("true", "false")) != prompt_version(agents, config)
    assert prompt_version(agents, config, 1024) != prompt_version(agents, config, 0)


def test_the_prompt_version_follows_the_answers_schema(monkeypatch):
    """A field the agents are asked for anew (as the evidence was) reviews the cases again."""
    from pydantic import Field

    from bot.review.agents import AgentAnswer, ModelFinding
    from bot.tools import eval_results
    from bot.tools.eval_configs import DEFAULTS

    class Asked(ModelFinding):
        risk: str = Field(default="", description="a field asked anew")

    class Answer(AgentAnswer):
        findings: list[Asked]  # type: ignore[assignment]

    agents, config = list(DEFAULTS.agents), DEFAULTS.model_dump_json()
    before = prompt_version(agents, config)
    monkeypatch.setattr(eval_results, "AgentAnswer", Answer)
    assert prompt_version(agents, config) != before


@pytest.mark.parametrize(
    "option", [("--parallel", "0"), ("--max-wait", "-1"), ("--max-wait", "nan")]
)
async def test_bad_run_options_exit_2(base_settings, tmp_path, option):
    path, _ = first_cases(tmp_path, 1)
    done = await run_eval(base_settings, tmp_path, str(path), *option)
    assert done.returncode == 2 and "--max-wait must be 0 or more" in done.stderr
