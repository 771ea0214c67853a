"""Settings read once at start-up from the environment (and `.env` when present)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path


class ConfigError(Exception):
    """A setting is missing or malformed; the message names it and says how to fix it."""


@dataclass(frozen=True)
class Settings:
    github_app_id: str
    github_private_key: str = field(repr=False)
    github_webhook_secret: str = field(repr=False)
    github_api_url: str = "https://api.github.com"
    gemini_api_key: str = field(default="", repr=False)
    gemini_model: str = "gemini-2.5-flash"
    gemini_base_url: str | None = None
    gemini_rpm: int = 60
    gemini_max_in_flight: int = 8
    database_url: str | None = None
    data_dir: Path = Path(".data")
    host: str = "0.0.0.0"  # noqa: S104 - a server in a container listens on every interface
    port: int = 8080
    max_concurrent_reviews: int = 10
    lease_seconds: int = 60
    reclaim_interval: float = 30.0
    shutdown_timeout: float = 25.0
    max_diff_file_bytes: int = 1_000_000
    log_level: str = "INFO"


def read_dotenv(path: Path) -> dict[str, str]:
    """Parse a `.env` file: KEY=VALUE lines, `#` comments, optional quotes."""
    values: dict[str, str] = {}
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return values
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not key.isidentifier():
            raise ConfigError(f"{path} line {number}: expected KEY=VALUE")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            quote, value = value[0], value[1:-1]
            if quote == '"':
                value = value.replace("\\n", "\n")
        values[key] = value
    return values


def load_settings(
    environ: Mapping[str, str] | None = None, dotenv: Path | None = Path(".env")
) -> Settings:
    """Read every setting once; the process environment wins over `.env`."""
    env: dict[str, str] = {}
    if dotenv is not None:
        env.update(read_dotenv(dotenv))
    env.update(os.environ if environ is None else environ)

    def get(name: str) -> str | None:
        value = env.get(name, "").strip()
        return value or None

    def require(name: str, hint: str) -> str:
        value = get(name)
        if value is None:
            raise ConfigError(f"{name} is not set: {hint}")
        return value

    def integer(name: str, default: int, low: int, high: int) -> int:
        value = get(name)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            raise ConfigError(f"{name} must be a whole number, got {value!r}") from None
        if not low <= number <= high:
            raise ConfigError(f"{name} must be between {low} and {high}, got {number}")
        return number

    app_id = require("GITHUB_APP_ID", "set it to the App ID shown on the App's settings page")
    if not app_id.isdigit():
        raise ConfigError(f"GITHUB_APP_ID must be the numeric App ID, got {app_id!r}")
    secret = require(
        "GITHUB_WEBHOOK_SECRET", "set it to the webhook secret entered when registering the App"
    )
    private_key = _private_key(get("GITHUB_PRIVATE_KEY"), get("GITHUB_PRIVATE_KEY_PATH"))
    api_url = (get("GITHUB_API_URL") or "https://api.github.com").rstrip("/")
    if not api_url.startswith(("http://", "https://")):
        raise ConfigError(f"GITHUB_API_URL must start with http:// or https://, got {api_url!r}")
    database_url, data_dir = database_location(env, dotenv=None)
    return Settings(
        github_app_id=app_id,
        github_private_key=private_key,
        github_webhook_secret=secret,
        github_api_url=api_url,
        gemini_api_key=get("GEMINI_API_KEY") or "",
        gemini_model=get("GEMINI_MODEL") or "gemini-2.5-flash",
        gemini_base_url=get("GOOGLE_GEMINI_BASE_URL"),
        gemini_rpm=integer("GEMINI_RPM", 60, 1, 100_000),
        gemini_max_in_flight=integer("GEMINI_MAX_IN_FLIGHT", 8, 1, 1000),
        database_url=database_url,
        data_dir=data_dir,
        host=get("HOST") or "0.0.0.0",  # noqa: S104
        port=integer("PORT", 8080, 1, 65535),
        max_concurrent_reviews=integer("MAX_CONCURRENT_REVIEWS", 10, 1, 1000),
        lease_seconds=integer("LEASE_SECONDS", 60, 5, 3600),
        reclaim_interval=float(integer("RECLAIM_INTERVAL", 30, 1, 3600)),
        shutdown_timeout=float(integer("SHUTDOWN_TIMEOUT", 25, 0, 3600)),
        log_level=_log_level(get("LOG_LEVEL")),
        max_diff_file_bytes=integer("MAX_DIFF_FILE_BYTES", 1_000_000, 1_000, 100_000_000),
    )


def _log_level(value: str | None) -> str:
    level = (value or "INFO").upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError(f"LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got {value!r}")
    return level


def database_location(
    environ: Mapping[str, str] | None = None, dotenv: Path | None = Path(".env")
) -> tuple[str | None, Path]:
    """DATABASE_URL (None: embedded) and the data directory; all that `migrate` needs."""
    env: dict[str, str] = read_dotenv(dotenv) if dotenv is not None else {}
    env.update(os.environ if environ is None else environ)
    url = env.get("DATABASE_URL", "").strip() or None
    if url and not url.startswith(("postgres://", "postgresql://")):
        raise ConfigError("DATABASE_URL must be a postgresql:// URL (leave it unset for embedded)")
    return url, Path(env.get("DATA_DIR", "").strip() or ".data")


def _private_key(inline: str | None, path: str | None) -> str:
    if inline:
        key = inline.replace("\\n", "\n")
    elif path:
        try:
            key = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(
                f"GITHUB_PRIVATE_KEY_PATH={path} cannot be read ({exc.strerror}): "
                "point it at the .pem file downloaded from the App's settings page"
            ) from None
    else:
        raise ConfigError(
            "GITHUB_PRIVATE_KEY is not set: set it to the App's PEM private key, "
            "or set GITHUB_PRIVATE_KEY_PATH to the .pem file"
        )
    if "PRIVATE KEY-----" not in key:
        raise ConfigError(
            "GITHUB_PRIVATE_KEY does not look like a PEM private key "
            "(expected a -----BEGIN ... PRIVATE KEY----- block)"
        )
    return key
