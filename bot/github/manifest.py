"""Register the App from app.yml with GitHub's manifest flow, and store what GitHub returns.

The flow (docs.github.com, "Registering a GitHub App from a manifest"): a browser POSTs the
manifest to `{github}/settings/apps/new?state=...` (or an organization's), GitHub redirects to
the manifest's `redirect_url` with `?code=...&state=...`, and the code, single use and valid
for an hour, is exchanged with `POST {api}/app-manifests/{code}/conversions` for the App's id,
private key and webhook secret.
"""

from __future__ import annotations

import html
import io
import json
import os
import re
import secrets
import socket
import tempfile
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import yaml
from dotenv.parser import parse_stream

from bot import resources
from bot.errors import describe

NAME_LIMIT = 34  # GitHub refuses longer App names ("Name is too long (maximum is 34 characters)")
# The settings a registration writes to `.env`; a GITHUB_PRIVATE_KEY there would win over the
# new key file, so it goes too. GEMINI_API_KEY is written (and replaced) only when one is given.
WRITTEN = ("GITHUB_APP_ID", "GITHUB_PRIVATE_KEY_PATH", "GITHUB_WEBHOOK_SECRET")
REPLACED = (*WRITTEN, "GITHUB_PRIVATE_KEY")
GEMINI = "GEMINI_API_KEY"
_ORG = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})")  # a GitHub login


class ConversionError(Exception):
    """The code could not be exchanged; the message is one line, and names no secret."""


def new_state() -> str:
    """The unguessable `state` GitHub hands back with the code."""
    return secrets.token_urlsafe(32)


def default_name(host: str | None = None) -> str:
    """The name "Second Look (<host>)", the host cut so it stays within GitHub's limit."""
    host = (host if host is not None else socket.gethostname()).strip() or "localhost"
    room = NAME_LIMIT - len("Second Look ()")
    if len(host) > room:
        host = host[: room - 1] + "…"
    return f"Second Look ({host})"


def valid_org(org: str) -> bool:
    return _ORG.fullmatch(org) is not None


def manifest(
    base_url: str,
    *,
    name: str | None = None,
    setup_url: str | None = None,
    app_yml: Traversable | None = None,
) -> dict[str, Any]:
    """The manifest GitHub expects, from app.yml, with our name and public URLs filled in.

    `base_url` is where this server is reached from GitHub: the homepage, `/webhooks` and the
    redirect to `/setup/callback` are under it.
    """
    app_yml = resources.app_yml() if app_yml is None else app_yml
    try:
        spec: dict[str, Any] = yaml.safe_load(app_yml.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"cannot read {app_yml}: {exc}") from None
    base = base_url.rstrip("/")
    spec["name"] = name or default_name()
    spec["url"] = base
    spec["hook_attributes"] = {**spec.get("hook_attributes", {}), "url": f"{base}/webhooks"}
    spec["redirect_url"] = f"{base}/setup/callback"
    if setup_url:
        spec["setup_url"] = setup_url
    return spec


def new_app_url(github_url: str, state: str, org: str | None = None) -> str:
    """Where the manifest is posted: the user's or the organization's "New GitHub App"."""
    github_url = github_url.rstrip("/")
    if org:
        if not valid_org(org):
            raise ValueError(f"{org!r} is not a GitHub organization name")
        target = f"{github_url}/organizations/{org}/settings/apps/new"
    else:
        target = f"{github_url}/settings/apps/new"
    return f"{target}?state={quote(state, safe='')}"


def registration_form(
    spec: dict[str, Any], github_url: str, state: str, org: str | None = None, nonce: str = ""
) -> str:
    """A form that posts the manifest to GitHub, and the script that submits it on load."""
    target = html.escape(new_app_url(github_url, state, org), quote=True)
    value = html.escape(json.dumps(spec), quote=True)
    script_nonce = f' nonce="{html.escape(nonce, quote=True)}"' if nonce else ""
    return (
        f'<form id="f" method="post" action="{target}">'
        f'<input type="hidden" name="manifest" value="{value}">'
        "<p>Taking you to GitHub to create the App…</p>"
        '<button type="submit">Create the GitHub App</button></form>'
        f'<script{script_nonce}>document.getElementById("f").submit()</script>'
    )


def registration_page(
    spec: dict[str, Any], github_url: str, state: str, org: str | None = None
) -> str:
    """An HTML page that posts the manifest to GitHub when opened in a browser."""
    return (
        '<!doctype html><meta charset="utf-8"><title>Register Second Look</title>'
        + registration_form(spec, github_url, state, org)
    )


async def convert(api_url: str, code: str, timeout: float = 30) -> dict[str, Any]:
    """Exchange the code GitHub redirected with for the App's id, key and webhook secret."""
    url = f"{api_url.rstrip('/')}/app-manifests/{quote(code, safe='')}/conversions"
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as http,
            http.post(url, headers={"Accept": "application/vnd.github+json"}) as response,
        ):
            status = response.status
            text = await response.text(errors="replace")
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise ConversionError(f"cannot reach GitHub at {api_url}: {describe(exc)}") from None
    try:
        answer = json.loads(text)
    except ValueError:
        answer = None
    if status in (404, 422):
        raise ConversionError(
            f"GitHub did not accept the code ({status} {_message(answer)}): it is used, "
            "mistyped or expired (a code lasts an hour); register again"
        )
    if status != 201 or not isinstance(answer, dict):
        raise ConversionError(f"GitHub answered {status} {_message(answer)}")
    missing = [key for key in ("id", "slug", "pem", "webhook_secret") if not answer.get(key)]
    if missing:
        raise ConversionError(f"GitHub's answer has no {', '.join(missing)}")
    return answer


def _message(answer: object) -> str:
    message = answer.get("message") if isinstance(answer, dict) else None
    return " ".join(str(message).split())[:200] if message else "(no message)"


def write_credentials(
    answer: dict[str, Any],
    directory: Path,
    env_path: Path = Path(".env"),
    *,
    gemini_api_key: str = "",
) -> tuple[Path, Path]:
    """Save the private key as a file and the settings in `.env` (never printed), both 0600.

    What `.env` held stays, but for the App's own settings, replaced by the new ones, and
    GEMINI_API_KEY when `gemini_api_key` is given (else a key already there stays).
    """
    directory.mkdir(parents=True, exist_ok=True)
    slug = re.sub(r"[^A-Za-z0-9_.-]", "-", str(answer["slug"])).lstrip(".") or "app"
    key_path = directory / f"{slug}.private-key.pem"
    write_private(key_path, str(answer["pem"]))
    try:
        text = env_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    replaced = (*REPLACED, GEMINI) if gemini_api_key else REPLACED
    kept = "".join(
        binding.original.string
        for binding in parse_stream(io.StringIO(text))
        if binding.key not in replaced
    )
    if kept and not kept.endswith("\n"):
        kept += "\n"
    own = (str(answer["id"]), str(key_path), str(answer["webhook_secret"]))
    values = dict(zip(WRITTEN, own, strict=True))
    if gemini_api_key:
        values[GEMINI] = gemini_api_key
    kept += "".join(f"{key}={_dotenv_value(value)}\n" for key, value in values.items())
    write_private(env_path, kept)
    return key_path, env_path


def _dotenv_value(value: str) -> str:
    """`value` as `.env` reads it back unchanged (config reads `.env` without interpolation)."""
    if re.fullmatch(r"[\w./:@+=,-]*", value):
        return value
    if "'" not in value and "\n" not in value:
        return f"'{value}'"
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def write_private(path: Path, text: str) -> None:
    """Write `path` readable by its owner only, whole or not at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    path.chmod(0o600)
