"""What the dashboard's handlers share: its settings, the pool, and rendering a page."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import aiohttp_jinja2
import asyncpg
import jinja2
from aiohttp import web

from bot.app.conversation.context import Hooks
from bot.config import Settings
from bot.github.client import web_url


@dataclass(frozen=True)
class Dashboard:
    settings: Settings
    pool: Callable[[], asyncpg.Pool]  # called per request: the pool may open after setup
    # What works only in part, and why (bot/app/health.py): a banner on every page behind auth.
    degraded: Callable[[], Mapping[str, str]] = dict
    # The scheduler's hooks, for a review the dashboard starts (its Re-run); None: it starts
    # none (a dashboard served without the App's scheduler).
    hooks: Callable[[], Hooks] | None = None

    @cached_property
    def github(self) -> str:
        """Where the dashboard's links to GitHub go: the web host of GITHUB_API_URL."""
        return web_url(self.settings.github_api_url)


dashboard_key = web.AppKey("dashboard", Dashboard)
templates_key = web.AppKey("dashboard_templates", jinja2.Environment)


def of(request: web.Request) -> Dashboard:
    return request.config_dict[dashboard_key]


def pool(request: web.Request) -> asyncpg.Pool:
    return of(request).pool()


def render(
    request: web.Request, name: str, context: Mapping[str, Any], status: int = 200
) -> web.Response:
    """A page from templates/ (autoescaped: every value of `context` is text, never markup),
    without the banner (the login page: who is not signed in learns nothing of the App)."""
    return aiohttp_jinja2.render_template(
        name, request, {"degraded": {}, **context}, app_key=templates_key, status=status
    )


def page(
    request: web.Request, name: str, context: Mapping[str, Any], status: int = 200
) -> web.Response:
    """A page behind auth: `render`, with the banner of what is degraded."""
    return render(request, name, {**context, "degraded": of(request).degraded()}, status)
