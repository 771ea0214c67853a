"""Logging set-up, with a filter that masks secrets in every record.

Masked: whatever looks like a secret, known or not (GitHub tokens, Google API keys, PEM
private keys: `MASKED_SHAPES`, one compiled regex), and every known secret (`add_secret`).
`redact` is the one place that does it, for every record: it stays one regex scan and a
substring test per known secret the shapes would not mask anyway (installation tokens are
held, for their expiry, but cost nothing here).

Context: `bound(review_id=..., repository=..., pr=...)` (contextvars) puts fields on every
record emitted inside it, in this task and in the tasks it creates. Lines are text (a
`[octo/widgets#7 review 1a2b3c4d]` prefix names the context) or JSON, one object a line
(`setup_logging(..., log_format="json")`).
"""

from __future__ import annotations

import atexit
import contextlib
import contextvars
import copy
import json
import logging
import logging.handlers
import math
import queue
import re
import sys
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from types import MappingProxyType
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


# The fields bound to what runs now (`bound`, `bind`); never changed in place.
_context: contextvars.ContextVar[Mapping[str, object]] = contextvars.ContextVar(
    "log_context", default=MappingProxyType({})
)
CONTEXT = "log_context"  # the LogRecord attribute that holds them, set as a record is made
FIELDS = ("delivery_id", "review_id", "job_id", "repository", "pr")  # the usual ones


def _merged(fields: Mapping[str, object]) -> Mapping[str, object]:
    """The current fields with these (masked, None dropped) over them."""
    added = {
        name: redact(value) if isinstance(value, str) else value
        for name, value in fields.items()
        if value is not None
    }
    return MappingProxyType({**_context.get(), **added})


@contextlib.contextmanager
def bound(**fields: object) -> Iterator[None]:
    """Every record emitted inside carries these fields (None values are left out).

    `with logs.bound(delivery_id=delivery_id):`. An asyncio task copies the context when it
    is created: one created inside carries them too; one running already does not.
    """
    token = _context.set(_merged(fields))
    try:
        yield
    finally:
        _context.reset(token)


def bind(**fields: object) -> None:
    """Add fields to the current context until the enclosing `bound` ends (or the task does).

    For what is learnt midway (a review's repository, once its row is claimed).
    """
    _context.set(_merged(fields))


def context() -> Mapping[str, object]:
    """The fields bound now."""
    return _context.get()


_make_record = logging.getLogRecordFactory()


def _record_with_context(*args: object, **kwargs: object) -> logging.LogRecord:
    record = _make_record(*args, **kwargs)
    record.__dict__[CONTEXT] = _context.get()  # read here: records are written on a thread
    return record


if getattr(_make_record, "__name__", "") != _record_with_context.__name__:  # once
    logging.setLogRecordFactory(_record_with_context)


def context_of(record: logging.LogRecord) -> Mapping[str, object]:
    fields: Mapping[str, object] = getattr(record, CONTEXT, None) or {}
    return fields


def text_prefix(fields: Mapping[str, object]) -> str:
    """`[octo/widgets#7 review 1a2b3c4d]`: the context, short, for a text line."""
    parts = []
    repository, pr = fields.get("repository"), fields.get("pr")
    if repository is not None:
        parts.append(f"{repository}#{pr}" if pr is not None else str(repository))
    elif pr is not None:
        parts.append(f"#{pr}")
    for name, value in fields.items():
        if name in ("repository", "pr"):
            continue
        text = str(value)
        if name in ("review_id", "job_id", "delivery_id"):
            parts.append(f"{name.removesuffix('_id')} {text[:8]}")
        else:
            parts.append(f"{name}={text}")
    if not parts:
        return ""
    prefix = " ".join(parts)
    return f"[{prefix if prefix.isprintable() else repr(prefix)[1:-1]}]"


class TextFormatter(logging.Formatter):
    """`2024-05-01 12:00:00,123 INFO bot.app.worker: [octo/widgets#7 review 1a2b3c4d] ...`."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        prefix = text_prefix(context_of(record))
        if prefix:
            record.message = f"{prefix} {record.message}"
        return super().formatMessage(record)


_CORE = frozenset({"time", "level", "logger", "message", "exc", "stack"})


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, the bound fields, exc."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name, value in context_of(record).items():
            if name not in _CORE:
                plain = isinstance(value, int | float | bool)  # pr stays a number
                entry[name] = value if plain else str(value)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        # ASCII only: a newline, or a U+2028 some readers split on, is always escaped.
        return json.dumps(entry, default=str)


FORMATTERS: dict[str, type[logging.Formatter]] = {"text": TextFormatter, "json": JsonFormatter}


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
    """Hand records to the writer thread; the message and a traceback are formatted here."""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        exc_info = record.exc_info
        if exc_info:
            # The traceback is text from now on (kept apart from the message, for JSON's
            # `exc`); a copy, as the standard handler does, for the record holds frames.
            record = copy.copy(record)
            if not record.exc_text:
                record.exc_text = _plain.formatException(exc_info)
            record.exc_info = None
        # Otherwise the record goes to this one handler only, so it need not be copied.
        record.msg, record.args = record.getMessage(), None
        return record


_plain = logging.Formatter()
_listeners: list[logging.handlers.QueueListener] = []  # started by setup_logging


def stop_listener(listener: logging.handlers.QueueListener) -> None:
    """Write out what is queued and stop the writer thread (once)."""
    if listener._thread is not None:  # stop() fails on a stopped listener
        listener.stop()


def flush() -> None:
    """Write out every queued line and stop the writer threads: before an exit that skips the
    interpreter's teardown (and its atexit hooks)."""
    for listener in _listeners:
        stop_listener(listener)


def setup_logging(
    secrets: Iterable[str],
    level: int | str = logging.INFO,
    stream: TextIO | None = None,
    log_format: str = "text",
) -> logging.handlers.QueueListener:
    """Log to stderr through a writer thread, masking every known secret.

    `log_format`: "text" (a line per record, a traceback on the lines after it) or "json"
    (one JSON object a line, whatever the record holds).
    """
    formatter = FORMATTERS[log_format]()  # LOG_FORMAT is checked with the settings
    for secret in secrets:
        add_secret(secret)
        for line in secret.splitlines():  # a PEM key also must not leak line by line
            if len(line) >= 16:
                add_secret(line)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter)
    handler.addFilter(RedactingFilter())
    # Records are masked, formatted and written on a thread of their own: a log line per
    # delivery must not stall the event loop on a slow terminal or disk.
    records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    listener = logging.handlers.QueueListener(records, handler)
    listener.start()
    _listeners.append(listener)
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
