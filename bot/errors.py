"""What a failure says, written once for every place that shows one: the dashboard, the log
lines, the PR and the command line. One readable sentence: GitHub's answer and the request it
was to; Gemini's status and message; for a connection, the exception's type and the host it
could not reach. Never an exception's repr, never a traceback, never a secret (bot/logs.redact).
"""

from __future__ import annotations

import os
import socket
import ssl

import aiohttp
import gidgethub

from bot.logs import redact

LIMIT = 1000  # characters of a sentence, at most
MESSAGE_CHARS = 200  # of a service's own message, inside a sentence


def describe(exc: BaseException) -> str:
    """`exc` as one line for a person:

    - `GitHub answered 404 to GET /repos/o/r/pulls/7: Not Found`
    - `GitHub failed to POST /x: ClientConnectorError: cannot connect to 127.0.0.1:9 (Connection
      refused)`
    - a message of ours (an exception defined in bot/) as it is written;
    - anything else as `Type: message` (`TimeoutError: no answer in time`).
    """
    if isinstance(exc, gidgethub.GitHubException):
        text = _github(exc)
    elif isinstance(exc, aiohttp.ClientConnectorError):
        text = _connection(exc)
    elif type(exc).__module__.split(".")[0] == "bot":
        text = str(exc) or type(exc).__name__
    else:
        said = _said(exc)
        text = f"{type(exc).__name__}: {said}" if said else type(exc).__name__
    return _one_line(text)


def gemini(status: str, message: str, attempts: int) -> str:
    """`Gemini answered 503 UNAVAILABLE: overloaded (after 4 attempts)`; for a call with no
    answer, `connection error: ClientConnectorError: cannot connect to ... (after 4 attempts)`."""
    message = " ".join(message.split())
    if len(message) > MESSAGE_CHARS:
        message = message[: MESSAGE_CHARS - 1] + "…"
    status = " ".join(status.split())
    what = f"Gemini answered {status}" if status[:1].isdigit() else status or "failed"
    noun = "attempt" if attempts == 1 else "attempts"
    said = f": {message}" if message else ""
    return _one_line(f"{what}{said} (after {attempts} {noun})")


def _github(exc: gidgethub.GitHubException) -> str:
    request = getattr(exc, "request", "")
    to = f" to {request}" if request else ""
    if isinstance(exc, gidgethub.HTTPException):
        return f"GitHub answered {int(exc.status_code)}{to}: {exc}"
    return f"GitHub failed{to}: {exc}"


def _connection(exc: aiohttp.ClientConnectorError) -> str:
    """aiohttp's own text ends in the OS error's repr ("[Connect call failed ('h', 9)]")."""
    cause = getattr(exc, "certificate_error", None) or exc.os_error
    return f"{type(exc).__name__}: cannot connect to {exc.host}:{exc.port} ({_reason(cause)})"


def _reason(cause: BaseException) -> str:
    if isinstance(cause, ssl.SSLCertVerificationError) and cause.verify_message:
        return f"certificate: {cause.verify_message}"
    if isinstance(cause, OSError):
        number = cause.errno
        if isinstance(number, int) and number > 0 and not isinstance(cause, socket.gaierror):
            return os.strerror(number)
        if cause.strerror:
            return str(cause.strerror)
    return _said(cause) or type(cause).__name__


def _said(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError) and not str(exc).strip():
        return "no answer in time"
    if isinstance(exc, OSError) and exc.strerror:
        where = f": {exc.filename}" if exc.filename is not None else ""
        return f"{exc.strerror}{where}"
    return str(exc)


def _one_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    text = redact(" ".join(lines[0].split()) if lines else "")
    return text if len(text) <= LIMIT else text[: LIMIT - 1] + "…"
