"""Redelivery: the deliveries GitHub failed to bring us are asked for again, once, by one
replica at a time, back to the checkpoint; FakeGitHub's /app/hook/deliveries endpoints."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import UTC, datetime, timedelta

import gidgethub
import pytest

from bot.app import redeliver
from bot.app.redeliver import redeliver_pass
from bot.app.services import Services
from bot.app.web import create_app
from bot.store import redeliveries
from tests.payloads import WEBHOOK_SECRET, installation_payload
from tests.processes import Server, free_port
from tests.reviewing import until


@pytest.fixture(autouse=True)
async def no_checkpoint(pool):
    """The redelivery tables are not among conftest's TABLES: empty them for each test."""
    await pool.execute("TRUNCATE redelivery_checkpoint, redelivery_requests")


async def checkpoint_of(pool) -> int | None:
    return await pool.fetchval("SELECT delivery_id FROM redelivery_checkpoint")


def ids(items: list[dict]) -> list[int]:
    return [item["id"] for item in items]


def guid() -> str:
    return str(uuid.uuid4())


async def test_deliveries_that_failed_while_down_are_redelivered_and_asked_again_later(
    services, fake_github
):
    down = fake_github.deliveries_failed_while_down(3)
    down += fake_github.deliveries_failed_while_down(1, event="issue_comment", action="created")

    counts = await redeliver_pass(services)

    assert fake_github.hook_redeliveries == ids(down), "each once, oldest first"
    assert (counts.ran, counts.listed, counts.failed, counts.redelivered) == (True, 4, 4, 4)
    assert counts.error is None
    assert await checkpoint_of(services.pool) == down[-1]["id"]
    asked = await services.pool.fetch("SELECT guid, event FROM redelivery_requests")
    assert {(r["guid"], r["event"]) for r in asked} == {(d["guid"], d["event"]) for d in down}

    # GitHub's redeliveries fail too (the App went down again): asked for again, not now.
    failed = [
        fake_github.record_delivery(
            item["guid"], item["event"], item["action"], 502, redelivery=True
        )
        for item in down
    ]
    again = await redeliver_pass(services)

    assert fake_github.hook_redeliveries == ids(down)
    assert (again.listed, again.failed, again.failed_again, again.redelivered) == (4, 4, 4, 0)
    due = await services.pool.fetch("SELECT delivery_id, asks, due_at FROM redelivery_requests")
    assert sorted(r["delivery_id"] for r in due) == ids(failed), "the failed ones, next"
    assert {r["asks"] for r in due} == {1} and all(r["due_at"] for r in due)
    assert again.next_look == min(r["due_at"] for r in due)

    later = await redeliver_pass(services)  # the same moment: nothing new, nothing due
    assert (later.listed, later.failed_again, later.asked_again) == (0, 0, 0)


async def test_only_failed_deliveries_of_our_events_never_received_are_redelivered(
    services, fake_github
):
    now = datetime.now(UTC)
    fake_github.record_delivery(
        guid(), "pull_request", "opened", 502, delivered_at=now - timedelta(days=3, minutes=1)
    )
    received = fake_github.record_delivery(guid(), "pull_request", "synchronize", 504)
    await services.pool.execute(
        "INSERT INTO webhook_deliveries (delivery_id, event, action) VALUES ($1, $2, $3)",
        received["guid"],
        received["event"],
        received["action"],
    )
    fake_github.record_delivery(guid(), "push", None, 502)
    fake_github.record_delivery(guid(), "check_suite", "rerequested", 202)
    late = fake_github.record_delivery(guid(), "check_run", "rerequested", 0)
    fake_github.record_delivery(late["guid"], "check_run", "rerequested", 202, redelivery=True)
    timed_out = fake_github.record_delivery(
        guid(), "pull_request_review_comment", "created", 200, status="timed out"
    )
    lost = fake_github.record_delivery(guid(), "pull_request", "opened", 502)

    counts = await redeliver_pass(services)

    assert fake_github.hook_redeliveries == [timed_out["id"], lost["id"]]
    assert counts.listed == 7, "the one older than three days is not listed"
    assert (counts.recorded, counts.succeeded_later, counts.other_events) == (1, 1, 1)
    assert counts.redelivered == 2


async def test_every_event_and_action_we_act_on_is_redelivered_and_no_other(services, fake_github):
    wanted = [
        fake_github.record_delivery(guid(), event, action, 502)
        for event, action in (
            ("installation", "created"),
            ("installation", "deleted"),
            ("installation_repositories", "added"),
            ("member", "removed"),
            ("pull_request", "closed"),
        )
    ]
    fake_github.record_delivery(guid(), "pull_request", "labeled", 502)
    fake_github.record_delivery(guid(), "installation", "new_permissions_accepted", 502)

    counts = await redeliver_pass(services)

    assert fake_github.hook_redeliveries == ids(wanted)
    assert (counts.redelivered, counts.other_events) == (5, 2)


async def test_deliveries_before_the_checkpoint_are_not_looked_at(services, fake_github):
    before = fake_github.deliveries_failed_while_down(2)
    await redeliveries.advance(
        services.pool, redeliveries.Checkpoint(before[-1]["id"], datetime.now(UTC))
    )
    after = fake_github.deliveries_failed_while_down(2)

    counts = await redeliver_pass(services)

    assert fake_github.hook_redeliveries == ids(after)
    assert counts.listed == 2
    assert await checkpoint_of(services.pool) == after[-1]["id"]


async def test_the_list_is_followed_page_by_page_back_to_the_checkpoint(services, fake_github):
    down = fake_github.deliveries_failed_while_down(250, every=timedelta(seconds=5))

    counts = await redeliver_pass(services)

    assert fake_github.hook_redeliveries == ids(down)
    pages = fake_github.find_requests("GET", "^/app/hook/deliveries$")
    assert [p.query.get("cursor") for p in pages] == [
        None,
        f"v1_{down[149]['id']}",
        f"v1_{down[49]['id']}",
    ]
    assert all(p.query["per_page"] == "100" for p in pages)
    assert counts.listed == 250

    more = fake_github.deliveries_failed_while_down(2)
    again = await redeliver_pass(services)

    assert fake_github.hook_redeliveries == ids(down + more)
    assert again.listed == 2
    assert len(fake_github.find_requests("GET", "^/app/hook/deliveries$")) == 4, (
        "the checkpoint is on the first page: no other is asked for"
    )


async def test_two_replicas_at_once_redeliver_each_delivery_once(
    services, settings, sleep, fake_github
):
    down = fake_github.deliveries_failed_while_down(3)
    fake_github.latency = 0.1  # the pass that takes the lock is still running as the other tries
    async with Services.open(settings, sleep=sleep) as replica:
        first, second = await asyncio.gather(redeliver_pass(services), redeliver_pass(replica))
        fake_github.latency = 0
        assert sorted([first.ran, second.ran]) == [False, True]
        assert fake_github.hook_redeliveries == ids(down)

        later = await redeliver_pass(replica)  # the lock was held for the pass only
    assert later.ran
    assert fake_github.hook_redeliveries == ids(down)


async def test_a_failed_list_leaves_the_checkpoint_and_the_next_pass_redelivers(
    services, fake_github
):
    down = fake_github.deliveries_failed_while_down(2)
    fake_github.fail_next("GET", "^/app/hook/deliveries$", 500, times=4)  # every retry

    counts = await redeliver_pass(services)

    assert counts.error is not None and "500" in counts.error
    assert fake_github.hook_redeliveries == []
    assert await checkpoint_of(services.pool) is None

    await redeliver_pass(services)
    assert fake_github.hook_redeliveries == ids(down)


async def test_a_failed_redelivery_stops_the_pass_and_the_checkpoint_before_it(
    services, fake_github
):
    down = fake_github.deliveries_failed_while_down(3)
    fake_github.fail_next("POST", f"/deliveries/{down[1]['id']}/attempts$", 502, times=4)

    counts = await redeliver_pass(services)

    assert counts.redelivered == 1 and counts.error is not None
    assert fake_github.hook_redeliveries == [down[0]["id"]]
    assert await checkpoint_of(services.pool) == down[0]["id"]

    await redeliver_pass(services)
    assert fake_github.hook_redeliveries == ids(down), "the first is not asked for twice"
    assert await checkpoint_of(services.pool) == down[-1]["id"]


async def test_a_delivery_github_will_not_redeliver_is_passed_over(services, fake_github):
    down = fake_github.deliveries_failed_while_down(3)
    fake_github.fail_next("POST", f"/deliveries/{down[0]['id']}/attempts$", 422)

    counts = await redeliver_pass(services)

    assert (counts.passed_over, counts.redelivered, counts.error) == (1, 2, None)
    assert fake_github.hook_redeliveries == ids(down[1:])
    assert await checkpoint_of(services.pool) == down[-1]["id"]


async def test_run_forever_goes_on_after_a_failed_pass(services, fake_github, waits):
    down = fake_github.deliveries_failed_while_down(1)
    fake_github.fail_next("GET", "^/app/hook/deliveries$", 500, times=4)

    task = asyncio.create_task(redeliver.run_forever(services))
    try:
        await until(lambda: fake_github.hook_redeliveries == ids(down))
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert services.settings.redeliver_interval in waits


async def test_the_fake_lists_and_redelivers_with_the_apps_jwt_only(services, fake_github):
    item = fake_github.record_delivery(guid(), "pull_request", "opened", 502)
    async with services.http.get(f"{fake_github.url}/app/hook/deliveries") as answer:
        assert answer.status == 401
        assert (await answer.json())["message"] == "A JSON web token could not be decoded"
    api = services.github.app_api()

    listed = await api.getitem("/app/hook/deliveries")
    assert listed == [item]
    assert set(item) >= {
        "id",
        "guid",
        "delivered_at",
        "redelivery",
        "status",
        "status_code",
        "event",
        "action",
        "installation_id",
        "repository_id",
    }
    assert item["status"] == "Invalid HTTP Response: 502"
    assert await api.getitem("/app/hook/deliveries?redelivery=true") == []

    with pytest.raises(gidgethub.BadRequest) as raised:
        await api.post("/app/hook/deliveries/1/attempts", data=b"")
    assert raised.value.status_code == 404
    assert await api.post(f"/app/hook/deliveries/{item['id']}/attempts", data=b"") == {}
    assert fake_github.hook_redeliveries == [item["id"]]


def redelivered(fake_github) -> list[dict]:
    """The attempts GitHub made when asked again, oldest first."""
    return [d for d in reversed(fake_github.hook_deliveries()) if d["redelivery"]]


async def test_a_missed_installation_is_redelivered_at_start_up_once_the_port_accepts(
    settings, pool, fake_github, tmp_path
):
    port = free_port()
    fake_github.set_hook(f"http://127.0.0.1:{port}/webhooks", WEBHOOK_SECRET)
    payload = installation_payload("created", installation_id=77, account="acme")
    missed = fake_github.record_delivery(
        guid(), "installation", "created", 502, installation_id=77, payload=payload
    )

    server = Server(settings, tmp_path, port=port)
    try:
        await server.ready()
        await until(lambda: redelivered(fake_github), timeout=30)
        [again] = redelivered(fake_github)
        assert (again["guid"], again["event"]) == (missed["guid"], "installation")
        assert (again["status_code"], again["status"]) == (202, "OK"), server.log.read_text()

        async def recorded() -> bool:
            account = await pool.fetchval("SELECT account FROM installations WHERE id = 77")
            return account == "acme"

        async with asyncio.timeout(20):
            while not await recorded():
                await asyncio.sleep(0.02)
    finally:
        server.stop()
    assert fake_github.hook_redeliveries == [missed["id"]]
    delivered = await pool.fetchval(
        "SELECT event FROM webhook_deliveries WHERE delivery_id = $1", missed["guid"]
    )
    assert delivered == "installation"
    log = server.log.read_text()
    assert log.index("listening on") < log.index("asked GitHub to redeliver"), log


class Clock:
    """The App's clock (`services.clock`), moved by the test."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


async def due_at(pool) -> datetime | None:
    return await pool.fetchval("SELECT due_at FROM redelivery_requests")


async def test_a_failed_redelivery_is_asked_again_with_backoff_until_the_limit(
    services, fake_github, caplog
):
    caplog.set_level(logging.INFO, logger=redeliver.__name__)
    fake_github.set_hook(f"http://127.0.0.1:{free_port()}/webhooks", WEBHOOK_SECRET)  # no one
    services.clock = clock = Clock()
    [down] = fake_github.deliveries_failed_while_down(1)
    assert (await redeliver_pass(services)).redelivered == 1

    waited = []
    for ask in range(1, redeliver.MAX_ASKS + 1):
        await until(lambda n=ask: len(redelivered(fake_github)) == n)
        assert redelivered(fake_github)[-1]["status"] == "failed to connect"
        counts = await redeliver_pass(services)
        if ask == redeliver.MAX_ASKS:
            assert (counts.gave_up, counts.failed_again, counts.asked_again) == (1, 0, 0)
            break
        assert (counts.failed_again, counts.asked_again) == (1, 0), "asked later, not now"
        due = await due_at(services.pool)
        assert due is not None and counts.next_look == due
        waited.append((due - clock.now).total_seconds())
        clock.now = due
        assert (await redeliver_pass(services)).asked_again == 1

    assert fake_github.hook_redeliveries == [down["id"]] + [
        attempt["id"] for attempt in redelivered(fake_github)[:-1]
    ], "each failed redelivery is the one asked for next"
    for n, wait in enumerate(waited):  # retry.backoff: 60 s doubling, half to all of it
        assert redeliver.RETRY_FIRST * 2**n / 2 <= wait <= redeliver.RETRY_FIRST * 2**n
    clock.now += timedelta(days=1)
    assert (await redeliver_pass(services)).asked_again == 0
    assert len(fake_github.hook_redeliveries) == redeliver.MAX_ASKS
    assert await due_at(services.pool) is None

    lines = [(r.levelno, r.getMessage()) for r in caplog.records]
    asks = [m for level, m in lines if level == logging.INFO and "to redeliver" in m]
    assert [m.rsplit(": ", 1)[1] for m in asks] == [f"ask {n} of 5" for n in range(1, 6)]
    failures = [m for level, m in lines if level == logging.WARNING and "failed too" in m]
    assert len(failures) == 4 and all(down["guid"] in m for m in failures)
    [gave_up] = [m for level, m in lines if level == logging.ERROR]
    assert f"could not deliver {down['guid']}" in gave_up and "after 5 asks" in gave_up


async def test_a_delivery_asked_again_reaches_the_app_once_it_is_back(
    aiohttp_client, settings, services, fake_github
):
    fake_github.set_hook(f"http://127.0.0.1:{free_port()}/webhooks", WEBHOOK_SECRET)  # down
    services.clock = clock = Clock()
    payload = installation_payload("created", installation_id=78, account="acme")
    missed = fake_github.record_delivery(
        guid(), "installation", "created", 502, installation_id=78, payload=payload
    )
    await redeliver_pass(services)
    await until(lambda: len(redelivered(fake_github)) == 1)
    assert (await redeliver_pass(services)).failed_again == 1

    app = await aiohttp_client(create_app(settings))  # the App is back
    fake_github.set_hook(str(app.make_url("/webhooks")), WEBHOOK_SECRET)
    clock.now = await due_at(services.pool)
    assert (await redeliver_pass(services)).asked_again == 1
    await until(lambda: len(redelivered(fake_github)) == 2)

    assert redelivered(fake_github)[-1]["status_code"] == 202
    recorded = await services.pool.fetchval(
        "SELECT count(*) FROM webhook_deliveries WHERE delivery_id = $1", missed["guid"]
    )
    assert recorded == 1
    last = await redeliver_pass(services)
    assert (last.listed, last.failed, last.asked_again) == (1, 0, 0), "delivered: no more"
    assert last.next_look is None


async def test_the_loop_comes_back_for_a_redelivery_before_the_interval(
    services, fake_github, waits
):
    fake_github.set_hook(f"http://127.0.0.1:{free_port()}/webhooks", WEBHOOK_SECRET)  # down
    fake_github.deliveries_failed_while_down(1)

    task = asyncio.create_task(redeliver.run_forever(services))
    try:
        async with asyncio.timeout(20):
            while await due_at(services.pool) is None:  # the failure seen, the ask planned
                await asyncio.sleep(0.02)
            while len(waits) < 2:
                await asyncio.sleep(0.02)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert services.settings.redeliver_interval not in waits
    assert redeliver.RETRY_FIRST - 1 <= waits[0] <= redeliver.RETRY_FIRST, "to see how it went"
    assert all(redeliver.MIN_WAIT <= wait <= redeliver.RETRY_FIRST for wait in waits[1:])
