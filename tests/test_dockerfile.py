"""The Dockerfile as written: the locked dependencies, Debian's python3 and the venv in the
final stage (pip's settings only in the builder), a non-root user, the HEALTHCHECK on
/healthz, the console script; and the build context without secrets. (`make image-test`
builds and runs it: scripts/image-test.)"""

from __future__ import annotations

import configparser
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEXT = (ROOT / "Dockerfile").read_text()
# Instructions, continuation lines joined and comments dropped.
LINES = [
    line.strip()
    for line in re.sub(r"\\\n\s*", " ", TEXT).splitlines()
    if line.strip() and not line.lstrip().startswith("#")
]
FINAL = LINES.index("FROM debian:bookworm-slim")  # the last stage: what the image is


def final(name: str) -> list[str]:
    """The arguments of each `name` instruction of the final stage."""
    return [line.split(" ", 1)[1] for line in LINES[FINAL:] if line.startswith(name + " ")]


def test_two_stages_from_debian():
    froms = [line for line in LINES if line.startswith("FROM ")]
    assert froms == ["FROM debian:bookworm-slim AS builder", "FROM debian:bookworm-slim"]


def test_dependencies_come_from_the_lock_only():
    installs = [line for line in LINES if "pip install" in line]
    locked = [line for line in installs if "-r deploy/requirements.lock" in line]
    assert locked and all("--no-deps" in line and "--only-binary=:all:" in line for line in locked)
    # The project itself goes in as its wheel, without resolving anything else.
    assert any("--no-deps /wheels/" in line for line in installs)


def test_the_final_stage_has_python_and_the_venv_and_no_build_tools():
    run = final("RUN")[0]
    assert "apt-get install -y --no-install-recommends python3 " in run
    assert not re.search(r"gcc|build-essential|python3-dev|python3-pip|python3-venv", run)
    assert final("COPY") == ["--from=builder /opt/second-look /opt/second-look"]


def test_pip_settings_are_arguments_of_the_builder_only():
    args = [line for line in LINES[:FINAL] if line.startswith("ARG ")]
    assert {line.split()[1].split("=")[0] for line in args} >= {"PIP_INDEX_URL", "PIP_CERT"}
    assert final("ARG") == []


def test_a_non_root_user_runs_it():
    (user,) = final("USER")
    uid, gid = user.split(":")
    assert int(uid) > 0 and int(gid) > 0


def test_healthcheck_asks_healthz_without_curl():
    (check,) = final("HEALTHCHECK")
    command = json.loads(check.split(" CMD ", 1)[1])
    assert command[:2] == ["python3", "-c"]
    assert "/healthz" in command[2]


def test_the_entrypoint_is_the_console_script_and_sigterm_stops_it():
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    scripts = config["options.entry_points"]["console_scripts"]
    (entrypoint,) = final("ENTRYPOINT")
    (script,) = json.loads(entrypoint)
    assert re.search(rf"^{script} = ", scripts, re.MULTILINE)
    assert final("STOPSIGNAL") == ["SIGTERM"]
    assert json.loads(final("CMD")[0]) == ["serve"]


def test_the_build_context_leaves_secrets_out():
    ignored = set((ROOT / ".dockerignore").read_text().splitlines())
    assert {".env", "*.pem", ".data", ".git", ".venv"} <= ignored
