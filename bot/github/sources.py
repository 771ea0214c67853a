"""What a review reads of the repository besides the diff, in as few calls as GitHub allows:
before the diff, the PR's intent and the base branch's config, attributes and guidance (one
query); after it, the head text of the files the review reads, for their context."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import gidgethub

from bot.errors import describe
from bot.github import files, repo_config
from bot.github.client import GitHubClient
from bot.github.diff import fetch_diff
from bot.pull import Pull, Repo
from bot.review.analyzers import ruff
from bot.review.changes import ChangedFile, Diff
from bot.review.chunks import FileContext, context_of
from bot.review.prompt import GUIDANCE_FILES, Guidance, Intent
from bot.review.selection import Selection

log = logging.getLogger(__name__)

ATTRIBUTES = ".gitattributes"
# The analyzers' own configuration on the base branch (read as text, never executed).
ANALYZER_CONFIGS = {ruff.NAME: ruff.CONFIG_FILES}
BASE_FILES = (
    repo_config.CONFIG_PATH,
    ATTRIBUTES,
    *GUIDANCE_FILES,
    *(path for paths in ANALYZER_CONFIGS.values() for path in paths),
)
MAX_HEAD_FILE_BYTES = 1_000_000  # a larger file gets no context
MAX_BASE_FILE_BYTES = 256 * 1024  # a longer guidance file is cut (to 8,000 characters) anyway


@dataclass
class Base:
    """The base branch's side of a review, and the PR's intent."""

    config: repo_config.LoadedConfig
    attributes: str = ""
    guidance: Guidance = field(default_factory=Guidance)
    intent: Intent = field(default_factory=Intent)
    # analyzer -> (file name, text) of its configuration on the base branch
    analyzer_configs: dict[str, tuple[str, str]] = field(default_factory=dict)


async def read_base(github: GitHubClient, pull: Pull, base_ref: str) -> Base:
    """Config, .gitattributes, the guidance file and the PR's title and body: one query."""
    read = await files.read(
        github,
        pull.repository,
        [(base_ref, path) for path in BASE_FILES],
        pull=pull.number,
        max_file_bytes=MAX_BASE_FILE_BYTES,
    )
    if read.fallback:
        log.info("%s: read through the contents API: %s", pull, read.fallback)
    got = {path: read.files[(base_ref, path)] for path in BASE_FILES}
    intent = Intent(base_ref=base_ref)
    if read.pull:
        intent = Intent(read.pull.title, read.pull.body, read.pull.base_ref)
    return base_of(got, intent, pull.full_name)


async def read_config(
    github: GitHubClient, repository: Repo, base_ref: str
) -> repo_config.LoadedConfig:
    """The repository's config alone, from the base branch."""
    path = repo_config.CONFIG_PATH
    wanted = [(base_ref, path)]
    read = await files.read(github, repository, wanted, max_file_bytes=MAX_BASE_FILE_BYTES)
    return repo_config.from_file(read.files[(base_ref, path)])


def base_of(got: Mapping[str, files.FileText], intent: Intent, where: str = "") -> Base:
    """The Base from the text of BASE_FILES as read (from GitHub, git or the working tree)."""
    config = repo_config.from_file(got[repo_config.CONFIG_PATH])
    attributes = got[ATTRIBUTES]
    if attributes.problem:
        log.info("%s: %s is %s; ignored", where or "the base", ATTRIBUTES, attributes.problem)
    for path in GUIDANCE_FILES:
        if got[path].problem:
            config.problems.append(
                repo_config.Problem(None, f"{path} is {got[path].problem}; not read")
            )
    source = next((path for path in GUIDANCE_FILES if got[path].text), None)
    text = (got[source].text or "") if source else ""
    settings = config.config
    guidance = Guidance.of(source, text, settings.instructions, settings.path_instructions)
    return Base(config, attributes.text or "", guidance, intent, analyzer_configs(got))


def analyzer_configs(got: Mapping[str, files.FileText]) -> dict[str, tuple[str, str]]:
    """Each analyzer's configuration file: the first of its names that configures it."""
    found: dict[str, tuple[str, str]] = {}
    for name, paths in ANALYZER_CONFIGS.items():
        for path in paths:
            text = got[path].text if path in got else None
            if text is not None and (path != "pyproject.toml" or "[tool.ruff" in text):
                found[name] = (path, text)
                break
    return found


@dataclass
class PullSource:
    """A pull request's diff and head files on GitHub: the App's source, and the Action's."""

    github: GitHubClient
    pull: Pull
    head_sha: str
    max_file_bytes: int

    async def diff(self, selection: Selection) -> None:
        await fetch_diff(
            self.github, self.pull, selection=selection, max_file_bytes=self.max_file_bytes
        )

    async def heads(self, diff: Diff, paths: Sequence[str]) -> Mapping[str, FileContext]:
        return await read_heads(self.github, self.pull.repository, self.head_sha, diff, paths)


async def read_heads(
    github: GitHubClient, repository: Repo, head_sha: str, diff: Diff, paths: Iterable[str]
) -> Mapping[str, FileContext]:
    """The context of each file the review reads, from its text at the head: one query.

    An added file needs none (the diff holds all of it); a file GitHub cannot give, or whose
    text does not match the diff, gets none.
    """
    wanted = needing_context(diff, paths)
    if not wanted:
        return {}
    keys = [(head_sha, c.path) for c in wanted]
    try:
        read = await files.read(github, repository, keys, max_file_bytes=MAX_HEAD_FILE_BYTES)
    except gidgethub.GitHubException as exc:  # context helps; the review goes on without
        log.warning("%s: no context, the head files were not read: %s", repository, describe(exc))
        return {}
    if read.fallback:
        log.info("%s: head files read through the contents API: %s", repository, read.fallback)
    texts = {c.path: read.files[(head_sha, c.path)].text for c in wanted}
    return await contexts(wanted, texts)


def needing_context(diff: Diff, paths: Iterable[str]) -> list[ChangedFile]:
    """The files read whose head text gives context: an added file needs none."""
    return [changed for path in paths if (changed := diff.file(path)) and changed.status != "added"]


async def contexts(
    wanted: Sequence[ChangedFile], texts: Mapping[str, str | None]
) -> dict[str, FileContext]:
    """Each file's context from its head text (none when the text does not match the diff).
    Parsing is CPU work: in a thread, so that webhooks are answered meanwhile."""
    return await asyncio.to_thread(_contexts, wanted, texts)


def _contexts(
    wanted: Sequence[ChangedFile], texts: Mapping[str, str | None]
) -> dict[str, FileContext]:
    heads: dict[str, FileContext] = {}
    for changed in wanted:
        text = texts[changed.path]
        context = context_of(changed, text) if text is not None else None
        if context is not None:
            heads[changed.path] = context
    return heads
