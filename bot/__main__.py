"""Command line: serve | migrate | review | action | register | usage | eval."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import os
import signal
import socket
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

from bot.config import ConfigError, Settings, database_location, load_settings
from bot.github.repo_config import FAIL_ON
from bot.logs import setup_logging
from bot.output import FORMATS

if TYPE_CHECKING:
    from aiohttp import web

    from bot.setup import SetupSettings

log = logging.getLogger("bot")

# What only the App's server imports (the `server` extra); the command line and the Action
# run without them.
SERVER_PACKAGES = ("asyncpg", "pgserver", "psutil", "tzdata", "prometheus_client", "jinja2",
                   "aiohttp_jinja2")  # fmt: skip
SERVER_COMMANDS = ("serve", "migrate", "register", "usage")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Second Look")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="run the webhook server and the review tasks")
    commands.add_parser("migrate", help="apply database migrations and exit")
    review = commands.add_parser(
        "review", help="review a PR now (octo/widgets#12), a diff (--diff) or a branch (--git)",
        description="Exit status: 0 clean, 1 a finding at or above --fail-on, 2 a usage or "
        "configuration error, 3 the review could not run (Gemini unreachable, a quota).",
    )  # fmt: skip
    review.add_argument("pull", nargs="?", help="OWNER/REPO#NUMBER")
    what = review.add_mutually_exclusive_group()
    what.add_argument("--diff", metavar="FILE", help="a unified diff to review ('-': stdin)")
    what.add_argument("--git", metavar="BASE[..HEAD]", help="review this repository's branch")
    review.add_argument(
        "--dry-run",
        action="store_true",
        help="with OWNER/REPO#N: print what would be posted, post nothing",
    )
    review.add_argument(
        "--format", choices=FORMATS, default="text", help="text (default), markdown, json or sarif"
    )
    review.add_argument(
        "--fail-on",
        choices=FAIL_ON,
        help="exit 1 on a finding this severe (default: the repo's fail_on)",
    )
    act = commands.add_parser("action", help="review the PR of a GitHub Actions event")
    act.add_argument(
        "--fail-on",
        choices=FAIL_ON,
        help="fail the check on a finding this severe (default: the repo's)",
    )
    act.add_argument("--sarif", metavar="FILE", help="also write the findings as SARIF")
    register = commands.add_parser("register", help="register the App from app.yml")
    register.add_argument("--webhook-url", help="public URL of this server's /webhooks")
    register.add_argument("--org", help="register under this organization")
    register.add_argument("--name", help="the App's name (default: Second Look (<hostname>))")
    register.add_argument("--code", help="the code GitHub redirected with, to finish")
    register.add_argument("--github-url", help="default: GitHub's web address for GITHUB_API_URL")
    usage = commands.add_parser("usage", help="Gemini calls, tokens and cost per repo and day")
    usage.add_argument("--since", default="7d", help="how far back: Nd or Nh (default: 7d)")
    usage.add_argument("--repo", help="only this repository, OWNER/REPO")
    usage.add_argument("--format", choices=("text", "json"), default="text")
    evaluate = commands.add_parser("eval", help="score the review on labelled PRs (JSONL)")
    evaluate.add_argument("file", help="one PR per line: diff, title, body, expected findings")
    evaluate.add_argument("--format", choices=("table", "json"), default="table")
    evaluate.add_argument(
        "--results", metavar="FILE",
        help="where each PR's result is saved, and read back to resume "
        "(default: .data/eval/<name of FILE>.results.jsonl)",
    )  # fmt: skip
    evaluate.add_argument("--fresh", action="store_true", help="forget saved results first")
    evaluate.add_argument(
        "--max-wait", type=float, metavar="SECONDS",
        help="wait out a Gemini quota up to this long; a longer wait stops the run, exit 75 "
        "(default: 600)",
    )  # fmt: skip
    evaluate.add_argument(
        "--parallel", type=int, metavar="N", help="PRs reviewed at once (default: 4)"
    )
    args = parser.parse_args(argv)
    if args.command in SERVER_COMMANDS and not has_server(args.command):
        return 2
    one_line: tuple[type[Exception], ...] = (CannotStart,)
    if has_server(args.command, quiet=True):  # the action and `review --diff` need no asyncpg
        from bot.store.connect import DatabaseUnreachable

        one_line += (DatabaseUnreachable,)
    try:
        if args.command == "serve":
            return serve_or_set_up()
        if args.command == "migrate":
            return migrate()
        if args.command == "review":
            return review_command(review, args)
        if args.command == "action":
            from bot.standalone import action as action_command

            return action_command.run(args.fail_on, args.sarif)
        if args.command == "register":
            return register_app(args)
        if args.command == "eval":
            from bot import eval as eval_command

            return eval_command.run(
                args.file, args.format, results=args.results, fresh=args.fresh,
                max_wait=args.max_wait, parallel=args.parallel,
            )  # fmt: skip
        if args.command == "usage":
            from bot import usage as usage_command

            return usage_command.show(args.since, args.repo, args.format)
    except ConfigError as exc:
        print(f"second-look: configuration error: {exc}", file=sys.stderr)
        return 2
    except one_line as exc:
        # One line, no traceback: the message names what failed and never a secret.
        print(f"second-look: {exc}", file=sys.stderr)
        return 1
    parser.error(f"unknown command {args.command}")  # exits: argparse knows every command


def review_command(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """A PR with the App (published, as `serve` would); else without it (bot/standalone)."""
    if (args.pull is None) == (args.diff is None and args.git is None):
        parser.print_usage(sys.stderr)
        print("second-look: review needs one of OWNER/REPO#N, --diff FILE, --git BASE",
              file=sys.stderr)  # fmt: skip
        return 2
    if args.dry_run and args.pull is None:
        print("second-look: --dry-run goes with OWNER/REPO#N (--diff and --git never post)",
              file=sys.stderr)  # fmt: skip
        return 2
    if args.pull is not None and not args.dry_run:
        if not has_server("review OWNER/REPO#N (without --dry-run)"):
            return 2
        settings = load_settings()
        check_private_key(settings.github_private_key)
        return asyncio.run(review_once(settings, args.pull, args.fail_on))
    from bot.standalone import cli

    return cli.run(args)


def has_server(command: str, *, quiet: bool = False) -> bool:
    """Whether the server's packages are installed; if not, one line saying what to install."""
    from importlib.util import find_spec

    missing = [name for name in SERVER_PACKAGES if find_spec(name) is None]
    if missing and not quiet:
        print(f"second-look: {command} needs the App's server packages ({', '.join(missing)} "
              "missing): pip install 'second-look[server]'", file=sys.stderr)  # fmt: skip
    return not missing


class CannotStart(Exception):
    """Start-up failed for a reason outside the settings' text (a port in use, ...)."""


def _secrets(settings: Settings) -> list[str]:
    from bot.store.connect import passwords

    database = passwords(settings.database_url) if settings.database_url else set()
    return [settings.github_webhook_secret, settings.github_private_key, settings.gemini_api_key,
            *database]  # fmt: skip


def check_private_key(pem: str) -> None:
    """Refuse a key that looks like a PEM but does not load, before anything is opened."""
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    hint = "download a new private key from the App's settings page"
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except TypeError:  # a passphrase-protected key
        raise ConfigError(
            f"GITHUB_PRIVATE_KEY is encrypted with a passphrase: use the key GitHub gave, or {hint}"
        ) from None
    except (ValueError, UnsupportedAlgorithm):
        raise ConfigError(
            f"GITHUB_PRIVATE_KEY cannot be loaded as a PEM private key (truncated or damaged?): "
            f"{hint}"
        ) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ConfigError(f"GITHUB_PRIVATE_KEY is not an RSA key (GitHub signs with RS256): {hint}")


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
    from bot import setup

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

    from bot.setup import create_setup_app

    finished = asyncio.Event()
    registered = False

    def on_registered(answer: dict[str, object]) -> None:
        nonlocal registered
        registered = True
        finished.set()

    access = secrets.token_urlsafe(16)  # in the logged address: the setup page needs it
    runner = web.AppRunner(
        create_setup_app(first, on_registered, access=access), access_log=None,
        shutdown_timeout=5,
    )  # fmt: skip
    with _stopped_by_signals(finished):
        try:
            await _listen_for_setup(runner, sockets, first, access, finished)
        finally:
            await runner.cleanup()  # closes the listening sockets: `serve` binds them again
    return registered


async def _listen_for_setup(
    runner: web.AppRunner, sockets: list[socket.socket], first: SetupSettings, access: str,
    finished: asyncio.Event,
) -> None:  # fmt: skip
    from aiohttp import web

    await runner.setup()
    for sock in sockets:
        try:
            await web.SockSite(runner, sock).start()
        except OSError as exc:
            raise _cannot_listen(first.host, first.port, exc) from None
    # Not "listening on": that line says the App itself is up.
    log.info(
        "no GitHub App configured: open %s in a browser to register one",
        _setup_url(first.host, first.port) + f"?access={access}",
    )
    await finished.wait()


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
    setup_logging(_secrets(settings), level=settings.log_level, log_format=settings.log_format)
    check_private_key(settings.github_private_key)
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

    from bot.web import create_app

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
            await stopping.wait()
    finally:
        # Stop listening, let running requests finish (shutdown_timeout), then the app's
        # cleanup: the scheduler's shutdown hands unfinished reviews back.
        await runner.cleanup()
    return 0


def migrate() -> int:
    from bot.store import embedded

    setup_logging([])
    database_url, data_dir = database_location()
    dsn = database_url or embedded.start_embedded(data_dir)
    applied = asyncio.run(_migrate(dsn))
    print(f"applied {len(applied)} migration(s)" + (": " + ", ".join(applied) if applied else ""))
    return 0


async def _migrate(dsn: str) -> list[str]:
    from bot.store import connect, db

    conn = await connect.connect(dsn)  # a database away or refusing us: one line, exit 1
    try:
        return await db.migrate(conn)
    finally:
        await conn.close()


async def review_once(settings: Settings, pull: str, fail_on: str | None = None) -> int:
    """Review one PR's current head in this process, publish it, print the result; the exit
    status as `review --diff` has it (FOUND by --fail-on, else the repository's fail_on)."""
    import uuid

    import gidgethub

    from bot.github import sources
    from bot.github.client import describe
    from bot.review.findings import Finding
    from bot.services import Services
    from bot.standalone import local
    from bot.standalone.cli import parse_pull
    from bot.store import queue, reviews
    from bot.store.findings import FindingRepo
    from bot.worker import process_review

    parsed = parse_pull(pull)
    if parsed is None:
        print(f"second-look: expected OWNER/REPO#NUMBER, got {pull!r}", file=sys.stderr)
        return local.USAGE
    owner, repo, number = parsed
    setup_logging(_secrets(settings), level=settings.log_level, log_format=settings.log_format)
    async with Services.open(settings) as services:
        await services.github.learn_identity()  # to know our inline threads on the PR
        try:
            installation_id = await services.github.installation_for(owner, repo)
            gh = await services.github.api(installation_id)
            pr = await gh.getitem(f"/repos/{owner}/{repo}/pulls/{number}")
        except gidgethub.GitHubException as exc:
            print(f"second-look: {describe(exc)}", file=sys.stderr)
            return 1
        review = queue.NewReview(
            id=uuid.uuid4(), installation_id=installation_id, owner=owner, repo=repo,
            pr_number=number, head_sha=pr["head"]["sha"], base_ref=pr["base"]["ref"],
            trigger=queue.Trigger.MANUAL, draft=False,
        )  # fmt: skip
        async with services.pool.acquire() as conn:
            await queue.create(conn, [review])
        await process_review(review.id, services)
        done = await reviews.get(services.pool, review.id)
        assert done is not None
        print(f"review {review.id}: {done.status}" + (f" ({done.error})" if done.error else ""))
        if done.status != "completed":
            return local.CLEAN if done.status == "skipped" else local.COULD_NOT_RUN
        rows = await FindingRepo(services.pool).for_review(review.id)
        if fail_on is None:  # the repository's, as the check run had it
            base = await sources.read_base(services.github, installation_id, owner, repo,
                                           review.base_ref, number)  # fmt: skip
            fail_on = base.config.config.fail_on
    return local.exit_code([Finding.from_mapping(row) for row in rows], fail_on)


def register_app(args: argparse.Namespace) -> int:
    """Register without the setup pages (a headless host): write a page, then --code CODE."""
    from bot import setup
    from bot.github import manifest

    setup_logging([])
    settings = setup.read_settings()  # environment, then `.env`, as `serve` reads them
    if args.code:
        try:
            answer = asyncio.run(manifest.convert(settings.github_api_url, args.code))
        except manifest.ConversionError as exc:
            print(f"second-look: {exc}", file=sys.stderr)
            return 1
        try:
            key_path, env_path = manifest.write_credentials(answer, settings.data_dir)
        except OSError as exc:
            print(f"second-look: cannot save the App's credentials: {exc}", file=sys.stderr)
            return 1
        print(
            f"App {answer['slug']} (id {answer['id']}) registered: key in {key_path}, "
            f"settings in {env_path}. Install it on your repositories: "
            f"{answer.get('html_url', '')}/installations/new"
        )
        return 0
    if not args.webhook_url:
        print("second-look: register needs --webhook-url (or --code to finish)", file=sys.stderr)
        return 2
    if args.org and not manifest.valid_org(args.org):
        print(f"second-look: {args.org!r} is not a GitHub organization name", file=sys.stderr)
        return 2
    from urllib.parse import urlsplit

    webhook_url = args.webhook_url.strip()
    parts = urlsplit(webhook_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        print(f"second-look: --webhook-url must be an http(s) URL, got {webhook_url!r}",
              file=sys.stderr)  # fmt: skip
        return 2
    # The homepage and the redirect are under the base URL: the webhook URL's, less /webhooks.
    base_url = (
        webhook_url.rstrip("/").removesuffix("/webhooks")
        if webhook_url.rstrip("/").endswith("/webhooks")
        else f"{parts.scheme}://{parts.netloc}"
    )
    name = args.name or manifest.default_name()
    spec = manifest.manifest(base_url, name=name)
    spec["hook_attributes"]["url"] = webhook_url
    github_url = args.github_url or manifest.web_url(settings.github_api_url)
    state = manifest.new_state()
    page = settings.data_dir / "register.html"
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(manifest.registration_page(spec, github_url, state, args.org), encoding="utf-8")
    print(
        f"Open {page.resolve()} in a browser signed in to GitHub and create the App {name!r}.\n"
        f"GitHub then redirects to {spec['redirect_url']}?code=...&state={state}; "
        "copy the code from the address bar and finish with:\n"
        "  python -m bot register --code CODE"
    )
    return 0


def leave(status: int, command: str | None) -> None:
    """Exit with `status`. After `review` and `action`, whose output is written and whose
    sessions and tasks are closed, without the interpreter's teardown of every module and
    object: measured (bench/bench_local.py) 0.3 s of a 2.4 s `review --diff`."""
    if command in ("review", "action"):
        from bot import logs

        logs.flush()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
    sys.exit(status)


def entry() -> None:
    """The console script `second-look`, and `python -m bot`."""
    leave(main(), next((arg for arg in sys.argv[1:] if not arg.startswith("-")), None))


if __name__ == "__main__":
    entry()
