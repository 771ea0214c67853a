"""Command line: serve | migrate | review | register."""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import sys
from pathlib import Path

from bot.config import ConfigError, Settings, database_location, load_settings
from bot.logs import setup_logging

log = logging.getLogger("bot")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Second Look")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="run the webhook server and the review tasks")
    commands.add_parser("migrate", help="apply database migrations and exit")
    review = commands.add_parser("review", help="review one PR now, e.g. octo/widgets#12")
    review.add_argument("pull", help="OWNER/REPO#NUMBER")
    register = commands.add_parser("register", help="register the App from app.yml")
    register.add_argument("--webhook-url", help="public URL of this server's /webhooks")
    register.add_argument("--org", help="register under this organization")
    register.add_argument("--code", help="the code GitHub redirected with, to finish")
    register.add_argument("--github-url", default="https://github.com")
    args = parser.parse_args(argv)
    try:
        if args.command == "serve":
            return serve(load_settings())
        if args.command == "migrate":
            return migrate()
        if args.command == "review":
            return asyncio.run(review_once(load_settings(), args.pull))
        if args.command == "register":
            return register_app(args)
    except ConfigError as exc:
        print(f"second-look: configuration error: {exc}", file=sys.stderr)
        return 2
    parser.error(f"unknown command {args.command}")
    return 2


def _secrets(settings: Settings) -> list[str]:
    return [settings.github_webhook_secret, settings.github_private_key, settings.gemini_api_key]


def serve(settings: Settings) -> int:
    from aiohttp import web

    from bot.web import create_app

    setup_logging(_secrets(settings), level=settings.log_level)
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


async def review_once(settings: Settings, pull: str) -> int:
    """Review one PR's current head in this process and print the result."""
    from bot.github.client import GitHubError
    from bot.services import Services
    from bot.store import reviews
    from bot.worker import process_review

    match = re.fullmatch(r"([\w.-]+)/([\w.-]+)#(\d+)", pull)
    if not match:
        print(f"second-look: expected OWNER/REPO#NUMBER, got {pull!r}", file=sys.stderr)
        return 2
    owner, repo, number = match.group(1), match.group(2), int(match.group(3))
    setup_logging(_secrets(settings), level=settings.log_level)
    async with Services.open(settings) as services:
        try:
            installation_id = await services.github.installation_for(owner, repo)
            gh = await services.github.api(installation_id)
            pr = await gh.getitem(f"/repos/{owner}/{repo}/pulls/{number}")
        except GitHubError as exc:
            print(f"second-look: {exc}", file=sys.stderr)
            return 1
        async with services.pool.acquire() as conn:
            review_id = await reviews.create(
                conn,
                delivery_id=None,
                installation_id=installation_id,
                owner=owner,
                repo=repo,
                pr_number=number,
                head_sha=pr["head"]["sha"],
                base_ref=pr["base"]["ref"],
                trigger="manual",
            )
        await process_review(review_id, services)
        done = await reviews.get(services.pool, review_id)
    assert done is not None
    print(f"review {review_id}: {done.status}" + (f" ({done.error})" if done.error else ""))
    return 0 if done.status == "completed" else 1


def register_app(args: argparse.Namespace) -> int:
    from bot.github import manifest

    setup_logging([])
    if args.code:
        api_url = load_api_url()
        answer = asyncio.run(manifest.convert(api_url, args.code))
        key_path, env_path = manifest.write_credentials(answer, Path(".data"))
        print(
            f"App {answer['slug']} (id {answer['id']}) registered: key in {key_path}, "
            f"settings in {env_path}. Install it on your repositories: {answer['html_url']}"
        )
        return 0
    if not args.webhook_url:
        print("second-look: register needs --webhook-url (or --code to finish)", file=sys.stderr)
        return 2
    spec = manifest.manifest(args.webhook_url, redirect_url=args.webhook_url.rsplit("/", 1)[0])
    page = Path(".data/register.html")
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(manifest.registration_page(spec, args.github_url, args.org), encoding="utf-8")
    print(
        f"Open {page.resolve()} in a browser signed in to GitHub and create the App.\n"
        "GitHub then redirects to your server's URL with ?code=...; finish with:\n"
        "  python -m bot register --code CODE"
    )
    return 0


def load_api_url() -> str:
    import os

    return os.environ.get("GITHUB_API_URL", "https://api.github.com").rstrip("/")


if __name__ == "__main__":
    sys.exit(main())
