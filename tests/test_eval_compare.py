"""`eval --compare A.yml B.yml`: two configurations on the same cases through the real pipeline
on FakeGemini, the paired difference, each side resuming from its own results file; and the
configuration files' errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.config import gemini_settings
from bot.tools.eval_cases import EvalError
from bot.tools.eval_configs import parse_configuration, read_configuration
from tests.test_eval import answer_key, first_cases, quota_gone_at, run_eval, titled

DOCS = Path(__file__).parents[1] / "docs" / "eval"


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


async def test_compare_reports_each_side_and_the_paired_difference(
    base_settings, fake_gemini, tmp_path
):
    path, cases = first_cases(tmp_path, 12)
    known = answer_key(fake_gemini)
    # A runs the style agent alone, which the answer key never has find anything; B runs
    # every agent on another model: B finds what the key makes the agents find.
    a = write(tmp_path, "narrow.yml", "agents: [style]\nverify: false\n")
    b = write(tmp_path, "wide.yml", "model: gemini-2.5-pro\nthinking_budget: 256\n")

    done = await run_eval(base_settings, tmp_path, str(path), "--compare", a, b, "--format", "json")

    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    expected = sum(len(c["expected"]) for c in cases)
    found = [c for c in cases if c["expected"]][::2]
    caught = sum(len(c["expected"]) for c in found)
    assert known["caught"] > caught > 0
    assert data["cases"] == 12 and data["bootstrap"]["cases"] == 12
    assert (data["a"]["name"], data["b"]["name"]) == ("narrow", "wide")
    assert data["b"]["model"] == "gemini-2.5-pro"
    assert (data["a"]["matched"], data["a"]["expected"], data["a"]["recall"]) == (0, expected, 0)
    assert (data["b"]["matched"], data["b"]["recall"]) == (caught, round(caught / expected, 3))
    recall = data["difference"]["recall"]
    assert recall["value"] == round(caught / expected, 3)
    assert 0 < recall["interval"][0] <= recall["value"] <= recall["interval"][1]
    assert recall["better"] == "B"
    assert data["a"]["cost_per_true_finding_usd"] is None
    assert data["b"]["cost_per_true_finding_usd"] == pytest.approx(
        data["b"]["cost_usd"] / caught, abs=1e-6
    )
    assert data["a"]["cost_per_case_usd"] > 0
    assert {r.model for r in fake_gemini.requests} == {"gemini-2.5-flash", "gemini-2.5-pro"}
    budgets = {r.thinking_budget for r in fake_gemini.requests if r.model == "gemini-2.5-pro"}
    assert 256 in budgets, budgets
    saved = tmp_path / ".data" / "eval"
    assert (saved / "some.narrow.results.jsonl").exists()
    assert len((saved / "some.wide.results.jsonl").read_text().splitlines()) == 12

    # Both sides resume: a second run reviews nothing and reports the same.
    fake_gemini.reset()
    again = await run_eval(
        base_settings, tmp_path, str(path), "--compare", a, b, "--format", "json"
    )
    assert again.returncode == 0, again.stderr
    assert fake_gemini.requests == []
    assert json.loads(again.stdout) == data
    assert "12 of 12 PRs read from .data/eval/some.narrow.results.jsonl" in again.stderr

    table = await run_eval(base_settings, tmp_path, str(path), "--compare", a, b)
    assert table.returncode == 0, table.stderr
    assert "B - A, points" in table.stdout and "better on recall: B (wide)" in table.stdout
    assert "95% bootstrap interval over the 12 cases" in table.stdout
    assert "per true finding" in table.stdout


async def test_a_quota_stop_on_a_stops_before_b_and_the_next_run_resumes(
    base_settings, fake_gemini, tmp_path
):
    path, cases = first_cases(tmp_path, 3)
    answer_key(fake_gemini)
    quota_gone_at(fake_gemini, cases[1]["title"])
    a = write(tmp_path, "a.yml", "verify: false\n")
    b = write(tmp_path, "b.yml", "model: gemini-2.5-pro\n")

    stopped = await run_eval(
        base_settings, tmp_path, str(path), "--compare", a, b, "--parallel", "1"
    )

    assert stopped.returncode == 75, stopped.stderr
    assert "--compare stopped at a's quota" in stopped.stderr
    assert "partial: 1 of 3 PRs" in stopped.stdout
    assert not any(r.model == "gemini-2.5-pro" for r in fake_gemini.requests)

    fake_gemini.reset()
    answer_key(fake_gemini)
    resumed = await run_eval(
        base_settings, tmp_path, str(path), "--compare", a, b, "--format", "json"
    )
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["cases"] == 3
    assert "1 of 3 PRs read from .data/eval/some.a.results.jsonl" in resumed.stderr
    assert titled(fake_gemini, cases[0]["title"]) > 0, "B reviews every case"


async def test_compare_takes_no_results_file(base_settings, tmp_path):
    path, _ = first_cases(tmp_path, 1)
    a, b = write(tmp_path, "a.yml", ""), write(tmp_path, "b.yml", "")
    done = await run_eval(
        base_settings, tmp_path, str(path), "--compare", a, b, "--results", "r.jsonl"
    )
    assert done.returncode == 2 and "--compare keeps one per configuration" in done.stderr


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("min_confidence: 2\n", "B.yml: 'min_confidence':"),
        ("modle: gemini-2.5-pro\n", "B.yml: 'modle' is not a key; the keys are agents,"),
        ("agents: [bugs, nobody]\n", "B.yml: 'agents':"),
        ("thinking_budget: lots\n", "B.yml: 'thinking_budget' must be a whole number"),
        ("model: [a]\n", "B.yml: 'model' must be a model's name"),
        ("analyzers: {}\n", "B.yml: 'analyzers': eval measures the agents"),
        ("- a list\n", "B.yml: must be a mapping"),
        ("verify: [\n", "B.yml: not valid YAML at line"),
    ],
)
async def test_a_bad_configuration_names_its_file_and_key_and_exits_2(
    base_settings, tmp_path, text, message
):
    path, _ = first_cases(tmp_path, 1)
    a = write(tmp_path, "A.yml", "model: gemini-2.5-flash\n")
    b = write(tmp_path, "B.yml", text)

    done = await run_eval(base_settings, tmp_path, str(path), "--compare", a, b)

    assert done.returncode == 2, done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr


async def test_two_configurations_of_one_name_are_refused(base_settings, tmp_path):
    path, _ = first_cases(tmp_path, 1)
    (tmp_path / "x").mkdir()
    a = write(tmp_path, "pro.yml", "")
    b = write(tmp_path / "x", "pro.yml", "verify: false\n")

    done = await run_eval(base_settings, tmp_path, str(path), "--compare", a, b)

    assert done.returncode == 2 and "both files are named 'pro'" in done.stderr


def test_a_configuration_changes_the_settings_and_the_repository_config():
    settings = gemini_settings({"GEMINI_API_KEY": "k"}, dotenv=None)
    chosen = parse_configuration(
        "model: gemini-2.5-pro\nthinking_budget: 512\nverify: false\nmin_confidence: 0.7\n"
        "agents: [bugs, security]\n",
        "pro",
        "pro.yml",
    )
    changed = chosen.settings(settings)
    assert (changed.model, changed.thinking_budget) == ("gemini-2.5-pro", 512)
    assert changed.api_key == settings.api_key
    config = chosen.review_config()
    assert (config.verify, config.min_confidence, config.agents) == (
        False,
        0.7,
        ("bugs", "security"),
    )
    assert config.analyzers == {}
    plain = parse_configuration("", "plain", "plain.yml")
    assert plain.settings(settings) == settings


def test_the_example_pair_in_the_docs_reads():
    flash, pro = read_configuration(DOCS / "flash.yml"), read_configuration(DOCS / "pro.yml")
    assert (flash.name, pro.name) == ("flash", "pro")
    assert flash.model == "gemini-2.5-flash" and pro.model == "gemini-2.5-pro"
    with pytest.raises(EvalError, match="cannot read"):
        read_configuration(DOCS / "missing.yml")
