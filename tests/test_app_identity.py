"""The App's slug (GET /app): a failure at start-up does not hold the port closed; it is asked
again in the background with backoff, shown as degraded on /healthz and the dashboard, the
features that need it say why they are off, and all of it turns on when GitHub answers."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re

import markupsafe
import pytest

from bot.app import app_identity
from bot.app.conversation import reactions
from bot.app.web import create_app, services_key
from tests.conversing import answers_in, push_delivered, reply, root
from tests.reviewing import NEW_APP, finding, open_pull

pytestmark = pytest.mark.timeout(60)

TOKEN = "dashboard-token-0123456789"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
SLUG = "second-look"  # FakeGitHub's App


@pytest.fixture
async def down(aiohttp_client, settings, fake_github, fake_gemini, sleep):
    """The App started while GET /app fails (every try, until the test clears the faults)."""
    fake_github.fail_next("GET", "^/app$", 500, times=100_000)
    changed = dataclasses.replace(settings, dashboard_token=TOKEN, push_settle_seconds=0)
    return await aiohttp_client(create_app(changed, sleep=sleep))


def tries_logged(caplog) -> list[tuple[int, float]]:
    """(try, wait before the next) of each failed try's error line."""
    found = []
    for record in caplog.get_records("setup") + caplog.records:  # the first try: at start-up
        if record.name == app_identity.__name__ and record.levelno == logging.ERROR:
            match = re.search(
                r"asking GitHub again in (\d+) s \(try (\d+) failed\)", record.message
            )
            assert match, record.message
            found.append((int(match.group(2)), float(match.group(1))))
    return found


async def eventually(condition, timeout: float = 20) -> None:
    async with asyncio.timeout(timeout):
        while not await condition():
            await asyncio.sleep(0.02)


async def test_a_failed_get_app_is_degraded_until_a_later_try_answers(down, fake_github, caplog):
    caplog.set_level(logging.INFO)
    services = down.app[services_key]

    answer = await down.get("/healthz")
    assert answer.status == 200  # up, and taking deliveries: degraded is not down
    body = await answer.json()
    assert body["status"] == "degraded" and body["database"] == "up"
    why = body["degraded"]["github_app"]
    assert why.startswith(f"{app_identity.FEATURES} are off: the App's slug is not known")
    assert "GitHub answered 500 to GET /app" in why
    page = await (await down.get("/dashboard", headers=BEARER)).text()
    banner = re.search(r'<div id="degraded" role="alert">(.*?)</div>', page, re.DOTALL)
    assert banner is not None and str(markupsafe.escape(why)) in banner.group(1)
    login = await (await down.get("/dashboard/login")).text()
    assert 'id="degraded"' not in login  # who is not signed in learns nothing of it

    await eventually(lambda: asyncio.sleep(0, len(tries_logged(caplog)) >= 3))
    tries = tries_logged(caplog)
    assert [n for n, _ in tries[:3]] == [1, 2, 3]
    # retry.backoff from 10 s, doubling (with jitter: half to all of it)
    assert 5 <= tries[0][1] <= 10 and 20 <= tries[2][1] <= 40

    fake_github.heal()  # GitHub answers again

    async def healthy() -> bool:
        return (await (await down.get("/healthz")).json())["status"] == "ok"

    await eventually(healthy)
    assert services.github.identity.slug == SLUG
    page = await (await down.get("/dashboard", headers=BEARER)).text()
    assert 'id="degraded"' not in page
    assert any(
        r.levelno == logging.INFO and "the App's slug is known after" in r.message
        for r in caplog.records
    )


async def test_what_needs_the_slug_says_why_it_is_off_then_works_without_a_restart(
    down, pool, fake_github, fake_gemini, caplog
):
    caplog.set_level(logging.WARNING)
    services = down.app[services_key]
    pull = open_pull(fake_github)
    fake_gemini.findings["security"] = [finding()]
    fake_gemini.thread_answer = "It runs what the user sends."
    first = await push_delivered(down, pool, pull, {"app.py": NEW_APP + "\n"})
    assert first["status"] == "completed"  # reviews need no slug
    ours = root(fake_github)

    job = await reply(down, pool, fake_github, pull, ours, "Why is this a problem?")
    assert job["outcome"] == "off: the App's slug is not known"
    assert answers_in(fake_github, ours) == []
    assert await reactions.look_once(services) == 0
    second = await push_delivered(down, pool, pull, {"app.py": NEW_APP + "\n\n"})
    assert second["status"] == "completed"
    said = [r.message for r in caplog.records if app_identity.FEATURES in r.message]
    assert any("reply not answered" in m for m in said), said
    assert any("reactions: not looked at" in m for m in said), said
    assert any("our threads not read" in m for m in said), said

    fake_github.heal()

    async def known() -> bool:
        return services.github.identity.slug == SLUG

    await eventually(known)
    job = await reply(down, pool, fake_github, pull, ours, "And now?")
    assert job["outcome"] == "answered"
    assert len(answers_in(fake_github, ours)) == 1
