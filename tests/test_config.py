"""Settings: read once, and a clear one-line error naming what is missing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings

PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----\n"
GOOD = {"GITHUB_APP_ID": "42", "GITHUB_PRIVATE_KEY": PEM, "GITHUB_WEBHOOK_SECRET": "s3cret-value"}


def test_defaults_follow_the_contract():
    settings = load_settings(GOOD, dotenv=None)

    assert settings.github_api_url == "https://api.github.com"
    assert settings.gemini_model == "gemini-2.5-flash"
    assert settings.database_url is None
    assert (settings.host, settings.port) == ("0.0.0.0", 8080)


@pytest.mark.parametrize(
    "missing", ["GITHUB_APP_ID", "GITHUB_WEBHOOK_SECRET", "GITHUB_PRIVATE_KEY"]
)
def test_missing_setting_is_named(missing):
    environ = {k: v for k, v in GOOD.items() if k != missing}

    with pytest.raises(ConfigError, match=missing):
        load_settings(environ, dotenv=None)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PORT", "eighty"),
        ("GEMINI_RPM", "0"),
        ("GITHUB_APP_ID", "my-app"),
        ("DATABASE_URL", "mysql://x"),
        ("GITHUB_API_URL", "api.github.com"),
        ("LOG_LEVEL", "chatty"),
    ],
)
def test_malformed_setting_is_named(name, value):
    with pytest.raises(ConfigError, match=name):
        load_settings({**GOOD, name: value}, dotenv=None)


def test_private_key_from_a_file(tmp_path: Path):
    key_file = tmp_path / "app.pem"
    key_file.write_text(PEM)
    environ = {k: v for k, v in GOOD.items() if k != "GITHUB_PRIVATE_KEY"}

    settings = load_settings({**environ, "GITHUB_PRIVATE_KEY_PATH": str(key_file)}, dotenv=None)

    assert settings.github_private_key == PEM


def test_unreadable_key_file_is_named_without_a_traceback(tmp_path: Path):
    environ = {k: v for k, v in GOOD.items() if k != "GITHUB_PRIVATE_KEY"}
    environ["GITHUB_PRIVATE_KEY_PATH"] = str(tmp_path / "missing.pem")

    with pytest.raises(ConfigError, match="GITHUB_PRIVATE_KEY_PATH"):
        load_settings(environ, dotenv=None)


def test_dotenv_is_read_and_the_environment_wins(tmp_path: Path):
    dotenv = tmp_path / ".env"
    dotenv.write_text('# comment\nGITHUB_APP_ID=7\nPORT="9000"\nexport GEMINI_RPM=30\n')
    environ = {**GOOD, "GITHUB_APP_ID": "99"}

    settings = load_settings(environ, dotenv=dotenv)

    assert (settings.github_app_id, settings.port, settings.gemini_rpm) == ("99", 9000, 30)


def test_broken_dotenv_line_is_named(tmp_path: Path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("GITHUB_APP_ID 7\n")

    with pytest.raises(ConfigError, match="line 1"):
        load_settings(GOOD, dotenv=dotenv)


def test_secrets_stay_out_of_repr():
    settings = load_settings(GOOD, dotenv=None)

    assert "s3cret-value" not in repr(settings)
    assert "BEGIN RSA" not in repr(settings)


def test_serve_without_settings_stops_with_one_line(tmp_path: Path):
    result = subprocess.run(
        [sys.executable, "-m", "bot", "serve"],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path(__file__).parents[1])},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "second-look: configuration error: GITHUB_APP_ID is not set: "
        "set it to the App ID shown on the App's settings page"
    ]
