"""compose.yaml as written: two replicas of one image on one PostgreSQL, one published port,
secrets only from the git-ignored `.env`, and a stop that outlasts SHUTDOWN_TIMEOUT.
(`make compose-test` runs it: scripts/compose-test.)"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import yaml

from bot.config import Settings
from tests.test_env_example import settings_read

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text())
SERVICES = COMPOSE["services"]
APPS = ("app-1", "app-2")
EXAMPLE = ROOT / "deploy" / "compose.env.example"
# What compose.yaml interpolates: ${NAME}, ${NAME:-default}, ${NAME:?error}.
VARIABLE = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)")


def test_two_replicas_of_one_image_share_one_database():
    apps = [SERVICES[name] for name in APPS]
    assert {app["image"] for app in apps} == {"localhost/second-look:latest"}
    urls = {app["environment"]["DATABASE_URL"] for app in apps}
    assert len(urls) == 1
    assert "@postgres:5432/" in urls.pop()
    assert all(app["depends_on"]["postgres"]["condition"] == "service_healthy" for app in apps)


def test_one_port_is_published():
    published = {name: s["ports"] for name, s in SERVICES.items() if s.get("ports")}
    assert list(published) == ["app-1"]
    assert published["app-1"][0].endswith(":8080")  # the image's PORT


def test_postgres_keeps_its_data_in_a_named_volume():
    (volume,) = SERVICES["postgres"]["volumes"]
    name, path = volume.split(":")
    assert name in COMPOSE["volumes"]
    assert path == "/var/lib/postgresql/data"


def test_secrets_come_from_the_git_ignored_env_file():
    for name in APPS:
        assert SERVICES[name]["env_file"] == ".env"
    ignored = subprocess.run(
        ["git", "check-ignore", "--quiet", ".env"],  # noqa: S607
        cwd=ROOT,
        check=False,
    )
    assert ignored.returncode == 0, ".env must be git-ignored"
    # Every value compose.yaml sets itself is no secret: the password comes from `.env`.
    for service in SERVICES.values():
        for value in (service.get("environment") or {}).values():
            assert "POSTGRES_PASSWORD" in value or not re.search(r"://[^$]*:[^$]*@", value)


def test_a_stop_waits_longer_than_the_shutdown_timeout():
    grace = SERVICES["app-1"]["stop_grace_period"]
    assert grace == SERVICES["app-2"]["stop_grace_period"]
    default = Settings.__dataclass_fields__["shutdown_timeout"].default
    assert float(grace.removesuffix("s")) > default


def test_the_example_names_only_what_compose_or_the_app_reads():
    entries = re.findall(r"^(?:# )?([A-Z][A-Z0-9_]*)=", EXAMPLE.read_text(), re.MULTILINE)
    interpolated = set(VARIABLE.findall((ROOT / "compose.yaml").read_text()))
    assert "POSTGRES_PASSWORD" in entries
    assert sorted(set(entries) - interpolated - settings_read()) == []
    assert "GITHUB_PRIVATE_KEY_PATH" not in entries  # a path on the host means nothing inside
