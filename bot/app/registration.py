"""`register`: the App registered from app.yml without the setup pages (a headless host): a
page to open in a browser, then `register --code CODE` to finish."""

from __future__ import annotations

import argparse
import asyncio
import sys
from urllib.parse import urlsplit

from bot.app import public_url, setup
from bot.github import manifest
from bot.github.client import web_url
from bot.logs import setup_logging


def run(args: argparse.Namespace) -> int:
    """Register without the setup pages (a headless host): write a page, then --code CODE."""
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
    webhook_url = args.webhook_url.strip()
    parts = urlsplit(webhook_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        print(
            f"second-look: --webhook-url must be an http(s) URL, got {webhook_url!r}",
            file=sys.stderr,
        )
        return 2
    # The homepage and the redirect are under the base URL: the webhook URL's, less /webhooks.
    base_url = (
        webhook_url.rstrip("/").removesuffix("/webhooks")
        if webhook_url.rstrip("/").endswith("/webhooks")
        else f"{parts.scheme}://{parts.netloc}"
    )
    for warning in public_url.warnings(base_url, settings.port, webhook_url):
        print(f"second-look: warning: {warning}", file=sys.stderr)
    name = args.name or manifest.default_name()
    spec = manifest.manifest(base_url, name=name)
    spec["hook_attributes"]["url"] = webhook_url
    github_url = args.github_url or web_url(settings.github_api_url)
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
