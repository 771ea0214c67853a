"""The first-run pages in a real browser: our own form passes the Origin check and goes
through FakeGitHub's "Create GitHub App" pages back to the callback; another site's form
posting to /setup is refused."""

from __future__ import annotations

import stat
from pathlib import Path
from urllib.parse import parse_qs

from aiohttp import web
from dotenv import dotenv_values
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from bot.app.setup import SetupSettings, create_setup_app

GEMINI_KEY = "AIzaSyBrowserTyped-0123456789abcdef"


def recorded(statuses: list[tuple[str, str, int]]):
    """A middleware that records each request's method, path and answer status."""

    @web.middleware
    async def record(request: web.Request, handler):
        response = await handler(request)
        statuses.append((request.method, request.path, response.status))
        return response

    return record


def setup_site(serve, tmp_path: Path, github_url: str):
    """The setup pages, GitHub's API and web pages at `github_url` (FakeGitHub's)."""
    statuses: list[tuple[str, str, int]] = []
    settings = SetupSettings(github_api_url=github_url, data_dir=tmp_path / "data")
    app = create_setup_app(settings, dotenv=tmp_path / ".env", github_url=github_url)
    app.middlewares.insert(0, recorded(statuses))
    return serve(app), statuses


def test_our_own_form_reaches_github(browser, serve, screenshot, tmp_path, fake_github):
    site, statuses = setup_site(serve, tmp_path, fake_github.url)

    browser.get(f"{site.url}/")
    assert browser.find_element(By.ID, "base_url").get_attribute("value") == site.url
    screenshot("setup-form")
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(browser, 10).until(lambda b: b.find_elements(By.ID, "create"))

    assert ("POST", "/setup", 200) in statuses
    (posted,) = fake_github.find_requests("POST", "^/settings/apps/new$")
    assert '"hook_attributes"' in parse_qs(posted.body.decode())["manifest"][0]


def register(browser, site, fake_github, gemini_key: str) -> str:
    """Fill in the setup form as a person would (the public URL as offered), create the App
    on FakeGitHub's page, and land on the callback's page; its text."""
    browser.get(f"{site.url}/")
    key_field = browser.find_element(By.ID, "gemini_api_key")
    assert key_field.get_attribute("type") == "password"
    if gemini_key:
        key_field.send_keys(gemini_key)
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(browser, 10).until(lambda b: b.find_elements(By.ID, "create"))
    browser.find_element(By.ID, "create").click()
    WebDriverWait(browser, 10).until(lambda b: "is registered" in b.title)
    assert browser.current_url.startswith(f"{site.url}/setup/callback?code=")
    return browser.find_element(By.TAG_NAME, "body").text


def test_the_first_run_warns_asks_for_the_gemini_key_and_writes_it(
    browser, serve, screenshot, tmp_path, fake_github
):
    site, _ = setup_site(serve, tmp_path, fake_github.url)

    browser.get(f"{site.url}/")
    warnings = [w.text for w in browser.find_elements(By.CSS_SELECTOR, ".warning")]
    assert len(warnings) == 2, warnings
    assert "127.0.0.1 is a loopback address" in warnings[0]
    assert "cloudflared tunnel --url http://localhost:8080" in warnings[0]
    assert "plain http://" in warnings[1]
    screenshot("setup-form-warnings")
    text = register(browser, site, fake_github, GEMINI_KEY)
    screenshot("setup-registered")

    assert "The Gemini API key is in" in text
    assert "Install it on your repositories" in text
    assert GEMINI_KEY not in browser.page_source
    env_file = tmp_path / ".env"
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    env = dotenv_values(env_file)
    assert env["GEMINI_API_KEY"] == GEMINI_KEY
    assert env["GITHUB_APP_ID"] == fake_github.app_id
    (conversion,) = fake_github.conversions
    assert conversion["name"] == "Second Look (127.0.0.1)"
    assert env["GITHUB_WEBHOOK_SECRET"] == conversion["webhook_secret"]


def test_without_a_gemini_key_the_first_review_is_said_to_fail(
    browser, serve, screenshot, tmp_path, fake_github
):
    site, _ = setup_site(serve, tmp_path, fake_github.url)

    text = register(browser, site, fake_github, "")
    screenshot("setup-registered-without-gemini-key")

    assert "No Gemini API key is set: the first review will fail" in text
    assert "GEMINI_API_KEY=<your key>" in text
    assert "GEMINI_API_KEY" not in dotenv_values(tmp_path / ".env")


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
