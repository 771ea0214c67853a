"""Logging set-up, with a filter that masks every known secret in every record."""

from __future__ import annotations

import atexit
import logging
import logging.handlers
import queue
import sys
from collections.abc import Iterable
from typing import TextIO

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


class _QueueHandler(logging.handlers.QueueHandler):
    """Hand records to the writer thread; only a traceback is formatted here."""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        if record.exc_info:
            return super().prepare(record)
        # The record goes to this one handler only, so it need not be copied.
        record.msg, record.args = record.getMessage(), None
        return record


def stop_listener(listener: logging.handlers.QueueListener) -> None:
    """Write out what is queued and stop the writer thread (once)."""
    if listener._thread is not None:  # stop() fails on a stopped listener
        listener.stop()


def setup_logging(
    secrets: Iterable[str], level: int | str = logging.INFO, stream: TextIO | None = None
) -> logging.handlers.QueueListener:
    """Log to stderr through a writer thread, masking every known secret."""
    for secret in secrets:
        add_secret(secret)
        for line in secret.splitlines():  # a PEM key also must not leak line by line
            if len(line) >= 16:
                add_secret(line)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    # Records are masked, formatted and written on a thread of their own: a log line per
    # delivery must not stall the event loop on a slow terminal or disk.
    records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    listener = logging.handlers.QueueListener(records, handler)
    listener.start()
    atexit.register(stop_listener, listener)
    root = logging.getLogger()
    root.handlers[:] = [_QueueHandler(records)]
    # The logging HOWTO's optimizations: records need no caller, thread or process details.
    logging._srcfile = None
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    root.setLevel(level)
    for noisy in ("aiohttp.access", "pgserver"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return listener
