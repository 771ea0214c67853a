"""Settings read once at start-up from the environment (and `.env` when present).

pydantic-settings reads and checks them (`_Environment`); every missing or malformed
setting is named in one `ConfigError`, by its environment variable. `Settings`, what the
rest of the App gets, is a plain frozen dataclass: building one reads nothing.
"""

from __future__ import annotations

import io
import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, ClassVar

from dotenv import dotenv_values
from dotenv.parser import parse_stream
from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from pydantic_settings.sources.utils import parse_env_vars

from bot.review.pricing import DEFAULT_PRICES, Price, PriceError, parse_prices, with_defaults
from bot.review.thinking import DEFAULT_BUDGET as DEFAULT_THINKING_BUDGET
from bot.review.thinking import MAX_BUDGET as MAX_THINKING_BUDGET

MAX_REVIEW_USD = 0.50  # README: what a review reads for it
DAILY_BUDGET_USD = 10.0  # per installation per Pacific day; README says why
JUDGE_MODEL = "gemini-2.5-flash"  # EVAL_JUDGE_MODEL's default


class ConfigError(Exception):
    """Settings are missing or malformed; the message names each and says how to fix it."""


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Settings:
    github_app_id: str
    github_private_key: str = field(repr=False)
    github_webhook_secret: str = field(repr=False)
    # GITHUB_PRIVATE_KEY_PATH when the key was read from that file (None: GITHUB_PRIVATE_KEY).
    github_private_key_path: str | None = None
    github_api_url: str = "https://api.github.com"
    gemini_api_key: str = field(default="", repr=False)
    gemini_model: str = "gemini-2.5-flash"
    gemini_base_url: str | None = None
    gemini_rpm: int = 60
    gemini_tpm: int | None = None  # input tokens per minute, whole deployment; None: no limit
    gemini_rpd: int | None = None  # requests per Pacific day, whole deployment; None: no limit
    daily_budget_usd: float = DAILY_BUDGET_USD  # per installation per Pacific day
    gemini_prices: Mapping[str, Price] = field(default_factory=lambda: dict(DEFAULT_PRICES))
    gemini_max_in_flight: int = 8
    gemini_thinking_budget: int = DEFAULT_THINKING_BUDGET  # tokens a call may think
    max_review_tokens: int = 400_000  # input tokens of one review
    max_review_usd: float = MAX_REVIEW_USD  # one review's bill: input, output and thinking
    push_settle_seconds: float = 5.0
    quota_max_wait: float = 60.0
    database_url: str | None = None
    data_dir: Path = Path(".data")
    host: str = "0.0.0.0"  # noqa: S104 - a server in a container listens on every interface
    port: int = 8080
    max_concurrent_reviews: int = 10
    lease_seconds: int = 60
    reclaim_interval: float = 30.0
    shutdown_timeout: float = 25.0
    outage_horizon_seconds: int = 21_600  # an outage defers work this long, then it fails
    max_diff_file_bytes: int = 1_000_000
    answers_per_hour: int = 10  # answers in the threads of one PR in an hour; 0: none
    log_level: str = "INFO"
    log_format: str = "text"  # text | json (one JSON object a line)
    dashboard_token: str = field(default="", repr=False)  # "": the dashboard is loopback-only
    # Peers whose X-Forwarded-For is read (bot/app/remote.py); (): none, the peer is the client.
    trusted_proxies: tuple[Network, ...] = ()
    retention_days: int = 90  # finished reviews, findings, usage and deliveries kept this long
    redeliver_interval: float = 600.0  # seconds between looks for deliveries that failed
    reaction_poll_seconds: float = 60.0  # between looks for 👎 on red checks; 0: never

    @property
    def github_private_key_source(self) -> str:
        """The variable the key was set by (and its file), as an error about the key names it."""
        if self.github_private_key_path is None:
            return "GITHUB_PRIVATE_KEY"
        return f"GITHUB_PRIVATE_KEY_PATH={self.github_private_key_path}"


# What to do about a required setting that is not set.
_HINTS = {
    "GITHUB_APP_ID": "set it to the App ID shown on the App's settings page",
    "GITHUB_WEBHOOK_SECRET": "set it to the webhook secret entered when registering the App",
}
_DOLLARS = ("DAILY_BUDGET_USD", "MAX_REVIEW_USD")  # positive numbers of dollars
# Whole-number settings: (lowest, highest) allowed.
_RANGES: dict[str, tuple[int, int]] = {}


def _problem(message: str) -> PydanticCustomError:
    """A validation error whose message is `message` as written (it names the variable)."""
    return PydanticCustomError("setting", "{message}", {"message": message})


def _whole(name: str, default: int | None, low: int, high: int) -> Any:
    _RANGES[name] = (low, high)
    return Field(default, validation_alias=name, ge=low, le=high)


def _check_pem(key: str, source: str) -> str:
    if "PRIVATE KEY-----" not in key:
        raise _problem(
            f"{source} does not look like a PEM private key "
            "(expected a -----BEGIN ... PRIVATE KEY----- block)"
        )
    return key


def _api_url(value: str) -> str:
    url = value.rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise _problem(f"GITHUB_API_URL must start with http:// or https://, got {url!r}")
    return url


def _app_id(value: str) -> str:
    if not value.isdigit():
        raise _problem(f"GITHUB_APP_ID must be the numeric App ID, got {value!r}")
    return value


def _database_url(value: str | None) -> str | None:
    if value is not None and not value.startswith(("postgres://", "postgresql://")):
        raise _problem("DATABASE_URL must be a postgresql:// URL (leave it unset for embedded)")
    return value


def _networks(value: object) -> object:
    """TRUSTED_PROXIES: addresses or CIDR networks, separated by commas."""
    if not isinstance(value, str):
        return value  # the default
    networks: list[Network] = []
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item))
        except ValueError:
            raise _problem(
                f"TRUSTED_PROXIES: {item!r} is not an IP address or a network such as "
                "10.0.0.0/8 (host bits unset); separate several with commas"
            ) from None
    return tuple(networks)


def _log_format(value: str) -> str:
    form = value.lower()
    if form not in ("text", "json"):
        raise _problem(f"LOG_FORMAT must be text or json, got {value!r}")
    return form


def _log_level(value: str) -> str:
    level = value.upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise _problem(f"LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got {value!r}")
    return level


_DatabaseUrl = Annotated[
    str | None, Field(validation_alias="DATABASE_URL"), AfterValidator(_database_url)
]
_DataDir = Annotated[Path, Field(validation_alias="DATA_DIR")]


class _LiteralDotEnv(DotEnvSettingsSource):
    """`.env` read as written: `$X` and `${X}` in a value stay as they are.

    python-dotenv expands them by default, which would silently change a webhook secret or
    a database password holding a `$`.
    """

    def _read_env_file(self, file_path: Path) -> Mapping[str, str | None]:
        values = dotenv_values(file_path, encoding="utf-8", interpolate=False)
        return parse_env_vars(values, self.case_sensitive, self.env_ignore_empty, None)


class _Sources(BaseSettings):
    """Read from the keyword arguments (the environment) over the `.env` file, nothing else."""

    model_config = SettingsConfigDict(
        case_sensitive=True,  # as the environment is on Linux: `port=1` is not PORT
        extra="ignore",
        hide_input_in_errors=True,  # a secret's value never reaches an error's text
        env_file_encoding="utf-8",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # load_settings passes the environment (os.environ or the caller's mapping) as
        # keyword arguments, so a test's mapping is not mixed with the real environment.
        env_file = getattr(dotenv_settings, "env_file", None)
        return init_settings, _LiteralDotEnv(settings_cls, env_file=env_file, case_sensitive=True)

    @model_validator(mode="before")
    @classmethod
    def _empty_means_unset(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        values = {k: v.strip() if isinstance(v, str) else v for k, v in data.items()}
        return {k: v for k, v in values.items() if v is not None and v != ""}


class _DatabaseEnvironment(_Sources):
    """All that `migrate` needs."""

    database_url: _DatabaseUrl = None
    data_dir: _DataDir = Path(".data")


class _PricesEnvironment(_Sources):
    """The price table, which `usage` needs too."""

    gemini_prices: dict[str, Price] = Field(
        default_factory=lambda: dict(DEFAULT_PRICES), validation_alias="GEMINI_PRICES"
    )

    @field_validator("gemini_prices", mode="before")
    @classmethod
    def _prices(cls, value: object) -> object:
        # From the environment a JSON string; from `.env` pydantic-settings decodes it first.
        try:
            return parse_prices(value) if isinstance(value, str) else with_defaults(value)
        except PriceError as exc:
            raise _problem(str(exc)) from None


class _GeminiEnvironment(_PricesEnvironment):
    """What a review needs of Gemini, which `eval` needs too."""

    gemini_api_key: str = Field("", validation_alias="GEMINI_API_KEY", repr=False)
    gemini_model: str = Field("gemini-2.5-flash", validation_alias="GEMINI_MODEL")
    gemini_base_url: str | None = Field(None, validation_alias="GOOGLE_GEMINI_BASE_URL")
    gemini_rpm: int = _whole("GEMINI_RPM", 60, 1, 100_000)
    gemini_max_in_flight: int = _whole("GEMINI_MAX_IN_FLIGHT", 8, 1, 1000)
    max_review_tokens: int = _whole("MAX_REVIEW_TOKENS", 400_000, 1_000, 100_000_000)
    max_review_usd: float = Field(
        MAX_REVIEW_USD, validation_alias="MAX_REVIEW_USD", gt=0, le=10_000
    )
    gemini_thinking_budget: int = _whole(
        "GEMINI_THINKING_BUDGET", DEFAULT_THINKING_BUDGET, 0, MAX_THINKING_BUDGET
    )
    eval_judge_model: str = Field(JUDGE_MODEL, validation_alias="EVAL_JUDGE_MODEL")


class _GitHubEnvironment(_GeminiEnvironment):
    """How to reach GitHub: the App's id and private key (inline or a file), the API's URL.
    For the App every one is required; a review without it may use GITHUB_TOKEN instead."""

    key_required: ClassVar[bool] = True
    github_app_id: Annotated[str, Field(validation_alias="GITHUB_APP_ID"), AfterValidator(_app_id)]
    github_private_key: str | None = Field(None, validation_alias="GITHUB_PRIVATE_KEY", repr=False)
    # The key as read from GITHUB_PRIVATE_KEY_PATH (None when the inline key is set).
    private_key_from_file: str | None = Field(
        None, validation_alias="GITHUB_PRIVATE_KEY_PATH", validate_default=True, repr=False
    )
    # GITHUB_PRIVATE_KEY_PATH as written, to name the file in an error about its key.
    github_private_key_path: str | None = Field(None, validation_alias="GITHUB_PRIVATE_KEY_PATH")
    github_api_url: Annotated[str, AfterValidator(_api_url)] = Field(
        "https://api.github.com", validation_alias="GITHUB_API_URL"
    )
    max_diff_file_bytes: int = _whole("MAX_DIFF_FILE_BYTES", 1_000_000, 1_000, 100_000_000)

    @field_validator("github_private_key")
    @classmethod
    def _inline_key(cls, value: str | None) -> str | None:
        return (
            None if value is None else _check_pem(value.replace("\\n", "\n"), "GITHUB_PRIVATE_KEY")
        )

    @field_validator("private_key_from_file")
    @classmethod
    def _key_file(cls, path: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("github_private_key") is not None or "github_private_key" not in info.data:
            return None  # the inline key wins, or is malformed and named already
        if path is None:
            if not cls.key_required and not info.data.get("github_app_id"):
                return None  # no App at all: GITHUB_TOKEN is asked for instead
            raise _problem(
                "GITHUB_PRIVATE_KEY is not set: set it to the App's PEM private key, "
                "or set GITHUB_PRIVATE_KEY_PATH to the .pem file"
            )
        try:
            key = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
            raise _problem(
                f"GITHUB_PRIVATE_KEY_PATH={path} cannot be read ({reason}): "
                "point it at the .pem file downloaded from the App's settings page"
            ) from None
        return _check_pem(key, f"GITHUB_PRIVATE_KEY_PATH={path}")


class _Environment(_GitHubEnvironment):
    github_webhook_secret: str = Field(validation_alias="GITHUB_WEBHOOK_SECRET", repr=False)
    gemini_tpm: int | None = _whole("GEMINI_TPM", None, 1_000, 1_000_000_000)
    gemini_rpd: int | None = _whole("GEMINI_RPD", None, 1, 100_000_000)
    daily_budget_usd: float = Field(
        DAILY_BUDGET_USD, validation_alias="DAILY_BUDGET_USD", gt=0, le=1_000_000
    )
    push_settle_seconds: int = _whole("PUSH_SETTLE_SECONDS", 5, 0, 600)
    quota_max_wait: int = _whole("QUOTA_MAX_WAIT", 60, 1, 3600)
    database_url: _DatabaseUrl = None
    data_dir: _DataDir = Path(".data")
    host: str = Field("0.0.0.0", validation_alias="HOST")  # noqa: S104
    port: int = _whole("PORT", 8080, 1, 65535)
    max_concurrent_reviews: int = _whole("MAX_CONCURRENT_REVIEWS", 10, 1, 1000)
    lease_seconds: int = _whole("LEASE_SECONDS", 60, 5, 3600)
    reclaim_interval: int = _whole("RECLAIM_INTERVAL", 30, 1, 3600)
    shutdown_timeout: int = _whole("SHUTDOWN_TIMEOUT", 25, 0, 3600)
    outage_horizon_seconds: int = _whole("OUTAGE_HORIZON_SECONDS", 21_600, 0, 7 * 86_400)
    answers_per_hour: int = _whole("ANSWERS_PER_HOUR", 10, 0, 10_000)
    log_level: Annotated[str, AfterValidator(_log_level)] = Field(
        "INFO", validation_alias="LOG_LEVEL"
    )
    log_format: Annotated[str, AfterValidator(_log_format)] = Field(
        "text", validation_alias="LOG_FORMAT"
    )
    dashboard_token: str = Field("", validation_alias="DASHBOARD_TOKEN", repr=False)
    trusted_proxies: Annotated[tuple[Network, ...], NoDecode, BeforeValidator(_networks)] = Field(
        (), validation_alias="TRUSTED_PROXIES"
    )
    retention_days: int = _whole("RETENTION_DAYS", 90, 1, 36_500)
    redeliver_interval: int = _whole("REDELIVER_INTERVAL", 600, 10, 86_400)
    reaction_poll_seconds: int = _whole("REACTION_POLL_SECONDS", 60, 0, 86_400)


def load_settings(
    environ: Mapping[str, str] | None = None, dotenv: Path | None = Path(".env")
) -> Settings:
    """Read every setting once; the process environment wins over `.env`."""
    env = _read(_Environment, environ, dotenv)
    assert isinstance(env, _Environment)
    private_key = env.github_private_key or env.private_key_from_file
    assert private_key is not None  # validation made sure of one or the other
    values = {name: getattr(env, name) for name in Settings.__dataclass_fields__}
    values.update(
        github_private_key=private_key,
        # The inline key wins over the file: then the file named no key that is used.
        github_private_key_path=None if env.github_private_key else env.github_private_key_path,
        reclaim_interval=float(env.reclaim_interval),  # read as whole seconds, kept as floats
        shutdown_timeout=float(env.shutdown_timeout),
        push_settle_seconds=float(env.push_settle_seconds),
        quota_max_wait=float(env.quota_max_wait),
        redeliver_interval=float(env.redeliver_interval),
        reaction_poll_seconds=float(env.reaction_poll_seconds),
    )
    return Settings(**values)


def database_location(
    environ: Mapping[str, str] | None = None, dotenv: Path | None = Path(".env")
) -> tuple[str | None, Path]:
    """DATABASE_URL (None: embedded) and the data directory; all that `migrate` needs."""
    env = _read(_DatabaseEnvironment, environ, dotenv)
    assert isinstance(env, _DatabaseEnvironment)
    return env.database_url, env.data_dir


def price_table(
    environ: Mapping[str, str] | None = None, dotenv: Path | None = Path(".env")
) -> dict[str, Price]:
    """GEMINI_PRICES over the default prices; all that `usage` needs."""
    env = _read(_PricesEnvironment, environ, dotenv)
    assert isinstance(env, _PricesEnvironment)
    return env.gemini_prices


@dataclass(frozen=True)
class GeminiSettings:
    """The settings of a review run without the App: Gemini, the budget, the prices."""

    api_key: str = field(repr=False)
    model: str
    base_url: str | None
    rpm: int
    max_in_flight: int
    max_review_tokens: int
    prices: Mapping[str, Price]
    max_review_usd: float = MAX_REVIEW_USD
    thinking_budget: int = DEFAULT_THINKING_BUDGET
    judge_model: str = JUDGE_MODEL  # EVAL_JUDGE_MODEL: the model `eval`'s judge asks


def gemini_settings(
    environ: Mapping[str, str] | None = None,
    dotenv: Path | None = Path(".env"),
    *,
    model: bool = True,
) -> GeminiSettings:
    """GEMINI_API_KEY and what goes with it; all that `eval` needs. The key is required,
    unless the review runs without the model (`model` False: `review --no-model`)."""
    env = _read(_GeminiEnvironment, environ, dotenv)
    assert isinstance(env, _GeminiEnvironment)
    return _gemini_of(env, model=model)


def _gemini_of(env: _GeminiEnvironment, *, model: bool = True) -> GeminiSettings:
    if model and not env.gemini_api_key:
        raise ConfigError("GEMINI_API_KEY is not set: set it to a Gemini API key")
    return GeminiSettings(
        env.gemini_api_key,
        env.gemini_model,
        env.gemini_base_url,
        env.gemini_rpm,
        env.gemini_max_in_flight,
        env.max_review_tokens,
        env.gemini_prices,
        env.max_review_usd,
        env.gemini_thinking_budget,
        env.eval_judge_model,
    )


def _app_id_or_blank(value: str) -> str:
    return _app_id(value) if value.strip() else ""


class _AccessEnvironment(_GitHubEnvironment):
    """A review without the App's server: GITHUB_TOKEN, or else the App's id and key."""

    key_required: ClassVar[bool] = False
    github_app_id: Annotated[
        str, Field(validation_alias="GITHUB_APP_ID"), AfterValidator(_app_id_or_blank)
    ] = ""
    github_token: str = Field("", validation_alias="GITHUB_TOKEN", repr=False)


@dataclass(frozen=True)
class GitHubAccess:
    """How a review without the App's server reaches GitHub: a token, or the App's key."""

    api_url: str
    token: str = field(default="", repr=False)  # GITHUB_TOKEN: wins over the App's key
    app_id: str = ""
    private_key: str = field(default="", repr=False)
    max_diff_file_bytes: int = 1_000_000


def github_access(
    environ: Mapping[str, str] | None = None,
    dotenv: Path | None = Path(".env"),
    *,
    model: bool = True,
) -> tuple[GitHubAccess, GeminiSettings]:
    """GITHUB_TOKEN (or GITHUB_APP_ID and its key), GITHUB_API_URL, and the Gemini settings
    (without GEMINI_API_KEY when `model` is False)."""
    env = _read(_AccessEnvironment, environ, dotenv)
    assert isinstance(env, _AccessEnvironment)
    gemini = _gemini_of(env, model=model)
    token = env.github_token.strip()
    key = env.github_private_key or env.private_key_from_file or ""
    if not token and not (env.github_app_id and key):
        raise ConfigError(
            "GITHUB_TOKEN is not set: set it to a token that can read the repository, or set "
            "GITHUB_APP_ID and GITHUB_PRIVATE_KEY to review as the App"
        )
    access = GitHubAccess(
        env.github_api_url,
        token,
        "" if token else env.github_app_id,
        "" if token else key,
        env.max_diff_file_bytes,
    )
    return access, gemini


def _read(
    model: type[_Sources], environ: Mapping[str, str] | None, dotenv: Path | None
) -> _Sources:
    if dotenv is not None and not _check_dotenv(dotenv):
        dotenv = None  # no such file
    names = {f.validation_alias for f in model.model_fields.values()}
    given = {k: v for k, v in (os.environ if environ is None else environ).items() if k in names}
    try:
        return model(_env_file=dotenv, **given)  # type: ignore[call-arg]  # pydantic-settings' own
    except ValidationError as exc:
        problems = [_describe(error) for error in exc.errors(include_url=False)]
    if len(problems) == 1:
        raise ConfigError(problems[0]) from None
    raise ConfigError(
        f"{len(problems)} settings need fixing:\n" + "\n".join(f"  {p}" for p in problems)
    ) from None


def _describe(error: Any) -> str:
    """One problem, named by its environment variable, without pydantic's wording."""
    name = str(error["loc"][0]) if error["loc"] else "a setting"
    kind = error["type"]
    if kind == "setting":
        return str(error["msg"])
    if kind == "missing":
        return f"{name} is not set: {_HINTS.get(name, 'set it')}"
    if kind.startswith("int_"):
        return f"{name} must be a whole number, got {error['input']!r}"
    if kind.startswith("float_"):
        return f"{name} must be a number, got {error['input']!r}"
    if kind in ("greater_than", "less_than_equal") and name in _DOLLARS:
        return f"{name} must be a positive number of dollars, got {error['input']}"
    if kind in ("greater_than_equal", "less_than_equal") and name in _RANGES:
        low, high = _RANGES[name]
        return f"{name} must be between {low} and {high}, got {error['input']}"
    return f"{name} is malformed: {error['msg']}"


def _check_dotenv(path: Path) -> bool:
    """Whether `path` exists; a line python-dotenv would skip is an error, not ignored."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"cannot read {path}: not UTF-8 text") from None
    bad = []
    for binding in parse_stream(io.StringIO(text)):
        if binding.error or (binding.key is not None and binding.value is None):
            # A statement's text starts with the blank lines before it: name its first line.
            original = binding.original.string
            skipped = original[: len(original) - len(original.lstrip())].count("\n")
            bad.append(binding.original.line + skipped)
    if bad:
        lines = ", ".join(str(number) for number in bad)
        plural = "s" if len(bad) > 1 else ""
        raise ConfigError(f"{path} line{plural} {lines}: expected KEY=VALUE")
    return True
