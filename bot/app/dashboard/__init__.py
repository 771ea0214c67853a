"""The dashboard: reviews, their timelines, findings and Gemini usage, as server-made pages.

`setup` adds its routes to the App (web.py calls it). Pages are jinja2 templates, autoescaped;
the only script, static/dashboard.js, polls the JSON endpoints to keep statuses current.
Who may see it, and who may act (the Re-run), is auth.py's; what it reads,
bot/store/dashboard.py's and bot/store/publications.py's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import aiohttp_jinja2
import asyncpg
import jinja2
from aiohttp import web

from bot import resources
from bot.app.conversation.context import Hooks
from bot.app.dashboard import auth, views
from bot.app.dashboard.state import Dashboard, dashboard_key, templates_key
from bot.config import Settings

__all__ = ["setup"]


def setup(
    app: web.Application,
    settings: Settings,
    pool: Callable[[], asyncpg.Pool],
    degraded: Callable[[], Mapping[str, str]] = dict,
    hooks: Callable[[], Hooks] | None = None,
) -> None:
    """Add the dashboard to `app`; `pool` is called per request (it may open after this),
    `degraded` per page (what works only in part, and why: a banner), and `hooks` when the
    Re-run starts a review (None: the dashboard offers no Re-run)."""
    app[dashboard_key] = Dashboard(settings, pool, degraded, hooks)
    aiohttp_jinja2.setup(
        app,
        app_key=templates_key,
        loader=jinja2.FileSystemLoader(resources.dashboard_dir("templates")),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        default_helpers=False,
    )
    page, data = auth.guarded(), auth.guarded(json=True)
    router = app.router
    router.add_get("/dashboard", page(views.reviews_page))
    router.add_get("/dashboard/reviews.json", data(views.reviews_json))
    router.add_get("/dashboard/reviews/{id}", page(views.review_page))
    router.add_get("/dashboard/reviews/{id}/events.json", data(views.review_events_json))
    router.add_post("/dashboard/reviews/{id}/rerun", page(views.rerun))
    router.add_get("/dashboard/repositories", page(views.repositories_page))
    router.add_get("/dashboard/trends", page(views.trends_page))
    router.add_get("/dashboard/login", auth.login_form)
    router.add_post("/dashboard/login", auth.login)
    router.add_post("/dashboard/logout", auth.logout)
    router.add_static("/dashboard/static/", resources.dashboard_dir("static"), append_version=False)
