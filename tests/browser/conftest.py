"""A headless Chromium for the session, and where its screenshots go.

The browser is Debian's chromium and chromium-driver at fixed paths (`scripts/install-browser`
installs them): selenium is pointed at both, so selenium-manager never tries to download one.
"""

from __future__ import annotations

import contextlib
import dataclasses
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from aiohttp import web
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service

from tests.fakes.loop import BackgroundLoop

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
WINDOW = (1280, 900)
PAGE_LOAD_TIMEOUT = 20

# Headless on a closed network: no sandbox (root in CI), no GPU, and none of the background
# connections to Google hosts (QUIC, sync, component updates) that the network would refuse.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def _missing() -> list[str]:
    return [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.is_file()]


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[webdriver.Chrome]:
    """One headless Chromium for the session, with a new empty profile."""
    missing = _missing()
    if missing:
        pytest.fail(
            f"{' and '.join(missing)} not found: the browser tests need Debian's chromium and "
            "chromium-driver; run scripts/install-browser (as root it installs them)",
            pytrace=False,
        )
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.add_argument(f"--window-size={WINDOW[0]},{WINDOW[1]}")
    service = Service(executable_path=str(CHROMEDRIVER))
    try:
        driver = webdriver.Chrome(options=options, service=service)
    except WebDriverException as exc:
        pytest.fail(
            f"{CHROMIUM} did not start through {CHROMEDRIVER}: {exc.msg}; "
            "scripts/install-browser installs matching chromium and chromium-driver",
            pytrace=False,
        )
    driver.set_window_size(*WINDOW)
    driver.set_page_load_timeout(PAGE_LOAD_TIMEOUT)
    yield driver
    driver.quit()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    """artifacts/screenshots/ at the repository's root (ignored by git), created."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture
def screenshot(browser: webdriver.Chrome, screenshots: Path) -> Callable[[str], Path]:
    """Save what the browser shows as NAME.png in the screenshots directory; its path."""
    return lambda name: save_screenshot(browser, screenshots, name)


def save_screenshot(driver: webdriver.Chrome, directory: Path, name: str) -> Path:
    path = directory / f"{name}.png"
    path.unlink(missing_ok=True)
    assert driver.save_screenshot(str(path)), f"no screenshot saved at {path}"
    assert path.stat().st_size > 0, f"empty screenshot at {path}"
    return path


@dataclasses.dataclass
class Served:
    """An app served on 127.0.0.1 from its own background loop (a browser needs a real port)."""

    url: str
    loop: BackgroundLoop
    app: web.Application

    def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        """POST from this (the test's) thread, as an outside sender would."""
        return self.request("POST", path, body, headers)

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        """GET from this thread, without the browser's cookies; redirects are followed."""
        return self.request("GET", path, None, headers or {})

    def request(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str]
    ) -> tuple[int, bytes]:
        request = urllib.request.Request(  # noqa: S310 - always our own http://127.0.0.1 URL
            self.url + path, data=body, headers=headers, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()


@contextlib.contextmanager
def served(app: web.Application) -> Iterator[Served]:
    """Serve `app` (AppRunner + TCPSite on port 0) on a loop of its own; cleaned up after."""
    loop = BackgroundLoop()
    try:
        yield Served(loop.serve(app), loop, app)
    finally:
        loop.close()


@pytest.fixture
def serve() -> Iterator[Callable[[web.Application], Served]]:
    """Serve apps for this test; each is shut down (its cleanup run) when the test ends."""
    with contextlib.ExitStack() as stack:
        yield lambda app: stack.enter_context(served(app))
