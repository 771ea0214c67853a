"""The JSON shapes several endpoints share: timestamps, users, the bot and repositories."""

from __future__ import annotations

import time
import zlib
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from tests.fakes.github.http import Http
from tests.fakes.github.state import _Repo


def _now_iso(ts: float | None = None) -> str:
    moment = datetime.fromtimestamp(time.time() if ts is None else ts, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _user_id(login: str) -> int:
    return zlib.crc32(login.encode()) % 10**8


class Shapes(Http):
    """Render the objects GitHub embeds in many answers."""

    def _bot(self) -> dict[str, Any]:
        return {
            "login": self.bot_login,
            "id": self.bot_id,
            "node_id": f"BOT_{self.bot_id}",
            "type": "Bot",
            "site_admin": False,
            "html_url": f"https://github.com/apps/{self.bot_login.removesuffix('[bot]')}",
        }

    @staticmethod
    def _user(login: str) -> dict[str, Any]:
        return {"login": login, "id": _user_id(login), "type": "User", "site_admin": False}

    def _repo_json(self, request: web.Request, state: _Repo) -> dict[str, Any]:
        full = f"{state.owner}/{state.name}"
        return {
            "id": state.id,
            "node_id": f"R_{state.id}",
            "name": state.name,
            "full_name": full,
            "private": True,
            "owner": {"login": state.owner, "id": _user_id(state.owner), "type": "Organization"},
            "html_url": f"https://github.com/{full}",
            "url": f"{self._base_url(request)}/repos/{full}",
            "default_branch": state.default_branch,
        }
