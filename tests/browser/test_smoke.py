"""The browser infrastructure itself: Chromium loads a page from a local aiohttp server."""

from __future__ import annotations

from aiohttp import web
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

PAGE = """<!doctype html>
<html><head><title>smoke</title></head>
<body><h1 id="greeting">waiting</h1>
<script>document.getElementById("greeting").textContent = "Hello from aiohttp";</script>
</body></html>
"""


async def _page(request: web.Request) -> web.Response:
    return web.Response(text=PAGE, content_type="text/html")


def test_browser_reads_a_page_served_on_loopback(browser, serve, screenshot) -> None:
    app = web.Application()
    app.router.add_get("/", _page)
    site = serve(app)
    assert site.url.startswith("http://127.0.0.1:")

    browser.get(site.url + "/")
    heading = WebDriverWait(browser, 10).until(
        ec.text_to_be_present_in_element((By.ID, "greeting"), "Hello from aiohttp")
    )
    assert heading
    assert browser.title == "smoke"
    assert browser.find_element(By.ID, "greeting").text == "Hello from aiohttp"

    path = screenshot("smoke")
    assert path.read_bytes().startswith(b"\x89PNG")
