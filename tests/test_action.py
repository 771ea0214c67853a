"""`python -m bot action`, run as a workflow runs it: a subprocess with the environment Actions
sets, against FakeGitHub and FakeGemini, with no database."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp
import jsonschema
import pytest

from bot.config import github_access
from bot.github.event import read_event
from bot.review.memory import Memory, decode, with_memory
from bot.review.render import MARKER
from bot.standalone import action
from bot.standalone.local import COULD_NOT_RUN, FOUND
from tests.conftest import GEMINI_KEY
from tests.fakes.github import ACTIONS_BOT, FakeGitHub, PullState
from tests.reviewing import NEW_APP, OLD_APP, OWNER, REPO, finding, open_pull

ROOT = Path(__file__).resolve().parents[1]  # the tree under test
SCHEMA = json.loads((Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text())
OTHER = ("b.py", ("", "x = 1\n"))  # a second file of the PR, which the push leaves alone


def repository(owner: str, name: str, repo_id: int) -> dict[str, Any]:
    """A repository as the pull_request payload embeds it."""
    full = f"{owner}/{name}"
    return {
        "id": repo_id,
        "node_id": f"R_{repo_id}",
        "name": name,
        "full_name": full,
        "private": False,
        "owner": {"login": owner, "id": repo_id + 1, "type": "User"},
        "html_url": f"https://github.com/{full}",
        "fork": owner != OWNER,
        "url": f"https://api.github.com/repos/{full}",
        "default_branch": "main",
    }


def event(pull: PullState, action: str = "opened", *, fork: bool = False) -> dict[str, Any]:
    """The event file Actions writes for a pull_request on this PR (the webhook payload)."""
    base_repo = repository(pull.owner, pull.repo, 100)
    head_repo = repository("mallory", pull.repo, 900) if fork else copy.deepcopy(base_repo)
    head_owner = head_repo["owner"]["login"]
    payload: dict[str, Any] = {
        "action": action,
        "number": pull.number,
        "pull_request": {
            "url": f"https://api.github.com/repos/{pull.owner}/{pull.repo}/pulls/{pull.number}",
            "id": pull.id,
            "number": pull.number,
            "state": "open",
            "locked": False,
            "title": pull.title,
            "body": pull.body or None,
            "user": {"login": pull.user, "id": 1, "type": "User"},
            "draft": pull.draft,
            "merged": False,
            "head": {
                "label": f"{head_owner}:{pull.head_ref}",
                "ref": pull.head_ref,
                "sha": pull.head_sha,
                "repo": head_repo,
                "user": {"login": head_owner, "id": 5, "type": "User"},
            },
            "base": {
                "label": f"{pull.owner}:{pull.base_ref}",
                "ref": pull.base_ref,
                "sha": pull.base_sha,
                "repo": base_repo,
                "user": {"login": pull.owner, "id": 101, "type": "User"},
            },
            "author_association": "CONTRIBUTOR" if fork else "OWNER",
        },
        "repository": copy.deepcopy(base_repo),
        "sender": {"login": pull.user, "id": 1, "type": "User"},
    }
    if action == "synchronize":
        payload["before"], payload["after"] = pull.history[-2], pull.head_sha
    return payload


class Workflow:
    """A job that runs the Action: its environment, and each run's output."""

    def __init__(self, tmp_path: Path, github: FakeGitHub, gemini_url: str) -> None:
        self.tmp_path = tmp_path
        self.summary = tmp_path / "step-summary.md"
        self.env = {
            "PATH": "/usr/bin:/bin",
            "GITHUB_ACTIONS": "true",
            "GITHUB_EVENT_NAME": "pull_request",
            "GITHUB_EVENT_PATH": str(tmp_path / "event.json"),
            "GITHUB_REPOSITORY": f"{OWNER}/{REPO}",
            "GITHUB_TOKEN": github.workflow_token(OWNER, REPO),
            "GITHUB_API_URL": github.url or "",
            "GITHUB_STEP_SUMMARY": str(self.summary),
            "GEMINI_API_KEY": GEMINI_KEY,
            "GOOGLE_GEMINI_BASE_URL": gemini_url,
            "GEMINI_RPM": "6000",
            "PYTHONPATH": str(Path(__file__).resolve().parents[1]),  # this tree's bot
        }

    def write_event(self, payload: dict[str, Any]) -> str:
        """The event file, with `payload` in it; its path."""
        Path(self.env["GITHUB_EVENT_PATH"]).write_text(json.dumps(payload))
        return self.env["GITHUB_EVENT_PATH"]

    def run(
        self, payload: dict[str, Any] | None, *args: str, **env: str
    ) -> subprocess.CompletedProcess[str]:
        if payload is not None:
            self.write_event(payload)
        done = subprocess.run(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "bot", "action", *args],
            # This tree's `bot`, whatever the interpreter has installed, from the workspace.
            cwd=self.tmp_path,
            env={**self.env, "PYTHONPATH": str(ROOT), **env},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        print(shown(done))  # pytest shows it when the test fails
        return done


def workflow(tmp_path: Path, fake_github: FakeGitHub, fake_gemini) -> Workflow:
    return Workflow(tmp_path, fake_github, fake_gemini.url)


def ours(fake_github: FakeGitHub, number: int = 7) -> list[dict[str, Any]]:
    """The summary comments of the PR: by github-actions[bot], starting with MARKER."""
    return [
        c
        for c in fake_github.comments(OWNER, REPO, number)
        if c["body"].startswith(MARKER) and c["user"]["login"] == ACTIONS_BOT["login"]
    ]


def memory_of(fake_github: FakeGitHub) -> Memory:
    (comment,) = ours(fake_github)
    memory = decode(comment["body"])
    assert memory is not None, "our comment carries a memory block"
    return memory


async def edit_comment(fake_github: FakeGitHub, comment_id: int, body: str) -> None:
    """Edit a comment through the API, as someone with write access may."""
    token = fake_github.workflow_token(OWNER, REPO)
    async with (
        aiohttp.ClientSession() as http,
        http.patch(
            f"{fake_github.url}/repos/{OWNER}/{REPO}/issues/comments/{comment_id}",
            json={"body": body},
            headers={"Authorization": f"token {token}"},
        ) as answer,
    ):
        assert answer.status == 200, await answer.text()


def shown(done: subprocess.CompletedProcess[str]) -> str:
    return f"exit {done.returncode}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}"


# ------------------------------------------------------------------------------ a first review


def test_an_opened_pull_request_is_reviewed_and_published(tmp_path, fake_github, fake_gemini):
    pull = open_pull(fake_github)
    fake_gemini.findings["security"] = [finding("app.py", line=9, severity="critical")]

    done = workflow(tmp_path, fake_github, fake_gemini).run(event(pull), "--fail-on", "high")

    assert done.returncode == 1, shown(done)  # the job's own check fails: the verdict
    (comment,) = ours(fake_github)
    assert len(fake_github.comments(OWNER, REPO, 7)) == 1
    assert "eval of user input" in comment["body"]
    memory = decode(comment["body"])
    assert memory is not None and memory.head_sha == pull.head_sha
    assert [f.title for f in memory.findings] == ["eval of user input"]
    (review,) = fake_github.reviews(OWNER, REPO, 7)
    assert review["user"]["login"] == ACTIONS_BOT["login"]
    assert [(c["path"], c["line"]) for c in review["comments"]] == [("app.py", 9)]
    assert memory.inline == {memory.findings[0].fingerprint}
    assert fake_github.check_runs(OWNER, REPO) == [], "no check run whose Re-run cannot work"
    assert "::error file=app.py,line=9,endLine=9,title=eval of user input::" in done.stdout
    assert "re-run this job" in comment["body"]
    step = (tmp_path / "step-summary.md").read_text()
    assert "eval of user input" in step


def test_the_apps_summary_comment_is_left_alone(tmp_path, fake_github, fake_gemini):
    pull = open_pull(fake_github)
    app_body = MARKER + "\n## Second Look review\n\nThe App's own summary."
    fake_github.seed_comments(OWNER, REPO, 7, [app_body], login="second-look[bot]", user_type="Bot")
    fake_gemini.findings["security"] = [finding("app.py", line=9)]
    job = workflow(tmp_path, fake_github, fake_gemini)

    assert job.run(event(pull)).returncode == FOUND
    pull.push({"app.py": "# header\n" + NEW_APP})
    fake_gemini.findings["security"] = [finding("app.py", line=10)]
    assert job.run(event(pull, "synchronize")).returncode == FOUND

    bodies = {c["user"]["login"]: c["body"] for c in fake_github.comments(OWNER, REPO, 7)}
    assert bodies["second-look[bot]"] == app_body
    assert memory_of(fake_github).head_sha == pull.head_sha
    assert len(fake_github.review_comments(OWNER, REPO, 7)) == 1, "read its own memory back"


def test_a_finding_below_fail_on_passes_the_check(tmp_path, fake_github, fake_gemini):
    pull = open_pull(fake_github)
    fake_gemini.findings["style"] = [finding("app.py", line=9, severity="low", title="Naming")]

    done = workflow(tmp_path, fake_github, fake_gemini).run(event(pull), "--fail-on", "high")

    assert done.returncode == 0, shown(done)
    assert "::notice file=app.py,line=9,endLine=9,title=Naming::" in done.stdout
    assert "Naming" in ours(fake_github)[0]["body"]


def test_pull_request_target_is_reviewed_as_pull_request(tmp_path, fake_github, fake_gemini):
    pull = open_pull(fake_github)
    fake_gemini.findings["security"] = [finding("app.py", line=9)]
    job = workflow(tmp_path, fake_github, fake_gemini)

    done = job.run(event(pull, fork=True), GITHUB_EVENT_NAME="pull_request_target")

    assert done.returncode == 1, shown(done)  # a high finding, the repository's fail_on
    assert len(ours(fake_github)) == 1
    assert len(fake_github.review_comments(OWNER, REPO, 7)) == 1


# ------------------------------------------------------------------------------ the next run


def test_a_push_is_reviewed_from_the_memory_in_our_comment(tmp_path, fake_github, fake_gemini):
    pull = open_pull(fake_github, files={"app.py": (OLD_APP, NEW_APP), OTHER[0]: OTHER[1]})
    fake_gemini.findings["security"] = [finding("app.py", line=9, title="eval of user input")]
    fake_gemini.findings["bugs"] = [finding("b.py", line=1, severity="medium", title="Unused x")]
    job = workflow(tmp_path, fake_github, fake_gemini)
    first = job.run(event(pull))
    assert first.returncode == FOUND, shown(first)
    (before,) = ours(fake_github)
    assert len(fake_github.review_comments(OWNER, REPO, 7)) == 2

    # app.py changes above the flagged line: the same finding, a line lower.
    old_head = pull.head_sha
    pull.push({"app.py": "# header\n" + NEW_APP})
    fake_gemini.findings["security"] = [finding("app.py", line=10, title="eval of user input")]
    fake_gemini.requests.clear()
    second = job.run(event(pull, "synchronize"))

    assert second.returncode == FOUND, shown(second)
    assert {p for r in fake_gemini.requests for p in r.files} == {"app.py"}
    (after,) = ours(fake_github)
    assert after["id"] == before["id"] and after["body"] != before["body"]
    memory = memory_of(fake_github)
    assert memory.head_sha == pull.head_sha != old_head
    assert sorted(f.title for f in memory.findings) == ["Unused x", "eval of user input"]
    assert "Unused x (line 1, bugs, carried forward)" in after["body"]
    assert "1 finding(s) on unchanged files were carried forward" in after["body"]
    assert len(fake_github.review_comments(OWNER, REPO, 7)) == 2, "no duplicate inline comment"


def test_a_memory_block_in_the_pr_body_is_not_read(tmp_path, fake_github, fake_gemini):
    fake_gemini.findings["security"] = [finding("app.py", line=9)]
    job = workflow(tmp_path, fake_github, fake_gemini)
    # Learn the finding's fingerprint from a review of another PR with the same change.
    scout = open_pull(fake_github, number=8)
    assert job.run(event(scout)).returncode == FOUND
    (comment,) = ours(fake_github, 8)
    learned = decode(comment["body"])
    assert learned is not None and learned.inline
    claim = Memory(scout.head_sha, learned.inline, learned.findings)
    body = with_memory(MARKER + "\nPlease review.", claim)  # starts with MARKER, too
    pull = open_pull(fake_github, number=7, body=body)
    event_file = event(pull)
    assert MARKER in event_file["pull_request"]["body"]

    done = job.run(event_file)

    assert done.returncode == FOUND, shown(done)
    (review,) = fake_github.reviews(OWNER, REPO, 7)
    assert [c["path"] for c in review["comments"]] == ["app.py"]
    assert memory_of(fake_github).head_sha == pull.head_sha


async def test_a_garbled_memory_block_in_our_comment_means_a_full_review(
    tmp_path, fake_github, fake_gemini
):
    pull = open_pull(fake_github, files={"app.py": (OLD_APP, NEW_APP), OTHER[0]: OTHER[1]})
    fake_gemini.findings["security"] = [finding("app.py", line=9)]
    job = workflow(tmp_path, fake_github, fake_gemini)
    assert job.run(event(pull)).returncode == FOUND
    (comment,) = ours(fake_github)
    garbled = "\n".join(
        "<!-- second-look:memory v1 not*base64 -->" if line.startswith("<!-- second-look") else line
        for line in comment["body"].splitlines()
    )
    assert garbled != comment["body"]
    await edit_comment(fake_github, comment["id"], garbled)
    pull.push({"app.py": "# header\n" + NEW_APP})
    fake_gemini.findings["security"] = [finding("app.py", line=10)]
    fake_gemini.requests.clear()

    done = job.run(event(pull, "synchronize"))

    assert done.returncode == FOUND, shown(done)
    assert {p for r in fake_gemini.requests for p in r.files} == {"app.py", "b.py"}
    memory = memory_of(fake_github)
    assert memory.head_sha == pull.head_sha
    assert len(ours(fake_github)) == 1
    # Nothing says the finding was posted, so it is posted again on the new head.
    assert len(fake_github.review_comments(OWNER, REPO, 7)) == 2


async def test_a_push_after_a_partial_review_is_reviewed_in_full(
    tmp_path, fake_github, fake_gemini
):
    pull = open_pull(fake_github, files={"app.py": (OLD_APP, NEW_APP), OTHER[0]: OTHER[1]})
    fake_gemini.findings["security"] = [finding("app.py", line=9)]
    fake_gemini.fail_next(400, times=100, agent="security")
    job = workflow(tmp_path, fake_github, fake_gemini)
    first = job.run(event(pull))
    assert first.returncode == 0, shown(first)  # the other agents found nothing: partial
    assert fake_github.check_runs(OWNER, REPO) == []  # the job's own check carries it
    assert "**security** on part 1" in ours(fake_github)[0]["body"]
    assert memory_of(fake_github).complete is False
    fake_gemini.reset()
    fake_gemini.findings["security"] = [finding("app.py", line=9)]
    pull.push({OTHER[0]: "x = 2\n"})

    second = job.run(event(pull, "synchronize"))

    assert second.returncode == FOUND, shown(second)
    assert {p for r in fake_gemini.requests_of("security") for p in r.files} == {"app.py", "b.py"}
    assert [f.title for f in memory_of(fake_github).findings] == ["eval of user input"]
    assert len(fake_github.review_comments(OWNER, REPO, 7)) == 1


async def test_a_token_that_may_not_publish_is_a_misconfigured_workflow(
    tmp_path, fake_github, fake_gemini
):
    pull = open_pull(fake_github)
    fake_gemini.findings["security"] = [finding("app.py", line=9)]
    job = workflow(tmp_path, fake_github, fake_gemini)
    job.env["GITHUB_TOKEN"] = fake_github.workflow_token(OWNER, REPO, pull_requests=False)

    done = job.run(event(pull))

    assert done.returncode == 2, shown(done)  # the workflow's permissions are the fault
    assert "::error::" in done.stdout and "403" in done.stdout
    assert "`pull-requests: write`" in done.stdout
    assert fake_github.check_runs(OWNER, REPO) == []


@pytest.mark.parametrize("lost", [502, None], ids=["502", "no answer"])
async def test_a_creation_whose_answer_was_lost_is_not_repeated(
    tmp_path, fake_github, fake_gemini, sleep, lost
):
    pull = open_pull(fake_github)
    fake_gemini.findings["security"] = [finding("app.py", line=9)]
    job = workflow(tmp_path, fake_github, fake_gemini)
    path_of_event = job.write_event(event(pull))
    creations = [r"/issues/7/comments$", r"/pulls/7/reviews$"]
    for path in creations:
        fake_github.fail_after("POST", path, lost)
    access, gemini = github_access(job.env, dotenv=None)
    run = action.Run(
        read_event("pull_request", path_of_event),
        access,
        gemini,
        fail_on=None,
        sarif=None,
        step_summary=None,
    )

    # In this process, so that GitHub's retries wait through `sleep`, not for real.
    assert await action.review(run, sleep) == FOUND  # the job's check carries the verdict

    assert len(ours(fake_github)) == 1 and len(fake_github.comments(OWNER, REPO, 7)) == 1
    assert memory_of(fake_github).head_sha == pull.head_sha, "the one comment is this run's"
    (review,) = fake_github.reviews(OWNER, REPO, 7)
    assert fake_github.check_runs(OWNER, REPO) == []
    for path in creations:
        assert len(fake_github.find_requests("POST", path)) == 1


# ------------------------------------------------------------------------------ the job's check


def test_a_token_without_checks_write_is_enough(tmp_path, fake_github, fake_gemini):
    pull = open_pull(fake_github)
    fake_gemini.findings["style"] = [finding("app.py", line=9, severity="low", title="Naming")]
    job = workflow(tmp_path, fake_github, fake_gemini)
    job.env["GITHUB_TOKEN"] = fake_github.workflow_token(OWNER, REPO, checks=False)

    done = job.run(event(pull), "--fail-on", "high")

    assert done.returncode == 0, shown(done)
    assert "::warning::" not in done.stdout and "::error" not in done.stdout
    assert fake_github.check_runs(OWNER, REPO) == []
    body = ours(fake_github)[0]["body"]
    assert "Naming" in body and "re-run this job" in body


def test_annotations_are_one_line_each_and_ten_per_level(tmp_path, fake_github, fake_gemini):
    pull = open_pull(
        fake_github, files={"app.py": ("", "".join(f"x{i} = {i}\n" for i in range(30)))}
    )
    hostile = "a,b::c\n::error::forged %0A"
    fake_gemini.findings["security"] = [
        finding("app.py", line=i, severity="critical", title=f"{hostile} {i}") for i in range(1, 13)
    ]
    fake_gemini.findings["style"] = [finding("app.py", line=20, severity="low", title="Naming")]

    done = workflow(tmp_path, fake_github, fake_gemini).run(event(pull))

    commands = [line for line in done.stdout.splitlines() if line.startswith("::")]
    errors = [line for line in commands if line.startswith("::error ")]
    assert len(errors) == 10  # GitHub shows 10 per step: the rest are in the summary comment
    assert done.returncode == 1, shown(done)  # critical fails it (fail_on), so they are errors
    assert all(line.startswith("::error file=app.py,line=") for line in errors)
    assert not any(line.startswith("::error::forged") for line in commands)
    assert "title=a%2Cb%3A%3Ac %3A%3Aerror%3A%3Aforged %250A 1::" in errors[0]  # one line
    assert any(line.startswith("::notice file=app.py,line=20,") for line in commands)


BROKEN_DIFF = (  # OLD_APP to NEW_APP, its hunk header damaged: no line of it can be read
    "diff --git a/app.py b/app.py\n"
    "index 1111111..2222222 100644\n"
    "--- a/app.py\n"
    "+++ b/app.py\n"
    "@@ --5,0 +6,4 @@\n"
    "+\n"
    "+\n"
    "+def evaluate(user_input):\n"
    "+    return eval(user_input)\n"
)


def test_a_pull_request_whose_diff_does_not_parse_fails_the_job_and_says_why(
    tmp_path, fake_github, fake_gemini
):
    pull = open_pull(fake_github, raw_diff=BROKEN_DIFF)

    done = workflow(tmp_path, fake_github, fake_gemini).run(event(pull), "--fail-on", "low")

    assert done.returncode == 3, shown(done)
    assert (
        "::error::Second Look: the review could not run: the diff could not be parsed: app.py "
        "(a hunk header does not parse: '@@ --5,0 +6,4 @@')"
    ) in done.stdout
    body = ours(fake_github)[0]["body"]
    assert "**The review failed:** the diff could not be parsed" in body
    assert "No findings." not in body
    assert fake_gemini.requests == []
    assert not memory_of(fake_github).complete  # the next run reviews in full


async def test_a_review_no_gemini_call_reached_fails_the_job_and_costs_nothing(
    tmp_path, fake_github, fake_gemini, sleep, waits, capsys
):
    pull = open_pull(fake_github)
    job = workflow(tmp_path, fake_github, fake_gemini)
    path_of_event = job.write_event(event(pull))
    refused = {**job.env, "GOOGLE_GEMINI_BASE_URL": "http://127.0.0.1:9"}  # nothing listens
    access, gemini = github_access(refused, dotenv=None)
    run = action.Run(read_event("pull_request", path_of_event), access, gemini, None, None, None)

    # In this process, so that Gemini's retries wait through `sleep`, not for real.
    assert await action.review(run, sleep) == COULD_NOT_RUN

    assert waits, "the calls were tried again"
    out = capsys.readouterr().out
    assert "::error::Second Look: the review could not run: every agent call failed" in out
    body = ours(fake_github)[0]["body"]
    assert "of them never reached Gemini, 0 input tokens" in body
    assert "estimated cost $0.0000." in body
    assert "Reviewed 0 of 1 files, 0% of changed lines" in body


# ------------------------------------------------------------------------------ not run


def test_a_fork_without_secrets_is_noticed_not_reviewed(tmp_path, fake_github, fake_gemini):
    pull = open_pull(fake_github)
    job = workflow(tmp_path, fake_github, fake_gemini)

    done = job.run(event(pull, fork=True), GEMINI_API_KEY="")

    assert done.returncode == 0, shown(done)
    assert done.stdout.startswith("::notice::") and "fork" in done.stdout
    assert "GEMINI_API_KEY" in done.stdout
    assert fake_github.comments(OWNER, REPO, 7) == []
    assert fake_github.reviews(OWNER, REPO, 7) == []
    assert fake_github.check_runs(OWNER, REPO) == []
    assert fake_gemini.requests == []


def test_a_dependabot_pull_request_without_the_key_is_neutral(tmp_path, fake_github, fake_gemini):
    pull = open_pull(fake_github)  # a branch of the repository itself, not a fork
    job = workflow(tmp_path, fake_github, fake_gemini)

    done = job.run(event(pull), GEMINI_API_KEY="", GITHUB_ACTOR="dependabot[bot]")

    assert done.returncode == 0, shown(done)
    (line,) = done.stdout.splitlines()
    assert line.startswith("::notice::") and "Dependabot secret" in line
    assert "GEMINI_API_KEY is empty" in (tmp_path / "step-summary.md").read_text()
    assert fake_github.comments(OWNER, REPO, 7) == []
    assert fake_gemini.requests == []


def test_no_key_for_any_other_reason_runs_the_analyzers_alone(tmp_path, fake_github, fake_gemini):
    leaky = NEW_APP + 'AWS_ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"\n'
    pull = open_pull(fake_github, files={"app.py": (OLD_APP, leaky)})

    done = workflow(tmp_path, fake_github, fake_gemini).run(event(pull), GEMINI_API_KEY="")

    assert done.returncode == 1, shown(done)  # a leaked key is critical: fail_on's default
    assert done.stdout.startswith("::notice::") and "secrets.GEMINI_API_KEY" in done.stdout
    assert fake_gemini.requests == []
    (comment,) = fake_github.comments(OWNER, REPO, 7)
    body = comment["body"]
    assert "The model part of this review is missing: GEMINI\\_API\\_KEY is empty" in body
    assert "secrets AWSAccessKey" in body
    assert "AKIAIOSFODNN7EXAMPLE" not in body + done.stdout


def test_a_draft_is_not_reviewed(tmp_path, fake_github, fake_gemini):
    pull = open_pull(fake_github, draft=True)

    done = workflow(tmp_path, fake_github, fake_gemini).run(event(pull))

    assert done.returncode == 0, shown(done)
    assert done.stdout.startswith("::notice::") and "draft" in done.stdout
    assert fake_github.comments(OWNER, REPO, 7) == []
    assert fake_github.check_runs(OWNER, REPO) == []
    assert fake_gemini.requests == []


def test_a_push_event_is_a_misconfigured_workflow(tmp_path, fake_github, fake_gemini):
    pull = open_pull(fake_github)

    done = workflow(tmp_path, fake_github, fake_gemini).run(event(pull), GITHUB_EVENT_NAME="push")

    assert done.returncode == 2, shown(done)
    assert done.stdout.startswith("::error::") and "this workflow ran on push" in done.stdout
    assert fake_github.comments(OWNER, REPO, 7) == []


def test_a_missing_token_on_a_pull_request_of_the_repository_is_exit_2(
    tmp_path, fake_github, fake_gemini
):
    pull = open_pull(fake_github)

    done = workflow(tmp_path, fake_github, fake_gemini).run(event(pull), GITHUB_TOKEN="")

    assert done.returncode == 2, shown(done)
    assert done.stdout.startswith("::error::") and "GITHUB_TOKEN" in done.stdout
    assert fake_github.comments(OWNER, REPO, 7) == []
    assert fake_gemini.requests == []


# ------------------------------------------------------------------------------ SARIF


def test_sarif_is_written_and_valid(tmp_path, fake_github, fake_gemini):
    pull = open_pull(fake_github)
    fake_gemini.findings["security"] = [finding("app.py", line=9)]

    done = workflow(tmp_path, fake_github, fake_gemini).run(event(pull), "--sarif", "out.sarif")

    assert done.returncode == FOUND, shown(done)
    sarif = json.loads((tmp_path / "out.sarif").read_text())
    jsonschema.validate(sarif, SCHEMA)
    (result,) = sarif["runs"][0]["results"]
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "app.py"
    assert location["region"]["startLine"] == 9


def test_a_sarif_file_that_cannot_be_written_is_exit_3(tmp_path, fake_github, fake_gemini):
    pull = open_pull(fake_github)
    fake_gemini.findings["security"] = [finding("app.py", line=9)]

    done = workflow(tmp_path, fake_github, fake_gemini).run(
        event(pull), "--sarif", "missing/dir/out.sarif"
    )

    assert done.returncode == 3, shown(done)
    assert "::error::Second Look:" in done.stdout and "Traceback" not in done.stderr
    assert len(ours(fake_github)) == 1, "the review was published before the file failed"
