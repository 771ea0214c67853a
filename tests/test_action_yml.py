"""action.yml, the composite action, run step by step as a runner runs it: its `run:` scripts
with bash (`--noprofile --norc -eo pipefail`), `${{ }}` expressions substituted, the `uses:`
steps stood in for (setup-python's outputs; the cache keeps $RUNNER_TEMP). The install step
really installs, offline: pip takes the locked wheels from a wheelhouse repacked from this
interpreter's own packages, so the Action runs in a virtual environment holding only the lock
(no asyncpg, no pgserver) in a workspace full of code that must not run."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests import wheelhouse as wheelhouse_of
from tests.reviewing import OWNER, REPO, finding, open_pull
from tests.test_action import SCHEMA, Workflow, event, ours

ROOT = Path(__file__).resolve().parents[1]
ACTION = yaml.safe_load((ROOT / "action.yml").read_text())
LOCK = ROOT / "action" / "requirements.lock"
EXPRESSION = re.compile(r"\$\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}")
# Each writes a marker if Python ever runs it: the workspace's own code.
HOSTILE = {
    "bot/__init__.py": "MARK('bot')",
    "bot/__main__.py": "MARK('bot.__main__')",
    "pip/__init__.py": "MARK('pip')",
    "yaml.py": "MARK('yaml')",
    "hashlib.py": "MARK('hashlib')",
    "sitecustomize.py": "MARK('sitecustomize')",
    "usercustomize.py": "MARK('usercustomize')",
    ".local/lib/python3.11/site-packages/user.pth": "",
}


def step(step_id: str) -> dict[str, Any]:
    (found,) = [s for s in ACTION["runs"]["steps"] if s.get("id") == step_id]
    return found


# ------------------------------------------------------------------------------ the runner


@pytest.fixture(scope="module")
def wheelhouse(tmp_path_factory) -> Path:
    """The locked packages, and what building Second Look needs (setuptools, wheel and its
    packaging)."""
    return wheelhouse_of.fill(tmp_path_factory.mktemp("wheelhouse"), LOCK)


@pytest.fixture(scope="module")
def action_path(tmp_path_factory) -> Path:
    """The Action as a workflow checks it out: this tree's files (not its venv or caches)."""
    into = tmp_path_factory.mktemp("actions") / "second-look"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build")
    shutil.copytree(ROOT / "bot", into / "bot", ignore=ignore)
    shutil.copytree(ROOT / "action", into / "action")
    for name in ("action.yml", "setup.cfg", "pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, into / name)
    return into


class Runner:
    """One job on one runner: the workspace, $RUNNER_TEMP (kept: the cache), the job's env."""

    def __init__(self, job: Workflow, action_path: Path, wheelhouse: Path) -> None:
        self.job = job
        self.workspace = job.tmp_path / "workspace"
        self.workspace.mkdir()
        self.temp = job.tmp_path / "runner-temp"
        self.temp.mkdir()
        self.action_path = action_path
        self.markers = job.tmp_path / "markers"
        self.markers.mkdir()
        self.files = {name: job.tmp_path / name for name in ("github-path", "github-env")}
        for file in self.files.values():
            file.write_text("")
        self.env = {
            **job.env,
            "GITHUB_WORKSPACE": str(self.workspace),
            "GITHUB_ACTION_PATH": str(action_path),
            "GITHUB_PATH": str(self.files["github-path"]),
            "GITHUB_ENV": str(self.files["github-env"]),
            "RUNNER_TEMP": str(self.temp),
            "RUNNER_OS": "Linux",
            "RUNNER_ARCH": "X64",
            "HOME": str(job.tmp_path / "home"),
            # What a workflow may well set: none of it may reach Second Look's Python.
            "PYTHONPATH": str(self.workspace),
            "PYTHONUSERBASE": str(self.workspace / ".local"),
            # pip offline, from the wheelhouse only, not this machine's configuration.
            "PIP_NO_INDEX": "1",
            "PIP_FIND_LINKS": str(wheelhouse),
            "PIP_CONFIG_FILE": os.devnull,
            "PIP_NO_COMPILE": "1",
        }
        self.installs: list[str] = []

    def hostile(self) -> None:
        """The workspace's code: a `bot` package, modules named as ours or the stdlib's,
        site hooks and .pth files; each leaves a marker if Python runs it."""
        mark = f"import pathlib; MARK = lambda n: pathlib.Path({str(self.markers)!r}, n).touch()"
        for name, code in {**HOSTILE, "evil.pth": ""}.items():
            path = self.workspace / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if name.endswith(".pth"):  # a .pth runs the lines that start with `import`
                touch = f"pathlib.Path({str(self.markers)!r}, {path.name!r}).touch()"
                path.write_text(f"import pathlib; {touch}\n")
            else:
                path.write_text(f"{mark}\n{code}\n")

    def run(self, **inputs: str) -> dict[str, Any]:
        """Run the steps; the outputs and exit status of each run step, by id."""
        values = {name: spec.get("default", "") for name, spec in ACTION["inputs"].items()}
        values["gemini-api-key"] = self.env["GEMINI_API_KEY"]  # the workflow's secret
        values.update({k.replace("_", "-"): v for k, v in inputs.items()})
        ran: dict[str, Any] = {}
        values = {
            k: self.substitute(v, {"github": {"token": self.env["GITHUB_TOKEN"]}})
            for k, v in values.items()
        }
        context = {
            "inputs": values,
            "steps": ran,
            "github": {"token": self.env["GITHUB_TOKEN"]},
            "runner": {"temp": str(self.temp)},
        }
        for spec in ACTION["runs"]["steps"]:
            uses = spec.get("uses", "")
            if uses.startswith("actions/setup-python@"):
                assert spec["with"]["update-environment"] is False  # PATH left alone
                ran[spec["id"]] = {"outputs": {"python-path": sys._base_executable}}
            elif uses.startswith("actions/cache@"):
                with_ = {k: self.substitute(v, context) for k, v in spec["with"].items()}
                assert with_["path"] == str(self.temp / "second-look")
                assert with_["key"].startswith(with_["restore-keys"])
            elif uses.startswith("github/codeql-action/upload-sarif@"):
                continue  # the upload itself is GitHub's
            else:
                status, outputs = self.run_step(spec, context)
                ran[spec.get("id", spec.get("name"))] = {"outputs": outputs, "status": status}
                if status != 0:
                    break
        return ran

    def substitute(self, value: object, context: dict[str, Any]) -> str:
        def resolve(match: re.Match[str]) -> str:
            found: Any = context
            for part in match.group(1).split("."):
                found = found[part] if isinstance(found, dict) else None
                if found is None:
                    return ""  # an output the step did not set is empty, as on a runner
            return str(found)

        return EXPRESSION.sub(resolve, str(value))

    def run_step(self, spec: dict[str, Any], context: dict[str, Any]) -> tuple[int, dict[str, str]]:
        assert spec["shell"] == "bash" and "${{" not in spec["run"], "no expression in a script"
        output = self.job.tmp_path / "github-output"
        output.write_text("")
        env = {**self.env, "GITHUB_OUTPUT": str(output)}
        env.update({k: self.substitute(v, context) for k, v in spec.get("env", {}).items()})
        done = subprocess.run(  # noqa: S603 - bash runs the step as a runner would
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", spec["run"]],  # noqa: S607
            cwd=self.workspace,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        print(spec.get("id"), done.returncode, done.stdout, done.stderr)
        self.installs += [line for line in done.stdout.splitlines() if "installed" in line]
        self.stdout = done.stdout
        outputs = dict(line.split("=", 1) for line in output.read_text().splitlines() if line)
        return done.returncode, outputs


@pytest.fixture
def runner(tmp_path, fake_github, fake_gemini, action_path, wheelhouse) -> Runner:
    return Runner(Workflow(tmp_path, fake_github, fake_gemini.url), action_path, wheelhouse)


def write_event(runner: Runner, payload: dict[str, Any]) -> None:
    Path(runner.env["GITHUB_EVENT_PATH"]).write_text(json.dumps(payload))


# ------------------------------------------------------------------------------ the tests


def test_the_action_is_composite_and_isolated():
    assert ACTION["runs"]["using"] == "composite"
    assert set(ACTION["inputs"]) >= {"gemini-api-key", "github-token", "fail-on", "sarif"}
    assert ACTION["inputs"]["github-token"]["default"] == "${{ github.token }}"
    env = step("review")["env"]
    assert env["GEMINI_API_KEY"] == "${{ inputs.gemini-api-key }}"
    assert env["GITHUB_TOKEN"] == "${{ inputs.github-token }}"
    assert '"$VENV_PYTHON" -I "$SECOND_LOOK" action' in step("review")["run"]
    assert "python -m bot" not in json.dumps(ACTION)
    upload = ACTION["runs"]["steps"][-1]
    assert upload["uses"].startswith("github/codeql-action/upload-sarif@")
    assert "steps.review.outputs.sarif" in upload["if"]


def test_the_action_runs_only_its_own_code_in_a_hostile_workspace(runner, fake_github, fake_gemini):
    runner.hostile()
    pull = open_pull(fake_github)
    fake_gemini.findings["security"] = [finding("app.py", line=9, severity="high")]
    write_event(runner, event(pull))

    ran = runner.run(fail_on="high", sarif="true")

    assert sorted(p.name for p in runner.markers.iterdir()) == []  # none of it ran
    assert ran["install"]["status"] == 0
    assert runner.installs == ["Second Look: dependencies installed", "Second Look: installed"]
    assert ran["review"]["status"] == 1  # a high finding at fail-on high: the job fails
    assert len(ours(fake_github)) == 1 and fake_gemini.requests
    sarif = runner.temp / "second-look.sarif"
    assert ran["review"]["outputs"] == {"sarif": str(sarif)}
    assert [r["ruleId"] for r in json.loads(sarif.read_text())["runs"][0]["results"]] == [
        "security"
    ]
    assert SCHEMA["$schema"]  # the SARIF checks themselves are in test_action.py
    # The job's Python and PATH are unchanged for later steps.
    assert runner.files["github-path"].read_text() == ""
    assert runner.files["github-env"].read_text() == ""
    venv = runner.temp / "second-look" / "venv"
    assert ran["install"]["outputs"]["second-look"] == str(venv / "bin" / "second-look")
    site = next((venv / "lib").glob("python3*/site-packages"))
    installed = {p.name.split("-")[0].lower() for p in site.glob("*.dist-info")}
    assert "second_look" in installed
    assert not installed & {"asyncpg", "pgserver", "psutil", "prometheus_client", "jinja2"}

    # The next run on this runner (the cache restored) installs nothing.
    fake_gemini.findings["security"] = []
    again = runner.run()

    assert again["review"]["status"] == 0
    assert runner.installs == ["Second Look: dependencies installed", "Second Look: installed"]
    assert sorted(p.name for p in runner.markers.iterdir()) == []

    # Without the server extra, the server's commands say what to install, in one line.
    serve = subprocess.run(  # noqa: S603 - the console script just installed
        [str(venv / "bin" / "python"), "-I", str(venv / "bin" / "second-look"), "serve"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=runner.workspace,
    )
    assert serve.returncode == 2
    assert serve.stderr.count("\n") == 1 and "second-look[server]" in serve.stderr


def test_without_the_key_the_action_ends_neutral_with_a_notice(runner, fake_github, fake_gemini):
    pull = open_pull(fake_github)
    write_event(runner, event(pull))
    runner.env["GITHUB_ACTOR"] = "dependabot[bot]"

    ran = runner.run(gemini_api_key="")

    assert ran["review"]["status"] == 0
    assert runner.stdout.startswith("::notice::") and "Dependabot" in runner.stdout
    assert fake_github.comments(OWNER, REPO, 7) == [] and fake_gemini.requests == []
