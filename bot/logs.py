"""Logging set-up, with a filter that masks every known secret in every record."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable

_secrets: set[str] = set()


def add_secret(value: str) -> None:
    """Mask `value` in every log line from now on (tokens are added as they are minted)."""
    if value and len(value) >= 6:
        _secrets.add(value)


def redact(text: str) -> str:
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, "***")
    return text


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if _secrets:
            message = redact(record.getMessage())
            record.msg, record.args = message, None
            if record.exc_info and record.exc_info[1] is not None:
                record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return True


def setup_logging(secrets: Iterable[str], level: int = logging.INFO) -> None:
    for secret in secrets:
        add_secret(secret)
        for line in secret.splitlines():  # a PEM key also must not leak line by line
            if len(line) >= 16:
                add_secret(line)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("aiohttp.access", "pgserver"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
