"""action.yml, the composite action: its review step's script run as a runner runs it (bash
-eo pipefail), with our interpreter as `python`, against the fakes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from tests.reviewing import OWNER, REPO, finding, open_pull
from tests.test_action import SCHEMA, Workflow, event, ours

ACTION = yaml.safe_load((Path(__file__).parents[1] / "action.yml").read_text())


def step(step_id: str) -> dict[str, Any]:
    (found,) = [s for s in ACTION["runs"]["steps"] if s.get("id") == step_id]
    return found


def run_step(job: Workflow, payload: dict[str, Any], **inputs: str) -> tuple[int, str, str]:
    """The review step's script with `inputs` (fail-on, sarif, model): exit status, stdout and
    what it wrote to GITHUB_OUTPUT."""
    Path(job.env["GITHUB_EVENT_PATH"]).write_text(json.dumps(payload))
    output = job.tmp_path / "github-output"
    output.write_text("")
    runner_temp = job.tmp_path / "runner-temp"
    runner_temp.mkdir(exist_ok=True)
    env = {
        **job.env,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{job.env['PATH']}",  # `python`
        "RUNNER_TEMP": str(runner_temp),
        "GITHUB_OUTPUT": str(output),
        "INPUT_FAIL_ON": inputs.get("fail_on", ""),
        "INPUT_SARIF": inputs.get("sarif", "false"),
        "INPUT_MODEL": inputs.get("model", ""),
    }
    script = step("review")["run"]
    done = subprocess.run(  # noqa: S603 - bash runs the step as a runner would
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],  # noqa: S607
        cwd=job.tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    print(done.stdout, done.stderr)
    return done.returncode, done.stdout, output.read_text()


def test_the_action_is_composite_and_passes_its_inputs_to_the_review_step():
    assert ACTION["runs"]["using"] == "composite"
    assert set(ACTION["inputs"]) >= {"gemini-api-key", "github-token", "fail-on", "sarif"}
    assert ACTION["inputs"]["github-token"]["default"] == "${{ github.token }}"
    env = step("review")["env"]
    assert env["GEMINI_API_KEY"] == "${{ inputs.gemini-api-key }}"
    assert env["GITHUB_TOKEN"] == "${{ inputs.github-token }}"
    assert "python -m bot action" in step("review")["run"]
    upload = ACTION["runs"]["steps"][-1]
    assert upload["uses"].startswith("github/codeql-action/upload-sarif@")
    assert "steps.review.outputs.sarif" in upload["if"]


def test_the_review_step_reviews_and_hands_the_sarif_file_to_the_upload(
    tmp_path, fake_github, fake_gemini
):
    pull = open_pull(fake_github)
    fake_gemini.findings["security"] = [finding("app.py", line=9, severity="high")]
    job = Workflow(tmp_path, fake_github, fake_gemini.url)

    status, _, outputs = run_step(job, event(pull), fail_on="high", sarif="true")

    assert status == 0  # the check run carries the verdict
    (check,) = fake_github.check_runs(OWNER, REPO, pull.head_sha)
    assert check["conclusion"] == "failure"  # --fail-on high reached the step
    assert len(ours(fake_github)) == 1
    sarif = tmp_path / "runner-temp" / "second-look.sarif"
    assert outputs == f"sarif={sarif}\n"
    log = json.loads(sarif.read_text())
    jsonschema.Draft7Validator(SCHEMA).validate(log)
    assert [r["ruleId"] for r in log["runs"][0]["results"]] == ["security"]


def test_the_review_step_without_sarif_offers_no_file_and_keeps_the_exit_status(
    tmp_path, fake_github, fake_gemini
):
    pull = open_pull(fake_github)
    job = Workflow(tmp_path, fake_github, fake_gemini.url)
    job.env["GITHUB_EVENT_NAME"] = "push"

    status, stdout, outputs = run_step(job, event(pull), sarif="false")

    assert status == 2  # the workflow runs on the wrong event: the step fails with it
    assert "::error::" in stdout
    assert outputs == ""
