"""The dashboard in a real browser: the App served on 127.0.0.1, reviews through deliveries.

Each test saves a screenshot of the page it checks in artifacts/screenshots/.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Iterator

import pytest
from aiohttp import web
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from bot.app.dashboard import views
from bot.app.web import create_app, services_key
from bot.config import Settings
from tests.payloads import delivery, pull_request_payload
from tests.reviewing import FINAL, NEW_APP, OLD_APP, OWNER, REPO, finding, open_pull, wait_for

TOKEN = "dashboard-token-0123456789"
POLL_MS = 200  # the pages' poll interval in these tests (the App's is 2 s)
FLAKY = (NoSuchElementException, StaleElementReferenceException)  # a page being replaced


def dashboard_app(settings: Settings, **changes) -> web.Application:
    """The App with its dashboard, listening on loopback as served here (so the dashboard
    needs no token); no settling wait after a superseded review."""
    changes.setdefault("push_settle_seconds", 0)
    changes.setdefault("host", "127.0.0.1")
    return create_app(dataclasses.replace(settings, **changes))


def deliver_opened(site, pull) -> uuid.UUID:
    """Deliver a signed `pull_request` opened for the PR's head; the review it started."""
    payload = pull_request_payload(
        "opened", number=pull.number, owner=pull.owner, repo=pull.repo, head_sha=pull.head_sha
    )
    body, headers = delivery(payload, event="pull_request")
    status, answer = site.post("/webhooks", body, headers)
    assert status == 202, answer
    return uuid.UUID(json.loads(answer)["review_id"])


def finished(site, review_id: uuid.UUID, timeout: float = 30) -> str:
    """Wait (on the App's loop, with its pool) for the review to finish; its status."""
    pool = site.app[services_key].pool
    return site.loop.run(wait_for(pool, review_id, FINAL, timeout), timeout + 5)


def wait(browser, timeout: float = 10) -> WebDriverWait:
    return WebDriverWait(browser, timeout, poll_frequency=0.05, ignored_exceptions=FLAKY)


def row_of(browser, review_id: uuid.UUID) -> WebElement:
    return browser.find_element(By.CSS_SELECTOR, f'tr[data-review-id="{review_id}"]')


def status_cell(browser, review_id: uuid.UUID) -> str:
    return row_of(browser, review_id).find_element(By.CSS_SELECTOR, "td.status").text.strip()


def repositories_shown(browser) -> list[str]:
    rows = browser.find_elements(By.CSS_SELECTOR, "table#reviews tr[data-review-id]")
    return [r.find_element(By.CSS_SELECTOR, "td.repository").text.strip() for r in rows]


@pytest.fixture(autouse=True)
def quick_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages ask for news every POLL_MS (the App serves them from this process)."""
    monkeypatch.setattr(views, "POLL_MS", POLL_MS)


@pytest.fixture(autouse=True)
def no_session(browser) -> Iterator[None]:
    """Each test starts without cookies (every App here is on 127.0.0.1, whatever its port)."""
    browser.execute_cdp_cmd("Network.clearBrowserCookies", {})
    yield
    browser.execute_cdp_cmd("Network.clearBrowserCookies", {})


def test_list_shows_the_status_change_while_gemini_answers(
    browser, serve, screenshot, settings, fake_github, fake_gemini
) -> None:
    site = serve(dashboard_app(settings))
    fake_gemini.latency = 2.0  # each answer pending this long: the review stays `processing`
    pull = open_pull(fake_github)
    review_id = deliver_opened(site, pull)

    browser.get(f"{site.url}/dashboard")
    table = browser.find_element(By.CSS_SELECTOR, "table#reviews")
    assert table.get_attribute("data-poll-ms") == str(POLL_MS)
    wait(browser, 5).until(lambda b: status_cell(b, review_id) == "processing")
    row = row_of(browser, review_id)
    assert row.find_element(By.CSS_SELECTOR, "td.repository").text.strip() == f"{OWNER}/{REPO}"
    assert "7" in row.find_element(By.CSS_SELECTOR, "td.pr").text
    assert pull.head_sha[:7] in row.find_element(By.CSS_SELECTOR, "td.head").text
    assert row.find_element(By.CSS_SELECTOR, "td.trigger").text.strip() == "opened"
    assert (
        row.find_element(By.CSS_SELECTOR, "a.review-link")
        .get_attribute("href")
        .endswith(f"/dashboard/reviews/{review_id}")
    )
    browser.execute_script("window.secondLookNotReloaded = true;")

    wait(browser, 30).until(lambda b: status_cell(b, review_id) == "completed")
    assert browser.execute_script("return window.secondLookNotReloaded === true;"), (
        "the page was reloaded: the status must change in place"
    )
    assert row.get_attribute("data-status") == "completed"  # the same row, updated
    screenshot("dashboard-list")


def two_repositories(site, fake_github) -> dict[str, uuid.UUID]:
    """A finished review in octo/widgets and one in octo/gadgets; their ids by repository."""
    widgets = open_pull(fake_github)
    gadgets = fake_github.add_pull(OWNER, "gadgets", 8, files={"app.py": (OLD_APP, NEW_APP)})
    ids = {f"{OWNER}/{p.repo}": deliver_opened(site, p) for p in (widgets, gadgets)}
    for review_id in ids.values():
        assert finished(site, review_id) == "completed"
    return ids


def test_a_filter_narrows_the_list(
    browser, serve, screenshot, settings, fake_github, fake_gemini
) -> None:
    site = serve(dashboard_app(settings))
    ids = two_repositories(site, fake_github)

    browser.get(f"{site.url}/dashboard")
    assert sorted(repositories_shown(browser)) == ["octo/gadgets", "octo/widgets"]
    form = browser.find_element(By.CSS_SELECTOR, "form#filters")
    field = form.find_element(By.CSS_SELECTOR, "input[name=repo]")
    field.clear()
    field.send_keys("octo/gadgets")
    form.find_element(By.CSS_SELECTOR, "button#apply").click()

    wait(browser).until(lambda b: repositories_shown(b) == ["octo/gadgets"])
    row_of(browser, ids["octo/gadgets"])  # the one left is that repository's review
    assert not browser.find_elements(
        By.CSS_SELECTOR, f'tr[data-review-id="{ids[f"{OWNER}/{REPO}"]}"]'
    )
    screenshot("dashboard-filtered")


def test_repositories_page_lists_each_reviewed_repository(
    browser, serve, screenshot, settings, fake_github, fake_gemini
) -> None:
    site = serve(dashboard_app(settings))
    two_repositories(site, fake_github)

    browser.get(f"{site.url}/dashboard/repositories")
    rows = browser.find_elements(By.CSS_SELECTOR, "table#repositories tr.repository")
    texts = " ".join(r.text for r in rows)
    assert len(rows) == 2, texts
    assert "octo/widgets" in texts and "octo/gadgets" in texts
    screenshot("dashboard-repositories")


def test_review_page_shows_the_timeline_and_the_findings(
    browser, serve, screenshot, settings, fake_github, fake_gemini
) -> None:
    site = serve(dashboard_app(settings))
    fake_gemini.findings["security"] = [finding()]
    pull = open_pull(fake_github)
    review_id = deliver_opened(site, pull)
    assert finished(site, review_id) == "completed"

    browser.get(f"{site.url}/dashboard/reviews/{review_id}")
    events = browser.find_elements(By.CSS_SELECTOR, "ol#timeline li.event")
    statuses = [e.get_attribute("data-status") for e in events]
    assert statuses == ["pending", "processing", "completed"], statuses
    findings = browser.find_elements(By.CSS_SELECTOR, "table#findings tr.finding")
    assert len(findings) == 1, [f.text for f in findings]
    assert "eval of user input" in findings[0].text
    assert "app.py" in findings[0].text
    calls = browser.find_elements(By.CSS_SELECTOR, "table#calls tr.call")
    assert calls, "no Gemini call listed"
    screenshot("dashboard-review")


def test_without_the_token_the_dashboard_asks_for_it(
    browser, serve, screenshot, settings, fake_github, fake_gemini
) -> None:
    site = serve(dashboard_app(settings, dashboard_token=TOKEN))

    browser.get(f"{site.url}/dashboard")
    wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, "form#login")))
    assert browser.current_url.startswith(f"{site.url}/dashboard/login")
    assert not browser.find_elements(By.CSS_SELECTOR, "table#reviews")
    assert site.get("/dashboard/reviews.json")[0] == 401  # the data, too, without a session

    log_in(browser, "not-" + TOKEN)
    error = wait(browser).until(
        ec.visibility_of_element_located((By.CSS_SELECTOR, "p#login-error"))
    )
    assert error.text.strip()
    assert not browser.find_elements(By.CSS_SELECTOR, "table#reviews")
    assert not browser.get_cookies() or not any(c.get("httpOnly") for c in browser.get_cookies())
    screenshot("dashboard-login-refused")

    log_in(browser, TOKEN)
    wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, "table#reviews")))
    assert browser.current_url.startswith(f"{site.url}/dashboard")
    session = [c for c in browser.get_cookies() if c.get("httpOnly")]
    assert session, f"no HttpOnly cookie set: {browser.get_cookies()}"
    assert all(c.get("sameSite") == "Strict" for c in session), session
    visible = browser.execute_script("return document.cookie;")
    for cookie in session:
        assert cookie["name"] not in visible, f"{cookie['name']} readable by scripts"
        assert TOKEN not in cookie["value"], "the session cookie holds the token itself"


def log_in(browser, token: str) -> None:
    form = browser.find_element(By.CSS_SELECTOR, "form#login")
    field = form.find_element(By.CSS_SELECTOR, "input[name=token]")
    field.clear()
    field.send_keys(token)
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()


def test_a_signed_in_operator_re_runs_a_review_from_its_page(
    browser, serve, screenshot, settings, fake_github, fake_gemini
) -> None:
    site = serve(dashboard_app(settings, dashboard_token=TOKEN))
    fake_gemini.findings["security"] = [finding()]
    pull = open_pull(fake_github)
    first = deliver_opened(site, pull)
    assert finished(site, first) == "completed"

    browser.get(f"{site.url}/dashboard/login")
    log_in(browser, TOKEN)
    wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, "table#reviews")))
    browser.get(f"{site.url}/dashboard/reviews/{first}")
    reached = {
        row.get_attribute("data-target"): row.find_element(By.CSS_SELECTOR, "td.said").text
        for row in browser.find_elements(By.CSS_SELECTOR, "table#reached tr.reach")
    }
    assert reached["comment"].startswith("Posted at ") and "1 critical" in reached["comment"]
    assert "1 inline comment(s)" in reached["inline"]
    assert "completed (failure): 1 critical" in reached["check"]
    form = browser.find_element(By.CSS_SELECTOR, "form#rerun")
    assert form.find_element(By.CSS_SELECTOR, "input[name=csrf]").get_attribute("value")
    screenshot("dashboard-review-rerun")

    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()

    wait(browser).until(lambda b: f"/dashboard/reviews/{first}" not in b.current_url)
    second = uuid.UUID(browser.current_url.rstrip("/").rsplit("/", 1)[1])
    assert finished(site, second) == "completed"
    wait(browser, 30).until(
        lambda b: b.find_element(By.CSS_SELECTOR, "dd.status").text.strip() == "completed"
    )
    assert browser.find_element(By.CSS_SELECTOR, "dd.trigger").text.strip() == "rerun"
    assert browser.find_element(By.CSS_SELECTOR, "dd.head").text.strip() == pull.head_sha
    (check,) = [c for c in fake_github.check_runs(OWNER, REPO, pull.head_sha) if
                c["external_id"] == str(second)]  # fmt: skip
    assert check["status"] == "completed"
    assert len(fake_github.comments(OWNER, REPO, 7)) == 1  # the same summary comment, edited
    screenshot("dashboard-review-rerun-done")


def test_without_a_token_a_review_page_offers_no_re_run(
    browser, serve, screenshot, settings, fake_github, fake_gemini
) -> None:
    site = serve(dashboard_app(settings))
    pull = open_pull(fake_github)
    review_id = deliver_opened(site, pull)
    assert finished(site, review_id) == "completed"

    browser.get(f"{site.url}/dashboard/reviews/{review_id}")

    assert not browser.find_elements(By.CSS_SELECTOR, "form#rerun")
    note = browser.find_element(By.CSS_SELECTOR, "p#rerun-note").text
    assert "DASHBOARD_TOKEN" in note
    # A page of another site cannot make this browser act either: no session to act with.
    status, body = site.post(
        f"/dashboard/reviews/{review_id}/rerun", b"", {"Origin": "https://evil.example"}
    )
    assert status == 403, body
