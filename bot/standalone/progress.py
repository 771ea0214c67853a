"""The progress line on standard error while the agents run: a spinner and the Gemini calls
done so far. Shown only on a terminal; piped or in CI there is none."""

from __future__ import annotations

import asyncio
import time
from types import TracebackType
from typing import TextIO

from bot.review.metering import Call

FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
TICK = 0.1  # seconds between frames
CLEAR = "\r\x1b[K"  # back to the start of the line, erase it


class Progress:
    """`⠹ reviewing: 5 Gemini call(s) done, 2.1 s`, redrawn in place while the block runs."""

    def __init__(self, stream: TextIO, what: str, *, enabled: bool) -> None:
        self.stream = stream
        self.what = what
        self.enabled = enabled
        self.done = 0
        self.failed = 0
        self._frame = 0
        self._start = time.monotonic()
        self._ticker: asyncio.Task[None] | None = None

    def call_done(self, call: Call) -> None:
        """A meter's `on_call`: an attempt ended (ok, failed or cancelled)."""
        if call.status == "ok":
            self.done += 1
        else:
            self.failed += 1
        self._draw()

    def line(self) -> str:
        failed = f", {self.failed} failed" if self.failed else ""
        elapsed = time.monotonic() - self._start
        return (
            f"{FRAMES[self._frame % len(FRAMES)]} {self.what}: {self.done} Gemini call(s) "
            f"done{failed}, {elapsed:.1f} s"
        )

    def _draw(self) -> None:
        if self.enabled:
            self.stream.write(CLEAR + self.line())
            self.stream.flush()

    async def _tick(self) -> None:
        while True:
            self._draw()
            await asyncio.sleep(TICK)
            self._frame += 1

    async def __aenter__(self) -> Progress:
        if self.enabled:
            self._ticker = asyncio.create_task(self._tick())
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            try:
                await self._ticker
            except asyncio.CancelledError:
                pass
            self.stream.write(CLEAR)
            self.stream.flush()
