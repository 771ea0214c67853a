"""The first-run setup pages' HTML (bot/app/setup.py serves them): the form with its
warnings, and the page that says the App is registered. Every value is escaped; the Gemini
key is never written into a page."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.github import manifest

GEMINI_KEYS_PAGE = "https://aistudio.google.com/apikey"

_STYLE = (
    "<style>body{font-family:system-ui,sans-serif;max-width:40em;margin:3em auto;padding:0 1em}"
    "label{display:block;margin:1em 0 .2em}input{width:100%;padding:.3em;box-sizing:border-box}"
    "small{display:block}button{display:block;margin-top:1.5em;padding:.5em 1em}"
    "code{overflow-wrap:anywhere}"
    ".warning{border-left:.3em solid #b35900;background:#fff4e5;padding:.2em 1em;margin:.5em 0}"
    "</style>"
)


def page(title: str, body: str, status: int = 200, nonce: str = "") -> web.Response:
    """A whole page: `body` is HTML already escaped; scripts only with `nonce`."""
    script = f"'nonce-{nonce}'" if nonce else "'none'"
    response = web.Response(
        text=f'<!doctype html><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title>{_STYLE}<h1>{html.escape(title)}</h1>{body}",
        status=status,
        content_type="text/html",
    )
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; style-src 'unsafe-inline'; script-src {script}; "
        "frame-ancestors 'none'; base-uri 'none'"
    )
    return response


def _prose(text: str) -> str:
    """`text` escaped, its `spans` as code."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text))


def _warnings(paragraphs: list[str]) -> str:
    return "".join(
        f'<div class="warning" role="alert"><p>{_prose(p)}</p></div>' for p in paragraphs
    )


@dataclass(frozen=True)
class GeminiKey:
    """What this server knows of GEMINI_API_KEY before the form is posted."""

    set: bool = False  # it has a value, from the environment or `.env`
    in_environment: bool = False  # the process environment has it (blank or not): it wins

    def hint(self) -> str:
        """The form field's hint."""
        if self.in_environment and self.set:
            return (
                "GEMINI_API_KEY is set in this server's environment, which wins over .env: "
                "leave this empty."
            )
        if self.in_environment:
            return (
                "GEMINI_API_KEY is set, empty, in this server's environment, which wins over "
                ".env: a key entered here is written to .env and read once that variable is "
                "unset."
            )
        if self.set:
            return "A key is in .env already: leave this empty to keep it, or enter another."
        return (
            f"Optional. Get one at {GEMINI_KEYS_PAGE}; it is written to .env with the App's "
            "settings, readable by you only. Without it Second Look starts, and each review "
            "fails until GEMINI_API_KEY is set."
        )

    def outcome(self, entered: bool, env_path: Path) -> str:
        """What the registered page says of the key, as HTML."""
        where = html.escape(str(env_path))
        if entered and not self.in_environment:
            return f"<p>The Gemini API key is in {where} too.</p>"
        if entered:
            return _warnings(
                [
                    f"The Gemini API key was written to {env_path}, but GEMINI_API_KEY in this "
                    "server's environment wins over it: unset it there (or set the key there) "
                    "and restart Second Look."
                ]
            )
        if self.set:
            return "<p>Reviews use the GEMINI_API_KEY already set.</p>"
        fix = (
            "set GEMINI_API_KEY in this server's environment"
            if self.in_environment
            else f"add the line `GEMINI_API_KEY=<your key>` to {env_path}"
        )
        return _warnings(
            [
                "No Gemini API key is set: the first review will fail (its check run on the PR "
                f"says so) until GEMINI_API_KEY is set. Get a key at {GEMINI_KEYS_PAGE}, {fix}, "
                "and restart Second Look (Ctrl+C where it runs, then `make run`): settings are "
                "read once at start-up."
            ]
        )


@dataclass(frozen=True)
class Form:
    """The setup form's values: never the Gemini key, which is not sent back."""

    name: str
    org: str
    base_url: str
    access: str = ""
    gemini: GeminiKey = GeminiKey()
    problem: str = ""  # why the post was not taken
    warnings: tuple[str, ...] = ()  # why GitHub may not reach base_url (bot/app/public_url.py)
    key_dropped: bool = False  # a key was posted with a form that comes back: enter it again


def form_page(form: Form) -> web.Response:
    """The form; with warnings, `acknowledged` carries the base URL they were shown for, so
    posting it unchanged goes on (a warning, not a refusal)."""

    def field(label: str, key: str, value: str, hint: str, extra: str = "") -> str:
        return (
            f'<label for="{key}">{label}</label>'
            f'<input id="{key}" name="{key}" value="{html.escape(value, quote=True)}"{extra}>'
            f"<small>{hint}</small>"
        )

    error = (
        f'<p role="alert"><strong>{html.escape(form.problem)}</strong></p>' if form.problem else ""
    )
    acknowledged = (
        f'<input type="hidden" name="acknowledged" value="{html.escape(form.base_url, True)}">'
        if form.warnings
        else ""
    )
    again = (
        '<p role="alert">Enter the Gemini API key again: it is never sent back to the browser.</p>'
        if form.key_dropped
        else ""
    )
    button = "Create the GitHub App anyway" if form.warnings else "Create the GitHub App on GitHub"
    response = page(
        "Set up Second Look",
        "<p>No GitHub App is configured yet. Create one from this server's manifest: GitHub "
        "asks you to confirm, then sends you back here and Second Look starts.</p>"
        f'{error}<form method="post" action="/setup">'
        f'<input type="hidden" name="access" value="{html.escape(form.access, quote=True)}">'
        + field("App name", "name", form.name, f"at most {manifest.NAME_LIMIT} characters")
        + field("Organization (optional)", "org", form.org, "leave empty to own it yourself")
        + field(
            "Public base URL",
            "base_url",
            form.base_url,
            "where GitHub reaches this server: it must reach /webhooks under it",
        )
        + _warnings(list(form.warnings))
        + acknowledged
        + again
        + field(
            "Gemini API key (optional)",
            "gemini_api_key",
            "",
            html.escape(form.gemini.hint()),
            ' type="password" autocomplete="off"',
        )
        + f'<button type="submit">{button}</button></form>',
        status=400 if form.problem else 200,
    )
    # Under no-referrer a browser posts this form with `Origin: null`; same-origin keeps the
    # page's origin for our own post and still sends nothing to another site.
    response.headers["Referrer-Policy"] = "same-origin"
    return response


def registered_page(
    answer: dict[str, Any], key_path: Path, env_path: Path, gemini: str
) -> web.Response:
    """The App is registered: where its credentials are, what to do next; `gemini` is
    GeminiKey.outcome's HTML."""
    app_url = str(answer.get("html_url") or "")
    install = f"{app_url}/installations/new" if app_url else ""
    links = (
        f'<p>The App: <a href="{html.escape(app_url, quote=True)}">{html.escape(app_url)}</a></p>'
        f'<p><a href="{html.escape(install, quote=True)}">Install it on your repositories</a>.</p>'
        if app_url
        else ""
    )
    return page(
        f"{answer.get('name') or answer['slug']} is registered",
        f"{links}<p>The key is in {html.escape(str(key_path))} and the settings in "
        f"{html.escape(str(env_path))}. Second Look now starts on this address.</p>{gemini}"
        "<p>Next: install the App on a repository and open a pull request there. Its review "
        "shows on the PR (a check run named Second Look, a summary comment, inline comments on "
        'the lines of its findings) and on this server\'s <a href="/dashboard">dashboard</a> '
        "(README, Dashboard: it needs DASHBOARD_TOKEN, or HOST=127.0.0.1 for this machine "
        "only).</p>",
    )
