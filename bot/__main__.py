"""Command line: serve | migrate."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from bot.config import ConfigError, Settings, database_location, load_settings
from bot.logs import setup_logging

log = logging.getLogger("bot")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Second Look")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="run the webhook server and the review tasks")
    commands.add_parser("migrate", help="apply database migrations and exit")
    args = parser.parse_args(argv)
    try:
        if args.command == "serve":
            return serve(load_settings())
        if args.command == "migrate":
            return migrate()
    except ConfigError as exc:
        print(f"second-look: configuration error: {exc}", file=sys.stderr)
        return 2
    parser.error(f"unknown command {args.command}")
    return 2


def serve(settings: Settings) -> int:
    from aiohttp import web

    from bot.web import create_app

    setup_logging([settings.github_webhook_secret, settings.github_private_key,
                   settings.gemini_api_key])
    log.info("listening on %s:%d", settings.host, settings.port)
    web.run_app(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        print=None,
        shutdown_timeout=settings.shutdown_timeout + 5,
        access_log=None,
    )
    return 0


def migrate() -> int:
    from bot.store import db

    setup_logging([])
    database_url, data_dir = database_location()
    dsn = database_url or db.start_embedded(data_dir)
    applied = asyncio.run(db.migrate(dsn))
    print(f"applied {len(applied)} migration(s)" + (": " + ", ".join(applied) if applied else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
