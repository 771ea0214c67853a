"""`python -m bot eval --suite martian`: three stand-in PRs in the benchmark's shape, read from
FakeGitHub with a token as `review --dry-run` reads them, reviewed on FakeGemini, whose
scripted findings and judge rulings make every figure known in advance."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot import resources
from bot.config import github_access
from bot.tools.eval_results import ResultsFile
from bot.tools.judge import JudgeCache
from bot.tools.martian import evaluate
from bot.tools.martian_prs import load, select
from bot.tools.martian_report import report, table
from tests.processes import CHECKOUT

pytestmark = pytest.mark.timeout(90)
OWNER = "bench"
OLD_TS = "export function run(x: string) {\n  return x;\n}\n"
NEW_TS = OLD_TS + "\nexport function evaluate(input: string) {\n  return eval(input);\n}\n"
OLD_GO = "package util\n\nfunc Mean(xs []int) int {\n\treturn 0\n}\n"
NEW_GO = (
    "package util\n\nfunc Mean(xs []int) int {\n\ttotal := 0\n\tfor _, x := range xs {\n"
    "\t\ttotal += x\n\t}\n\treturn total / len(xs)\n}\n"
)
OLD_RB = "class Store\nend\n"
NEW_RB = (
    "class Store\n  def find(name)\n    db = connect\n"
    "    db.execute(\"SELECT * FROM users WHERE name = '#{name}'\")\n  end\nend\n"
)
# (repository, repo, number, path, old, new, golden comments)
PRS = [
    (
        "alpha",
        "alpha",
        1,
        "app.ts",
        OLD_TS,
        NEW_TS,
        [("eval of user input runs any code", "critical"), ("missing doc comment", "low")],
    ),
    ("alpha", "alpha", 2, "mean.go", OLD_GO, NEW_GO, [("division by zero on empty xs", "high")]),
    (
        "beta",
        "beta",
        3,
        "store.rb",
        OLD_RB,
        NEW_RB,
        [("SQL built by string interpolation", "high"), ("connection never closed", "medium")],
    ),
]


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def finding(path: str, line: int, title: str, severity: str = "high") -> dict:
    return {
        "file_path": path,
        "line_start": line,
        "line_end": line,
        "severity": severity,
        "title": title,
        "description": f"{title}.",
        "suggestion": None,
    }


def stand_in(tmp_path: Path, fake_github) -> Path:
    """The stand-in data folder, and the PRs on FakeGitHub."""
    prs = []
    for repository, repo, number, path, old, new, golden in PRS:
        fake_github.add_pull(OWNER, repo, number, files={path: (old, new)}, title=f"PR {number}")
        prs.append(
            {
                "repository": repository,
                "url": f"https://github.com/{OWNER}/{repo}/pull/{number}",
                "owner": OWNER,
                "repo": repo,
                "number": number,
                "title": f"PR {number}",
                "golden": [{"comment": c, "severity": s} for c, s in golden],
            }
        )
    folder = tmp_path / "standin"
    folder.mkdir()
    published = {
        "judge": "someone-else",
        "tools": {"Tool A": {"precision": 50.0, "recall": 40.0, "f1": 44.4}},
    }
    (folder / "golden.json").write_text(
        json.dumps({"commit": "c0ffee", "published": published, "prs": prs})
    )
    return folder


# Each finding's words, and the golden comment each is the same issue as (None: none).
SAME = {"eval": "eval of user", "division": "division by zero", "SQL": "SQL built"}


def script(fake_gemini) -> None:
    """Five findings: two on app.ts both about the eval (one-to-one: one match), one on
    mean.go (a match), two on store.rb (one match, one imagined). The judge says "same" when
    the finding's key word and the golden comment's opening words go together."""
    fake_gemini.findings = {
        "security": [
            finding("app.ts", line_of(NEW_TS, "eval("), "eval of the input", "critical"),
            finding("store.rb", line_of(NEW_RB, "SELECT"), "SQL injection"),
        ],
        "bugs": [
            finding("app.ts", line_of(NEW_TS, "eval("), "eval result returned unchecked"),
            finding("mean.go", line_of(NEW_GO, "len(xs)"), "division by zero"),
        ],
        "style": [
            finding("store.rb", line_of(NEW_RB, "connect"), "Imagined naming problem", "low")
        ],
    }

    def judge(candidate: str, golden: str) -> bool:
        return any(word in candidate and golden.startswith(g) for word, g in SAME.items())

    fake_gemini.judge = judge


def env_of(fake_github, fake_gemini, tmp_path: Path) -> dict[str, str]:
    return {
        "PATH": "/usr/bin:/bin",
        **CHECKOUT,
        "HOME": str(tmp_path),
        "GITHUB_API_URL": fake_github.url,
        "GEMINI_API_KEY": "AIzaSy-local-key",
        "GOOGLE_GEMINI_BASE_URL": fake_gemini.url,
        "GEMINI_RPM": "100000",
    }


async def martian(env: dict, tmp_path: Path, data: Path, *args: str) -> subprocess.CompletedProcess:
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "bot", "eval", "--suite", "martian", "--martian-data", str(data)]
        + list(args),
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=80,
    )


@pytest.fixture
def standin(tmp_path, fake_github, fake_gemini):
    data = stand_in(tmp_path, fake_github)
    script(fake_gemini)
    # A workflow token reads one repository; the stand-ins span two: an installation token
    # (a GITHUB_TOKEN too, for `review --dry-run`) reads both.
    env = env_of(fake_github, fake_gemini, tmp_path)
    env["GITHUB_TOKEN"] = fake_github.issue_token(1)
    return env, data


def judge_requests(fake_gemini) -> list:
    return fake_gemini.requests_of("judge")


async def test_the_report_counts_what_the_judge_ruled_matched_one_to_one(
    standin, tmp_path, fake_gemini
):
    env, data = standin

    done = await martian(env, tmp_path, data, "--format", "json")

    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["prs"] == 3 and report["prs_selected"] == 3
    overall = report["overall"]
    assert (overall["findings"], overall["matched"], overall["expected"]) == (5, 3, 5)
    assert (overall["precision"], overall["recall"], overall["f1"]) == (0.6, 0.6, 0.6)
    alpha, beta = report["repositories"]["alpha"], report["repositories"]["beta"]
    assert (alpha["findings"], alpha["matched"], alpha["expected"]) == (3, 2, 3)
    assert (beta["findings"], beta["matched"], beta["expected"]) == (2, 1, 2)
    assert report["severities"] == {
        "critical": {"golden": 1, "caught": 1, "recall": 1.0},
        "high": {"golden": 2, "caught": 2, "recall": 1.0},
        "medium": {"golden": 1, "caught": 0, "recall": 0.0},
        "low": {"golden": 1, "caught": 0, "recall": 0.0},
    }
    # Every (finding, golden) pair of a PR asked once: 2 x 2 + 1 x 1 + 2 x 2.
    assert len(judge_requests(fake_gemini)) == 9
    assert report["judge"]["asked"] == 9 and report["judge"]["cost_usd"] > 0
    assert report["review"]["cost_usd"] > 0
    assert report["published"]["tools"]["Tool A"]["f1"] == 44.4
    assert "judges differ" in report["note"]


async def test_the_table_shows_the_published_figures_beside_ours(standin, tmp_path):
    env, data = standin

    done = await martian(env, tmp_path, data)

    assert done.returncode == 0, done.stderr
    assert "Tool A" in done.stdout and "44.4" in done.stdout
    assert "Second Look" in done.stdout and "60.0   60.0   60.0  (this run)" in done.stdout
    assert "judge someone-else" in done.stdout and "The judges differ" in done.stdout
    assert env["GITHUB_TOKEN"] not in done.stdout + done.stderr


async def test_a_rerun_reads_nothing_from_github_and_asks_the_judge_nothing(
    standin, tmp_path, fake_github, fake_gemini
):
    env, data = standin
    first = await martian(env, tmp_path, data, "--format", "json")
    assert first.returncode == 0, first.stderr
    assert fake_github.find_requests() and judge_requests(fake_gemini)
    fake_github.requests.clear()
    fake_gemini.requests = []

    again = await martian(env, tmp_path, data, "--format", "json")

    assert again.returncode == 0, again.stderr
    assert fake_github.find_requests() == []
    assert fake_gemini.requests == [], "neither a review nor a judge call"
    before, after = json.loads(first.stdout), json.loads(again.stdout)
    assert after["overall"] == before["overall"] and after["resumed"] == 3
    assert after["judge"] == {
        "model": "gemini-2.5-flash",
        "asked": 0,
        "from_cache": 9,
        "not_judged": 0,
        "cost_usd": 0,
    }


async def test_a_review_done_again_reads_github_from_disk(
    standin, tmp_path, fake_github, fake_gemini
):
    env, data = standin
    first = await martian(env, tmp_path, data, "--format", "json", "--limit", "1")
    assert first.returncode == 0, first.stderr
    fake_github.requests.clear()

    again = await martian(env, tmp_path, data, "--format", "json", "--limit", "1", "--fresh")

    assert again.returncode == 0, again.stderr
    assert fake_github.find_requests() == [], "every read answered from .data/eval/martian"
    assert json.loads(again.stdout)["github"]["fetched"] == 0
    assert fake_gemini.requests_of("security"), "the PR was reviewed again"


async def test_a_stop_at_a_quota_saves_what_is_done_and_a_rerun_resumes(
    standin, tmp_path, fake_gemini
):
    env, data = standin
    fake_gemini.fail_next(429, retry_delay="7200s", agent="judge")

    stopped = await martian(env, tmp_path, data, "--format", "json", "--parallel", "1")

    assert stopped.returncode == 75, stopped.stderr
    assert "run the same command again" in stopped.stderr
    saved = (tmp_path / ".data" / "eval" / "martian" / "results.jsonl").read_text().splitlines()
    assert [json.loads(line)["id"] for line in saved] == [f"{OWNER}/alpha#1"]
    fake_gemini.requests = []

    resumed = await martian(env, tmp_path, data, "--format", "json", "--parallel", "1")

    assert resumed.returncode == 0, resumed.stderr
    report = json.loads(resumed.stdout)
    assert report["prs"] == 3 and report["resumed"] == 1
    assert report["overall"]["matched"] == 3
    reviewed = {path for r in fake_gemini.requests_of("security") for path in r.files}
    assert "app.ts" not in reviewed and {"mean.go", "store.rb"} <= reviewed


async def test_limit_and_repo_select_the_prs(standin, tmp_path, fake_gemini):
    env, data = standin

    beta = await martian(env, tmp_path, data, "--format", "json", "--repo", "BETA")
    first_two = await martian(env, tmp_path, data, "--format", "json", "--limit", "2")
    unknown = await martian(env, tmp_path, data, "--repo", "gamma")

    assert beta.returncode == 0, beta.stderr
    assert list(json.loads(beta.stdout)["repositories"]) == ["beta"]
    assert json.loads(beta.stdout)["prs"] == 1
    assert first_two.returncode == 0, first_two.stderr
    two = json.loads(first_two.stdout)
    assert two["prs"] == 2 and two["overall"]["expected"] == 3
    assert unknown.returncode == 2 and "no repository 'gamma': one of alpha, beta" in unknown.stderr


async def test_limit_without_the_suite_and_the_suite_with_a_file_are_refused(tmp_path, standin):
    env, _data = standin
    run = [sys.executable, "-m", "bot", "eval"]

    for args in (["--limit", "2"], ["--suite", "martian", "cases.jsonl"]):
        done = await asyncio.to_thread(
            subprocess.run,
            run + args,
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 2 and "go with --suite martian" in done.stderr


async def test_a_malformed_judge_answer_is_asked_again_then_not_judged(
    standin, tmp_path, fake_gemini, sleep
):
    env, data = standin
    judge = fake_gemini.judge

    def malformed_on_sql(candidate: str, golden: str) -> bool | str:
        if "SQL injection" in candidate and golden.startswith("SQL"):
            return '{"reason": "cut'
        return judge(candidate, golden)

    fake_gemini.judge = malformed_on_sql
    access, settings = github_access(env, dotenv=None)
    saved = ResultsFile(tmp_path / "results.jsonl", settings.model, "p")
    cache = JudgeCache(tmp_path / "judge.jsonl")
    (beta,) = select(load(data).prs, "beta", None)

    async def run_once():
        return await evaluate([beta], access, settings, saved, cache, tmp_path / "gh", sleep=sleep)

    outcome, judged_by, gh = await run_once()

    said = table(report(outcome, load(data), settings, judged_by, gh))
    assert "not judged: 1 pairs" in said and "counted as no match" in said
    (judged,) = outcome.judged
    assert judged.not_judged == 1 and judged.caught == {}, "a pair not judged is never a match"
    assert judged_by.not_judged == 1
    sql = [r for r in judge_requests(fake_gemini) if "SQL injection" in r.prompt]
    sql = [r for r in sql if "SQL built" in r.prompt]
    assert len(sql) == 2, "asked once more, then given up"
    fake_gemini.judge = judge

    outcome, judged_by, _gh = await run_once()

    assert outcome.judged[0].caught == {0: 0}
    assert (judged_by.asked, judged_by.reused) == (1, 3), "only the pair not judged is asked"


async def test_a_missing_data_folder_is_a_usage_error(tmp_path, fake_gemini):
    env = {
        "PATH": "/usr/bin:/bin",
        **CHECKOUT,
        "HOME": str(tmp_path),
        "GEMINI_API_KEY": "AIzaSy-local-key",
    }

    done = await martian(env, tmp_path, tmp_path / "none")

    assert done.returncode == 2
    assert "golden.json" in done.stderr and "Traceback" not in done.stderr


def test_the_shipped_benchmark_has_its_50_prs_licence_and_source():
    benchmark = load(resources.martian_data())

    assert len(benchmark.prs) == 50
    names = {pr.repository for pr in benchmark.prs}
    assert names == {"sentry", "grafana", "cal.com", "discourse", "keycloak"}
    assert sum(len(pr.golden) for pr in benchmark.prs) == 137
    assert {g.severity for pr in benchmark.prs for g in pr.golden} == {
        "critical",
        "high",
        "medium",
        "low",
    }
    assert benchmark.published["Augment"]["f1"] == 53.8
    assert benchmark.published["CodeRabbit"]["f1"] == 29.8
    folder = resources.martian_data()
    assert "MIT License" in (folder / "LICENSE").read_text()
    assert benchmark.commit in (folder / "SOURCE").read_text()
    assert [pr.pull for pr in select(benchmark.prs, "Keycloak", 2)][0].startswith(
        ("keycloak/", "ai-code-review-evaluation/keycloak")
    )


async def test_a_pr_github_cannot_give_is_named_and_not_scored(standin, tmp_path):
    env, data = standin
    golden = json.loads((data / "golden.json").read_text())
    missing = dict(golden["prs"][1], number=99, url=f"https://github.com/{OWNER}/alpha/pull/99")
    golden["prs"].insert(0, missing)
    (data / "golden.json").write_text(json.dumps(golden))

    done = await martian(env, tmp_path, data, "--format", "json", "--repo", "alpha")

    assert done.returncode == 3, done.stderr
    report = json.loads(done.stdout)
    assert report["prs"] == 2 and report["prs_selected"] == 3
    (failed,) = report["failed_prs"]
    assert failed["pr"] == f"{OWNER}/alpha#99" and "could not read" in failed["why"]
    assert "404" in failed["why"] and env["GITHUB_TOKEN"] not in done.stdout + done.stderr
    assert report["overall"]["expected"] == 3, "its golden comments are not counted as missed"


async def test_a_diff_too_large_for_github_is_read_from_the_files_api_and_kept_too(
    standin, tmp_path, fake_github, fake_gemini
):
    env, data = standin
    fake_github.max_diff_lines = 3  # every stand-in's diff answers 406
    first = await martian(env, tmp_path, data, "--format", "json", "--repo", "beta")
    assert first.returncode == 0, first.stderr
    assert fake_github.find_requests("GET", r"/pulls/3/files")
    fake_github.requests.clear()

    again = await martian(env, tmp_path, data, "--format", "json", "--repo", "beta", "--fresh")

    assert again.returncode == 0, again.stderr
    assert fake_github.find_requests() == []
    assert json.loads(again.stdout)["overall"] == json.loads(first.stdout)["overall"]
    assert json.loads(again.stdout)["overall"]["matched"] == 1
