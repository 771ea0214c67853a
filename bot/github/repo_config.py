"""Per-repository settings from `.github/second-look.yml` on the base branch, never the PR head."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Annotated

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from bot.github.files import FileText
from bot.review.agents import SEVERITIES
from bot.review.analyzers.registry import ANALYZERS
from bot.review.prompt import PathRule

log = logging.getLogger(__name__)

CONFIG_PATH = ".github/second-look.yml"
AGENT_NAMES = ("security", "bugs", "performance", "style")
FAIL_ON = ("critical", "high", "medium", "low", "info", "never")
MAX_INSTRUCTIONS = 2000
MAX_CONFIG_BYTES = 64 * 1024
MAX_PATH_RULES = 20


def _agents(value: object) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
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
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) and v for v in value):
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


def _max_tokens(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1_000 <= value <= 10_000_000:
        raise ValueError("must be a whole number of tokens from 1,000 to 10,000,000")
    return value


def _max_usd(value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.01 <= value <= 10_000:
        raise ValueError("must be a number of dollars from 0.01 to 10,000")
    return float(value)


def _path_instructions(value: object) -> tuple[PathRule, ...]:
    if not isinstance(value, list | tuple):
        raise ValueError("must be a list of {path: GLOB, instructions: TEXT}")
    rules = []
    for item in value:
        if (
            not isinstance(item, dict)
            or set(item) != {"path", "instructions"}
            or not isinstance(item["path"], str)
            or not item["path"].strip()
            or not isinstance(item["instructions"], str)
        ):
            raise ValueError("each rule must be {path: GLOB, instructions: TEXT}")
        text = item["instructions"].strip()[:MAX_INSTRUCTIONS]
        rules.append(PathRule(item["path"].strip(), text))
    if len(rules) > MAX_PATH_RULES:
        raise ValueError(f"at most {MAX_PATH_RULES} rules")
    return tuple(rules)


def _confidence(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ValueError("must be a number from 0 to 1")
    return float(value)


def _severity(value: object) -> str:
    if not isinstance(value, str) or value.lower() not in SEVERITIES:
        raise ValueError(f"must be one of {', '.join(SEVERITIES)}")
    return value.lower()


ANALYZER_RULES = 200  # the most rules one analyzer's `ignore` lists


def all_analyzers() -> dict[str, tuple[str, ...]]:
    return {name: () for name in ANALYZERS}


def _analyzers(value: object) -> dict[str, tuple[str, ...]]:
    """`true` (all), `false` (none), or per analyzer: `false`, `true` or `{ignore: [RULE]}`."""
    if isinstance(value, bool):
        return all_analyzers() if value else {}
    if not isinstance(value, dict):
        raise ValueError("must be true, false, or a mapping of analyzer names")
    switched = all_analyzers()
    for name, setting in value.items():
        if name not in ANALYZERS:
            raise ValueError(f"unknown analyzer {name!r} (choose from {', '.join(ANALYZERS)})")
        if setting is False:
            switched.pop(name)
        elif setting is True or setting is None:
            continue
        elif isinstance(setting, dict) and set(setting) <= {"ignore"}:
            rules = setting.get("ignore") or []
            if isinstance(rules, str):
                rules = [rules]
            if (
                not isinstance(rules, list)
                or len(rules) > ANALYZER_RULES
                or not all(isinstance(r, str) and r.strip() for r in rules)
            ):
                raise ValueError(f"{name}: ignore must be a list of rule ids")
            switched[name] = tuple(r.strip() for r in rules)
        else:
            raise ValueError(f"{name}: must be true, false or {{ignore: [RULE, ...]}}")
    return switched


THREAD_ANSWERS = ("writers", "everyone")


def _thread_answers(value: object) -> str:
    if not isinstance(value, str) or value.lower() not in THREAD_ANSWERS:
        raise ValueError(f"must be one of {', '.join(THREAD_ANSWERS)}")
    return value.lower()


def _bool(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


class RepoConfig(BaseModel):
    """What a repository can tune; every key is optional and these are the defaults."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # which agents run
    agents: Annotated[tuple[str, ...], BeforeValidator(_agents)] = AGENT_NAMES
    # globs of paths not to review
    ignore: Annotated[tuple[str, ...], BeforeValidator(_ignore)] = ()
    # the check run fails on a finding this severe ("never": never)
    fail_on: Annotated[str, BeforeValidator(_fail_on)] = "critical"
    # the most severe first; the rest stay in the summary
    max_inline_comments: Annotated[int, BeforeValidator(_max_inline)] = 20
    # added to every agent's prompt (at most 2,000 characters)
    instructions: Annotated[str, BeforeValidator(_instructions)] = ""
    # review draft PRs instead of skipping them
    review_drafts: Annotated[bool, BeforeValidator(_bool)] = False
    # re-review when the title, body or base changes
    rerun_on_edit: Annotated[bool, BeforeValidator(_bool)] = True
    # input tokens one review may spend over all its Gemini calls (None: MAX_REVIEW_TOKENS);
    # at most the deployment's
    max_review_tokens: Annotated[int | None, BeforeValidator(_max_tokens)] = None
    # dollars one review may spend: input, output and thinking (None: MAX_REVIEW_USD); at
    # most the deployment's
    max_review_usd: Annotated[float | None, BeforeValidator(_max_usd)] = None
    # text added only to the chunks that hold a file matching `path` (at most 20 rules)
    path_instructions: Annotated[tuple[PathRule, ...], BeforeValidator(_path_instructions)] = ()
    # one more call per chunk weighs the agents' findings before anything is posted
    verify: Annotated[bool, BeforeValidator(_bool)] = True
    # the summary opens with a walkthrough: one more call per chunk, beside the agents
    walkthrough: Annotated[bool, BeforeValidator(_bool)] = True
    # findings the verification rates below this are withheld: stored and counted, not posted
    min_confidence: Annotated[float, BeforeValidator(_confidence)] = 0.5
    # findings below this severity are in the summary only, not inline
    min_inline_severity: Annotated[str, BeforeValidator(_severity)] = "low"
    # who gets a Gemini answer to a reply in our threads: people with write access, or
    # everyone who can comment (commands and dismissals always need write access)
    thread_answers: Annotated[str, BeforeValidator(_thread_answers)] = "writers"
    # the deterministic analyzers that run, each with the rules it ignores (README, "Analyzers")
    analyzers: Annotated[dict[str, tuple[str, ...]], BeforeValidator(_analyzers)] = Field(
        default_factory=all_analyzers
    )


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


@dataclass(frozen=True)
class Ceilings:
    """The deployment's settings that a repository key may lower and never raise."""

    max_review_tokens: int  # MAX_REVIEW_TOKENS
    max_review_usd: float  # MAX_REVIEW_USD

    def of(self, config: RepoConfig) -> Ceilings:
        """The limits a review of this repository runs under: its own where lower."""
        tokens, usd = config.max_review_tokens, config.max_review_usd
        return Ceilings(
            min(tokens, self.max_review_tokens) if tokens is not None else self.max_review_tokens,
            min(usd, self.max_review_usd) if usd is not None else self.max_review_usd,
        )


# Each repository key with a ceiling: the setting that is its ceiling, how to show a value.
_CEILINGS = {
    "max_review_tokens": ("MAX_REVIEW_TOKENS", "{:,}"),
    "max_review_usd": ("MAX_REVIEW_USD", "${:,.2f}"),
}


def clip(loaded: LoadedConfig, ceilings: Ceilings) -> None:
    """Lower every key above its deployment ceiling to the ceiling, and name it among the
    config's problems (the summary lists them): the operator's numbers are ceilings."""
    clipped: dict[str, object] = {}
    for key, (setting, shown) in _CEILINGS.items():
        value, ceiling = getattr(loaded.config, key), getattr(ceilings, key)
        if value is not None and value > ceiling:
            clipped[key] = ceiling
            loaded.problems.append(
                Problem(
                    key,
                    (
                        f"{shown.format(value)} is above this deployment's {setting} "
                        f"({shown.format(ceiling)}); using {shown.format(ceiling)}"
                    ),
                )
            )
    if clipped:
        loaded.config = loaded.config.model_copy(update=clipped)


def _whole_file(message: str) -> LoadedConfig:
    return LoadedConfig(
        RepoConfig(), [Problem(None, f"{CONFIG_PATH} {message}; using the defaults")]
    )


def parse(text: str) -> LoadedConfig:
    """Read the YAML; a bad key falls back to its default and is named in `problems`."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        return _whole_file("is not valid YAML" + (f" at line {where.line + 1}" if where else ""))
    if data is None:
        return LoadedConfig(RepoConfig())
    if not isinstance(data, dict):
        return _whole_file("must be a mapping of keys to values")
    values = {str(key): value for key, value in data.items()}
    problems: list[Problem] = []
    while True:  # each round drops the keys that failed; known keys fall back to defaults
        try:
            return LoadedConfig(RepoConfig.model_validate(values), problems)
        except ValidationError as exc:
            for error in exc.errors(include_url=False, include_input=False):
                key = str(error["loc"][0])
                if error["type"] == "extra_forbidden":
                    problems.append(Problem(key, "unknown key, ignored"))
                else:
                    message = str(error["msg"]).removeprefix("Value error, ")
                    problems.append(Problem(key, f"{message}; using the default"))
                values.pop(key, None)


def from_file(file: FileText) -> LoadedConfig:
    """The config as read from the base branch: absent means the defaults."""
    if file.problem is not None:
        return _whole_file(f"is {file.problem}")
    if file.text is None:
        return LoadedConfig(RepoConfig())
    if len(file.text.encode()) > MAX_CONFIG_BYTES:
        return _whole_file("is over 64 KiB")
    loaded = parse(file.text)
    for problem in loaded.problems:
        log.info("%s config: %s", file.path, problem)
    return loaded
