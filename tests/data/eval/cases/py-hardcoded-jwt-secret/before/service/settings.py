"""Runtime configuration, read once from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta


class ConfigError(RuntimeError):
    pass


def _require(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise ConfigError(f"{name} must be set")
    return value


def _bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    database_url: str
    jwt_signing_key: str
    jwt_ttl: timedelta
    debug: bool
    allowed_origins: tuple[str, ...]


def load() -> Settings:
    origins = os.environ.get("ALLOWED_ORIGINS", "")
    return Settings(
        database_url=_require("DATABASE_URL"),
        jwt_signing_key=_require("JWT_SIGNING_KEY"),
        jwt_ttl=timedelta(minutes=int(os.environ.get("JWT_TTL_MINUTES", "60"))),
        debug=_bool("DEBUG"),
        allowed_origins=tuple(o.strip() for o in origins.split(",") if o.strip()),
    )
