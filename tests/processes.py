"""`python -m bot serve` as a real subprocess, for crash and replica tests."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import aiohttp

from bot.config import Settings

# `python -m bot` imports this checkout's bot/, not the one the venv was installed from (a
# git worktree shares the venv of the main checkout).
CHECKOUT = {"PYTHONPATH": str(Path(__file__).resolve().parents[1])}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def app_env(settings: Settings) -> dict[str, str]:
    """The environment a `python -m bot ...` process reads `settings` from (and nothing else)."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        **CHECKOUT,
        "GITHUB_APP_ID": settings.github_app_id,
        "GITHUB_PRIVATE_KEY": settings.github_private_key,
        "GITHUB_WEBHOOK_SECRET": settings.github_webhook_secret,
        "GITHUB_API_URL": settings.github_api_url,
        "GEMINI_API_KEY": settings.gemini_api_key,
        "GOOGLE_GEMINI_BASE_URL": settings.gemini_base_url or "",
        "GEMINI_RPM": str(settings.gemini_rpm),
        "DATABASE_URL": settings.database_url or "",
    }


class Server:
    """One `serve` process on 127.0.0.1, configured like `settings`; `command` is what runs
    Second Look (this checkout's, unless a test installed it elsewhere)."""

    def __init__(
        self,
        settings: Settings,
        workdir: Path,
        command: Sequence[str] = (sys.executable, "-m", "bot"),
        port: int | None = None,
        **extra: str,
    ) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = workdir / f"serve-{self.port}.log"
        env = {
            **app_env(settings),
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "LEASE_SECONDS": "30",
            "RECLAIM_INTERVAL": "1",
            **extra,
        }
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                [*command, "serve"],
                cwd=workdir,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    async def ready(self, timeout: float = 30) -> None:
        """Wait until /healthz answers 200."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        async with aiohttp.ClientSession() as http:
            while loop.time() < deadline:
                if self.process.poll() is not None:
                    raise AssertionError(f"serve exited: {self.log.read_text()}")
                try:
                    async with http.get(self.url + "/healthz") as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.05)
        raise AssertionError(f"serve not ready after {timeout} s: {self.log.read_text()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown, no cleanup, as when a machine dies."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


DEADLINE = 60  # no `python -m bot` subprocess of a test may run longer


def run_bot(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    """`python -m bot ARGS` in `cwd` with exactly `env`, to the end; its output captured."""
    return subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=DEADLINE,
    )
