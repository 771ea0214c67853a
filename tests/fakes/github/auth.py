"""Authentication: the App's JWT, installation access tokens, and the endpoints that use the JWT."""

from __future__ import annotations

import dataclasses
import functools
import secrets
import string
import time
from collections.abc import Mapping
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.fakes.github.errors import DOCS, GitHubError, _not_found
from tests.fakes.github.shapes import Shapes, _now_iso
from tests.fakes.github.state import IssuedToken, _Repo

TOKEN_PERMISSIONS = {
    "checks": "write",
    "contents": "read",
    "issues": "write",
    "metadata": "read",
    "pull_requests": "write",
}
# The App behind every workflow's GITHUB_TOKEN, and the user its writes are authored by.
ACTIONS_APP = {"id": 15368, "slug": "github-actions"}
ACTIONS_BOT = {
    "login": "github-actions[bot]",
    "id": 41898282,
    "node_id": "MDM6Qm90NDE4OTgyODI=",
    "type": "Bot",
    "site_admin": False,
    "html_url": "https://github.com/apps/github-actions",
}
NOT_ACCESSIBLE = "Resource not accessible by integration"
# The token _check_token accepted for a request, for the handlers that write as its actor.
_TOKEN: Any = (
    web.RequestKey("fake_github_token", IssuedToken)
    if hasattr(web, "RequestKey")
    else "fake_github_token"
)


@functools.cache
def make_rsa_keypair() -> tuple[str, str]:
    """Return a throwaway 2048-bit RSA (private_pem, public_pem), one per process."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private_pem, public_pem


class Auth(Shapes):
    """Mint and check JWTs and installation tokens; GET /app, token exchange, installation."""

    def issue_token(self, installation_id: int = 1, ttl: float | None = None) -> str:
        """Mint an installation token directly (for tests that are not about the exchange)."""
        now = time.time()
        token = "ghs_" + "".join(
            secrets.choice(string.ascii_letters + string.digits) for _ in range(36)
        )
        ttl = self.token_ttl if ttl is None else ttl
        issued = IssuedToken(token, int(installation_id), now, now + ttl)
        with self._lock:
            self._installations.add(int(installation_id))
            self._tokens[token] = issued
            self.tokens_issued.append(issued)
        return token

    def workflow_token(
        self,
        owner: str,
        repo: str,
        *,
        checks: bool = True,
        pull_requests: bool = True,
        ttl: float = 3600,
    ) -> str:
        """Mint a workflow's GITHUB_TOKEN: an installation token of the "github-actions" App
        for this one repository, whatever installation it belongs to.

        What it writes is authored by github-actions[bot]. It reads everything of the
        repository (contents: read is implied); `checks=False` / `pull_requests=False` are a
        workflow whose `permissions:` withhold checks: write / pull-requests: write, and the
        writes they cover answer 403 "Resource not accessible by integration". Not listed in
        `.tokens_issued`, which holds the App's.
        """
        now = time.time()
        token = "ghs_" + "".join(
            secrets.choice(string.ascii_letters + string.digits) for _ in range(36)
        )
        permissions = {
            "contents": "read",
            "metadata": "read",
            "checks": "write" if checks else "read",
            "pull_requests": "write" if pull_requests else "read",
        }
        issued = IssuedToken(token, 0, now, now + ttl, (owner.lower(), repo.lower()), permissions)
        with self._lock:
            self._tokens[token] = issued
        return token

    def expire_tokens(self) -> None:
        """Make every token issued so far expired (the next use answers 401)."""
        with self._lock:
            for token, issued in list(self._tokens.items()):
                self._tokens[token] = dataclasses.replace(issued, expires_at=time.time() - 1)

    @staticmethod
    def _sees(issued: IssuedToken, state: _Repo | None) -> bool:
        """True when the token reaches this repository: its installation's, or the one
        repository of a workflow token. Others are invisible, as a private repo would be."""
        if state is None:
            return False
        if issued.repository is not None:
            return issued.repository == (state.owner.lower(), state.name.lower())
        return state.installation_id == issued.installation_id

    @staticmethod
    def _may_write(issued: IssuedToken, permissions: tuple[str, ...]) -> bool:
        """True when the token has write access for one of these permissions."""
        granted: Mapping[str, str] = issued.permissions or TOKEN_PERMISSIONS
        return any(granted.get(name) == "write" for name in permissions)

    def _check_jwt(self, request: web.Request) -> dict[str, Any]:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        undecodable = GitHubError(401, "A JSON web token could not be decoded")
        if scheme.lower() != "bearer" or not token.strip():
            raise undecodable
        try:
            claims = jwt.decode(
                token.strip(),
                self.public_key_pem,
                algorithms=["RS256"],
                options={
                    "require": ["iat", "exp", "iss"],
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_iss": False,
                },
            )
        except jwt.PyJWTError:
            raise undecodable from None
        iat, exp, iss = claims["iat"], claims["exp"], claims["iss"]
        now = time.time()
        if not isinstance(iat, int | float) or iat > now + 60:
            raise GitHubError(
                401,
                "'Issued at' claim ('iat') must be an Integer representing the time that the "
                "assertion was issued",
            )
        if not isinstance(exp, int | float) or exp <= now:
            raise GitHubError(
                401,
                "'Expiration time' claim ('exp') must be a numeric value representing the "
                "future time at which the assertion expires",
            )
        if exp - iat > 600:
            raise GitHubError(401, "'Expiration time' claim ('exp') is too far in the future")
        # Stricter than GitHub on purpose: PyJWT >= 2.10 refuses integer issuers, so we do too.
        if not isinstance(iss, str):
            raise GitHubError(401, "'Issuer' claim ('iss') must be a String")
        if iss != self.app_id:
            raise GitHubError(401, "Integration not found")
        return claims

    def _check_token(
        self,
        request: web.Request,
        owner: str,
        repo: str,
        write: tuple[str, ...] = (),
        docs: str = DOCS,
    ) -> _Repo:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if not scheme:
            raise GitHubError(401, "Requires authentication")
        with self._lock:
            issued = self._tokens.get(token.strip())
        if scheme.lower() not in ("token", "bearer") or issued is None:
            raise GitHubError(401, "Bad credentials")
        if issued.expires_at <= time.time():
            raise GitHubError(401, "Bad credentials")
        with self._lock:
            state = self._repos.get((owner.lower(), repo.lower()))
        if not self._sees(issued, state):
            raise _not_found()
        assert state is not None
        if write and not self._may_write(issued, write):
            raise GitHubError(403, NOT_ACCESSIBLE, docs=docs)
        request[_TOKEN] = issued
        return state

    def _authed(self, request: web.Request, write: tuple[str, ...] = (), docs: str = DOCS) -> _Repo:
        """The request's repository, when its token reaches it (and, for a write, has write
        access for one of the permissions in `write`; else 403 documented at `docs`)."""
        info = request.match_info
        return self._check_token(request, info["owner"], info["repo"], write, docs)

    def _author(self, request: web.Request) -> dict[str, Any]:
        """Who the request's token writes as: github-actions[bot] for a workflow token, else
        the App's bot."""
        issued = request.get(_TOKEN)
        return dict(ACTIONS_BOT) if issued is not None and issued.workflow else self._bot()

    def _app_of(self, request: web.Request) -> dict[str, Any]:
        """The App the request's token belongs to, as a check run names it."""
        issued = request.get(_TOKEN)
        if issued is not None and issued.workflow:
            return dict(ACTIONS_APP)
        return {
            "id": int(self.app_id) if self.app_id.isdigit() else self.app_id,
            "slug": self.bot_login.removesuffix("[bot]"),
        }

    async def _get_app(self, request: web.Request) -> web.Response:
        self._check_jwt(request)
        slug = self.bot_login.removesuffix("[bot]")
        return self._json(
            {
                "id": int(self.app_id) if self.app_id.isdigit() else self.app_id,
                "slug": slug,
                "name": slug,
                "owner": self._user("second-look-org"),
                "permissions": TOKEN_PERMISSIONS,
                "events": ["pull_request"],
            }
        )

    async def _access_token(self, request: web.Request) -> web.Response:
        self._check_jwt(request)
        installation_id = int(request.match_info["iid"])
        with self._lock:
            known = installation_id in self._installations
        if not known:
            raise _not_found(f"{DOCS}/apps/apps#create-an-installation-access-token-for-an-app")
        token = self.issue_token(installation_id, self.token_ttl)
        with self._lock:
            issued = self._tokens[token]
        return self._json(
            {
                "token": token,
                "expires_at": _now_iso(issued.expires_at),
                "permissions": TOKEN_PERMISSIONS,
                "repository_selection": "all",
            },
            201,
        )

    async def _repo_installation(self, request: web.Request) -> web.Response:
        self._check_jwt(request)
        owner, name = request.match_info["owner"], request.match_info["repo"]
        with self._lock:
            state = self._repos.get((owner.lower(), name.lower()))
        if state is None:
            raise _not_found(
                f"{DOCS}/apps/apps#get-a-repository-installation-for-the-authenticated-app"
            )
        return self._json(
            {
                "id": state.installation_id,
                "account": {"login": state.owner, "type": "Organization"},
                "app_id": int(self.app_id) if self.app_id.isdigit() else self.app_id,
                "app_slug": self.bot_login.removesuffix("[bot]"),
                "target_type": "Organization",
                "permissions": TOKEN_PERMISSIONS,
                "events": ["pull_request"],
                "repository_selection": "all",
                "created_at": _now_iso(),
                "updated_at": _now_iso(),
            }
        )
