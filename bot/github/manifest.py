"""Register the App from app.yml with GitHub's manifest flow, and store what GitHub returns."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import aiohttp
import yaml

APP_YML = Path(__file__).resolve().parents[2] / "app.yml"


def manifest(webhook_url: str, redirect_url: str, app_yml: Path = APP_YML) -> dict[str, Any]:
    """The manifest GitHub expects, from app.yml, with our public URLs filled in."""
    try:
        spec: dict[str, Any] = yaml.safe_load(app_yml.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"cannot read {app_yml}: {exc}") from None
    spec["hook_attributes"] = {**spec.get("hook_attributes", {}), "url": webhook_url}
    spec["redirect_url"] = redirect_url
    return spec


def registration_page(spec: dict[str, Any], github_url: str, org: str | None = None) -> str:
    """An HTML page that posts the manifest to GitHub when opened in a browser."""
    target = (
        f"{github_url}/organizations/{org}/settings/apps/new"
        if org
        else (f"{github_url}/settings/apps/new")
    )
    value = html.escape(json.dumps(spec), quote=True)
    return (
        "<!doctype html><title>Register Second Look</title>"
        f'<form id="f" method="post" action="{html.escape(target)}">'
        f'<input type="hidden" name="manifest" value="{value}">'
        '<button type="submit">Create the GitHub App</button></form>'
        '<script>document.getElementById("f").submit()</script>'
    )


async def convert(api_url: str, code: str) -> dict[str, Any]:
    """Exchange the code GitHub redirects with for the App's id, key and webhook secret."""
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{api_url}/app-manifests/{code}/conversions",
            headers={"Accept": "application/vnd.github+json"},
        ) as response,
    ):
        answer: dict[str, Any] = await response.json(content_type=None)
        if response.status != 201:
            message = answer.get("message") if isinstance(answer, dict) else answer
            raise ValueError(f"GitHub answered {response.status}: {message}")
        return answer


def write_credentials(answer: dict[str, Any], directory: Path) -> tuple[Path, Path]:
    """Save the private key as a file and the settings in `.env` (never printed)."""
    directory.mkdir(parents=True, exist_ok=True)
    key_path = directory / f"{answer['slug']}.private-key.pem"
    key_path.write_text(answer["pem"], encoding="utf-8")
    key_path.chmod(0o600)
    env_path = Path(".env")
    lines = env_path.read_text(encoding="utf-8").splitlines() if env_path.exists() else []
    keep = [
        line
        for line in lines
        if not line.startswith(
            ("GITHUB_APP_ID=", "GITHUB_PRIVATE_KEY_PATH=", "GITHUB_WEBHOOK_SECRET=")
        )
    ]
    keep += [
        f"GITHUB_APP_ID={answer['id']}",
        f"GITHUB_PRIVATE_KEY_PATH={key_path}",
        f"GITHUB_WEBHOOK_SECRET={answer['webhook_secret']}",
    ]
    env_path.write_text("\n".join(keep) + "\n", encoding="utf-8")
    env_path.chmod(0o600)
    return key_path, env_path
