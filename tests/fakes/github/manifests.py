"""The manifest flow: GitHub's web pages a browser goes through, and the conversion.

docs.github.com, "Registering a GitHub App from a manifest": a form POSTs `manifest` (JSON) to
`/settings/apps/new?state=...` (or `/organizations/{org}/settings/apps/new`) on GitHub's web
host; GitHub shows a page to confirm the App's name, and once it is created redirects the
browser to the manifest's `redirect_url` with `?code=...&state=...` (the state as given).
This fake serves both pages on its own address (a test points the setup's GitHub web URL at
it), without a sign-in.

Then POST /app-manifests/{code}/conversions (docs.github.com/rest/apps/apps): no
authentication; the code is good once and for an hour; 201 with the App's id, slug, name,
html_url, owner, client id and secret, webhook secret and private key (pem); 404 for an
unknown, used or expired code; 422 "Validation failed" or spammed. A test without a browser
makes a code with manifest_code() in place of the round trip.
"""

from __future__ import annotations

import html
import json
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from aiohttp import web

from tests.fakes.github.auth import TOKEN_PERMISSIONS, make_rsa_keypair
from tests.fakes.github.errors import DOCS, _not_found
from tests.fakes.github.shapes import Shapes, _now_iso

CONVERSION_DOCS = f"{DOCS}/apps/apps#create-a-github-app-from-a-manifest"
CODE_TTL = 3600.0


@dataclass(frozen=True)
class _Code:
    name: str
    owner: str
    pem: str
    webhook_secret: str
    manifest: dict[str, Any]
    expires_at: float


class Manifests(Shapes):
    """Codes made by manifest_code(), exchanged by the conversions endpoint."""

    def __init__(self, app_id: str, public_key_pem: str) -> None:
        super().__init__(app_id, public_key_pem)
        self._manifest_codes: dict[str, _Code] = {}
        self.conversions: list[dict[str, Any]] = []  # every 201 answer, in order

    def reset(self) -> None:
        super().reset()
        with self._lock:
            self._manifest_codes.clear()
            self.conversions.clear()

    def manifest_code(
        self,
        name: str = "Second Look",
        *,
        owner: str = "octocat",
        pem: str | None = None,
        webhook_secret: str | None = None,
        manifest: dict[str, Any] | None = None,
        ttl: float = CODE_TTL,
    ) -> str:
        """A code as GitHub redirects with after the App `name` is created.

        The App it converts to is this fake's own (`app_id`): its pem, by default the private
        key of make_rsa_keypair() when that is the fake's key pair, signs JWTs the fake takes.
        """
        if pem is None:
            private, public = make_rsa_keypair()
            if public != self.public_key_pem:
                raise ValueError("pass the private key of this fake's public key as pem=")
            pem = private
        code = secrets.token_hex(10)  # GitHub's are 20 hex characters
        with self._lock:
            self._manifest_codes[code] = _Code(
                name=name,
                owner=owner,
                pem=pem,
                webhook_secret=webhook_secret or secrets.token_hex(20),
                manifest=dict(manifest or {}),
                expires_at=time.time() + ttl,
            )
        return code

    async def _new_app_from_manifest(self, request: web.Request) -> web.Response:
        """GitHub's "Create GitHub App" page for a posted manifest: the name to confirm."""
        form = await request.post()
        try:
            spec = json.loads(str(form["manifest"]))
            redirect = str(spec["redirect_url"])
        except (KeyError, ValueError, TypeError):
            return web.Response(status=422, text="Invalid GitHub App configuration")
        owner = request.match_info.get("org", "octocat")
        hidden = {"manifest": json.dumps(spec), "state": request.query.get("state", "")}
        fields = "".join(
            f'<input type="hidden" name="{k}" value="{html.escape(v, True)}">'
            for k, v in hidden.items()
        )
        page = (
            "<!doctype html><title>Create GitHub App</title><h1>Create GitHub App</h1>"
            f'<form method="post" action="/settings/apps/new/create?owner={quote(owner)}">'
            f'{fields}<label>GitHub App name <input id="app-name" name="name" '
            f'value="{html.escape(str(spec.get("name", "")), True)}"></label>'
            f"<p>Redirects to {html.escape(redirect)}</p>"
            f'<button id="create" type="submit">Create GitHub App for {html.escape(owner)}'
            "</button></form>"
        )
        return web.Response(text=page, content_type="text/html")

    async def _create_app_from_manifest(self, request: web.Request) -> web.Response:
        """The App created: the browser sent to its redirect_url with a code and the state."""
        form = await request.post()
        spec = json.loads(str(form["manifest"]))
        name = str(form.get("name") or spec.get("name") or "")
        owner = request.query.get("owner", "octocat")
        code = self.manifest_code(name, owner=owner, manifest={**spec, "name": name})
        state = quote(str(form.get("state", "")), safe="")
        raise web.HTTPFound(f"{spec['redirect_url']}?code={code}&state={state}")

    async def _manifest_conversion(self, request: web.Request) -> web.Response:
        code = request.match_info["code"]
        with self._lock:
            found = self._manifest_codes.pop(code, None)  # good once, even when expired
        if found is None or found.expires_at <= time.time():
            raise _not_found(CONVERSION_DOCS)
        slug = re.sub(r"[^a-z0-9]+", "-", found.name.lower()).strip("-") or "app"
        app_id = int(self.app_id) if self.app_id.isdigit() else self.app_id
        now = _now_iso()
        spec = found.manifest
        answer = {
            "id": app_id,
            "slug": slug,
            "node_id": f"A_{app_id}",
            "client_id": "Iv1." + secrets.token_hex(8),
            "owner": {**self._user(found.owner), "type": "User"},
            "name": found.name,
            "description": spec.get("description", ""),
            "external_url": spec.get("url", "https://example.com"),
            "html_url": f"https://github.com/apps/{slug}",
            "created_at": now,
            "updated_at": now,
            "permissions": spec.get("default_permissions", TOKEN_PERMISSIONS),
            "events": spec.get("default_events", ["pull_request"]),
            "installations_count": 0,
            "client_secret": secrets.token_hex(20),
            "webhook_secret": found.webhook_secret,
            "pem": found.pem,
        }
        with self._lock:
            self.conversions.append(answer)
        return self._json(answer, 201)
