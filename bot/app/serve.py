"""`serve`: the App's process. On a first run (no App settings at all) the setup pages until
the App is registered; then the sockets bound, the app started, listening until SIGTERM or
SIGINT, and a graceful stop."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config import ConfigError, Settings, load_settings
from bot.logs import setup_logging

if TYPE_CHECKING:
    from aiohttp import web

    from bot.app.setup import SetupSettings

log = logging.getLogger("bot")


class CannotStart(Exception):
    """Start-up failed for a reason outside the settings' text (a port in use, ...)."""


def secrets_of(settings: Settings) -> list[str]:
    from bot.store.connect import passwords

    database = passwords(settings.database_url) if settings.database_url else set()
    return [
        settings.github_webhook_secret,
        settings.github_private_key,
        settings.gemini_api_key,
        *database,
    ]


def check_private_key(pem: str, source: str = "GITHUB_PRIVATE_KEY") -> None:
    """Refuse a key that looks like a PEM but does not load, before anything is opened.

    `source` names where it came from (Settings.github_private_key_source): the variable an
    operator set, and the file when it is GITHUB_PRIVATE_KEY_PATH.
    """
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    hint = "download a new private key from the App's settings page"
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except TypeError:  # a passphrase-protected key
        raise ConfigError(
            f"{source} is encrypted with a passphrase: use the key GitHub gave, or {hint}"
        ) from None
    except (ValueError, UnsupportedAlgorithm):
        raise ConfigError(
            f"{source} cannot be loaded as a PEM private key (truncated or damaged?): {hint}"
        ) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ConfigError(f"{source} is not an RSA key (GitHub signs with RS256): {hint}")


def _where(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _bind(host: str, port: int) -> list[socket.socket]:
    """Bind (without listening yet) a socket per address of `host`, as asyncio would.

    Taking the port before opening anything makes a port in use the first and fastest error;
    until the app is ready, a connection to it is refused rather than left waiting.
    """
    infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    sockets: list[socket.socket] = []
    try:
        for family, kind, proto, _, address in dict.fromkeys(infos):
            sock = socket.socket(family, kind, proto)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.setblocking(False)
            sock.bind(address)
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def _cannot_listen(host: str, port: int, exc: OSError) -> CannotStart:
    if isinstance(exc, socket.gaierror):
        reason = f"cannot resolve {host!r} ({exc.strerror})"
    else:
        reason = exc.strerror or str(exc)
        reason = reason[:1].lower() + reason[1:]
    return CannotStart(f"cannot listen on {_where(host, port)}: {reason}")


def serve_or_set_up() -> int:
    """`serve`; on a first run (no App settings at all), the setup pages first, then `serve`."""
    from bot.app import setup

    try:
        settings = load_settings()
    except ConfigError:
        first = setup.read_settings()  # a malformed setting is named as load_settings does
        if first.app_configured:
            raise  # some App settings are there: theirs is the error to show
        if not set_up(first):
            return 0  # stopped by a signal before the App was registered
        # Blank App settings in the environment would hide what setup wrote to `.env`.
        settings = load_settings(setup.environ_without_blank_app_settings())
    return serve(settings)


def set_up(first: SetupSettings) -> bool:
    """Serve the setup pages on HOST:PORT until the App is registered (True) or a signal."""
    setup_logging([], level=first.log_level, log_format=first.log_format)
    try:
        sockets = _bind(first.host, first.port)
    except OSError as exc:
        raise _cannot_listen(first.host, first.port, exc) from None
    try:
        return asyncio.run(_set_up(first, sockets))
    finally:
        for sock in sockets:
            sock.close()


async def _set_up(first: SetupSettings, sockets: list[socket.socket]) -> bool:
    import secrets

    from aiohttp import web

    from bot.app.setup import create_setup_app

    finished = asyncio.Event()
    registered = False

    def on_registered(answer: dict[str, object]) -> None:
        nonlocal registered
        registered = True
        finished.set()

    access = secrets.token_urlsafe(16)  # in the logged address: the setup page needs it
    runner = web.AppRunner(
        create_setup_app(first, on_registered, access=access),
        access_log=None,
        shutdown_timeout=5,
    )
    with _stopped_by_signals(finished):
        try:
            await _listen_for_setup(runner, sockets, first, access, finished)
        finally:
            await runner.cleanup()  # closes the listening sockets: `serve` binds them again
    return registered


async def _listen_for_setup(
    runner: web.AppRunner,
    sockets: list[socket.socket],
    first: SetupSettings,
    access: str,
    finished: asyncio.Event,
) -> None:
    from aiohttp import web

    await runner.setup()
    for sock in sockets:
        try:
            await web.SockSite(runner, sock).start()
        except OSError as exc:
            raise _cannot_listen(first.host, first.port, exc) from None
    # The same line as the App's: the port accepts (/healthz answers `setup` until the App
    # is registered); then where the setup page is.
    log.info("listening on %s", _where(first.host, first.port))
    key_file = _announce_setup(first, access)
    try:
        await finished.wait()
    finally:
        if key_file is not None:
            key_file.unlink(missing_ok=True)


ACCESS_KEY_FILE = "setup-access-key"  # under DATA_DIR, while the setup page is served


def _announce_setup(first: SetupSettings, access: str) -> Path | None:
    """Say where the setup page is, once. Text logs are read on this machine's terminal: the
    address carries the access key. JSON logs are shipped elsewhere: the key is written to a
    file under DATA_DIR (0600, removed once the App is registered), never to the log."""
    from bot.github.manifest import write_private

    url = _setup_url(first.host, first.port)
    if first.log_format == "text":
        log.info(
            "no GitHub App configured: open %s in a browser to register one",
            f"{url}?access={access}",
        )
        return None
    key_file = first.data_dir / ACCESS_KEY_FILE
    try:
        write_private(key_file, access + "\n")
    except OSError as exc:
        log.warning(
            "no GitHub App configured: open %s in a browser on this machine to register one "
            "(the access key another machine needs cannot be written to %s: %s)",
            url,
            key_file,
            exc.strerror or exc,
        )
        return None
    log.info(
        "no GitHub App configured: open %s in a browser to register one (from another machine, "
        "add ?access= and the key in %s)",
        url,
        key_file,
    )
    return key_file


@contextlib.contextmanager
def _stopped_by_signals(stopping: asyncio.Event) -> Iterator[None]:
    """SIGINT and SIGTERM set `stopping` (once, logged) while the block runs."""
    loop = asyncio.get_running_loop()

    def stop(signum: int) -> None:
        if not stopping.is_set():
            log.info("%s: shutting down", signal.Signals(signum).name)
            stopping.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop, signum)
    try:
        yield
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)


def _setup_url(host: str, port: int) -> str:
    shown = "localhost" if host in ("", "0.0.0.0", "::") else host  # noqa: S104
    return f"http://{_where(shown, port)}/"


def serve(settings: Settings) -> int:
    setup_logging(secrets_of(settings), level=settings.log_level, log_format=settings.log_format)
    check_private_key(settings.github_private_key, settings.github_private_key_source)
    try:
        sockets = _bind(settings.host, settings.port)
    except OSError as exc:
        raise _cannot_listen(settings.host, settings.port, exc) from None
    try:
        return asyncio.run(_serve(settings, sockets))
    finally:
        for sock in sockets:
            sock.close()


async def _serve(settings: Settings, sockets: list[socket.socket]) -> int:
    """Open the app's resources, listen until SIGTERM or SIGINT, then shut down gracefully."""
    from aiohttp import web

    from bot.app.web import create_app

    stopping = asyncio.Event()
    runner = web.AppRunner(
        create_app(settings), access_log=None, shutdown_timeout=settings.shutdown_timeout + 5
    )
    with _stopped_by_signals(stopping):
        return await _serve_until_stopped(runner, sockets, settings, stopping)


async def _serve_until_stopped(
    runner: web.AppRunner, sockets: list[socket.socket], settings: Settings, stopping: asyncio.Event
) -> int:
    from aiohttp import web

    from bot.app.web import listening

    try:
        # The app's start-up: database (a DatabaseUnreachable is one line), migrations,
        # scheduler. A signal meanwhile is answered once it is done: straight to the cleanup.
        await runner.setup()
        # What start-up loaded lives as long as the process: keep it out of the collector's
        # full passes. Measured under `make bench` webhooks: full collections of 17 to 55 ms
        # without this (the p99 of answers jumped to 70-90 ms), 5 to 23 ms with it.
        gc.freeze()
        if not stopping.is_set():
            for sock in sockets:
                try:
                    await web.SockSite(runner, sock).start()
                except OSError as exc:
                    raise _cannot_listen(settings.host, settings.port, exc) from None
            log.info("listening on %s", _where(settings.host, settings.port))
            listening(runner.app)  # every socket accepts: redelivery may begin
            await stopping.wait()
    finally:
        # Stop listening, let running requests finish (shutdown_timeout), then the app's
        # cleanup: the scheduler's shutdown hands unfinished reviews back.
        await runner.cleanup()
    return 0
