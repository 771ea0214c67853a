"""Second Look as an operator installs it: the wheel built from this tree, installed with the
server extra into a fresh virtual environment outside the checkout (offline, from the server's
lock), then `second-look --version`, `migrate` and `serve` run from there against a throwaway
PostgreSQL. Whatever the package forgot to ship (a migration, app.yml, a template) fails here."""

from __future__ import annotations

import configparser
import dataclasses
import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import aiohttp
import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests import wheelhouse
from tests.processes import Server, app_env

ROOT = wheelhouse.ROOT
LOCK = ROOT / "deploy" / "requirements.lock"
VERSION = next(
    line.split("=", 1)[1].strip()
    for line in (ROOT / "setup.cfg").read_text().splitlines()
    if line.startswith("version")
)
# Each a file the App reads at run time, by its path inside the wheel.
SHIPPED = (
    "bot/store/migrations/0001_initial.sql",
    "bot/github/app.yml",
    "bot/app/dashboard/templates/review.html",
    "bot/app/dashboard/static/dashboard.js",
    "bot/tools/eval_data/prs.jsonl",
    "bot/tools/eval_data/THIRD-PARTY-LICENSES.txt",
    "bot/tools/eval_data/martian/golden.json",
    "bot/tools/eval_data/martian/LICENSE",
)
PIP_OFFLINE = {"PIP_NO_INDEX": "1", "PIP_CONFIG_FILE": os.devnull, "PIP_NO_COMPILE": "1"}


def run(*args: str | Path, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    done = subprocess.run(  # noqa: S603 - our own interpreter and the console script we installed
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, f"{args} exited {done.returncode}: {done.stderr[-2000:]}"
    return done


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel pip builds from a copy of this tree (the checkout is left as it is)."""
    source = tmp_path_factory.mktemp("source")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build")
    shutil.copytree(ROOT / "bot", source / "bot", ignore=ignore)
    for name in ("setup.cfg", "pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    dist = tmp_path_factory.mktemp("dist")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **PIP_OFFLINE}
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", dist,
        source, cwd=source, env=env)  # fmt: skip
    (built,) = dist.glob("second_look-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(tmp_path_factory, wheel: Path) -> Path:
    """A fresh virtual environment with `second-look[server]` from the wheel and the lock."""
    home = tmp_path_factory.mktemp("operator")
    found = wheelhouse.fill(tmp_path_factory.mktemp("wheelhouse"), LOCK)
    shutil.copy(wheel, found / wheel.name)
    venv.create(home / "venv", with_pip=True)
    python = home / "venv" / "bin" / "python"
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **PIP_OFFLINE}
    run(python, "-m", "pip", "install", "--quiet", "--find-links", found, "--constraint", LOCK,
        "second-look[server]", cwd=home, env=env)  # fmt: skip
    return home


def test_the_wheel_ships_what_the_app_reads_at_run_time(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())

    assert [path for path in SHIPPED if path not in names] == []
    migrations = sorted(n for n in names if n.startswith("bot/store/migrations/"))
    on_disk = sorted(p.name for p in (ROOT / "bot" / "store" / "migrations").glob("*.sql"))
    assert [Path(n).name for n in migrations] == on_disk
    assert not any(n.startswith("tests/") for n in names)


def test_the_server_lock_pins_every_requirement_of_setup_cfg() -> None:
    """deploy/requirements.lock is written by scripts/lock: run it when setup.cfg changes."""
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    lines = config["options"]["install_requires"] + config["options.extras_require"]["server"]
    wanted = {
        canonicalize_name(Requirement(line).name)
        for line in lines.splitlines()
        if line.strip() and not line.startswith("#")
    }
    locked = {canonicalize_name(name) for name, _ in wheelhouse.pins(LOCK)}

    assert sorted(wanted - locked) == []


@pytest.mark.timeout(300)
async def test_installed_outside_the_checkout_it_migrates_and_serves(
    installed: Path, make_database, base_settings
) -> None:
    python = installed / "venv" / "bin" / "python"
    script = installed / "venv" / "bin" / "second-look"
    assert script.exists()
    # -I: this checkout (PYTHONPATH, the current folder) is not on the path, only the venv.
    command = (str(python), "-I", str(script))
    settings = dataclasses.replace(base_settings, database_url=make_database())
    env = {k: v for k, v in app_env(settings).items() if k != "PYTHONPATH"}

    version = run(*command, "--version", cwd=installed, env=env)
    migrated = run(*command, "migrate", cwd=installed, env=env)
    where = run(python, "-I", "-c", "import bot; print(bot.__file__)", cwd=installed, env=env)

    assert version.stdout.strip() == f"second-look {VERSION}"
    assert "0001_initial.sql" in migrated.stdout + migrated.stderr
    assert where.stdout.startswith(str(installed / "venv"))
    server = Server(settings, installed, command)
    try:
        await server.ready(timeout=60)
        async with aiohttp.ClientSession() as http:  # from 127.0.0.1: no sign-in without a token
            async with http.get(server.url + "/dashboard") as response:
                page = (response.status, await response.text())
            async with http.get(server.url + "/dashboard/static/dashboard.css") as response:
                static = response.status
    finally:
        server.stop()
    assert page[0] == 200 and "<table" in page[1]  # a template read from the package
    assert static == 200
