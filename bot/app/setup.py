"""First run: with no App settings, `serve` offers these pages to register the App with GitHub.

GET / asks for the App's name, the organization (optional) and the public base URL; the form's
POST answers a page that posts the manifest to GitHub with a fresh `state`. GitHub redirects the
browser to /setup/callback?code=...&state=...: the state is checked, the code exchanged for
the App's id, key and webhook secret, which are written to DATA_DIR and `.env`, and
`on_registered` is called once the answer page is sent, so `serve` can start the real App.
"""

from __future__ import annotations

import hmac
import html
import logging
import os
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from pydantic import Field, field_validator

from bot.app import remote
from bot.config import Network, _Environment, _read
from bot.github import manifest
from bot.github.client import web_url

log = logging.getLogger(__name__)

STATE_TTL = 3600.0  # GitHub's code lasts an hour too
MAX_STATES = 1000  # pending registrations kept; the oldest go first
# Every setting that says an App is configured; with none of them set, `serve` runs setup.
APP_SETTINGS = (
    "GITHUB_APP_ID",
    "GITHUB_PRIVATE_KEY",
    "GITHUB_PRIVATE_KEY_PATH",
    "GITHUB_WEBHOOK_SECRET",
)


@dataclass(frozen=True)
class SetupSettings:
    """What the setup pages need: where to listen, where GitHub is, where to write the key."""

    github_api_url: str = "https://api.github.com"
    data_dir: Path = Path(".data")
    host: str = "0.0.0.0"  # noqa: S104 - as `serve`
    port: int = 8080
    log_level: str = "INFO"
    log_format: str = "text"
    app_configured: bool = False  # one of APP_SETTINGS is set (for `serve`: not a first run)
    trusted_proxies: tuple[Network, ...] = ()


class _SetupEnvironment(_Environment):
    """Every setting, checked as `serve` checks them, but the App's own may be unset."""

    github_app_id: str | None = Field(None, validation_alias="GITHUB_APP_ID")  # type: ignore[assignment]
    github_webhook_secret: str | None = Field(  # type: ignore[assignment]
        None, validation_alias="GITHUB_WEBHOOK_SECRET", repr=False
    )
    private_key_from_file: str | None = Field(
        None, validation_alias="GITHUB_PRIVATE_KEY_PATH", repr=False
    )

    @field_validator("private_key_from_file")
    @classmethod
    def _key_file(cls, path: str | None) -> str | None:  # type: ignore[override]
        return path  # the path as given: a registration replaces it, nothing reads it here


def read_settings(
    environ: Mapping[str, str] | None = None, dotenv: Path | None = Path(".env")
) -> SetupSettings:
    """The settings as `serve` reads them (environment, then `.env`), App settings optional.

    Raises ConfigError for a malformed setting, as load_settings does.
    """
    env = _read(_SetupEnvironment, environ, dotenv)
    assert isinstance(env, _SetupEnvironment)
    configured = any(
        value is not None
        for value in (
            env.github_app_id,
            env.github_private_key,
            env.private_key_from_file,
            env.github_webhook_secret,
        )
    )
    return SetupSettings(
        github_api_url=env.github_api_url,
        data_dir=env.data_dir,
        host=env.host,
        port=env.port,
        log_level=env.log_level,
        log_format=env.log_format,
        app_configured=configured,
        trusted_proxies=env.trusted_proxies,
    )


def environ_without_blank_app_settings(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment, without App settings set to blanks, which would hide `.env`'s values."""
    environ = os.environ if environ is None else environ
    return {k: v for k, v in environ.items() if k not in APP_SETTINGS or v.strip()}


class _States:
    """The states handed to GitHub, each good once and for an hour."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._expiry: dict[str, float] = {}

    def new(self) -> str:
        now = self._clock()
        self._expiry = {s: t for s, t in self._expiry.items() if t > now}
        while len(self._expiry) >= MAX_STATES:
            del self._expiry[next(iter(self._expiry))]
        state = manifest.new_state()
        self._expiry[state] = now + STATE_TTL
        return state

    def take(self, state: str) -> bool:
        """Whether `state` was handed out and has not expired; it is good only once."""
        expires = self._expiry.pop(state, None)
        return expires is not None and expires > self._clock()


_STATES = web.AppKey("setup_states", _States)
_CONFIG = web.AppKey("setup_config", dict)


def create_setup_app(
    settings: SetupSettings,
    on_registered: Callable[[dict[str, Any]], None] | None = None,
    *,
    dotenv: Path = Path(".env"),
    app_yml: Traversable | None = None,
    github_url: str | None = None,
    clock: Callable[[], float] = time.monotonic,
    access: str = "",
) -> web.Application:
    """The first-run pages; `on_registered(answer)` once the credentials are written.

    `access`: the key of the setup URL the server logs. The form and its post need it unless
    they come from this host (bot/app/remote.py): whoever registers the App gets this server's
    Gemini key to spend, so a passer-by on the port must not. The post must also come from a
    page of this server (its Origin), so another site cannot make a visitor's browser post it.
    """
    app = web.Application(middlewares=[_headers], client_max_size=64 * 1024)
    remote.trust(app, settings.trusted_proxies)
    app[_STATES] = _States(clock)
    app[_CONFIG] = {
        "api_url": settings.github_api_url,
        "github_url": (github_url or web_url(settings.github_api_url)).rstrip("/"),
        "data_dir": settings.data_dir,
        "dotenv": dotenv,
        "app_yml": app_yml,
        "on_registered": on_registered,
        "done": False,
        "access": access,
    }
    app.router.add_get("/", _form)
    app.router.add_post("/setup", _start)
    app.router.add_get("/setup/callback", _callback)
    return app


@web.middleware
async def _headers(request: web.Request, handler: Any) -> web.StreamResponse:
    response: web.StreamResponse = await handler(request)
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers.setdefault("Referrer-Policy", "no-referrer")  # the callback URL has the code
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response


_STYLE = (
    "<style>body{font-family:system-ui,sans-serif;max-width:40em;margin:3em auto;padding:0 1em}"
    "label{display:block;margin:1em 0 .2em}input{width:100%;padding:.3em}"
    "button{margin-top:1.5em;padding:.5em 1em}</style>"
)


def _page(title: str, body: str, status: int = 200, nonce: str = "") -> web.Response:
    script = f"'nonce-{nonce}'" if nonce else "'none'"
    response = web.Response(
        text=f'<!doctype html><meta charset="utf-8"><title>{html.escape(title)}</title>{_STYLE}'
        f"<h1>{html.escape(title)}</h1>{body}",
        status=status,
        content_type="text/html",
    )
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; style-src 'unsafe-inline'; script-src {script}; "
        "frame-ancestors 'none'; base-uri 'none'"
    )
    return response


def _host_name(host: str) -> str:
    """The Host header without its port (`[::1]:8080` is `::1`)."""
    if host.startswith("["):
        return host[1:].partition("]")[0]
    return host.rpartition(":")[0] if host.count(":") == 1 else host


def _allowed(request: web.Request, given: str) -> bool:
    """A request from this host, or one with the access key of the logged setup URL."""
    if remote.is_local(request):
        return True
    expected = request.app[_CONFIG]["access"]
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


_REFUSED = (
    "<p>Open the setup address this server logged at start-up (it carries an access key), "
    "or open it from this machine.</p>"
)


async def _form(request: web.Request) -> web.Response:
    if request.app[_CONFIG]["done"]:
        return _page("Second Look is registered", "<p>Second Look is starting.</p>")
    access = request.query.get("access", "")
    if not _allowed(request, access):
        return _page("Set up Second Look", _REFUSED, 403)
    name = manifest.default_name(_host_name(request.host))
    return _setup_form(name, "", remote.base_url(request), access=access)


def _setup_form(
    name: str, org: str, base_url: str, problem: str = "", access: str = ""
) -> web.Response:
    def field(label: str, key: str, value: str, hint: str) -> str:
        return (
            f'<label for="{key}">{label}</label>'
            f'<input id="{key}" name="{key}" value="{html.escape(value, quote=True)}">'
            f"<small>{hint}</small>"
        )

    error = f'<p role="alert"><strong>{html.escape(problem)}</strong></p>' if problem else ""
    page = _page(
        "Set up Second Look",
        "<p>No GitHub App is configured yet. Create one from this server's manifest: GitHub "
        "asks you to confirm, then sends you back here and Second Look starts.</p>"
        f'{error}<form method="post" action="/setup">'
        f'<input type="hidden" name="access" value="{html.escape(access, quote=True)}">'
        + field("App name", "name", name, f"at most {manifest.NAME_LIMIT} characters")
        + field("Organization (optional)", "org", org, "leave empty to own it yourself")
        + field(
            "Public base URL",
            "base_url",
            base_url,
            "where GitHub reaches this server: webhooks go to /webhooks under it",
        )
        + '<button type="submit">Create the GitHub App on GitHub</button></form>',
        status=400 if problem else 200,
    )
    # Under no-referrer a browser posts this form with `Origin: null`; same-origin keeps the
    # page's origin for our own post and still sends nothing to another site.
    page.headers["Referrer-Policy"] = "same-origin"
    return page


def _check_base_url(value: str) -> str | None:
    """The problem with a public base URL, or None."""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        return "The public base URL is malformed."
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "The public base URL must start with http:// or https:// and name a host."
    if parts.query or parts.fragment or parts.username or parts.password:
        return "The public base URL must have no query, fragment or user name."
    return None


async def _start(request: web.Request) -> web.Response:
    config = request.app[_CONFIG]
    form = await request.post()
    access = str(form.get("access", ""))
    if not _allowed(request, access):
        return _page("Set up Second Look", _REFUSED, 403)
    foreign = remote.foreign(request, "open the setup page at that address and post it again")
    if foreign:
        log.warning("setup: refused a post from another site (%s)", remote.client_address(request))
        return _page("Set up Second Look", f"<p>{html.escape(foreign)}</p>", 403)
    name = str(form.get("name", "")).strip()
    org = str(form.get("org", "")).strip()
    base_url = str(form.get("base_url", "")).strip().rstrip("/")
    problem = None
    if not name or len(name) > manifest.NAME_LIMIT:
        problem = f"The App's name must have 1 to {manifest.NAME_LIMIT} characters."
    elif org and not manifest.valid_org(org):
        problem = "The organization must be a GitHub login: letters, digits and dashes."
    else:
        problem = _check_base_url(base_url)
    if problem:
        return _setup_form(name, org, base_url, problem, access=access)
    try:
        spec = manifest.manifest(base_url, name=name, app_yml=config["app_yml"])
    except ValueError as exc:
        log.error("setup: %s", exc)
        return _page("Cannot read the manifest", f"<p>{html.escape(str(exc))}</p>", 500)
    state = request.app[_STATES].new()
    nonce = secrets.token_urlsafe(16)
    form_html = manifest.registration_form(spec, config["github_url"], state, org or None, nonce)
    response = _page("Register Second Look", form_html, nonce=nonce)
    log.info("setup: sent the manifest of %r to GitHub%s", name, f" for {org}" if org else "")
    return response


def _start_again(reason: str, status: int = 400) -> web.Response:
    return _page(
        "Registration not finished",
        f'<p>{html.escape(reason)}</p><p><a href="/">Start again</a>.</p>',
        status,
    )


async def _callback(request: web.Request) -> web.StreamResponse:
    config = request.app[_CONFIG]
    if config["done"]:
        return _start_again("The App is registered already: Second Look is starting.", 409)
    state = request.query.get("state", "")
    code = request.query.get("code", "")
    if not state or not request.app[_STATES].take(state):
        return _start_again(
            "This link is not one this server started, or it is over an hour old "
            "(state missing, unknown or expired)."
        )
    if not code:
        return _start_again("GitHub sent no code.")
    try:
        answer = await manifest.convert(config["api_url"], code)
    except manifest.ConversionError as exc:
        log.warning("setup: %s", exc)
        return _start_again(str(exc), 502)
    try:
        key_path, env_path = manifest.write_credentials(
            answer, config["data_dir"], config["dotenv"]
        )
    except OSError as exc:
        log.error("setup: cannot save the App's credentials: %s", exc)
        return _start_again(f"Cannot save the App's credentials: {exc.strerror or exc}.", 500)
    config["done"] = True
    log.info(
        "setup: App %s (id %s) registered: key in %s, settings in %s",
        answer["slug"],
        answer["id"],
        key_path,
        env_path,
    )
    app_url = str(answer.get("html_url") or "")
    install = f"{app_url}/installations/new" if app_url else ""
    links = (
        f'<p>The App: <a href="{html.escape(app_url, quote=True)}">{html.escape(app_url)}</a></p>'
        f'<p><a href="{html.escape(install, quote=True)}">Install it on your repositories</a>.</p>'
        if app_url
        else ""
    )
    response = _page(
        f"{answer.get('name') or answer['slug']} is registered",
        f"{links}<p>The key is in {html.escape(str(key_path))} and the settings in "
        f"{html.escape(str(env_path))}. Second Look now starts on this address.</p>",
    )
    # The page goes out whole before `serve` closes this site for the real App.
    await response.prepare(request)
    await response.write_eof()
    on_registered = config["on_registered"]
    if on_registered is not None:
        on_registered(answer)
    return response
