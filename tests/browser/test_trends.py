"""The trends page in a real browser: every bar and point, and the numbers under each chart,
against what the database holds; and no page of the dashboard scrolls sideways at 400 px.

The full-page screenshot is artifacts/screenshots/trends.png; with DOCS_SCREENSHOTS=1 it is
also written to docs/trends.png, the one README shows.
"""

from __future__ import annotations

import os
import shutil
from collections import Counter
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from selenium.webdriver.common.by import By

from bot.app.web import services_key
from tests.browser.conftest import ROOT, WINDOW
from tests.browser.test_dashboard import dashboard_app, deliver_opened, finished
from tests.reviewing import finding, open_pull
from tests.test_trends import percentile
from tests.trend_history import seed

LAST = date(2024, 5, 30)
NARROW = 400

# Every chart's marks (bars, points) and table, read in one round trip.
READ_CHARTS = """
const read = (e, name) => e.getAttribute(name);
return Array.from(document.querySelectorAll('figure.chart')).map(f => ({
  id: f.id.replace('chart-', ''),
  title: f.querySelector('svg > title').textContent,
  desc: f.querySelector('svg > desc').textContent,
  marks: Array.from(f.querySelectorAll('.bar, .point')).map(m => ({
    series: read(m, 'data-series'), day: read(m, 'data-day'),
    value: parseFloat(read(m, 'data-value')), title: m.querySelector('title').textContent})),
  untitled: f.querySelectorAll('.bar:not(:has(> title)), .point:not(:has(> title))').length,
  labels: Array.from(f.querySelectorAll('.direct-label')).map(t => t.textContent),
  legend: Array.from(f.querySelectorAll('ul.legend li')).map(li => li.textContent.trim()),
  table: Array.from(f.querySelectorAll('table tr')).map(
    tr => Array.from(tr.cells).map(c => c.textContent.trim())),
}));
"""
SIDEWAYS = "return document.documentElement.scrollWidth - document.documentElement.clientWidth;"


def charts(browser) -> dict[str, dict[str, Any]]:
    return {c["id"]: c for c in browser.execute_script(READ_CHARTS)}


def values(chart: dict[str, Any]) -> dict[tuple[str, str], float]:
    return {(m["day"], m["series"]): m["value"] for m in chart["marks"]}


def counted(per_day: dict[date, Counter[str]]) -> dict[tuple[str, str], float]:
    return {(d.isoformat(), k): float(n) for d, c in per_day.items() for k, n in c.items() if n}


def full_page(browser, name: str, screenshot) -> None:
    """A screenshot of the whole page at the window's width (the viewport made as tall as
    the page for it: a window cannot be taller than the screen)."""
    width = browser.execute_script("return window.innerWidth;")
    height = browser.execute_script("return document.documentElement.scrollHeight;")
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
    )
    try:
        path = screenshot(name)
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    if name == "trends" and os.environ.get("DOCS_SCREENSHOTS") == "1":
        shutil.copyfile(path, ROOT / "docs" / "trends.png")


@pytest.fixture
def narrow(browser):
    """The window 400 px wide for the test; as before after it."""
    browser.set_window_size(NARROW, WINDOW[1])
    yield
    browser.set_window_size(*WINDOW)


def test_the_charts_show_what_the_database_holds(
    browser, serve, screenshot, settings, fake_github, fake_gemini
) -> None:
    site = serve(dashboard_app(settings))
    history = site.loop.run(seed(site.app[services_key].pool, LAST), 60)

    browser.get(f"{site.url}/dashboard/trends?days=30&until={LAST.isoformat()}")
    assert browser.find_element(By.ID, "period-shown").text.startswith(
        "Per UTC day from 2024-05-01 to 2024-05-30"
    )
    found = charts(browser)
    assert list(found) == [
        "outcomes",
        "spend",
        "tokens",
        "latency",
        "findings-severity",
        "findings-agent",
        "acceptance",
    ]
    for chart in found.values():
        assert chart["title"] and chart["desc"], chart["id"]
        assert chart["marks"] and chart["untitled"] == 0, chart["id"]

    # Reviews by outcome: each bar segment is a day's count of a status.
    outcomes = found["outcomes"]
    assert values(outcomes) == counted(history.outcomes)
    total = Counter[str]()
    for day in history.outcomes.values():
        total.update(day)
    assert outcomes["table"][-1][0] == "Total"
    assert outcomes["table"][-1][-1] == f"{total.total():,}"
    assert outcomes["legend"] == [s for s in ("completed", "failed", "skipped", "superseded")]
    assert f"{total.total():,} in all" in outcomes["desc"]
    # Each bar's title says its day, series and number.
    mark = next(m for m in outcomes["marks"] if m["series"] == "completed")
    assert mark["title"] == f"{mark['day']}, completed: {int(mark['value'])}"

    # Gemini spend and tokens, per day of the calls.
    spend = {day: value for (day, _), value in values(found["spend"]).items()}
    assert spend.keys() == {d.isoformat() for d in history.cost}
    for day, cost in history.cost.items():
        assert abs(spend[day.isoformat()] - float(cost)) < 1e-7, day
    total_cost = sum(history.cost.values(), Decimal(0))
    assert found["spend"]["table"][-1][-1] == f"${total_cost:,.4f}"
    assert values(found["tokens"]) == counted(history.tokens)

    # Latency: p50 and p95 of the completed reviews of each day.
    latency = values(found["latency"])
    expected = {}
    for day, seconds in history.latencies.items():
        expected[(day.isoformat(), "p50")] = percentile(seconds, 0.5)
        expected[(day.isoformat(), "p95")] = percentile(seconds, 0.95)
    assert latency.keys() == expected.keys()
    for key, value in expected.items():
        assert abs(latency[key] - value) < 1e-3, key
    assert sorted(found["latency"]["labels"]) == ["p50", "p95"]  # each line's name at its end

    # Findings by severity and by agent.
    assert values(found["findings-severity"]) == counted(history.severities)
    assert values(found["findings-agent"]) == counted(history.agents)

    # Acceptance per agent, from the reactions, dismissals and resolved threads written.
    rates = {m["day"]: m["value"] for m in found["acceptance"]["marks"]}
    agents = sorted(set(history.accepted) | set(history.rejected))
    assert sorted(rates) == agents
    for agent in agents:
        judged = history.accepted[agent] + history.rejected[agent]
        assert abs(rates[agent] - history.accepted[agent] / judged) < 1e-9, agent
        share = f"{history.accepted[agent] / judged:.0%} ({history.accepted[agent]} of {judged})"
        assert share in found["acceptance"]["labels"], agent
    rows = {row[0]: row for row in found["acceptance"]["table"][1:]}
    assert {a: (int(rows[a][1]), int(rows[a][2])) for a in agents} == {
        a: (history.accepted[a], history.rejected[a]) for a in agents
    }

    glance = browser.find_element(By.ID, "glance").text
    assert f"{total.total():,} ({total['completed']:,} completed" in glance
    assert f"${total_cost:,.4f}" in glance
    full_page(browser, "trends", screenshot)

    # One repository: the page's choice narrows every chart.
    browser.get(f"{site.url}/dashboard/trends?days=7&until={LAST.isoformat()}&repo=octo/gadgets")
    narrowed = charts(browser)
    assert "in octo/gadgets" in narrowed["outcomes"]["desc"]
    assert sum(m["value"] for m in narrowed["outcomes"]["marks"]) < sum(
        n for (d, _), n in counted(history.outcomes).items() if d >= "2024-05-24"
    )


def test_a_review_the_app_ran_shows_on_todays_bars(
    browser, serve, screenshot, settings, fake_github, fake_gemini
) -> None:
    site = serve(dashboard_app(settings))
    fake_gemini.findings["security"] = [finding()]
    review_id = deliver_opened(site, open_pull(fake_github))
    assert finished(site, review_id) == "completed"
    pool = site.app[services_key].pool
    row = site.loop.run(
        pool.fetchrow(
            "SELECT (created_at AT TIME ZONE 'UTC')::date AS day,"
            " extract(epoch FROM finished_at - created_at)::float8 AS seconds,"
            " (SELECT sum(cost_usd) FROM gemini_calls WHERE review_id = $1) AS cost,"
            " (SELECT sum(thinking_tokens) FROM gemini_calls WHERE review_id = $1) AS thinking"
            " FROM reviews WHERE id = $1",
            review_id,
        ),
        10,
    )
    day = row["day"].isoformat()
    assert row["day"] <= datetime.now(UTC).date()

    browser.get(f"{site.url}/dashboard/trends?days=7&until={day}")
    found = charts(browser)
    assert values(found["outcomes"]) == {(day, "completed"): 1.0}
    assert abs(values(found["spend"])[(day, "cost")] - float(row["cost"])) < 1e-7
    assert values(found["tokens"]).get((day, "thinking"), 0.0) == float(row["thinking"])
    assert abs(values(found["latency"])[(day, "p50")] - row["seconds"]) < 1e-3
    assert values(found["findings-severity"]) == {(day, "critical"): 1.0}
    assert values(found["findings-agent"]) == {(day, "security"): 1.0}
    assert (
        browser.find_element(By.ID, "nav-trends")
        .get_attribute("href")
        .endswith("/dashboard/trends")
    )


def test_no_page_scrolls_sideways_at_400_px(
    browser, serve, screenshot, settings, fake_github, fake_gemini, narrow
) -> None:
    site = serve(dashboard_app(settings))
    fake_gemini.findings["security"] = [
        finding(path="src/" + "very_long_directory_name/" * 6 + "module.py")
    ]
    pull = open_pull(
        fake_github,
        files={
            "src/" + "very_long_directory_name/" * 6 + "module.py": (
                "import os\n\n\ndef run(command):\n    return os.system(command)\n",
                "import os\n\n\ndef run(command):\n    return os.system(command)\n\n\n"
                "def evaluate(user_input):\n    return eval(user_input)\n",
            )
        },
    )
    review_id = deliver_opened(site, pull)
    assert finished(site, review_id) == "completed"
    assert browser.execute_script("return window.innerWidth;") == NARROW

    for path, name in (
        ("/dashboard", "dashboard-list-400"),
        ("/dashboard/repositories", "dashboard-repositories-400"),
        (f"/dashboard/reviews/{review_id}", "dashboard-review-400"),
        ("/dashboard/trends", "trends-400"),
    ):
        browser.get(site.url + path)
        assert browser.execute_script(SIDEWAYS) <= 0, f"{path} scrolls sideways at 400 px"
        full_page(browser, name, screenshot)
