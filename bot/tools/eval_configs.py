"""A configuration that `eval` reviews under: the model and its thinking budget (the settings'),
and what a repository's `.github/second-look.yml` can set (agents, verify, min_confidence, ...).

`eval --compare A.yml B.yml` reads one from each file; a plain `eval` runs the default one (the
settings' model, a repository without a config file). Every key is optional; an unknown or bad
key is an error naming the file and the key (not a fallback, as in a repository: a comparison
must run what its file says).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from bot.config import GeminiSettings
from bot.github.repo_config import RepoConfig
from bot.review.thinking import MAX_BUDGET
from bot.tools.eval_cases import EvalError

SETTINGS_KEYS = ("model", "thinking_budget")
# The analyzers are measured apart (bench_analyzers): the labels are the agents' to find.
NOT_HERE = ("analyzers",)
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
DEFAULTS = RepoConfig()


@dataclass(frozen=True)
class Configuration:
    name: str  # names its results file and its side of a comparison
    config: RepoConfig = DEFAULTS
    model: str | None = None  # None: the settings' (GEMINI_MODEL)
    thinking_budget: int | None = None  # None: the settings' (GEMINI_THINKING_BUDGET)

    def review_config(self) -> RepoConfig:
        """The repository config the cases are reviewed under: the agents alone."""
        return self.config.model_copy(update={"analyzers": {}})

    def settings(self, settings: GeminiSettings) -> GeminiSettings:
        """`settings` with this configuration's model and thinking budget."""
        changes: dict[str, Any] = {}
        if self.model is not None:
            changes["model"] = self.model
        if self.thinking_budget is not None:
            changes["thinking_budget"] = self.thinking_budget
        return dataclasses.replace(settings, **changes)


def read_configuration(path: Path) -> Configuration:
    """The configuration in a YAML file, named after the file (`flash.yml`: flash)."""
    name = path.name.removesuffix(".yml").removesuffix(".yaml")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise EvalError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    return parse_configuration(text, name, str(path))


def parse_configuration(text: str, name: str, where: str) -> Configuration:
    if not NAME.match(name):
        raise EvalError(f"{where}: the file's name must be letters, digits, '-', '_' or '.'")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise EvalError(
            f"{where}: not valid YAML" + (f" at line {mark.line + 1}" if mark else "")
        ) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise EvalError(f"{where}: must be a mapping of keys to values")
    values = {str(key): value for key, value in data.items()}
    model = values.pop("model", None)
    if model is not None and (not isinstance(model, str) or not NAME.match(model)):
        raise EvalError(f"{where}: 'model' must be a model's name, such as gemini-2.5-flash")
    budget = values.pop("thinking_budget", None)
    if budget is not None and (
        isinstance(budget, bool) or not isinstance(budget, int) or not 0 <= budget <= MAX_BUDGET
    ):
        raise EvalError(
            f"{where}: 'thinking_budget' must be a whole number of tokens, 0 to {MAX_BUDGET:,}"
        )
    for key in NOT_HERE:
        if key in values:
            raise EvalError(f"{where}: {key!r}: eval measures the agents with the analyzers off")
    try:
        config = RepoConfig.model_validate(values)
    except ValidationError as exc:
        error = exc.errors(include_url=False, include_input=False)[0]
        key = str(error["loc"][0]) if error["loc"] else "?"
        if error["type"] == "extra_forbidden":
            known = sorted({*SETTINGS_KEYS, *RepoConfig.model_fields} - set(NOT_HERE))
            raise EvalError(
                f"{where}: {key!r} is not a key; the keys are {', '.join(known)}"
            ) from None
        message = str(error["msg"]).removeprefix("Value error, ")
        raise EvalError(f"{where}: {key!r}: {message}") from None
    return Configuration(name, config, model, budget)
