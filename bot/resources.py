"""The files shipped inside the package (package data), read through importlib.resources so
that a wheel installed anywhere has them: the migrations, the App's registration (app.yml),
the dashboard's templates and static files, the labelled evaluation set and the public
benchmark's golden comments.

setup.cfg's `package_data` lists the same files; tests/test_package.py installs the wheel into a
fresh environment and runs `migrate` and `serve` from it.
"""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path


def migrations() -> Traversable:
    """The folder of NNNN_name.sql files, applied in order by store/db.migrate."""
    return files("bot.store") / "migrations"


def app_yml() -> Traversable:
    """The App's least-privilege registration (the manifest flow reads it)."""
    return files("bot.github") / "app.yml"


def eval_set() -> Traversable:
    """The labelled PRs `eval` scores when it is given no file."""
    return files("bot.tools") / "eval_data" / "prs.jsonl"


def martian_data() -> Traversable:
    """The Martian benchmark's golden comments (golden.json), with its LICENSE and SOURCE."""
    return files("bot.tools") / "eval_data" / "martian"


def dashboard_dir(name: str) -> Path:
    """The dashboard's `templates` or `static` folder, as a path on disk: jinja2's loader and
    aiohttp's static route read files by path. A package installed as files (a wheel, an
    editable checkout) has one; a zipped import does not, and is refused here by name."""
    folder = files("bot.app.dashboard") / name
    if not isinstance(folder, Path):
        raise RuntimeError(f"the dashboard's {name} are not on disk ({folder!r}): install unzipped")
    return folder
