"""`python -m bot review` without the App's server: --diff, --git and OWNER/REPO#N --dry-run,
run as the real command in a subprocess against FakeGemini (and FakeGitHub)."""

from __future__ import annotations

import asyncio
import json
import os
import pty
import select
import subprocess
import sys
import time
from argparse import Namespace
from pathlib import Path

import jsonschema

from bot.config import gemini_settings
from bot.review.render import MARKER
from bot.standalone import cli
from bot.store.findings_table import FindingRepo
from tests.processes import app_env
from tests.reviewing import NEW_APP, OLD_APP, OWNER, REPO, finding, open_pull, run_review

DEADLINE = 60  # seconds: no command of these tests may take longer
SCHEMA = json.loads((Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text())
EVAL_LINE = "    return eval(user_input)"  # NEW_APP's line 9
AGENTS = {"security", "bugs", "performance", "style"}
# git of these tests and of the command reads no configuration of this machine's user.
GIT_ENV = {
    "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
}


# --- helpers -----------------------------------------------------------------------------


def local_env(fake_gemini, cwd: Path, **extra: str) -> dict[str, str]:
    """What a developer's shell gives `review --diff/--git`: a Gemini key and no App."""
    return {
        **GIT_ENV,
        "HOME": str(cwd),
        "GIT_CEILING_DIRECTORIES": str(cwd.parent),  # never find a repository above the test's
        "GEMINI_API_KEY": "AIzaSy-local-key",
        "GOOGLE_GEMINI_BASE_URL": fake_gemini.url,
        "GEMINI_RPM": "6000",
        "PYTHONPATH": str(Path(__file__).resolve().parents[1]),  # this tree, not the installed
        **extra,
    }


def bot(
    cwd: Path, env: dict[str, str], *args: str, stdin: str = "", stderr=subprocess.PIPE
) -> subprocess.CompletedProcess:
    """`python -m bot ARGS` in `cwd` with exactly `env`; its output captured (pipes, no TTY)."""
    return subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=env,
        input=stdin,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        timeout=DEADLINE,
    )


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(  # noqa: S603 - git, with our arguments
        ["git", *args],  # noqa: S607 - git from PATH, as the command under test finds it
        cwd=cwd,
        env={**GIT_ENV, "HOME": str(cwd)},
        check=True,
        capture_output=True,
        text=True,
        timeout=DEADLINE,
    ).stdout


def write(root: Path, files: dict[str, str]) -> None:
    for path, text in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)


def commit(root: Path, files: dict[str, str], message: str) -> str:
    write(root, files)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)
    return git(root, "rev-parse", "HEAD").strip()


def make_repo(root: Path, base: dict[str, str], head: dict[str, str]) -> Path:
    """A repository with `base` committed on main and `head` on top of it on `feature`
    (checked out)."""
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", "main")
    commit(root, base, "Base")
    git(root, "checkout", "-q", "-b", "feature")
    commit(root, head, "Add evaluate")
    return root


def eval_repo(tmp_path: Path, **base: str) -> Path:
    """OLD_APP on main, NEW_APP (adds an eval on line 9) on feature; `base` adds files to
    main (e.g. the config)."""
    return make_repo(tmp_path / "repo", {"app.py": OLD_APP, **base}, {"app.py": NEW_APP})


def eval_diff(tmp_path: Path) -> str:
    """`git diff` of OLD_APP to NEW_APP, made by git in a throwaway repository."""
    repo = eval_repo(tmp_path / "source")
    text = git(repo, "diff", "main", "feature")
    assert "diff --git a/app.py b/app.py" in text and "+" + EVAL_LINE in text
    return text


def config(text: str) -> dict[str, str]:
    return {".github/second-look.yml": text}


def agents_asked(fake_gemini) -> set[str]:
    return {r.agent for r in fake_gemini.requests if r.agent}


# --- --diff in each format ---------------------------------------------------------------


def test_diff_from_stdin_as_text_shows_the_finding_where_it_is_and_its_code(tmp_path, fake_gemini):
    fake_gemini.findings["security"] = [finding(line=9, severity="high")]
    diff = eval_diff(tmp_path)

    result = bot(tmp_path, local_env(fake_gemini, tmp_path), "review", "--diff", "-", stdin=diff)

    assert result.returncode == 0, result.stderr  # high is below the default fail_on, critical
    out = result.stdout
    assert out.startswith("Second Look review of the diff from standard input")
    assert "app.py:9" in out
    assert "eval of user input" in out
    assert f"9 │ {EVAL_LINE}".rstrip() in out
    assert "1 finding(s): 1 high." in out
    assert agents_asked(fake_gemini) == AGENTS | {"verifier", "walkthrough"}
    assert {p for r in fake_gemini.requests for p in r.files} == {"app.py"}


def test_diff_from_stdin_as_markdown_is_the_summary_comment_without_its_marker(
    tmp_path, fake_gemini
):
    fake_gemini.findings["security"] = [finding(line=9)]
    diff = eval_diff(tmp_path)
    env = local_env(fake_gemini, tmp_path)

    result = bot(tmp_path, env, "review", "--diff", "-", "--format", "markdown", stdin=diff)

    assert result.returncode == 1, result.stderr  # critical, the default fail_on
    assert result.stdout.startswith("## Second Look review")
    assert MARKER not in result.stdout
    assert "<!--" not in result.stdout.split("\n", 1)[0]
    assert "eval of user input" in result.stdout
    assert "app.py" in result.stdout


def test_diff_from_stdin_as_json_has_the_findings_coverage_and_usage(tmp_path, fake_gemini):
    fake_gemini.findings["security"] = [finding(line=9, severity="medium")]
    fake_gemini.findings["style"] = [finding(line=8, severity="low", title="Name says nothing")]
    diff = eval_diff(tmp_path)
    env = local_env(fake_gemini, tmp_path)

    result = bot(tmp_path, env, "review", "--diff", "-", "--format", "json", stdin=diff)

    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["version"] == 4
    assert report["status"] == "completed"
    assert report["error"] is None
    assert (report["partial"], report["partial_reasons"]) == (False, [])
    assert report["fail_on"] == "critical"
    assert report["source"] == "the diff from standard input"
    got = sorted(
        (f["agent"], f["severity"], f["path"], f["line_start"], f["line_end"], f["title"])
        for f in report["findings"]
    )
    assert got == [
        ("security", "medium", "app.py", 9, 9, "eval of user input"),
        ("style", "low", "app.py", 8, 8, "Name says nothing"),
    ]
    assert all(f["fingerprint"] and f["verdict"] == "kept" for f in report["findings"])
    coverage = report["coverage"]
    assert coverage["files"] == coverage["reviewed_files"] == 1
    assert coverage["lines"] == coverage["reviewed_lines"] > 0
    assert coverage["line_percent"] == 100 and coverage["partial"] is False
    assert coverage["not_reviewed"] == []
    usage = report["usage"]
    assert usage["calls"] == len(fake_gemini.requests) == 6  # agents, walkthrough, verifier
    assert usage["prompt_tokens"] == fake_gemini.seen_prompt_tokens()
    assert usage["output_tokens"] > 0
    assert sorted(report["agents"]) == sorted(AGENTS)
    assert report["failed_agents"] == {}


def test_diff_from_stdin_as_sarif_validates_against_the_schema(tmp_path, fake_gemini):
    fake_gemini.findings["security"] = [finding(line=9, severity="critical")]
    fake_gemini.findings["bugs"] = [
        finding(line=8, line_end=9, severity="medium", title="No input check")
    ]
    diff = eval_diff(tmp_path)
    env = local_env(fake_gemini, tmp_path)

    result = bot(tmp_path, env, "review", "--diff", "-", "--format", "sarif", stdin=diff)

    assert result.returncode == 1, result.stderr
    log = json.loads(result.stdout)
    jsonschema.Draft7Validator(SCHEMA).validate(log)
    (run,) = log["runs"]
    results = {r["ruleId"]: r for r in run["results"]}
    assert set(results) == {"security", "bugs"}
    rules = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    for rule_id, result_ in results.items():
        assert rules[result_["ruleIndex"]] == rule_id
        assert len(result_["partialFingerprints"]["secondLook/v1"]) >= 8
    security = results["security"]["locations"][0]["physicalLocation"]
    assert security["artifactLocation"]["uri"] == "app.py"
    assert security["region"] == {"startLine": 9, "endLine": 9}
    assert results["security"]["level"] == "error"
    bugs = results["bugs"]["locations"][0]["physicalLocation"]
    assert bugs["region"] == {"startLine": 8, "endLine": 9}
    assert results["bugs"]["level"] == "warning"
    fingerprints = {r["partialFingerprints"]["secondLook/v1"] for r in run["results"]}
    assert len(fingerprints) == 2


def test_diff_from_a_file_reads_the_config_and_guidance_of_the_current_directory(
    tmp_path, fake_gemini
):
    repo = eval_repo(
        tmp_path,
        **config("agents: [security, bugs]\n"),
        **{"AGENTS.md": "Guidance: GUIDANCE-FROM-THE-WORKING-TREE.\n"},
    )
    (tmp_path / "change.diff").write_text(git(repo, "diff", "main", "feature"))
    fake_gemini.findings["security"] = [finding(line=9, severity="low")]

    patch = str(tmp_path / "change.diff")
    result = bot(repo, local_env(fake_gemini, repo), "review", "--diff", patch, "--format", "json")

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["source"] == patch
    assert agents_asked(fake_gemini) == {"security", "bugs", "verifier", "walkthrough"}
    asked = [r for r in fake_gemini.requests if r.agent == "security"]
    assert asked and all("GUIDANCE-FROM-THE-WORKING-TREE" in r.system + r.prompt for r in asked)


# --- --git -------------------------------------------------------------------------------

# A function whose line 7 is outside the change's hunk (8-11): it reaches the agents only as
# context (a "~" line), read from the head's text of app.py.
CONTEXT_OLD = (
    "import os\n\n\ndef handle(request):\n    first = 1\n    second = 2\n"
    '    origin = "CONTEXT-FROM-THE-HEAD-COMMIT"\n'
    "    third = 3\n    fourth = 4\n    fifth = 5\n    return request\n"
)
CONTEXT_NEW = CONTEXT_OLD.replace("    return request\n", "    return eval(request)\n")
UNCOMMITTED = CONTEXT_NEW.replace("CONTEXT-FROM-THE-HEAD-COMMIT", "UNCOMMITTED-EDIT")


def context_repo(tmp_path: Path, checkout: str = "feature") -> Path:
    """main: app.py and a config asking only the security agent, failing on medium; feature:
    the eval, and a config that would ask every agent and fail on nothing. `checkout` is
    checked out (main moves on by an empty commit first), then edited without a commit."""
    repo = make_repo(
        tmp_path / "repo",
        {"app.py": CONTEXT_OLD, **config("agents: [security]\nfail_on: medium\n")},
        {
            "app.py": CONTEXT_NEW,
            **config("agents: [security, bugs, performance, style]\nfail_on: never\n"),
        },
    )
    if checkout == "main":
        git(repo, "checkout", "-q", "main")
        git(repo, "commit", "-q", "--allow-empty", "-m", "Later on main")
    write(repo, {"app.py": UNCOMMITTED, "untracked.py": "import pickle\n"})
    git(repo, "add", "untracked.py")  # staged, still not committed
    return repo


def assert_reviewed_the_head_commit_with_the_base_config(result, fake_gemini, head: str) -> None:
    assert result.returncode == 1, result.stderr  # medium reaches the base's fail_on: medium
    report = json.loads(result.stdout)
    assert report["fail_on"] == "medium"
    assert report["head"] == head
    assert report["agents"] == ["security"]
    assert [(f["agent"], f["severity"], f["line_start"]) for f in report["findings"]] == [
        ("security", "medium", 11)
    ]
    assert agents_asked(fake_gemini) == {"security", "verifier", "walkthrough"}
    (asked,) = fake_gemini.requests_of("security")
    assert set(asked.files) == {".github/second-look.yml", "app.py"}
    assert "return eval(request)" in asked.prompt
    context = '     7 ~|     origin = "CONTEXT-FROM-THE-HEAD-COMMIT"'
    assert context in asked.prompt.splitlines()  # context: the head commit's text
    assert "UNCOMMITTED-EDIT" not in asked.prompt
    assert "untracked.py" not in asked.prompt and "pickle" not in asked.prompt


def test_git_base_reviews_the_branch_head_with_the_config_of_the_merge_base(tmp_path, fake_gemini):
    repo = context_repo(tmp_path)
    head = git(repo, "rev-parse", "feature").strip()
    fake_gemini.findings["security"] = [finding(line=11, severity="medium")]

    result = bot(repo, local_env(fake_gemini, repo), "review", "--git", "main", "--format", "json")

    assert_reviewed_the_head_commit_with_the_base_config(result, fake_gemini, head)
    assert json.loads(result.stdout)["source"] == f"main...{head[:12]}"


def test_git_base_to_head_reviews_that_head_not_the_checked_out_one(tmp_path, fake_gemini):
    repo = context_repo(tmp_path, checkout="main")
    head = git(repo, "rev-parse", "feature").strip()
    fake_gemini.findings["security"] = [finding(line=11, severity="medium")]

    result = bot(
        repo, local_env(fake_gemini, repo), "review", "--git", "main..feature", "--format", "json"
    )

    assert_reviewed_the_head_commit_with_the_base_config(result, fake_gemini, head)


def test_git_review_tells_the_agents_the_commit_subjects(tmp_path, fake_gemini):
    repo = eval_repo(tmp_path)
    commit(repo, {"notes.txt": "more\n"}, "Add the notes")

    result = bot(repo, local_env(fake_gemini, repo), "review", "--git", "main", "--format", "json")

    assert result.returncode == 0, result.stderr
    asked = fake_gemini.requests_of("security")
    assert asked and all("Add evaluate" in r.prompt and "Add the notes" in r.prompt for r in asked)
    assert "Base" not in {line.strip("- ") for r in asked for line in r.prompt.splitlines()}


def test_git_review_ignores_the_users_diff_settings(tmp_path, fake_gemini):
    repo = eval_repo(tmp_path)
    settings = tmp_path / "gitconfig"  # a developer's ~/.gitconfig
    settings.write_text("[diff]\n\tnoprefix = true\n\tcontext = 0\n")
    fake_gemini.findings["security"] = [finding(line=9, severity="low")]
    env = local_env(fake_gemini, repo, GIT_CONFIG_GLOBAL=str(settings))

    result = bot(repo, env, "review", "--git", "main", "--format", "json")

    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert [(f["path"], f["line_start"]) for f in report["findings"]] == [("app.py", 9)]
    assert report["coverage"]["not_reviewed"] == []
    (asked,) = fake_gemini.requests_of("security")
    assert asked.files == ["app.py"]
    assert "@@ -3,3 +3,7 @@" in asked.prompt  # three lines of context, as GitHub shows


# --- exit codes --------------------------------------------------------------------------


def test_exit_0_with_no_findings(tmp_path, fake_gemini):
    result = bot(
        tmp_path,
        local_env(fake_gemini, tmp_path),
        "review",
        "--diff",
        "-",
        stdin=eval_diff(tmp_path),
    )

    assert result.returncode == 0, result.stderr
    assert "No findings." in result.stdout
    assert len(fake_gemini.requests) == 5  # no finding: nothing for the verifier


def test_exit_0_on_a_finding_below_fail_on_and_1_at_it(tmp_path, fake_gemini):
    fake_gemini.findings["bugs"] = [finding(line=9, severity="high")]
    diff = eval_diff(tmp_path)
    env = local_env(fake_gemini, tmp_path)

    below = bot(tmp_path, env, "review", "--diff", "-", "--fail-on", "critical", stdin=diff)
    at = bot(tmp_path, env, "review", "--diff", "-", "--fail-on", "high", stdin=diff)
    above = bot(tmp_path, env, "review", "--diff", "-", "--fail-on", "medium", stdin=diff)
    never = bot(tmp_path, env, "review", "--diff", "-", "--fail-on", "never", stdin=diff)

    assert (below.returncode, at.returncode, above.returncode, never.returncode) == (0, 1, 1, 0)
    assert "1 at or above high (fail_on)." in at.stdout


def test_exit_1_on_the_repository_fail_on_when_no_flag_is_given(tmp_path, fake_gemini):
    repo = eval_repo(tmp_path, **config("fail_on: low\n"))
    diff = git(repo, "diff", "main", "feature")
    fake_gemini.findings["style"] = [finding(line=9, severity="low")]
    env = local_env(fake_gemini, repo)

    from_repo = bot(repo, env, "review", "--diff", "-", "--format", "json", stdin=diff)
    overridden = bot(repo, env, "review", "--diff", "-", "--fail-on", "medium", stdin=diff)
    elsewhere = bot(tmp_path, env, "review", "--diff", "-", stdin=diff)  # no config: critical

    assert from_repo.returncode == 1, from_repo.stderr
    assert json.loads(from_repo.stdout)["fail_on"] == "low"
    assert overridden.returncode == 0, overridden.stderr
    assert elsewhere.returncode == 0, elsewhere.stderr


def test_exit_2_without_a_gemini_key(tmp_path, fake_gemini):
    env = local_env(fake_gemini, tmp_path)
    del env["GEMINI_API_KEY"]

    result = bot(tmp_path, env, "review", "--diff", "-", stdin=eval_diff(tmp_path))

    assert result.returncode == 2
    assert result.stderr.strip() == (
        "second-look: configuration error: GEMINI_API_KEY is not set: set it to a Gemini API key"
    )
    assert result.stdout == ""
    assert fake_gemini.requests == []


def test_no_model_runs_the_analyzers_alone_without_a_key(tmp_path, fake_gemini):
    env = local_env(fake_gemini, tmp_path)
    del env["GEMINI_API_KEY"]
    leaky = NEW_APP + '\nAWS_ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"\nTOTAL = sum(rowz)\n'
    repo = make_repo(tmp_path / "repo", {"app.py": OLD_APP}, {"app.py": leaky})
    diff = git(repo, "diff", "main", "feature")
    clean_repo = eval_repo(tmp_path / "clean")
    clean = git(clean_repo, "diff", "main", "feature")

    # The head files from the working tree: the feature branch is checked out.
    found = bot(repo, env, "review", "--diff", "-", "--no-model", "--format", "json", stdin=diff)
    nothing = bot(clean_repo, env, "review", "--diff", "-", "--no-model", stdin=clean)

    assert found.returncode == 1, found.stderr  # a leaked key is critical: fail_on's default
    report = json.loads(found.stdout)
    assert sorted((f["agent"], f["line_start"]) for f in report["findings"]) == [
        ("ruff F821", 12),
        ("secrets AWSAccessKey", 11),
    ]
    assert "AKIAIOSFODNN7EXAMPLE" not in found.stdout + found.stderr
    assert "The model part of this review is missing: --no-model was given" in found.stdout
    assert nothing.returncode == 0, nothing.stderr
    assert fake_gemini.requests == []


def test_exit_2_on_a_diff_file_that_does_not_exist(tmp_path, fake_gemini):
    result = bot(tmp_path, local_env(fake_gemini, tmp_path), "review", "--diff", "nosuch.diff")

    assert result.returncode == 2
    assert result.stderr.strip() == (
        "second-look: cannot read the diff nosuch.diff: No such file or directory"
    )
    assert fake_gemini.requests == []


def test_exit_2_on_input_that_is_not_a_diff(tmp_path, fake_gemini):
    result = bot(
        tmp_path,
        local_env(fake_gemini, tmp_path),
        "review",
        "--diff",
        "-",
        stdin="hello\nthis is no diff\n",
    )

    assert result.returncode == 2
    assert "standard input is not a unified diff from git" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert fake_gemini.requests == []


def test_exit_2_on_a_diff_without_a_and_b_prefixes_rather_than_a_clean_review(
    tmp_path, fake_gemini
):
    repo = eval_repo(tmp_path)
    diff = git(repo, "diff", "--no-prefix", "main", "feature")  # or diff.mnemonicPrefix's i/ w/
    assert diff.startswith("diff --git app.py app.py")

    result = bot(tmp_path, local_env(fake_gemini, tmp_path), "review", "--diff", "-", stdin=diff)

    assert result.returncode == 2, result.stdout
    assert "names its files without the a/ and b/ prefixes" in result.stderr
    assert result.stdout == ""
    assert fake_gemini.requests == []


def test_exit_2_on_a_git_base_that_does_not_exist(tmp_path, fake_gemini):
    repo = eval_repo(tmp_path)

    result = bot(repo, local_env(fake_gemini, repo), "review", "--git", "nosuchbranch")

    assert result.returncode == 2
    assert result.stderr.strip() == (
        "second-look: 'nosuchbranch' is not a commit of this repository"
    )
    assert fake_gemini.requests == []


def test_exit_2_on_git_outside_a_repository(tmp_path, fake_gemini):
    result = bot(tmp_path, local_env(fake_gemini, tmp_path), "review", "--git", "main")

    assert result.returncode == 2
    assert result.stderr.startswith("second-look: git rev-parse: not a git repository")
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr
    assert fake_gemini.requests == []


def test_exit_2_with_nothing_to_review(tmp_path, fake_gemini):
    result = bot(tmp_path, local_env(fake_gemini, tmp_path), "review")

    assert result.returncode == 2
    assert "review needs one of OWNER/REPO#N, --diff FILE, --git BASE" in result.stderr
    assert result.stdout == ""


def test_exit_2_on_dry_run_with_a_diff(tmp_path, fake_gemini):
    result = bot(
        tmp_path,
        local_env(fake_gemini, tmp_path),
        "review",
        "--diff",
        "-",
        "--dry-run",
        stdin=eval_diff(tmp_path),
    )

    assert result.returncode == 2
    assert "--dry-run goes with OWNER/REPO#N" in result.stderr
    assert fake_gemini.requests == []


def test_exit_3_when_gemini_refuses_the_key_and_the_output_says_the_review_failed(
    tmp_path, fake_gemini
):
    fake_gemini.api_key = "other"  # ours is refused: 400, every agent fails at once
    diff = eval_diff(tmp_path)
    env = local_env(fake_gemini, tmp_path)
    started = time.monotonic()

    text = bot(tmp_path, env, "review", "--diff", "-", stdin=diff)
    as_json = bot(tmp_path, env, "review", "--diff", "-", "--format", "json", stdin=diff)

    assert time.monotonic() - started < 30  # no retry waits
    assert text.returncode == 3, text.stderr
    assert "The review failed" in text.stdout
    assert "No findings." not in text.stdout
    assert as_json.returncode == 3, as_json.stderr
    report = json.loads(as_json.stdout)
    assert report["status"] == "failed"
    assert report["findings"] == []
    assert set(report["failed_agents"]) == AGENTS
    assert all("API key not valid" in why for why in report["failed_agents"].values())
    assert "warning: the security agent failed" in text.stdout
    assert "AIzaSy-local-key" not in text.stdout + text.stderr + as_json.stdout
    walked = [*AGENTS, "walkthrough"]
    assert sorted(r.agent for r in fake_gemini.requests) == sorted(walked + walked)  # once
    assert {r.status for r in fake_gemini.requests} == {400}


# --- progress and terminals --------------------------------------------------------------


def test_no_progress_line_and_no_escape_when_not_a_terminal(tmp_path, fake_gemini):
    fake_gemini.findings["security"] = [finding(line=9, severity="critical")]

    result = bot(
        tmp_path,
        local_env(fake_gemini, tmp_path),
        "review",
        "--diff",
        "-",
        stdin=eval_diff(tmp_path),
    )

    assert result.returncode == 1
    assert result.stderr == ""
    assert "\x1b" not in result.stdout
    assert "\r" not in result.stdout
    assert "Gemini call(s) done" not in result.stdout


def test_progress_line_on_a_terminal_goes_to_stderr_only(tmp_path, fake_gemini):
    fake_gemini.findings["security"] = [finding(line=9, severity="critical")]
    fake_gemini.latency = 0.3  # the spinner has a few frames to draw
    diff = eval_diff(tmp_path)
    leader, follower = pty.openpty()
    try:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "bot", "review", "--diff", "-"],
            cwd=tmp_path,
            env=local_env(fake_gemini, tmp_path),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=follower,
            text=True,
        )
        os.close(follower)
        follower = -1
        process.stdin.write(diff)
        process.stdin.close()
        terminal = read_until_closed(leader, time.monotonic() + DEADLINE)
        stdout = process.stdout.read()
        assert process.wait(timeout=DEADLINE) == 1
    finally:
        os.close(leader)
        if follower != -1:
            os.close(follower)

    assert "reviewing the diff from standard input: " in terminal
    assert "Gemini call(s) done" in terminal
    assert "5 Gemini call(s) done" in terminal  # counted as the calls ended
    assert terminal.endswith("\r\x1b[K")  # the line is erased at the end
    assert "\x1b" not in stdout and "Gemini call(s) done" not in stdout
    assert "app.py:9" in stdout


def read_until_closed(fd: int, deadline: float) -> str:
    """What a pseudo-terminal's other side wrote, until every writer closed it."""
    data = b""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: the last writer closed its side
            break
        if not chunk:
            break
        data += chunk
    else:
        raise AssertionError("the command still held the terminal at the deadline")
    return data.decode("utf-8", "replace")


# --- OWNER/REPO#N --dry-run ----------------------------------------------------------------


def assert_nothing_posted(fake_github) -> None:
    assert fake_github.comments(OWNER, REPO, 7) == []
    assert fake_github.reviews(OWNER, REPO, 7) == []
    assert fake_github.review_comments(OWNER, REPO, 7) == []
    assert fake_github.check_runs(OWNER, REPO) == []
    requests = fake_github.find_requests()
    assert any(r.method == "GET" and r.path.endswith("/pulls/7") for r in requests)  # it read
    queries = [r for r in requests if r.path.endswith("/graphql")]
    assert queries and not any(b"mutation" in r.body for r in queries)
    writes = [
        (r.method, r.path)
        for r in requests
        if r.method in ("POST", "PATCH", "PUT", "DELETE")
        and not r.path.endswith(("/graphql", "/access_tokens"))
    ]
    assert writes == []


def test_dry_run_with_a_workflow_token_prints_the_findings_and_posts_nothing(
    tmp_path, fake_github, fake_gemini
):
    pull = open_pull(fake_github)
    fake_gemini.findings["security"] = [finding(line=9)]
    env = {
        **local_env(fake_gemini, tmp_path),
        "GITHUB_TOKEN": fake_github.workflow_token(OWNER, REPO),
        "GITHUB_API_URL": fake_github.url,
    }

    result = bot(tmp_path, env, "review", f"{OWNER}/{REPO}#7", "--dry-run", "--format", "json")

    assert result.returncode == 1, result.stderr  # critical
    report = json.loads(result.stdout)
    assert report["source"] == f"{OWNER}/{REPO}#7"
    assert report["head"] == pull.head_sha
    assert [
        (f["agent"], f["severity"], f["path"], f["line_start"]) for f in report["findings"]
    ] == [("security", "critical", "app.py", 9)]
    assert_nothing_posted(fake_github)
    assert env["GITHUB_TOKEN"] not in result.stdout + result.stderr


def test_dry_run_as_the_app_without_a_database_posts_nothing(
    tmp_path, settings, fake_github, fake_gemini
):
    pull = open_pull(fake_github)
    fake_gemini.findings["bugs"] = [finding(line=9, severity="medium", title="Crashes")]
    env = {**app_env(settings), "GEMINI_RPM": "6000", "HOME": str(tmp_path)}
    del env["DATABASE_URL"]

    result = bot(tmp_path, env, "review", f"{OWNER}/{REPO}#7", "--dry-run", "--format", "json")

    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["head"] == pull.head_sha
    assert [(f["agent"], f["title"]) for f in report["findings"]] == [("bugs", "Crashes")]
    assert_nothing_posted(fake_github)
    assert settings.github_private_key.splitlines()[1] not in result.stdout + result.stderr


def test_dry_run_without_github_credentials_is_a_configuration_error(tmp_path, fake_gemini):
    result = bot(
        tmp_path, local_env(fake_gemini, tmp_path), "review", f"{OWNER}/{REPO}#7", "--dry-run"
    )

    assert result.returncode == 2
    assert result.stderr.startswith("second-look: configuration error: GITHUB_TOKEN is not set")
    assert fake_gemini.requests == []


# --- one pipeline ------------------------------------------------------------------------

SCRIPTED = {
    "security": [finding(line=9, severity="critical")],
    "bugs": [finding(line=8, line_end=9, severity="high", title="No input check")],
    "style": [finding(line=2, severity="low", title="Blank lines")],  # not a diff line
}


def comparable(agent, severity, path, start, end, title, fingerprint) -> tuple:
    return (agent, severity, path, start, end, title, fingerprint)


async def test_the_cli_and_the_app_find_the_same_in_the_same_pull_request(
    tmp_path, services, fake_github, fake_gemini
):
    pull = open_pull(fake_github)
    fake_gemini.findings.update(SCRIPTED)

    review = await run_review(services, pull)
    assert review.status == "completed"
    stored = await FindingRepo(services.pool).for_review(review.id)
    app = sorted(
        comparable(
            f["agent_type"],
            f["severity"],
            f["file_path"],
            f["line_start"],
            f["line_end"],
            f["title"],
            f["fingerprint"],
        )
        for f in stored
        if not f["withheld"]
    )
    env = {
        **local_env(fake_gemini, tmp_path),
        "GITHUB_TOKEN": fake_github.workflow_token(OWNER, REPO),
        "GITHUB_API_URL": fake_github.url,
    }
    dry_run, from_diff = await asyncio.gather(
        asyncio.to_thread(
            bot, tmp_path, env, "review", f"{OWNER}/{REPO}#7", "--dry-run", "--format", "json"
        ),
        asyncio.to_thread(
            bot, tmp_path, env, "review", "--diff", "-", "--format", "json", stdin=pull.diff()
        ),
    )

    assert len(app) == 3
    assert (None, None) in {(start, end) for _, _, _, start, end, _, _ in app}  # file-level
    for result in (dry_run, from_diff):
        assert result.returncode == 1, result.stderr
        cli = sorted(
            comparable(
                f["agent"],
                f["severity"],
                f["path"],
                f["line_start"],
                f["line_end"],
                f["title"],
                f["fingerprint"],
            )
            for f in json.loads(result.stdout)["findings"]
        )
        assert cli == app


async def test_dry_run_markdown_is_what_the_app_posts_without_its_marker(
    tmp_path, services, fake_github, fake_gemini
):
    pull = open_pull(fake_github)
    fake_gemini.findings.update(SCRIPTED)
    env = {
        **local_env(fake_gemini, tmp_path),
        "GITHUB_TOKEN": fake_github.workflow_token(OWNER, REPO),
        "GITHUB_API_URL": fake_github.url,
    }
    result = await asyncio.to_thread(
        bot, tmp_path, env, "review", f"{OWNER}/{REPO}#7", "--dry-run", "--format", "markdown"
    )
    assert result.returncode == 1, result.stderr
    assert fake_github.comments(OWNER, REPO, 7) == []

    await run_review(services, pull)

    (comment,) = fake_github.comments(OWNER, REPO, 7)
    posted = comment["body"]
    assert posted.startswith(MARKER)
    # Line for line, the inline comments it would post included.
    assert "- 2 finding(s) are also inline comments on the diff." in posted
    assert result.stdout.strip("\n") == posted.removeprefix(MARKER).strip("\n")


def test_a_partial_review_exits_by_what_it_reviewed_and_names_what_it_did_not(
    tmp_path, fake_gemini
):
    fake_gemini.fail_next(400, agent="bugs", message="Request contains an invalid argument.")
    diff = eval_diff(tmp_path)
    env = local_env(fake_gemini, tmp_path)

    clean = bot(tmp_path, env, "review", "--diff", "-", "--format", "json", stdin=diff)

    assert clean.returncode == 0, clean.stderr  # partial, as the App's neutral check
    report = json.loads(clean.stdout)
    assert (report["status"], report["coverage"]["partial"]) == ("completed", True)
    coverage = report["coverage"]  # three agents read app.py, the bugs agent did not
    assert (coverage["reviewed_files"], coverage["partly_reviewed_files"]) == (0, 1)
    assert coverage["line_percent"] == 0 and coverage["partly_reviewed_lines"] > 0
    assert report["partial_reasons"] == [
        "1 agent call(s) failed: Gemini answered 400 INVALID_ARGUMENT: Request contains an "
        "invalid argument. (after 1 attempt)"
    ]
    assert list(report["failed_agents"]) == ["bugs"]
    (failed,) = report["coverage"]["failed_calls"]
    assert (failed["agent"], failed["part"], failed["paths"]) == ("bugs", 1, ["app.py"])
    assert report["failed_agents"]["bugs"] == (
        "Gemini answered 400 INVALID_ARGUMENT: Request contains an invalid argument. "
        "(after 1 attempt)"
    )

    fake_gemini.fail_next(400, agent="bugs")
    fake_gemini.findings["security"] = [finding(line=9, severity="critical")]
    found = bot(tmp_path, env, "review", "--diff", "-", "--fail-on", "high", stdin=diff)

    assert found.returncode == 1, found.stderr
    assert "warning: the bugs agent failed" in found.stdout


# --- what the review could not read ----------------------------------------------------------


def broken_hunk(diff: str) -> str:
    """`diff` with its first hunk header damaged (`@@ -3,3 +3,7 @@` to `@@ --3,3 +3,7 @@`):
    git apply refuses it, and a parser that skips what it does not know reads no line of it."""
    assert "\n@@ -" in diff
    return diff.replace("\n@@ -", "\n@@ --", 1)


def test_exit_3_on_a_diff_whose_hunk_header_does_not_parse_even_with_fail_on_low(
    tmp_path, fake_gemini
):
    diff = broken_hunk(eval_diff(tmp_path))
    env = local_env(fake_gemini, tmp_path)

    text = bot(tmp_path, env, "review", "--diff", "-", "--fail-on", "low", stdin=diff)
    as_json = bot(tmp_path, env, "review", "--diff", "-", "--format", "json", stdin=diff)

    assert text.returncode == 3, text.stdout
    assert "No findings." not in text.stdout
    assert "The review failed: the diff could not be parsed: app.py" in text.stdout
    (line,) = text.stderr.strip().splitlines()
    assert line.startswith("second-look: the review could not run: the diff could not be parsed")
    assert "a hunk header does not parse: '@@ --" in line
    assert as_json.returncode == 3
    report = json.loads(as_json.stdout)
    assert report["status"] == "failed"
    assert report["error"].startswith("the diff could not be parsed: app.py")
    assert report["partial"] is True
    assert report["coverage"]["reviewed_files"] == report["coverage"]["line_percent"] == 0
    assert fake_gemini.requests == []  # nothing was sent for a diff nothing could be read of


def test_exit_3_on_an_empty_diff_from_standard_input_or_a_file(tmp_path, fake_gemini):
    env = local_env(fake_gemini, tmp_path)
    (tmp_path / "empty.diff").write_text("")

    piped = bot(tmp_path, env, "review", "--diff", "-", "--fail-on", "low", stdin="")
    blank = bot(tmp_path, env, "review", "--diff", "-", stdin="\n  \n")
    from_file = bot(tmp_path, env, "review", "--diff", "empty.diff", "--format", "json")

    assert (piped.returncode, blank.returncode, from_file.returncode) == (3, 3, 3)
    assert piped.stderr.strip() == "second-look: the diff is empty: standard input holds nothing"
    assert blank.stderr.strip() == piped.stderr.strip()
    assert from_file.stderr.strip() == "second-look: the diff is empty: empty.diff holds nothing"
    assert piped.stdout == from_file.stdout == ""
    assert fake_gemini.requests == []


def test_a_file_whose_diff_does_not_parse_makes_the_review_partial_never_100_percent(
    tmp_path, fake_gemini
):
    good = eval_diff(tmp_path)
    other = good.replace("app.py", "other.py")
    diff = good + broken_hunk(other)
    env = local_env(fake_gemini, tmp_path)

    as_json = bot(tmp_path, env, "review", "--diff", "-", "--format", "json", stdin=diff)
    text = bot(tmp_path, env, "review", "--diff", "-", stdin=diff)

    assert as_json.returncode == text.returncode == 0, as_json.stderr  # by what it reviewed
    report = json.loads(as_json.stdout)
    assert report["version"] == 4
    assert (report["status"], report["error"], report["partial"]) == ("completed", None, True)
    (reason,) = report["partial_reasons"]
    assert reason.startswith("the diff of 1 file(s) could not be parsed: other.py")
    coverage = report["coverage"]
    assert (coverage["files"], coverage["reviewed_files"], coverage["partial"]) == (2, 1, True)
    assert coverage["line_percent"] == 50
    (unread,) = coverage["not_reviewed"]
    assert (unread["path"], unread["cut"]) == ("other.py", True)
    assert "Partial review. Reviewed 1 of 2 files, 50% of changed lines." in text.stdout
    assert {p for r in fake_gemini.requests for p in r.files} == {"app.py"}


REFUSED = "http://127.0.0.1:9"  # nothing listens on the discard port: connection refused


async def test_a_review_no_gemini_call_reached_costs_nothing_and_says_so(
    tmp_path, monkeypatch, capsys, sleep, waits
):
    # In this process, so that the retries' backoff goes through `sleep`, not for real.
    (tmp_path / "change.diff").write_text(eval_diff(tmp_path))
    monkeypatch.chdir(tmp_path)
    env = {"GEMINI_API_KEY": "AIzaSy-local-key", "GOOGLE_GEMINI_BASE_URL": REFUSED}
    settings = gemini_settings({**env, "GEMINI_RPM": "6000"}, dotenv=None)
    target = await cli.diff_target("change.diff")

    as_json = await cli.review_target(
        Namespace(format="json", fail_on="low"), target, settings, sleep=sleep
    )
    report = json.loads(capsys.readouterr().out)
    as_text = await cli.review_target(
        Namespace(format="text", fail_on="low"), target, settings, sleep=sleep
    )
    text = capsys.readouterr()

    assert as_json == as_text == 3
    assert waits  # the attempts were retried, with no real wait
    assert report["status"] == "failed"
    assert report["error"].startswith("every agent call failed; the first: connection error")
    usage = report["usage"]
    assert usage["calls"] == usage["unreached_calls"] > 4  # the agents' retries among them
    assert (usage["prompt_tokens"], usage["cost_usd"], usage["output_cost_usd"]) == (0, 0.0, 0.0)
    assert report["partial"] is True
    (reason,) = report["partial_reasons"]
    assert reason.startswith("4 agent call(s) failed: connection error")
    coverage = report["coverage"]
    assert (coverage["files"], coverage["reviewed_files"], coverage["line_percent"]) == (1, 0, 0)
    assert "Partial review. Reviewed 0 of 1 files, 0% of changed lines." in text.out
    assert "100%" not in text.out
    calls = usage["calls"]
    assert f"Usage: {calls} Gemini call(s), {calls} of them never reached Gemini" in text.out
    assert "est. cost $0.0000." in text.out
    assert text.err.strip().startswith("second-look: the review could not run: every agent call")


def test_costs_are_rounded_to_the_hundredth_of_a_cent_and_the_text_says_the_same(
    tmp_path, fake_gemini
):
    fake_gemini.findings["security"] = [finding(line=9, severity="medium")]
    diff = eval_diff(tmp_path)
    env = local_env(fake_gemini, tmp_path)

    as_json = bot(tmp_path, env, "review", "--diff", "-", "--format", "json", stdin=diff)
    text = bot(tmp_path, env, "review", "--diff", "-", stdin=diff)

    usage = json.loads(as_json.stdout)["usage"]
    cost, output = usage["cost_usd"], usage["output_cost_usd"]
    assert cost > 0.0001 and output > 0
    assert (cost, output) == (round(cost, 4), round(output, 4))
    assert usage["unreached_calls"] == 0
    assert f"est. cost ${cost:.4f} (${output:.4f} output and thinking)." in text.stdout
