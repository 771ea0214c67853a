"""Settings: read once, and one clear error naming everything that is missing or malformed."""

from __future__ import annotations

import ipaddress
from dataclasses import replace
from pathlib import Path

import pytest

from bot.config import ConfigError, Settings, database_location, load_settings

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
        ("GEMINI_TPM", "10"),
        ("GEMINI_RPD", "-1"),
        ("DAILY_BUDGET_USD", "0"),
        ("DAILY_BUDGET_USD", "a lot"),
        ("MAX_REVIEW_TOKENS", "12"),
        ("PUSH_SETTLE_SECONDS", "-5"),
        ("GEMINI_PRICES", '{"gemini-2.5-flash": {"input": 1}}'),
        ("GEMINI_PRICES", "not json"),
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
    assert settings.github_private_key_source == f"GITHUB_PRIVATE_KEY_PATH={key_file}"


def test_the_inline_key_wins_and_is_the_one_named(tmp_path: Path):
    key_file = tmp_path / "app.pem"
    key_file.write_text(PEM.replace("MIIB", "MIIC"))

    settings = load_settings({**GOOD, "GITHUB_PRIVATE_KEY_PATH": str(key_file)}, dotenv=None)

    assert "MIIB" in settings.github_private_key
    assert settings.github_private_key_source == "GITHUB_PRIVATE_KEY"
    assert load_settings(GOOD, dotenv=None).github_private_key_source == "GITHUB_PRIVATE_KEY"


def test_unreadable_key_file_is_named_without_a_traceback(tmp_path: Path):
    environ = {k: v for k, v in GOOD.items() if k != "GITHUB_PRIVATE_KEY"}
    environ["GITHUB_PRIVATE_KEY_PATH"] = str(tmp_path / "missing.pem")

    with pytest.raises(ConfigError, match="GITHUB_PRIVATE_KEY_PATH=.*No such file or directory"):
        load_settings(environ, dotenv=None)


def test_budget_and_quota_defaults():
    settings = load_settings(GOOD, dotenv=None)

    assert (settings.max_review_tokens, settings.push_settle_seconds) == (400_000, 5.0)
    assert (settings.gemini_tpm, settings.gemini_rpd) == (None,) * 2
    # Money is bounded out of the box: a review, an installation's day, each call's thinking.
    assert (settings.max_review_usd, settings.daily_budget_usd) == (0.50, 10.0)
    assert settings.gemini_thinking_budget == 1_024
    assert settings.gemini_prices["gemini-2.5-flash"].output == 2.50


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("MAX_REVIEW_USD", "0", "MAX_REVIEW_USD must be a positive number of dollars, got 0"),
        ("MAX_REVIEW_USD", "lots", "MAX_REVIEW_USD must be a number, got 'lots'"),
        ("GEMINI_THINKING_BUDGET", "-1", "GEMINI_THINKING_BUDGET must be between 0 and 32768"),
    ],
)
def test_spend_settings_are_checked(name: str, value: str, message: str):
    with pytest.raises(ConfigError, match=message):
        load_settings({**GOOD, name: value}, dotenv=None)


def test_spend_settings_are_read():
    environ = {**GOOD, "MAX_REVIEW_USD": "0.2", "GEMINI_THINKING_BUDGET": "0"}
    settings = load_settings(environ, dotenv=None)

    assert (settings.max_review_usd, settings.gemini_thinking_budget) == (0.2, 0)


@pytest.mark.parametrize("where", ["environment", ".env"])
def test_gemini_prices_add_to_the_defaults(tmp_path: Path, where: str):
    prices = '{"gemini-9": {"input": 1, "cached": 0.5, "output": 4}}'
    dotenv = tmp_path / ".env"
    dotenv.write_text(f"GEMINI_PRICES='{prices}'\n" if where == ".env" else "")
    environ = {**GOOD, "GEMINI_PRICES": prices} if where == "environment" else GOOD

    settings = load_settings(environ, dotenv=dotenv)

    assert settings.gemini_prices["gemini-9"].cached == 0.5
    assert settings.gemini_prices["gemini-9"].storage is None, "never cached explicitly"
    assert "gemini-2.5-flash" in settings.gemini_prices


def test_a_price_may_give_the_storage_of_an_explicit_cache():
    prices = '{"gemini-9": {"input": 1, "cached": 0.5, "output": 4, "storage": 2}}'

    settings = load_settings({**GOOD, "GEMINI_PRICES": prices}, dotenv=None)

    assert settings.gemini_prices["gemini-9"].storage == 2.0
    with pytest.raises(ConfigError, match="may have storage"):
        load_settings({**GOOD, "GEMINI_PRICES": '{"m": {"input": 1, "storage": 2}}'}, dotenv=None)


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


def test_without_settings_every_missing_one_is_named():
    # `serve` with none of them set runs the setup pages instead: tests/test_setup.py.
    with pytest.raises(ConfigError) as raised:
        load_settings({}, dotenv=None)

    lines = str(raised.value).splitlines()
    for expected in (
        "GITHUB_APP_ID is not set: set it to the App ID shown on the App's settings page",
        "GITHUB_WEBHOOK_SECRET is not set: set it to the webhook secret entered when "
        "registering the App",
        "GITHUB_PRIVATE_KEY is not set: set it to the App's PEM private key, "
        "or set GITHUB_PRIVATE_KEY_PATH to the .pem file",
    ):
        assert sum(expected in line for line in lines) == 1, expected


def test_every_problem_is_named_in_one_error():
    environ = {
        "GITHUB_APP_ID": "my-app",
        "GITHUB_PRIVATE_KEY": "not-a-key-but-secret-material",
        "PORT": "eighty",
        "LEASE_SECONDS": "1",
        "DATABASE_URL": "mysql://x",
        "LOG_LEVEL": "chatty",
    }

    with pytest.raises(ConfigError) as raised:
        load_settings(environ, dotenv=None)

    message = str(raised.value)
    for expected in (
        "GITHUB_APP_ID must be the numeric App ID, got 'my-app'",
        "GITHUB_PRIVATE_KEY does not look like a PEM private key",
        "GITHUB_WEBHOOK_SECRET is not set: set it to the webhook secret",
        "PORT must be a whole number, got 'eighty'",
        "LEASE_SECONDS must be between 5 and 3600, got 1",
        "DATABASE_URL must be a postgresql:// URL",
        "LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got 'chatty'",
    ):
        assert expected in message
    assert len(message.splitlines()) == 1 + 7  # a heading, then one line per problem
    # The environment's names only: no field names, no pydantic wording or links.
    assert "secret-material" not in message
    for pydantic_words in ("github_app_id", "lease_seconds", "pydantic", "Input should"):
        assert pydantic_words not in message


def test_a_single_problem_stays_one_line():
    with pytest.raises(ConfigError) as raised:
        load_settings({**GOOD, "PORT": "70000"}, dotenv=None)

    assert str(raised.value) == "PORT must be between 1 and 65535, got 70000"


def test_values_are_normalized():
    environ = {
        **GOOD,
        "GITHUB_API_URL": "https://ghe.example.com/api/v3/",
        "LOG_LEVEL": "debug",
        "PORT": "",
        "HOST": "   ",
        "RECLAIM_INTERVAL": "5",
    }

    settings = load_settings(environ, dotenv=None)

    assert settings.github_api_url == "https://ghe.example.com/api/v3"
    assert settings.log_level == "DEBUG"
    assert (settings.host, settings.port) == ("0.0.0.0", 8080)  # empty means unset
    assert settings.reclaim_interval == 5.0 and isinstance(settings.reclaim_interval, float)


def test_inline_key_with_escaped_newlines():
    escaped = PEM.replace("\n", "\\n")
    assert "\n" not in escaped.replace("\\n", "")  # one line, escapes only

    settings = load_settings({**GOOD, "GITHUB_PRIVATE_KEY": escaped}, dotenv=None)

    assert settings.github_private_key == PEM


def test_an_empty_required_setting_is_missing():
    with pytest.raises(ConfigError, match="GITHUB_WEBHOOK_SECRET is not set"):
        load_settings({**GOOD, "GITHUB_WEBHOOK_SECRET": "  "}, dotenv=None)


def test_building_settings_reads_no_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("PORT", "1234")
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("GEMINI_MODEL=from-dotenv\n")

    settings = Settings(github_app_id="1", github_private_key=PEM, github_webhook_secret="s")

    assert (settings.port, settings.gemini_model) == (8080, "gemini-2.5-flash")
    assert replace(settings, gemini_api_key="").gemini_api_key == ""
    assert replace(settings, shutdown_timeout=2).shutdown_timeout == 2
    with pytest.raises(AttributeError):
        settings.port = 1  # type: ignore[misc]


def test_load_settings_reads_the_process_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    for name, value in GOOD.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("PORT", "1234")
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("PORT=9999\nGEMINI_MODEL=from-dotenv\n")

    settings = load_settings()

    assert (settings.port, settings.gemini_model) == (1234, "from-dotenv")


def test_database_location_needs_no_github_settings(tmp_path: Path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("DATA_DIR=/srv/second-look\n")

    assert database_location({"DATABASE_URL": "postgresql://db/x"}, dotenv=dotenv) == (
        "postgresql://db/x",
        Path("/srv/second-look"),
    )
    assert database_location({}, dotenv=None) == (None, Path(".data"))
    with pytest.raises(ConfigError, match="DATABASE_URL must be a postgresql:// URL"):
        database_location({"DATABASE_URL": "sqlite:///x"}, dotenv=None)


def test_dotenv_quoted_multiline_key(tmp_path: Path):
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        f"GITHUB_APP_ID=7\nGITHUB_WEBHOOK_SECRET='a#b'\nGITHUB_PRIVATE_KEY=\"{PEM}\"\n"
    )

    settings = load_settings({}, dotenv=dotenv)

    assert settings.github_private_key == PEM.strip()
    assert (settings.github_app_id, settings.github_webhook_secret) == ("7", "a#b")


def test_dotenv_line_without_a_value_is_not_ignored(tmp_path: Path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("GITHUB_APP_ID=7\n\nPORT\n")

    with pytest.raises(ConfigError, match=r"\.env line 3: expected KEY=VALUE"):
        load_settings(GOOD, dotenv=dotenv)


def test_dotenv_values_are_taken_as_written(tmp_path: Path):
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        'GITHUB_WEBHOOK_SECRET=ab${HOME}cd$X\nDATABASE_URL="postgresql://u:p$ss@h/db"\n'
    )
    environ = {k: v for k, v in GOOD.items() if k != "GITHUB_WEBHOOK_SECRET"}

    settings = load_settings(environ, dotenv=dotenv)

    assert settings.github_webhook_secret == "ab${HOME}cd$X"
    assert settings.database_url == "postgresql://u:p$ss@h/db"


def test_trusted_proxies_is_read_as_networks():
    given = {**GOOD, "TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8,fd00::/8"}
    assert load_settings(given, dotenv=None).trusted_proxies == (
        ipaddress.ip_network("127.0.0.1"),
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("fd00::/8"),
    )
    assert load_settings(GOOD, dotenv=None).trusted_proxies == ()


@pytest.mark.parametrize("value", ["10.0.0.1/8", "proxy.internal", "10.0.0.0/33"])
def test_a_malformed_trusted_proxy_is_named(value):
    with pytest.raises(ConfigError) as raised:
        load_settings({**GOOD, "TRUSTED_PROXIES": f"127.0.0.1,{value}"}, dotenv=None)
    assert "TRUSTED_PROXIES" in str(raised.value) and repr(value) in str(raised.value)
