"""`python -m bot review --diff FILE|- | --git BASE[..HEAD] | OWNER/REPO#N --dry-run`: a review
printed, nothing published, no database. Exit codes: 0 clean, 1 a finding at or above
--fail-on, 2 a usage or configuration error, 3 the review could not run."""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import re
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import aiohttp
import gidgethub

from bot.config import ConfigError, GeminiSettings, GitHubAccess, gemini_settings, github_access
from bot.errors import describe
from bot.github import publish, sources
from bot.github.client import GitHubClient
from bot.logs import setup_logging
from bot.output import Report, render
from bot.output.text import one_line
from bot.pull import Pull
from bot.retry import Sleep
from bot.review.changes import path_from_header, split_sections
from bot.review.prompt import Intent
from bot.standalone import git, local, local_sources
from bot.standalone.progress import Progress

PULL = re.compile(r"([\w.-]+)/([\w.-]+)#(\d+)")
MAX_INTENT_CHARS = 4000  # of the commit subjects a --git review tells the agents


class UsageError(Exception):
    """The command line or its input is wrong: exit 2 with this one line."""


class CouldNotRun(Exception):
    """The review could not run on this input (an empty diff): exit 3 with this one line."""


@dataclass
class Target:
    """What to review, read: the changes, the base's config and guidance, how to name it."""

    source: local_sources.DiffSource | sources.PullSource
    base: sources.Base
    head_sha: str
    label: str


NO_MODEL = "--no-model was given"


def parse_pull(text: str) -> tuple[str, str, int] | None:
    """`OWNER/REPO#N` to its parts, or None."""
    match = PULL.fullmatch(text)
    return (match.group(1), match.group(2), int(match.group(3))) if match else None


def run(args: argparse.Namespace) -> int:
    """The `review` command without the App: --diff, --git, or a PR with --dry-run."""
    access: GitHubAccess | None = None
    try:
        model = not args.no_model
        if args.pull:
            access, settings = github_access(model=model)
        else:
            settings = gemini_settings(model=model)
    except ConfigError as exc:
        print(f"second-look: configuration error: {exc}", file=sys.stderr)
        return local.USAGE
    secrets = [settings.api_key, *((access.token, access.private_key) if access else ())]
    setup_logging(secrets, level="WARNING")
    try:
        return asyncio.run(_review(args, settings, access))
    except (UsageError, git.GitError) as exc:
        print(f"second-look: {exc}", file=sys.stderr)
        return local.USAGE
    except CouldNotRun as exc:
        print(f"second-look: {exc}", file=sys.stderr)
        return local.COULD_NOT_RUN
    except gidgethub.GitHubException as exc:
        print(f"second-look: {describe(exc)}", file=sys.stderr)
        status = getattr(exc, "status_code", 500)
        return local.USAGE if int(status) < 500 else local.COULD_NOT_RUN


async def _review(
    args: argparse.Namespace, settings: GeminiSettings, access: GitHubAccess | None
) -> int:
    if access is not None:
        async with aiohttp.ClientSession() as http:
            target = await pull_target(http, access, args.pull)
            return await review_target(args, target, settings)
    target = await (git_target(args.git) if args.git else diff_target(args.diff))
    return await review_target(args, target, settings)


async def review_target(
    args: argparse.Namespace,
    target: Target,
    settings: GeminiSettings,
    *,
    sleep: Sleep = asyncio.sleep,
) -> int:
    """Review `target`, print the report in `args.format` (and, when the review failed, why
    on standard error); the exit status. `sleep` waits between Gemini's retries."""
    progress = Progress(sys.stderr, f"reviewing {target.label}", enabled=sys.stderr.isatty())
    dry_run = isinstance(target.source, sources.PullSource)  # what the App would post
    async with progress:
        reviewed = await local.review(
            target.source,
            target.base,
            settings,
            target.head_sha,
            label=target.label,
            on_call=progress.call_done,
            fail_on=args.fail_on,  # the repository's, unless given
            verdict_by="the check" if dry_run else "the run",
            sleep=sleep,
            without_model=NO_MODEL if getattr(args, "no_model", False) else None,
        )
    summary = reviewed.summary
    if dry_run:
        chosen = publish.chosen_inline(summary.findings, target.base.config.config)
        summary = replace(summary, inline=len(chosen))
    color = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    report = Report(summary, reviewed.diff, target.label)
    sys.stdout.write(render(report, args.format, color=color).rstrip("\n") + "\n")
    if summary.status == "failed":
        print(
            f"second-look: the review could not run: {one_line(summary.error or '')}",
            file=sys.stderr,
        )
    return local.exit_code_of(summary)


async def diff_target(path: str) -> Target:
    """A unified diff from a file or standard input; config, guidance and context from the
    working tree (the current directory), when it has them."""
    text = _read_diff(path)
    root = Path.cwd()
    base = await local_sources.read_base(
        local_sources.tree_reader(root, sources.MAX_BASE_FILE_BYTES), Intent()
    )
    heads = local_sources.tree_reader(root, sources.MAX_HEAD_FILE_BYTES)
    label = "the diff from standard input" if path == "-" else path
    digest = hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()
    return Target(local_sources.DiffSource(text, heads), base, digest, label)


def _read_diff(path: str) -> str:
    try:
        data = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read the diff {path}: {exc.strerror}") from None
    text = data.decode("utf-8", "replace")
    name = "standard input" if path == "-" else path
    if not text.strip():
        raise CouldNotRun(f"the diff is empty: {name} holds nothing")
    if "diff --git " not in text:
        raise UsageError(
            f"{name} is not a unified diff from git "
            "(no 'diff --git' line): make it with git diff, or use --git BASE"
        )
    if any(
        s.startswith("diff --git ") and path_from_header(s) is None for s in split_sections(text)
    ):
        raise UsageError(
            f"{name} names its files without the a/ and b/ prefixes (git diff --no-prefix, "
            "diff.noprefix or diff.mnemonicPrefix): make it with "
            "git diff --src-prefix=a/ --dst-prefix=b/, or use --git BASE"
        )
    return text


async def git_target(spec: str) -> Target:
    """The merge base of BASE and HEAD (or the given head) to that head, in this repository;
    config and guidance from the merge base, context from the head commit."""
    here = Path.cwd()
    root = Path((await git.run(here, "rev-parse", "--show-toplevel")).decode().strip())
    span = await git.resolve(root, spec)
    text = await git.diff(root, span)
    subjects = "\n".join(f"- {s}" for s in await git.subjects(root, span))[:MAX_INTENT_CHARS]
    intent = Intent(f"{span.base}..{span.head[:12]}", subjects, span.base)
    base = await local_sources.read_base(
        local_sources.commit_reader(root, span.merge_base, sources.MAX_BASE_FILE_BYTES), intent
    )
    heads = local_sources.commit_reader(root, span.head, sources.MAX_HEAD_FILE_BYTES)
    label = f"{span.base}...{span.head[:12]}"
    return Target(local_sources.DiffSource(text, heads), base, span.head, label)


async def pull_target(http: aiohttp.ClientSession, access: GitHubAccess, pull: str) -> Target:
    """A PR on GitHub, read with GITHUB_TOKEN or as the App."""
    parsed = parse_pull(pull)
    if parsed is None:
        raise UsageError(f"expected OWNER/REPO#NUMBER, got {pull!r}")
    owner, repo, number = parsed
    if access.token:
        github = GitHubClient.with_token(http, api_url=access.api_url, token=access.token)
        installation_id = 0  # the token's
    else:
        github = GitHubClient(
            http, api_url=access.api_url, app_id=access.app_id, private_key=access.private_key
        )
        installation_id = await github.installation_for(owner, repo)
    target = Pull(installation_id, owner, repo, number)
    gh = await github.api(installation_id)
    pr = await gh.getitem(f"/repos/{owner}/{repo}/pulls/{number}")
    head_sha, base_ref = pr["head"]["sha"], pr["base"]["ref"]
    base = await sources.read_base(github, target, base_ref)
    source = sources.PullSource(github, target, head_sha, access.max_diff_file_bytes)
    return Target(source, base, head_sha, str(target))
