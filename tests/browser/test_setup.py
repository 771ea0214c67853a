"""The first-run pages in a real browser: our own form passes the Origin check, another
site's form posting to /setup is refused."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from bot.app.setup import SetupSettings, create_setup_app

LANDED = "<!doctype html><title>GitHub (fake)</title><h1 id='landed'>new App</h1>"


def recorded(statuses: list[tuple[str, str, int]]):
    """A middleware that records each request's method, path and answer status."""

    @web.middleware
    async def record(request: web.Request, handler):
        response = await handler(request)
        statuses.append((request.method, request.path, response.status))
        return response

    return record


def github_page(posts: list[dict[str, str]]) -> web.Application:
    """Where the manifest form lands: GitHub's /settings/apps/new, as a stand-in."""

    async def new_app(request: web.Request) -> web.Response:
        posts.append({k: str(v) for k, v in (await request.post()).items()})
        return web.Response(text=LANDED, content_type="text/html")

    app = web.Application()
    app.router.add_post("/settings/apps/new", new_app)
    return app


def setup_site(serve, tmp_path: Path, github_url: str):
    statuses: list[tuple[str, str, int]] = []
    settings = SetupSettings(github_api_url=github_url, data_dir=tmp_path / "data")
    app = create_setup_app(settings, dotenv=tmp_path / ".env", github_url=github_url)
    app.middlewares.insert(0, recorded(statuses))
    return serve(app), statuses


def test_our_own_form_reaches_github(browser, serve, screenshot, tmp_path):
    posts: list[dict[str, str]] = []
    github = serve(github_page(posts))
    site, statuses = setup_site(serve, tmp_path, github.url)

    browser.get(f"{site.url}/")
    assert browser.find_element(By.ID, "base_url").get_attribute("value") == site.url
    screenshot("setup-form")
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(browser, 10).until(lambda b: b.find_elements(By.ID, "landed"))

    assert ("POST", "/setup", 200) in statuses
    assert len(posts) == 1 and '"hook_attributes"' in posts[0]["manifest"]


def test_another_sites_form_is_refused(browser, serve, screenshot, tmp_path):
    site, statuses = setup_site(serve, tmp_path, "https://github.example")
    posting = (
        f"<!doctype html><title>elsewhere</title><form id='f' method='post' "
        f"action='{site.url}/setup'><input name='name' value='Mine'>"
        "<input name='base_url' value='https://evil.example'><button id='go'>go</button></form>"
    )

    async def page(request: web.Request) -> web.Response:
        return web.Response(text=posting, content_type="text/html")

    other = web.Application()
    other.router.add_get("/", page)
    elsewhere = serve(other)  # another port of 127.0.0.1: another origin

    browser.get(f"{elsewhere.url}/")
    browser.find_element(By.ID, "go").click()
    WebDriverWait(browser, 10).until(lambda b: ("POST", "/setup", 403) in statuses)
    WebDriverWait(browser, 10).until(lambda b: "own address" in b.page_source)
    screenshot("setup-foreign-post")
    assert "settings/apps/new" not in browser.page_source
