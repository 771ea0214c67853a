"""Connecting to PostgreSQL, and saying in one line, without the password, why it failed."""

from __future__ import annotations

import os
import re
import socket

import asyncpg


class DatabaseUnreachable(Exception):
    """The database cannot be reached, started or logged in to; the message is one line
    that names the URL with its password masked."""


CONNECT_TIMEOUT = 10.0
# Refusals by a server that answered: wrong password, unknown role or database, no pg_hba entry.
_REFUSED: tuple[type[BaseException], ...] = (
    asyncpg.InvalidPasswordError,
    asyncpg.InvalidAuthorizationSpecificationError,
    asyncpg.InvalidCatalogNameError,
)
# No server to talk to, or one that will not take a connection now.
_AWAY: tuple[type[BaseException], ...] = (
    OSError,  # ConnectionRefusedError, socket.gaierror, a missing socket file, ...
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.InterfaceError,  # ClientConfigurationError (a malformed URL), a dropped connection
)


def unreachable(exc: BaseException) -> bool:
    """`exc` says the database could not be reached (no server, a name that does not resolve,
    a dropped connection), as a statement's or a pool's failure."""
    return isinstance(exc, _AWAY)


_PASSWORD_PARAM = re.compile(r"(^|&)((?:ssl)?password)=([^&]*)")


def _parts(dsn: str) -> tuple[str, str, str | None, str, str] | None:
    """(scheme, user, password, the rest up to `?`, query) of a URL; None if it is not one.

    The user part ends at the last `@` before any `?`, so a password with an unescaped `/` or
    `@` in it is still taken whole.
    """
    scheme, sep, rest = dsn.partition("://")
    if not sep:
        return None
    base, _, query = rest.partition("?")
    userinfo, at, after = base.rpartition("@")
    if not at:
        return scheme, "", None, base, query
    user, colon, password = userinfo.partition(":")
    return scheme, user, password if colon else None, after, query


def masked_url(dsn: str) -> str:
    """The URL without its password (in the user part or a `password=` parameter)."""
    parts = _parts(dsn)
    if parts is None:
        return "the configured URL"
    scheme, user, _, after, query = parts
    url = f"{scheme}://{user}@{after}" if user else f"{scheme}://{after}"
    query = _PASSWORD_PARAM.sub(r"\1\2=***", query)
    return f"{url}?{query}" if query else url


def passwords(dsn: str) -> set[str]:
    """The password a database URL carries (as written and decoded), to keep out of logs."""
    from urllib.parse import unquote

    parts = _parts(dsn)
    if parts is None:
        return {dsn} if dsn else set()
    found = [m.group(3) for m in _PASSWORD_PARAM.finditer(parts[4])]
    found.append(parts[2] or "")
    return {value for raw in found if raw for value in (raw, unquote(raw))}


def _reason(exc: BaseException, timeout: float) -> str:
    """What went wrong, in a few words on one line."""
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve the host name ({exc.strerror})"
    if isinstance(exc, TimeoutError):
        return f"no answer within {timeout:g} s"
    if isinstance(exc, OSError) and exc.strerror:
        text = exc.strerror
    else:
        text = str(exc) or type(exc).__name__
        # asyncio's "Multiple exceptions: [Errno 111] ..., [Errno 111] ..." for a host with
        # several addresses: one errno for all of them says it best.
        errnos = set(re.findall(r"\[Errno (\d+)\]", text))
        if isinstance(exc, OSError) and len(errnos) == 1:
            text = os.strerror(int(errnos.pop()))
    text = " ".join(text.split())
    return text[:1].lower() + text[1:]


def connect_error(dsn: str, exc: BaseException, timeout: float = CONNECT_TIMEOUT) -> str:
    """The one line that says why connecting to `dsn` failed, never with its password."""
    verb = "log in to" if isinstance(exc, _REFUSED) else "reach"
    line = f"cannot {verb} the database at {masked_url(dsn)}: {_reason(exc, timeout)}"
    for password in passwords(dsn):
        line = line.replace(password, "***")
    return line


async def connect(dsn: str, *, timeout: float = CONNECT_TIMEOUT) -> asyncpg.Connection:
    """Open one connection; a database that is away or refuses us raises DatabaseUnreachable."""
    try:
        return await asyncpg.connect(dsn, timeout=timeout)
    except (*_REFUSED, *_AWAY) as exc:
        raise DatabaseUnreachable(connect_error(dsn, exc, timeout)) from exc
