"""The command line: review one PR now, apply migrations."""

from __future__ import annotations

import asyncio
import subprocess
import sys

from tests.processes import app_env
from tests.reviewing import OWNER, REPO, finding, open_pull


async def cli(settings, tmp_path, *args: str) -> subprocess.CompletedProcess:
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path,
        env=app_env(settings),
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_review_command_reviews_the_current_head(
    settings, pool, fake_github, fake_gemini, tmp_path
):
    pull = open_pull(fake_github)
    fake_gemini.findings["security"] = [finding()]

    result = await cli(settings, tmp_path, "review", f"{OWNER}/{REPO}#7", "--fail-on", "never")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith(": completed")
    (comment,) = fake_github.comments(OWNER, REPO, 7)
    assert pull.head_sha[:12] in comment["body"]
    assert settings.github_private_key.splitlines()[1] not in result.stderr


async def test_review_command_exits_1_on_a_finding_the_repository_fails_on(
    settings, pool, fake_github, fake_gemini, tmp_path
):
    open_pull(fake_github)  # no config file: fail_on is critical
    fake_gemini.findings["security"] = [finding(severity="critical")]

    result = await cli(settings, tmp_path, "review", f"{OWNER}/{REPO}#7")

    assert result.returncode == 1, result.stderr
    assert result.stdout.strip().endswith(": completed")


async def test_review_command_exits_0_below_fail_on(
    settings, pool, fake_github, fake_gemini, tmp_path
):
    open_pull(fake_github)
    fake_gemini.findings["security"] = [finding(severity="medium")]

    result = await cli(settings, tmp_path, "review", f"{OWNER}/{REPO}#7", "--fail-on", "high")

    assert result.returncode == 0, result.stderr


async def test_review_command_refuses_a_malformed_pull_reference(settings, pool, tmp_path):
    result = await cli(settings, tmp_path, "review", "octo/widgets/7")

    assert result.returncode == 2
    assert "expected OWNER/REPO#NUMBER" in result.stderr


async def test_migrate_command_on_a_migrated_database_applies_nothing(settings, pool, tmp_path):
    result = await cli(settings, tmp_path, "migrate")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "applied 0 migration(s)"


async def test_review_command_on_a_repository_without_the_app_says_so(
    settings, pool, fake_github, tmp_path
):
    result = await cli(settings, tmp_path, "review", "someone/elsewhere#1")

    assert result.returncode == 1
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith("second-look: GitHub answered 404 to GET /repos/someone/elsewhere/installation")
    )
