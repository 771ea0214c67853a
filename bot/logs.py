"""Logging set-up, with a filter that masks secrets in every record.

Masked: whatever looks like a secret, known or not (GitHub tokens, Google API keys, PEM
private keys: `MASKED_SHAPES`, one compiled regex), and every known secret (`add_secret`).
`redact` is the one place that does it, for every record: it stays one regex scan and a
substring test per known secret the shapes would not mask anyway (installation tokens are
held, for their expiry, but cost nothing here).
"""

from __future__ import annotations

import atexit
import logging
import logging.handlers
import math
import queue
import re
import sys
import threading
import time
from collections.abc import Iterable
from typing import TextIO

# Shapes of secrets, masked whatever their value.
MASKED_SHAPES = (
    r"gh[pousr]_[A-Za-z0-9]{36,}"  # GitHub tokens: installation, personal, OAuth, ...
    r"|github_pat_[A-Za-z0-9_]{22,}"  # fine-grained personal access tokens
    r"|AIza[0-9A-Za-z_-]{35}"  # Google API keys (Gemini)
    # A PEM private key, across lines; one cut short (no END line) is masked to the end.
    r"|-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----(?:.*?-----END [A-Z0-9 ]*PRIVATE KEY-----|.*)"
)
_shapes = re.compile(MASKED_SHAPES, re.DOTALL)
MASK = "***"
MAX_SECRETS = 1000  # known secrets held at most
EXPIRY_CHECK_EVERY = 1000  # redactions between two looks for expired secrets

_lock = threading.Lock()  # held to change the three below
# Known secret -> when it expires (a time.time() value; inf: never), oldest first.
_secrets: dict[str, float] = {}
_next_expiry = math.inf
# What `redact` looks for besides the shapes: the known secrets they do not match, longest
# first (one containing another is masked whole). Replaced, never changed in place, so the
# log writer thread can read it while the event loop adds a token.
_unshaped: tuple[str, ...] = ()
_countdown = EXPIRY_CHECK_EVERY


def add_secret(value: str, expires_at: float | None = None) -> None:
    """Mask `value` in every log line from now on, until `expires_at` (time.time()) if given.

    Installation tokens are added as they are minted, with their expiry; the App's own
    secrets (key, webhook secret, Gemini key) without one. At most MAX_SECRETS are held:
    past that the oldest with an expiry is dropped (or, if none has one, the oldest).
    """
    if not value or len(value) < 6:
        return
    expiry = math.inf if expires_at is None else expires_at
    with _lock:
        # Added again: the later expiry holds, and it counts as the newest.
        known = _secrets.pop(value, None)
        _secrets[value] = expiry if known is None else max(expiry, known)
        changed = _drop_expired(time.time())
        if known is None:
            changed.append(value)
        while len(_secrets) > MAX_SECRETS:
            expiring = (s for s, e in _secrets.items() if e != math.inf)
            oldest = next(expiring, None) or next(iter(_secrets))
            del _secrets[oldest]
            changed.append(oldest)
        _changed(changed)


def forget_secrets() -> None:
    """Forget every known secret (the shapes are still masked)."""
    global _next_expiry, _unshaped
    with _lock:
        _secrets.clear()
        _next_expiry, _unshaped = math.inf, ()


def secret_count() -> int:
    """How many known secrets are held (never more than MAX_SECRETS)."""
    return len(_secrets)


def redact(text: str) -> str:
    """`text` with whatever looks like a secret, and every known secret, replaced by ***."""
    global _countdown
    _countdown -= 1
    if _countdown <= 0:
        _countdown = EXPIRY_CHECK_EVERY
        if _next_expiry <= time.time():
            with _lock:
                _changed(_drop_expired(time.time()))
    # The shapes first: a whole PEM block is masked before its (known) first line would be.
    text = _shapes.sub(MASK, text)
    for secret in _unshaped:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def _drop_expired(now: float) -> list[str]:
    """Drop the secrets expired at `now` (under the lock); they are returned."""
    if _next_expiry > now:
        return []
    expired = [secret for secret, expiry in _secrets.items() if expiry <= now]
    for secret in expired:
        del _secrets[secret]
    return expired


def _changed(secrets: Iterable[str]) -> None:
    """These secrets came or went (under the lock)."""
    global _next_expiry, _unshaped
    _next_expiry = min(_secrets.values(), default=math.inf)
    if any(_shapes.fullmatch(secret) is None for secret in secrets):
        unshaped = (s for s in _secrets if _shapes.fullmatch(s) is None)
        _unshaped = tuple(sorted(unshaped, key=len, reverse=True))


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = redact(record.getMessage()), None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class _QueueHandler(logging.handlers.QueueHandler):
    """Hand records to the writer thread; only a traceback is formatted here."""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        if record.exc_info:
            prepared: logging.LogRecord = super().prepare(record)
            return prepared
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
