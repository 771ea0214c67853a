"""Per-repo config: read from the base branch, bad keys named, defaults otherwise."""

from __future__ import annotations

import pytest

from bot.github import repo_config
from bot.github.repo_config import AGENT_NAMES, RepoConfig, parse
from tests.reviewing import OWNER, REPO, finding, open_pull, run_review

CONFIG = ".github/second-look.yml"


def test_empty_file_means_defaults():
    loaded = parse("")

    assert loaded.config == RepoConfig()
    assert loaded.problems == []


def test_every_key_is_read():
    loaded = parse(
        "agents: [security, bugs]\n"
        "ignore: ['docs/**', '*.md']\n"
        "fail_on: high\n"
        "max_inline_comments: 5\n"
        "instructions: Prefer pathlib.\n"
        "review_drafts: true\n"
        "rerun_on_edit: false\n"
    )

    assert loaded.problems == []
    assert loaded.config == RepoConfig(
        agents=("security", "bugs"),
        ignore=("docs/**", "*.md"),
        fail_on="high",
        max_inline_comments=5,
        instructions="Prefer pathlib.",
        review_drafts=True,
        rerun_on_edit=False,
    )


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("agents: [security, linter]\n", "agents"),
        ("fail_on: sometimes\n", "fail_on"),
        ("max_inline_comments: lots\n", "max_inline_comments"),
        ("review_drafts: maybe\n", "review_drafts"),
        ("colour: blue\n", "colour"),
    ],
)
def test_bad_key_is_named_and_falls_back_to_its_default(text, key):
    loaded = parse("max_inline_comments: 3\n" + text if key != "max_inline_comments" else text)

    assert len(loaded.problems) == 1
    assert loaded.problems[0].key == key
    expected = 3 if key != "max_inline_comments" else RepoConfig().max_inline_comments
    assert loaded.config.max_inline_comments == expected


def test_instructions_are_capped():
    assert len(parse("instructions: " + "x" * 5000).config.instructions) == 2000


async def test_disabled_agent_is_never_called(services, fake_github, fake_gemini):
    pull = open_pull(fake_github)
    fake_github.set_content(OWNER, REPO, "main", CONFIG, "agents: [security, bugs]\n")

    review = await run_review(services, pull)

    assert review.status == "completed"
    assert {r.agent for r in fake_gemini.requests} == {"security", "bugs", "walkthrough"}


async def test_broken_yaml_is_named_and_the_review_completes(services, fake_github, fake_gemini):
    pull = open_pull(fake_github)
    fake_github.set_content(OWNER, REPO, "main", CONFIG, "agents: [security\nfail_on: high\n")

    review = await run_review(services, pull)

    assert review.status == "completed"
    (check_run,) = fake_github.check_runs(OWNER, REPO, pull.head_sha)
    assert f"{CONFIG} is not valid YAML" in check_run["output"]["summary"]
    assert {r.agent for r in fake_gemini.requests} - {"walkthrough"} == set(AGENT_NAMES)


async def test_config_on_the_pr_head_has_no_effect(services, fake_github, fake_gemini):
    pull = open_pull(fake_github)
    fake_github.set_content(OWNER, REPO, pull.head_ref, CONFIG, "agents: [style]\nfail_on: never\n")
    fake_github.set_content(OWNER, REPO, pull.head_sha, CONFIG, "agents: [style]\n")
    fake_gemini.findings["security"] = [finding(severity="critical")]

    await run_review(services, pull)

    assert {r.agent for r in fake_gemini.requests} - {"verifier", "walkthrough"} == set(AGENT_NAMES)
    (check_run,) = fake_github.check_runs(OWNER, REPO, pull.head_sha)
    assert check_run["conclusion"] == "failure"
    [query] = [
        q
        for q in fake_github.find_requests("POST", r"/graphql")
        if "pullRequest" in q.body.decode()
    ]
    read = [v for k, v in query.json["variables"].items() if k.startswith("e")]
    assert f"main:{CONFIG}" in read and all(e.startswith("main:") for e in read)


async def test_fail_on_high_fails_the_check_for_a_high_finding(services, fake_github, fake_gemini):
    pull = open_pull(fake_github)
    fake_github.set_content(OWNER, REPO, "main", CONFIG, "fail_on: high\n")
    fake_gemini.findings["bugs"] = [finding(severity="high", title="Wrong index")]

    await run_review(services, pull)

    (check_run,) = fake_github.check_runs(OWNER, REPO, pull.head_sha)
    assert check_run["conclusion"] == "failure"


async def test_unknown_key_is_named_in_the_check_summary(services, fake_github, fake_gemini):
    pull = open_pull(fake_github)
    fake_github.set_content(OWNER, REPO, "main", CONFIG, "colour: blue\nfail_on: never\n")
    fake_gemini.findings["security"] = [finding(severity="critical")]

    await run_review(services, pull)

    (check_run,) = fake_github.check_runs(OWNER, REPO, pull.head_sha)
    assert "Config `colour`: unknown key" in check_run["output"]["summary"]
    assert check_run["conclusion"] == "success", "fail_on: never still applies"


async def test_ignored_paths_are_listed_as_skipped(services, fake_github, fake_gemini):
    files = {"docs/guide.md": ("a\n", "b\n"), "app.py": ("x = 1\n", "x = 2\n")}
    pull = open_pull(fake_github, files=files)
    fake_github.set_content(OWNER, REPO, "main", CONFIG, "ignore: ['docs/*']\n")

    await run_review(services, pull)

    assert {p for r in fake_gemini.requests for p in r.files} == {"app.py"}
    summary = fake_github.comments(OWNER, REPO, 7)[0]["body"]
    listed = summary[summary.index("not reviewed") :]
    assert "ignored by config (docs/\\*)" in listed and "`docs/guide.md`" in listed


DEPLOYMENT = repo_config.Ceilings(max_review_tokens=400_000, max_review_usd=0.50)


def test_a_repository_may_lower_the_deployments_limits():
    loaded = repo_config.parse("max_review_tokens: 50000\nmax_review_usd: 0.1\n")

    repo_config.clip(loaded, DEPLOYMENT)

    assert loaded.problems == []
    assert DEPLOYMENT.of(loaded.config) == repo_config.Ceilings(50_000, 0.1)
    assert DEPLOYMENT.of(repo_config.RepoConfig()) == DEPLOYMENT  # unset: the deployment's


def test_a_value_above_the_deployments_ceiling_is_clipped_and_named():
    loaded = repo_config.parse("max_review_tokens: 10000000\nmax_review_usd: 25\n")

    repo_config.clip(loaded, DEPLOYMENT)

    assert (loaded.config.max_review_tokens, loaded.config.max_review_usd) == (400_000, 0.5)
    assert [str(p) for p in loaded.problems] == [
        "max_review_tokens: 10,000,000 is above this deployment's MAX_REVIEW_TOKENS (400,000);"
        " using 400,000",
        "max_review_usd: $25.00 is above this deployment's MAX_REVIEW_USD ($0.50); using $0.50",
    ]


def test_max_review_usd_must_be_dollars():
    loaded = repo_config.parse("max_review_usd: lots\n")

    assert loaded.config.max_review_usd is None
    assert [p.key for p in loaded.problems] == ["max_review_usd"]
