"""First run: with no App settings, `serve` offers these pages to register the App with GitHub.

GET / asks for the App's name, the organization (optional), the public base URL (with a
warning when GitHub could not reach it: bot/app/public_url.py) and the Gemini API key
(optional); the form's POST answers a page that posts the manifest to GitHub with a fresh
`state`, the key kept in memory with it. GitHub redirects the browser to
/setup/callback?code=...&state=...: the state is checked, the code exchanged for the App's id,
key and webhook secret, which are written to DATA_DIR and `.env` with the Gemini key, and
`on_registered` is called once the answer page is sent, so `serve` can start the real App.
GET /healthz answers 200 `{"status": "setup", ...}` meanwhile (bot/app/health.py).
"""

from __future__ import annotations

import hmac
import html
import logging
import os
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from pydantic import Field, field_validator

from bot.app import health, public_url, remote, setup_pages
from bot.app.setup_pages import page
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
    gemini_key_set: bool = False  # GEMINI_API_KEY has a value (the environment's or .env's)
    # GEMINI_API_KEY is in the process environment (blank or not): it wins over `.env`.
    gemini_key_in_environment: bool = False


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
    environ = os.environ if environ is None else environ
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
        gemini_key_set=bool(env.gemini_api_key),
        gemini_key_in_environment="GEMINI_API_KEY" in environ,
    )


def environ_without_blank_app_settings(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment, without App settings set to blanks, which would hide `.env`'s values."""
    environ = os.environ if environ is None else environ
    return {k: v for k, v in environ.items() if k not in APP_SETTINGS or v.strip()}


@dataclass(frozen=True)
class _Pending:
    """A registration sent to GitHub: until when its state is good, and the Gemini key
    entered with it (kept in memory only, until the callback writes it to `.env`)."""

    expires: float
    gemini_api_key: str = field(default="", repr=False)


class _States:
    """The states handed to GitHub, each good once and for an hour."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._pending: dict[str, _Pending] = {}

    def new(self, gemini_api_key: str = "") -> str:
        now = self._clock()
        self._pending = {s: p for s, p in self._pending.items() if p.expires > now}
        while len(self._pending) >= MAX_STATES:
            del self._pending[next(iter(self._pending))]
        state = manifest.new_state()
        self._pending[state] = _Pending(now + STATE_TTL, gemini_api_key)
        return state

    def take(self, state: str) -> _Pending | None:
        """The registration `state` was handed out for, unless it has expired; good once."""
        pending = self._pending.pop(state, None)
        return pending if pending is not None and pending.expires > self._clock() else None


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
        "port": settings.port,
        "gemini_key_set": settings.gemini_key_set,
        "gemini_key_in_environment": settings.gemini_key_in_environment,
    }
    app.router.add_get("/", _form)
    app.router.add_get("/healthz", _healthz)
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


async def _healthz(request: web.Request) -> web.Response:
    """200 and `setup`: this process serves the setup page, no database is open yet."""
    return web.json_response(health.SETUP)


def _gemini(config: dict[str, Any]) -> setup_pages.GeminiKey:
    return setup_pages.GeminiKey(config["gemini_key_set"], config["gemini_key_in_environment"])


async def _form(request: web.Request) -> web.Response:
    config = request.app[_CONFIG]
    if config["done"]:
        return page("Second Look is registered", "<p>Second Look is starting.</p>")
    access = request.query.get("access", "")
    if not _allowed(request, access):
        return page("Set up Second Look", _REFUSED, 403)
    name = manifest.default_name(_host_name(request.host))
    base_url = remote.base_url(request)
    return setup_pages.form_page(
        setup_pages.Form(
            name,
            "",
            base_url,
            access=access,
            gemini=_gemini(config),
            warnings=tuple(public_url.warnings(base_url, config["port"])),
        )
    )


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
        return page("Set up Second Look", _REFUSED, 403)
    foreign = remote.foreign(request, "open the setup page at that address and post it again")
    if foreign:
        log.warning("setup: refused a post from another site (%s)", remote.client_address(request))
        return page("Set up Second Look", f"<p>{html.escape(foreign)}</p>", 403)
    name = str(form.get("name", "")).strip()
    org = str(form.get("org", "")).strip()
    base_url = str(form.get("base_url", "")).strip().rstrip("/")
    gemini_api_key = str(form.get("gemini_api_key", "")).strip()
    problem = None
    if not name or len(name) > manifest.NAME_LIMIT:
        problem = f"The App's name must have 1 to {manifest.NAME_LIMIT} characters."
    elif org and not manifest.valid_org(org):
        problem = "The organization must be a GitHub login: letters, digits and dashes."
    elif gemini_api_key and not _printable(gemini_api_key):
        problem = "The Gemini API key must be one line of printable characters."
    else:
        problem = _check_base_url(base_url)
    warnings = () if problem else tuple(public_url.warnings(base_url, config["port"]))
    acknowledged = str(form.get("acknowledged", "")).strip().rstrip("/") == base_url
    if problem or (warnings and not acknowledged):
        # The form again: to fix, or to see the warnings for this address before going on.
        again = setup_pages.Form(
            name,
            org,
            base_url,
            access=access,
            gemini=_gemini(config),
            problem=problem or "",
            warnings=warnings,
            key_dropped=bool(gemini_api_key),
        )
        return setup_pages.form_page(again)
    try:
        spec = manifest.manifest(base_url, name=name, app_yml=config["app_yml"])
    except ValueError as exc:
        log.error("setup: %s", exc)
        return page("Cannot read the manifest", f"<p>{html.escape(str(exc))}</p>", 500)
    state = request.app[_STATES].new(gemini_api_key)
    nonce = secrets.token_urlsafe(16)
    form_html = manifest.registration_form(spec, config["github_url"], state, org or None, nonce)
    response = page("Register Second Look", form_html, nonce=nonce)
    log.info("setup: sent the manifest of %r to GitHub%s", name, f" for {org}" if org else "")
    return response


def _printable(value: str) -> bool:
    """One line of printable ASCII, as Google's keys are; `.env` holds it as written."""
    return value.isascii() and value.isprintable()


def _start_again(reason: str, status: int = 400) -> web.Response:
    return page(
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
    pending = request.app[_STATES].take(state) if state else None
    if pending is None:
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
            answer, config["data_dir"], config["dotenv"], gemini_api_key=pending.gemini_api_key
        )
    except OSError as exc:
        log.error("setup: cannot save the App's credentials: %s", exc)
        return _start_again(f"Cannot save the App's credentials: {exc.strerror or exc}.", 500)
    config["done"] = True
    log.info(
        "setup: App %s (id %s) registered: key in %s, settings in %s%s",
        answer["slug"],
        answer["id"],
        key_path,
        env_path,
        " with GEMINI_API_KEY" if pending.gemini_api_key else "",
    )
    gemini = _gemini(config).outcome(bool(pending.gemini_api_key), env_path)
    response = setup_pages.registered_page(answer, key_path, env_path, gemini)
    # The page goes out whole before `serve` closes this site for the real App.
    await response.prepare(request)
    await response.write_eof()
    on_registered = config["on_registered"]
    if on_registered is not None:
        on_registered(answer)
    return response
