"""Who may see the dashboard.

With DASHBOARD_TOKEN set: a request with `Authorization: Bearer <token>`, or with a session
cookie from the login form. The cookie is `<issued>.<random id>.<HMAC-SHA256 of both, keyed by
the token>`: any replica can check it without shared state, and changing the token signs
everyone out. Without the token: only when the App listens on a loopback address (HOST), and
only requests from this host (bot/app/remote.py decides, behind TRUSTED_PROXIES): a proxy on this
host forwards everyone, and an App listening on every interface is reachable by anyone.
The token is never written to a page, a log line or an error.

Acting (the Re-run) needs more than seeing: a signed-in operator (a session, or a script's
bearer token), and for a browser's post the session's CSRF token in the form and an Origin of
this server. Without DASHBOARD_TOKEN nobody is signed in, and the dashboard only reads.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from enum import Enum

from aiohttp import web

from bot.app import remote
from bot.app.dashboard import state
from bot.store import db

log = logging.getLogger(__name__)

COOKIE = "secondlook_session"
SESSION_SECONDS = 7 * 24 * 3600
LOGIN = "/dashboard/login"
UNSET = (
    "The dashboard answers only requests from this machine, and one a proxy forwarded is not: "
    "set DASHBOARD_TOKEN to open it to others.\n"
)
OPEN = (
    "The dashboard has no DASHBOARD_TOKEN and the App listens on {host}, not on a loopback "
    "address: set DASHBOARD_TOKEN, or HOST=127.0.0.1 to serve it to this machine only.\n"
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# No script but ours, no framing, no referrer to GitHub with a review's id in it.
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self';"
        " connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class Access(Enum):
    SERVED = "served"
    SIGN_IN = "sign in"  # a token is set and the request has no valid credential
    LOCAL_ONLY = "local only"  # no token is set and the request is not from this host
    OPEN_PORT = "open port"  # no token is set and the App listens on more than loopback


def _mac(token: str, message: str) -> str:
    return hmac.new(token.encode(), message.encode(), hashlib.sha256).hexdigest()


def session_value(token: str, issued: int | None = None) -> str:
    """A new session cookie's value, signed with `token`."""
    message = f"{int(time.time()) if issued is None else issued}.{secrets.token_urlsafe(24)}"
    return f"{message}.{_mac(token, message)}"


def valid_session(token: str, value: str, now: float | None = None) -> bool:
    """Signed with this token, and issued less than SESSION_SECONDS ago."""
    message, _, mac = value.rpartition(".")
    issued, _, nonce = message.partition(".")
    if not (issued.isdigit() and nonce and mac):
        return False
    if not hmac.compare_digest(mac.encode(), _mac(token, message).encode()):
        return False
    age = (time.time() if now is None else now) - int(issued)
    return -60 <= age < SESSION_SECONDS


def valid_bearer(token: str, header: str) -> bool:
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())


def access(request: web.Request) -> Access:
    token = state.of(request).settings.dashboard_token
    if not token:
        if not remote.loopback_host(state.of(request).settings.host):
            return Access.OPEN_PORT
        return Access.SERVED if remote.is_local(request) else Access.LOCAL_ONLY
    if valid_bearer(token, request.headers.get("Authorization", "")):
        return Access.SERVED
    if valid_session(token, request.cookies.get(COOKIE, "")):
        return Access.SERVED
    return Access.SIGN_IN


def secured(response: web.StreamResponse) -> web.StreamResponse:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def refusal(request: web.Request, verdict: Access, json: bool) -> web.Response:
    if verdict is Access.LOCAL_ONLY:
        return web.Response(status=403, text=UNSET, content_type="text/plain")
    if verdict is Access.OPEN_PORT:
        text = OPEN.format(host=state.of(request).settings.host)
        return web.Response(status=403, text=text, content_type="text/plain")
    if json:
        return web.json_response({"error": "sign in to the dashboard"}, status=401)
    raise web.HTTPSeeOther(LOGIN)


def guarded(json: bool = False) -> Callable[[Handler], Handler]:
    """Serve `handler` only to those allowed; pages redirect to the login, JSON answers 401."""

    def wrap(handler: Handler) -> Handler:
        async def guard(request: web.Request) -> web.StreamResponse:
            verdict = access(request)
            if verdict is not Access.SERVED:
                return secured(refusal(request, verdict, json))
            try:
                return secured(await handler(request))
            except db.UNREACHABLE as exc:
                log.warning("dashboard: database unavailable: %s", type(exc).__name__)
                if json:
                    return web.json_response({"error": "database unavailable"}, status=503)
                return secured(
                    web.Response(status=503, text="The database is unavailable; try again.\n")
                )

        return guard

    return wrap


# ------------------------------------------------------------------------------------ acting

STALE = "The form is stale or was not made by this dashboard: reload the page and try again."
NOT_SIGNED_IN = (
    "Acting from the dashboard needs a signed-in operator: set DASHBOARD_TOKEN and sign in "
    "(or comment `/second-look review` on the pull request)."
)


def session(request: web.Request) -> str | None:
    """The session cookie of a signed-in operator's request, or None (no DASHBOARD_TOKEN, no
    valid session)."""
    token = state.of(request).settings.dashboard_token
    value = request.cookies.get(COOKIE, "")
    return value if token and valid_session(token, value) else None


def csrf_token(request: web.Request) -> str | None:
    """The token a form that acts carries for a signed-in operator (an HMAC of the session,
    keyed by DASHBOARD_TOKEN: any replica checks it, and it dies with the session); None: the
    request is no signed-in operator's, so no form that acts is shown."""
    found = session(request)
    token = state.of(request).settings.dashboard_token
    return _mac(token, f"csrf.{found}") if found else None


def refused_act(request: web.Request, given: object) -> str | None:
    """Why a posted form that acts (the Re-run) is refused, or None when it may act: from a
    signed-in operator's page of this server (Origin, bot/app/remote.py) with the session's
    CSRF token (`given`), or a script's request with the bearer token (no browser sends
    that on its own, so no other site can make one)."""
    token = state.of(request).settings.dashboard_token
    if not token:
        return NOT_SIGNED_IN
    if valid_bearer(token, request.headers.get("Authorization", "")):
        return None
    expected = csrf_token(request)
    if expected is None:
        return NOT_SIGNED_IN
    foreign = remote.foreign(request, "open the dashboard at that address and try again")
    if foreign:
        return foreign
    if not isinstance(given, str) or not hmac.compare_digest(given.encode(), expected.encode()):
        return STALE
    return None


# ------------------------------------------------------------------------------------- login


def _login_page(request: web.Request, error: str | None = None, status: int = 200) -> web.Response:
    page = state.render(request, "login.html", {"error": error}, status=status)
    return page


async def login_form(request: web.Request) -> web.StreamResponse:
    if not state.of(request).settings.dashboard_token:
        # Nothing to sign in to: local requests go to the dashboard, others are told why not.
        verdict = access(request)
        if verdict is not Access.SERVED:
            return secured(refusal(request, verdict, json=False))
        raise web.HTTPSeeOther("/dashboard")
    return secured(_login_page(request))


async def login(request: web.Request) -> web.StreamResponse:
    token = state.of(request).settings.dashboard_token
    if not token:
        return await login_form(request)
    form = await request.post()
    given = form.get("token")
    if not isinstance(given, str) or not hmac.compare_digest(given.encode(), token.encode()):
        log.info("dashboard: sign-in refused from %s", remote.client_address(request))
        return secured(_login_page(request, "That is not the dashboard's token.", status=401))
    response = web.HTTPSeeOther("/dashboard")
    response.set_cookie(
        COOKIE,
        session_value(token),
        max_age=SESSION_SECONDS,
        path="/dashboard",
        httponly=True,
        samesite="Strict",
        secure=_https(request),
    )
    secured(response)
    raise response


async def logout(request: web.Request) -> web.StreamResponse:
    response = web.HTTPSeeOther(
        LOGIN if state.of(request).settings.dashboard_token else "/dashboard"
    )
    response.del_cookie(COOKIE, path="/dashboard")
    secured(response)
    raise response


def _https(request: web.Request) -> bool:
    forwarded = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    return request.secure or forwarded == "https"
