"""The trends page over HTTP, and the charts' geometry: what each bar, point and table says,
the period's choices and errors, access, escaping, and looks that never rest on colour alone."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from aiohttp import web

from bot.app import dashboard
from bot.app.dashboard import charts, trend_charts
from bot.app.dashboard.charts import Look, Series
from bot.store.dashboard import SEVERITIES, STATUSES
from bot.store.findings_table import FindingRepo
from tests.test_dashboard import HOSTILE, StoredFinding, add_call, add_review, page, parse

TOKEN = "dashboard-token-0123456789"
LAST = date(2024, 5, 10)


@pytest.fixture
async def client(aiohttp_client, settings, pool):
    """The dashboard of an App on loopback, no token, asked from 127.0.0.1: served."""
    app = web.Application()
    dashboard.setup(app, dataclasses.replace(settings, host="127.0.0.1"), lambda: pool)
    return await aiohttp_client(app)


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


# ------------------------------------------------------------------------------ the geometry


@pytest.mark.parametrize(
    ("top", "whole", "steps", "ticks"),
    [
        (7, True, (), [0, 2, 4, 6, 8]),
        (0, True, (), [0, 1]),
        (3, True, (), [0, 1, 2, 3]),
        (0.0123, False, (), [0, 0.005, 0.01, 0.015]),
        (400, False, charts.DURATION_STEPS, [0, 120, 240, 360, 480]),
        (50, False, charts.DURATION_STEPS, [0, 15, 30, 45, 60]),
    ],
)
def test_axes_have_round_steps(top, whole, steps, ticks):
    found = charts.nice_ticks(top, whole, steps=steps)
    assert found == pytest.approx(ticks)


def test_pattern_marks_are_dark_on_light_colours_and_white_on_dark_ones():
    assert Look(trend_charts.YELLOW).ink == "#1f2328"
    assert Look(trend_charts.SKY).ink == "#1f2328"
    assert Look(trend_charts.BLUE).ink == "#ffffff"
    assert Look(trend_charts.VERMILION).ink == "#ffffff"


def test_every_status_and_severity_has_a_look_of_its_own():
    assert set(trend_charts.STATUS_LOOKS) == set(STATUSES) == set(trend_charts.OUTCOME_ORDER)
    assert set(trend_charts.SEVERITY_LOOKS) == set(SEVERITIES)
    for looks in (trend_charts.STATUS_LOOKS, trend_charts.SEVERITY_LOOKS, trend_charts.TOKEN_LOOKS):
        # Told apart without colour: no two share a pattern, and every pattern is drawn.
        patterns = [look.pattern for look in looks.values()]
        assert len(set(patterns)) == len(patterns)
        assert set(patterns) <= set(charts.PATTERNS)


def test_stacked_bars_are_as_tall_as_their_values():
    days = [LAST - timedelta(days=2), LAST - timedelta(days=1), LAST]
    chart = charts.stacked_bars(
        "c",
        "T",
        "Reviews",
        days,
        [
            Series("a", "A", (3.0, 0.0, 1.0), Look(trend_charts.GREEN)),
            Series("b", "B", (1.0, 0.0, None), Look(trend_charts.VERMILION, "cross")),
        ],
        fmt=trend_charts.count,
        tick=trend_charts.count,
        whole=True,
        description="d",
    )
    bars = {(m.day, m.series): m for m in chart.marks}
    assert set(bars) == {("2024-05-08", "a"), ("2024-05-08", "b"), ("2024-05-10", "a")}
    a, b = bars[("2024-05-08", "a")], bars[("2024-05-08", "b")]
    assert a.height == pytest.approx(3 * b.height)  # the axis runs 0 to 4
    assert a.y == pytest.approx(b.y + b.height)  # b sits on a
    assert a.y + a.height == pytest.approx(chart.bottom)
    assert b.y == pytest.approx(chart.top)
    assert a.title == "2024-05-08, A: 3"
    assert [t.label for t in chart.y_ticks] == ["0", "1", "2", "3", "4"]
    assert [label.text for label in chart.labels] == ["4", "1"]  # the days' totals, 0 unsaid
    assert chart.table.header == ("Day (UTC)", "A", "B", "Total")
    assert chart.table.rows == (
        ("2024-05-08", "3", "1", "4"),
        ("2024-05-09", "0", "0", "0"),
        ("2024-05-10", "1", "0", "1"),
        ("Total", "4", "1", "5"),
    )
    assert not chart.empty


def test_a_line_breaks_where_a_day_has_no_value():
    days = [LAST - timedelta(days=n) for n in range(5, -1, -1)]
    chart = charts.lines(
        "l",
        "T",
        "Time",
        days,
        [
            Series("p50", "p50", (10.0, 20.0, None, 30.0, 30.0, None), trend_charts.P50),
            Series("p95", "p95", (None, None, None, 40.0, None, None), trend_charts.P95),
        ],
        fmt=str,
        tick=str,
        description="d",
        missing="—",
    )
    assert [(line.series, line.points.count(",")) for line in chart.lines] == [
        ("p50", 2),  # days 1 and 2
        ("p50", 2),  # days 4 and 5
    ]  # the lone p95 point is a marker without a line
    assert [(m.series, m.day, m.value) for m in chart.marks if m.series == "p95"] == [
        ("p95", "2024-05-08", 40.0)
    ]
    ends = {label.text: label.y for label in chart.labels}
    assert set(ends) == {"p50", "p95"} and abs(ends["p50"] - ends["p95"]) >= 10
    assert chart.table.rows[2] == ("2024-05-07", "—", "—")


# ------------------------------------------------------------------------------- the page


async def seed(pool) -> None:
    """Two days of octo/widgets and a day of octo/gadgets."""
    done = await add_review(pool, at=at(LAST), status="completed")
    await add_review(pool, at=at(LAST), status="failed")
    await add_review(pool, at=at(LAST - timedelta(days=1)), status="completed")
    await add_review(pool, repo="gadgets", at=at(LAST), status="skipped")
    await add_call(pool, done, created_at=at(LAST), cost_usd=0.0125)
    await FindingRepo(pool).create_many(
        done,
        [
            StoredFinding(fingerprint="f1", severity="high", agent_type="bugs"),
            StoredFinding(fingerprint="f2", severity="high", agent_type="security"),
        ],
    )


def bars(doc, chart: str) -> dict[tuple[str, str], str]:
    figure = doc.one(f"figure#chart-{chart}")
    return {
        (m.attrs["data-day"], m.attrs["data-series"]): m.attrs["data-value"]
        for m in figure.all("rect.bar") + figure.all(".point")
    }


async def test_the_page_charts_each_figure_per_day(client, pool):
    await seed(pool)

    doc = await page(client, f"/dashboard/trends?days=7&until={LAST.isoformat()}")

    figures = doc.all("figure.chart")
    assert [f.attrs["id"] for f in figures] == [
        "chart-outcomes",
        "chart-spend",
        "chart-tokens",
        "chart-latency",
        "chart-findings-severity",
        "chart-findings-agent",
        "chart-acceptance",
    ]
    for figure in figures:
        svg = figure.one("svg.chart-svg")
        name = figure.attrs["id"].removeprefix("chart-")
        assert svg.attrs["aria-labelledby"] == f"{name}-title {name}-desc"
        assert svg.one(f"title#{name}-title").text == figure.one("h2").text
        assert svg.one(f"desc#{name}-desc").text.strip()
        assert figure.all("text.axis-label"), name  # the axes say what they measure
        assert all(len(m.all("title")) == 1 for m in svg.all("rect.bar")), name
        assert figure.one("details.numbers").one("table")
    assert bars(doc, "outcomes") == {
        ("2024-05-10", "completed"): "1.0",
        ("2024-05-10", "failed"): "1.0",
        ("2024-05-10", "skipped"): "1.0",
        ("2024-05-09", "completed"): "1.0",
    }
    assert bars(doc, "spend") == {("2024-05-10", "cost"): "0.0125"}
    assert bars(doc, "findings-severity") == {("2024-05-10", "high"): "2.0"}
    assert bars(doc, "findings-agent") == {
        ("2024-05-10", "bugs"): "1.0",
        ("2024-05-10", "security"): "1.0",
    }
    assert bars(doc, "latency") == {
        ("2024-05-10", "p50"): "75.0",  # add_review finishes 75 s after creation
        ("2024-05-10", "p95"): "75.0",
        ("2024-05-09", "p50"): "75.0",
        ("2024-05-09", "p95"): "75.0",
    }
    legend = [li.text.strip() for li in doc.one("figure#chart-outcomes").all("li")]
    assert legend == ["completed", "failed", "skipped"]
    rows = doc.one("table#outcomes-table").all("tr")
    assert [c.text for c in rows[1].children if not isinstance(c, str)] == [
        "2024-05-04",
        "0",
        "0",
        "0",
        "0",
    ]  # a quiet day is zeros, never empty cells
    assert [c.text for c in rows[-1].children if not isinstance(c, str)] == [
        "Total",
        "2",
        "1",
        "1",
        "4",
    ]
    assert doc.one("p#period-shown").text.split() == (
        "Per UTC day from 2024-05-04 to 2024-05-10, all repositories.".split()
    )
    glance = doc.one("dl#glance").text
    assert "4 (2 completed, 1 failed)" in glance and "$0.0125" in glance
    assert doc.one("a#nav-trends").attrs["href"] == "/dashboard/trends"
    form = doc.one("form#period")
    assert [o.attrs["value"] for o in form.one("select[name=days]").all("option")] == [
        "7",
        "30",
        "90",
    ]
    assert form.one("select[name=days]").one("option[selected]").attrs["value"] == "7"
    repos = [o.attrs["value"] for o in form.one("select[name=repo]").all("option")]
    assert repos == ["", "octo/gadgets", "octo/widgets"]


async def test_one_repository_and_the_default_period(client, pool):
    await seed(pool)

    doc = await page(client, f"/dashboard/trends?until={LAST.isoformat()}&repo=OCTO/gadgets")
    assert bars(doc, "outcomes") == {("2024-05-10", "skipped"): "1.0"}
    assert "in OCTO/gadgets" in doc.one("p#period-shown").text
    assert len(doc.one("table#outcomes-table").all("tr")) == 1 + 30 + 1  # 30 days by default
    chosen = doc.one("select[name=repo]").one("option[selected]")
    assert chosen.attrs["value"] == "octo/gadgets"

    today = datetime.now(UTC).date()
    doc = await page(client, "/dashboard/trends")
    assert today.isoformat() in doc.one("p#period-shown").text


async def test_an_empty_period_says_so(client, pool):
    doc = await page(client, f"/dashboard/trends?days=7&until={LAST.isoformat()}")
    for figure in doc.all("figure.chart"):
        assert figure.one("text.nothing").text == "Nothing in this period"
        assert figure.all("rect.bar") == []
    assert "0 (0 completed, 0 failed)" in doc.one("dl#glance").text


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("days=10", "days must be one of 7, 30, 90"),
        ("days=seven", "days must be one of 7, 30, 90"),
        ("until=2024-02-30", "until must be a date"),
        ("until=2999-01-01", "until is after today"),
        ("until=0001-01-02", "until is too early"),
        ("repo=octo", "repo must be OWNER/REPO"),
        ("repo=a/b/c", "repo must be OWNER or OWNER/REPO"),
        ("days=7&days=30", "days is given more than once"),
    ],
)
async def test_a_malformed_period_is_400_with_a_message(client, pool, query, message):
    doc = await page(client, f"/dashboard/trends?{query}", status=400)
    assert message in doc.one("p#error").text
    assert doc.all("form#period") and doc.all("figure.chart") == []


async def test_the_page_is_guarded_like_the_rest_of_the_dashboard(aiohttp_client, settings, pool):
    app = web.Application()
    guarded = dataclasses.replace(settings, host="127.0.0.1", dashboard_token=TOKEN)
    dashboard.setup(app, guarded, lambda: pool)
    client = await aiohttp_client(app)

    response = await client.get("/dashboard/trends", allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == "/dashboard/login"
    response = await client.get("/dashboard/trends", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status == 200
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


async def test_names_are_escaped_in_the_charts(client, pool):
    review_id = await add_review(pool, repo="x", owner="o", at=at(LAST), status="completed")
    await FindingRepo(pool).create_many(
        review_id, [StoredFinding(agent_type=HOSTILE, fingerprint="h")]
    )

    response = await client.get(f"/dashboard/trends?days=7&until={LAST.isoformat()}")
    body = await response.text()
    assert response.status == 200
    assert HOSTILE not in body
    doc = parse(body)
    legend = [li.text.strip() for li in doc.one("figure#chart-findings-agent").all("li")]
    assert legend == [HOSTILE]
    (bar,) = doc.one("figure#chart-findings-agent").all("rect.bar")
    assert re.fullmatch(r"[a-z0-9-]+", bar.attrs["data-series"])  # safe in an id
    assert bar.attrs["fill"] == f"url(#findings-agent-{bar.attrs['data-series']})"
