"""Per-repository settings from `.github/second-look.yml` on the base branch, never the PR head."""

from __future__ import annotations

import base64
import binascii
import logging
from dataclasses import dataclass, field, fields

import yaml

from bot.github.client import GitHubError, RetryingGitHubAPI

log = logging.getLogger(__name__)

CONFIG_PATH = ".github/second-look.yml"
AGENT_NAMES = ("security", "bugs", "performance", "style")
FAIL_ON = ("critical", "high", "medium", "low", "info", "never")
MAX_INSTRUCTIONS = 2000
MAX_CONFIG_BYTES = 64 * 1024


@dataclass(frozen=True)
class RepoConfig:
    """What a repository can tune; every key is optional and these are the defaults."""

    agents: tuple[str, ...] = AGENT_NAMES  # which agents run
    ignore: tuple[str, ...] = ()  # globs of paths not to review
    fail_on: str = "critical"  # the check run fails on a finding this severe ("never": never)
    max_inline_comments: int = 20  # the most severe first; the rest stay in the summary
    instructions: str = ""  # added to every agent's prompt (at most 2,000 characters)
    review_drafts: bool = False  # review draft PRs instead of skipping them
    rerun_on_edit: bool = True  # re-review when the title, body or base changes


@dataclass(frozen=True)
class Problem:
    """A bad key (None: the whole file) and what is wrong with it, for the summary."""

    key: str | None
    message: str

    def __str__(self) -> str:
        return f"{self.key}: {self.message}" if self.key is not None else self.message


@dataclass
class LoadedConfig:
    config: RepoConfig
    problems: list[Problem] = field(default_factory=list)


def parse(text: str) -> LoadedConfig:
    """Read the YAML; a bad key falls back to its default and is named in `problems`."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" at line {where.line + 1}" if where is not None else ""
        return LoadedConfig(
            RepoConfig(),
            [Problem(None, f"{CONFIG_PATH} is not valid YAML{line}; using the defaults")],
        )
    if data is None:
        return LoadedConfig(RepoConfig())
    if not isinstance(data, dict):
        return LoadedConfig(
            RepoConfig(),
            [
                Problem(
                    None, f"{CONFIG_PATH} must be a mapping of keys to values; using the defaults"
                )
            ],
        )
    values: dict[str, object] = {}
    problems: list[Problem] = []
    known = {f.name for f in fields(RepoConfig)}
    for key, value in data.items():
        if key not in known:
            problems.append(Problem(str(key), "unknown key, ignored"))
            continue
        try:
            values[key] = _CHECKS[key](value)
        except ValueError as exc:
            problems.append(Problem(str(key), f"{exc}; using the default"))
    return LoadedConfig(RepoConfig(**values), problems)


def _agents(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError("must be a list of agent names")
    unknown = [v for v in value if v not in AGENT_NAMES]
    if unknown:
        raise ValueError(
            f"unknown agent(s) {', '.join(unknown)} (choose from {', '.join(AGENT_NAMES)})"
        )
    return tuple(dict.fromkeys(value))


def _ignore(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ValueError("must be a list of glob patterns")
    return tuple(value)


def _fail_on(value: object) -> str:
    if value is False or value is None:
        return "never"
    if not isinstance(value, str) or value.lower() not in FAIL_ON:
        raise ValueError(f"must be one of {', '.join(FAIL_ON)}")
    return value.lower()


def _max_inline(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        raise ValueError("must be a whole number from 0 to 100")
    return value


def _instructions(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError("must be text")
    return value.strip()[:MAX_INSTRUCTIONS]


def _bool(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


_CHECKS = {
    "agents": _agents,
    "ignore": _ignore,
    "fail_on": _fail_on,
    "max_inline_comments": _max_inline,
    "instructions": _instructions,
    "review_drafts": _bool,
    "rerun_on_edit": _bool,
}


async def load(gh: RetryingGitHubAPI, owner: str, repo: str, base_ref: str) -> LoadedConfig:
    """The config at the head of the base branch; a missing file means the defaults."""
    try:
        answer = await gh.getitem(
            "/repos/{owner}/{repo}/contents/{+path}{?ref}",
            url_vars={"owner": owner, "repo": repo, "path": CONFIG_PATH, "ref": base_ref},
        )
    except GitHubError as exc:
        if exc.status == 404:
            return LoadedConfig(RepoConfig())
        raise
    if not isinstance(answer, dict) or answer.get("type") != "file":
        return LoadedConfig(
            RepoConfig(), [Problem(None, f"{CONFIG_PATH} is not a file; using the defaults")]
        )
    if int(answer.get("size") or 0) > MAX_CONFIG_BYTES:
        return LoadedConfig(
            RepoConfig(), [Problem(None, f"{CONFIG_PATH} is over 64 KiB; using the defaults")]
        )
    try:
        text = base64.b64decode(answer.get("content") or "").decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return LoadedConfig(
            RepoConfig(), [Problem(None, f"{CONFIG_PATH} is not UTF-8 text; using the defaults")]
        )
    loaded = parse(text)
    for problem in loaded.problems:
        log.info("%s/%s config: %s", owner, repo, problem)
    return loaded
