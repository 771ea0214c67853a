"""A 👎 on a finding that fails the check takes effect within a look, though GitHub sends no
webhook for reactions: only PRs whose check is red are looked at."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from bot.app.conversation import reactions
from bot.app.services import Services
from bot.app.web import services_key
from tests.conversing import app_client, opened_delivered, root
from tests.reviewing import OWNER, REPO, finding, open_pull, summary_of

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
async def client(aiohttp_client, settings, fake_github, fake_gemini):
    return await app_client(aiohttp_client, settings)


async def red_pull(client, pool, fake_github, fake_gemini, severity: str = "critical"):
    """PR 7 reviewed: one finding on app.py (a critical one fails the check)."""
    pull = open_pull(fake_github)
    fake_gemini.findings["security"] = [finding(severity=severity)]
    await opened_delivered(client, pool, pull)
    return pull


def graphql_calls(fake_github) -> int:
    return sum(1 for r in fake_github.requests if r.path.endswith("/graphql"))


async def test_a_writers_thumbs_down_turns_the_check_green_at_the_next_look(
    client, pool, fake_github, fake_gemini
):
    await red_pull(client, pool, fake_github, fake_gemini)
    assert fake_github.check_runs(OWNER, REPO)[-1]["conclusion"] == "failure"
    fake_github.set_permission(OWNER, REPO, "wren", "write")
    fake_github.react(OWNER, REPO, root(fake_github)["id"], "-1", login="wren")
    gemini_calls = len(fake_gemini.requests)

    made = await reactions.look_once(client.app[services_key])

    assert made == 1
    [run] = fake_github.check_runs(OWNER, REPO)
    assert run["conclusion"] == "success"
    assert "dismissed by `wren`" in summary_of(fake_github)
    assert len(fake_gemini.requests) == gemini_calls
    # Green now: the PR is no longer looked at.
    before = graphql_calls(fake_github)
    assert await reactions.look_once(client.app[services_key]) == 0
    assert graphql_calls(fake_github) == before


async def test_a_thumbs_down_without_write_access_changes_nothing(
    client, pool, fake_github, fake_gemini
):
    await red_pull(client, pool, fake_github, fake_gemini)
    fake_github.react(OWNER, REPO, root(fake_github)["id"], "-1", login="otto")

    assert await reactions.look_once(client.app[services_key]) == 0

    assert fake_github.check_runs(OWNER, REPO)[-1]["conclusion"] == "failure"
    assert await pool.fetchval("SELECT thumbs_down FROM feedback") == 1  # feedback all the same


async def test_a_green_pr_costs_no_call(client, pool, fake_github, fake_gemini):
    await red_pull(client, pool, fake_github, fake_gemini, severity="medium")  # fail_on critical
    assert fake_github.check_runs(OWNER, REPO)[-1]["conclusion"] == "success"
    before = len(fake_github.requests)

    assert await reactions.look_once(client.app[services_key]) == 0

    assert fake_github.requests[before:] == []


async def test_the_loop_looks_every_reaction_poll_seconds(
    client, pool, fake_github, fake_gemini, settings, sleep, waits
):
    await red_pull(client, pool, fake_github, fake_gemini)
    fake_github.set_permission(OWNER, REPO, "wren", "write")
    fake_github.react(OWNER, REPO, root(fake_github)["id"], "-1", login="wren")
    polling = dataclasses.replace(settings, reaction_poll_seconds=45)

    async with Services.open(polling, sleep=sleep) as services:
        await services.github.learn_identity()  # which threads are ours, as `serve` does
        loop = asyncio.create_task(reactions.run_forever(services))
        try:
            async with asyncio.timeout(20):
                while fake_github.check_runs(OWNER, REPO)[-1]["conclusion"] != "success":
                    await asyncio.sleep(0.02)
        finally:
            loop.cancel()
            await asyncio.gather(loop, return_exceptions=True)

    assert waits and set(waits) == {45}
