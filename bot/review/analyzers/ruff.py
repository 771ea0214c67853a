"""ruff for Python: the repository's ruff configuration from the base branch when it has one,
else DEFAULT_SELECT, a set of correctness rules (README, "Analyzers", says why each)."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from pathlib import Path

import ruff as ruff_package  # type: ignore[import-untyped]

from bot.review.analyzers.base import Hit, Options, Run

NAME = "ruff"
SUFFIXES = (".py", ".pyi")
CONFIG_FILES = ("ruff.toml", ".ruff.toml", "pyproject.toml")  # ruff's order of precedence
DOCS = "https://docs.astral.sh/ruff/rules/{}/"

# Correctness, never style: pyflakes (undefined names, unused imports and variables,
# redefinitions, broken format strings, `is` with a literal) without its style-ish rules,
# syntax errors (E9), bugbear's bug patterns and shell injection.
DEFAULT_SELECT = (
    "F", "E9",
    "B006", "B008", "B012", "B015", "B016", "B017", "B018", "B020", "B023", "B025", "B033",
    "S602", "S604", "S605",
)  # fmt: skip
DEFAULT_IGNORE = ("F403", "F405", "F541")  # star imports, an f-string without a placeholder

# Severity by rule: the first prefix that matches; README's table.
SEVERITY = (
    ("F821", "high"),  # undefined name: a NameError when the line runs
    ("F822", "high"),
    ("F823", "high"),
    ("E9", "high"),  # the file does not parse
    ("invalid-syntax", "high"),  # how ruff names a syntax error now
    ("F63", "high"),  # comparisons that are always true or false
    ("F7", "high"),  # return/yield/break outside of where they may be
    ("S6", "high"),  # a shell command built from data
    ("B", "medium"),
    ("F401", "low"),  # an unused import (a typo hides behind one)
    ("F841", "low"),  # an unused variable
    ("F", "medium"),
)


def severity(code: str) -> str:
    return next((level for prefix, level in SEVERITY if code.startswith(prefix)), "medium")


def default_config(ignore: frozenset[str]) -> str:
    listed = ", ".join(json.dumps(code) for code in DEFAULT_SELECT)
    ignored = ", ".join(json.dumps(code) for code in sorted(set(DEFAULT_IGNORE) | ignore))
    return f"[lint]\nselect = [{listed}]\nignore = [{ignored}]\n"


def usable(name: str, text: str) -> bool:
    """A repository's ruff config we may use: it parses, configures ruff, and extends nothing
    (an `extend` path would name a file outside the directory the tool sees)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return False
    if name == "pyproject.toml":
        data = data.get("tool", {}).get("ruff")
        if not isinstance(data, dict):
            return False
    return "extend" not in data


class Ruff:
    name = NAME
    added_only = False  # a name is undefined, an import unused, by the rest of the file

    def takes(self, path: str) -> bool:
        return path.endswith(SUFFIXES)

    def command(self, texts: Mapping[str, str], options: Options) -> Run:
        files = {f"src/{path}": text for path, text in texts.items()}
        if options.config is not None and usable(*options.config):
            config_name, config_text = options.config
        else:
            config_name, config_text = "ruff.toml", default_config(options.ignore)
        files[config_name] = config_text
        argv = [ruff_package.find_ruff_bin(), "check", "--no-cache", "--no-fix", "--exit-zero",
                "--output-format", "json", "--config", config_name]  # fmt: skip
        argv += [f"--extend-ignore={code}" for code in sorted(options.ignore)]
        return Run(tuple([*argv, "--", *(f"src/{path}" for path in texts)]), files)

    def hits(self, stdout: str, root: Path) -> list[Hit]:
        out = []
        for item in json.loads(stdout or "[]"):
            code = item.get("code") or "E999"  # a syntax error has no code
            path = Path(item["filename"]).resolve().relative_to(root / "src").as_posix()
            out.append(
                Hit(
                    path=path,
                    line=int(item["location"]["row"]),
                    rule=code,
                    message=str(item.get("message", "")),
                    severity=severity(code),
                    docs=item.get("url") or None,
                )
            )
        return out
