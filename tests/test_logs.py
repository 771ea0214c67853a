"""Secrets never reach a log line, not even inside a traceback; lines are text or JSON, and
name the review, job or delivery they belong to."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import re
import types
import uuid
from collections.abc import Iterator

import pytest

from bot import logs
from bot.app.conversation.context import Hooks
from bot.app.conversation.runner import process_job
from bot.logs import (
    EXPIRY_CHECK_EVERY,
    MAX_SECRETS,
    add_secret,
    forget_secrets,
    redact,
    secret_count,
    setup_logging,
    stop_listener,
)
from bot.store import calls, jobs, queue
from bot.store.jobs import Kind, NewJob
from tests.reviewing import finding, open_pull, run_review

KEY = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAsecretkeymaterial0123\n-----END RSA PRIVATE KEY-----"  # noqa: E501


@pytest.fixture(autouse=True)
def no_known_secrets():
    forget_secrets()
    yield
    forget_secrets()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The time bot.logs sees; a test moves it on by changing now[0]."""
    now = [1_700_000_000.0]
    monkeypatch.setattr(logs, "time", types.SimpleNamespace(time=lambda: now[0]))
    return now


@pytest.fixture
def log_output():
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    stream = io.StringIO()
    listener = setup_logging(["webhook-secret-value", KEY], stream=stream)
    yield stream, listener
    stop_listener(listener)
    root.handlers[:], level = saved
    root.setLevel(level)


def test_known_secrets_are_masked(log_output):
    stream, listener = log_output
    add_secret("ghs_installationtoken123")
    log = logging.getLogger("bot.test")

    log.warning("signed with webhook-secret-value using token ghs_installationtoken123")
    try:
        raise RuntimeError("key line MIIEowIBAAKCAQEAsecretkeymaterial0123 leaked")
    except RuntimeError:
        log.exception("failed")
    stop_listener(listener)

    text = stream.getvalue()
    assert "signed with *** using token ***" in text
    assert "RuntimeError: key line *** leaked" in text
    for secret in ("webhook-secret-value", "ghs_installationtoken123", "secretkeymaterial"):
        assert secret not in text


ALNUM = "aB3dE5gH7jK9mN1pQ2rS4tU6vW8xY0zA1bC3dE5f"  # 40 characters


@pytest.mark.parametrize(
    "token",
    [
        *(prefix + ALNUM[:36] for prefix in ("ghs_", "ghp_", "gho_", "ghu_", "ghr_")),
        "ghs_" + ALNUM,  # longer ones too
        "github_pat_11ABCDEFG0123456789abc_" + ALNUM + "0123456789abcdefgh",
        "github_pat_" + "A1b2C3d4E5f6G7h8I9j0K1",  # the shortest: 22 after the prefix
        "AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5-_x",
    ],
)
def test_secret_shapes_are_masked_though_never_added(token):
    assert redact(f"calling with {token}, then more") == "calling with ***, then more"


@pytest.mark.parametrize(
    "text",
    [
        "ghs_" + ALNUM[:35],  # one character short
        "gh_" + ALNUM,  # no such token type
        "AIza" + ALNUM[:20],
        "github_pat_short",
        "head 3f1c2a905b7e11ef9d1a2a3b4c5d6e7f01234567 of octo/widgets#12",  # a commit sha
        "expected a -----BEGIN ... PRIVATE KEY----- block",  # the config error's wording
    ],
)
def test_text_that_only_resembles_a_secret_is_kept(text):
    assert redact(text) == text


def test_a_pem_block_is_masked_across_lines():
    block = (
        "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0B\nAQEFAASC\n-----END PRIVATE KEY-----"
    )

    assert redact(f"loaded\n{block}\nand went on") == "loaded\n***\nand went on"
    # Two blocks stay two: the text between them is kept.
    assert redact(f"{block} between {block}") == "*** between ***"
    # Escaped newlines, as in the repr of a dict holding the key, are one block too.
    assert redact(repr({"pem": block})) == "{'pem': '***'}"
    # A block cut short (a truncated log line) is masked to the end.
    assert redact("key: -----BEGIN RSA PRIVATE KEY-----\nMIIEow") == "key: ***"


def test_shapes_are_masked_in_log_records_with_no_known_secret():
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    stream = io.StringIO()
    listener = setup_logging([], stream=stream)
    try:
        log = logging.getLogger("bot.test")
        log.warning("token %s", "ghp_" + ALNUM[:36])
        log.warning("key\n-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIB\n-----END EC PRIVATE KEY-----")
    finally:
        stop_listener(listener)
        root.handlers[:], level = saved
        root.setLevel(level)

    text = stream.getvalue()
    assert "token ***" in text
    assert "key\n***" in text
    assert ALNUM[:36] not in text and "MHcCAQEEIB" not in text


def test_an_expired_secret_leaves_the_set(clock):
    add_secret("lasting-webhook-secret")
    add_secret("custom-token-one", expires_at=clock[0] + 60)
    add_secret("custom-token-two", expires_at=clock[0] + 600)
    assert redact("custom-token-one custom-token-two") == "*** ***"

    clock[0] += 61  # the first has expired: the next add drops it
    add_secret("custom-token-three", expires_at=clock[0] + 600)

    assert secret_count() == 3
    assert redact("custom-token-one custom-token-two") == "custom-token-one ***"

    clock[0] += 600  # the other two have expired: redacting alone drops them, in time
    for _ in range(EXPIRY_CHECK_EVERY):
        redact("a line")

    assert secret_count() == 1
    assert redact("custom-token-two custom-token-three") == "custom-token-two custom-token-three"
    assert redact("lasting-webhook-secret") == "***"


def test_adding_a_secret_again_keeps_one_with_the_later_expiry(clock):
    add_secret("custom-token-one", expires_at=clock[0] + 60)
    add_secret("custom-token-one")  # now lasting

    clock[0] += 3600
    add_secret("custom-token-two", expires_at=clock[0] + 60)

    assert secret_count() == 2
    assert redact("custom-token-one") == "***"


def test_the_bound_holds_and_the_oldest_go_first(clock):
    add_secret("lasting-webhook-secret")
    tokens = [f"custom-token-{number:05d}" for number in range(MAX_SECRETS + 5)]
    for token in tokens:
        add_secret(token, expires_at=clock[0] + 3600)

    assert secret_count() == MAX_SECRETS
    # 1 + MAX_SECRETS + 5 were added: the six oldest with an expiry went, not the lasting one.
    assert [redact(token) == "***" for token in tokens[:7]] == [False] * 6 + [True]
    assert redact(tokens[-1]) == "***"
    assert redact("lasting-webhook-secret") == "***"


def test_the_bound_holds_for_secrets_without_an_expiry():
    secrets = [f"lasting-secret-{number:05d}" for number in range(MAX_SECRETS + 1)]
    for secret in secrets:
        add_secret(secret)

    assert secret_count() == MAX_SECRETS
    assert (redact(secrets[0]), redact(secrets[1]), redact(secrets[-1])) == (
        secrets[0],
        "***",
        "***",
    )


def test_a_secret_containing_another_is_masked_whole():
    add_secret("inner-secret")
    add_secret("outer-inner-secret-tail")

    assert redact("x outer-inner-secret-tail y inner-secret z") == "x *** y *** z"


# Lines as LOG_FORMAT has them, and the context bound to what runs.

TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
TOKEN = "ghs_" + ALNUM[:36]


@contextlib.contextmanager
def captured(log_format: str = "text", secrets: tuple[str, ...] = ()) -> Iterator[io.StringIO]:
    """Log as `serve` does, to a stream read once the block ends (the writer is stopped)."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    stream = io.StringIO()
    listener = setup_logging(list(secrets), stream=stream, log_format=log_format)
    try:
        yield stream
    finally:
        stop_listener(listener)
        root.handlers[:], level = saved
        root.setLevel(level)


def json_lines(stream: io.StringIO) -> list[dict]:
    text = stream.getvalue()
    assert text.endswith("\n")
    return [json.loads(line) for line in text[:-1].split("\n")]  # raw newlines only


def test_json_lines_parse_and_carry_the_bound_fields():
    review_id = uuid.uuid4()
    log = logging.getLogger("bot.test")
    with captured("json") as stream:
        log.info("before")
        with logs.bound(delivery_id="72d3162e-cc78-11e3-81ab-4c9367dc0958"):
            with logs.bound(review_id=review_id, repository="octo/widgets", pr=7):
                log.warning("review %s: %d finding(s)", review_id, 3)
            log.info("delivered")
        log.info("after")

    first, inside, delivered, after = json_lines(stream)
    assert TIME.fullmatch(first["time"])
    assert first == {
        "time": first["time"],
        "level": "INFO",
        "logger": "bot.test",
        "message": "before",
    }
    assert inside["level"] == "WARNING" and inside["message"] == f"review {review_id}: 3 finding(s)"
    assert (inside["delivery_id"], inside["review_id"], inside["repository"], inside["pr"]) == (
        "72d3162e-cc78-11e3-81ab-4c9367dc0958",
        str(review_id),
        "octo/widgets",
        7,
    )
    assert delivered["delivery_id"] == inside["delivery_id"] and "review_id" not in delivered
    assert "delivery_id" not in after and "exc" not in after


def test_json_lines_are_one_a_record_and_masked():
    log = logging.getLogger("bot.test")
    with captured("json", secrets=("webhook-secret-value", KEY)) as stream:
        add_secret(TOKEN)
        log.warning("first line\nsecond line with %s\r\nand a key:\n%s", TOKEN, KEY)
        try:
            raise RuntimeError(f"failed with webhook-secret-value\nand {TOKEN}")
        except RuntimeError:
            log.exception("it failed:\n%s", "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIB\n")
        log.info("last\u2028line")

    text = stream.getvalue()
    lines = json_lines(stream)
    assert len(lines) == 3
    masked, failed, last = lines
    assert masked["message"] == "first line\nsecond line with ***\r\nand a key:\n***"
    assert failed["message"] == "it failed:\n***"
    assert failed["exc"].startswith("Traceback (most recent call last):")
    assert "RuntimeError: failed with ***\nand ***" in failed["exc"]
    assert last["message"] == "last\u2028line" and "\u2028" not in text
    for secret in (TOKEN, "webhook-secret-value", "secretkeymaterial", "MHcCAQEEIB"):
        assert secret not in text


def test_text_lines_name_the_bound_context():
    review_id = uuid.UUID("1a2b3c4d-0000-4000-8000-000000000000")
    log = logging.getLogger("bot.test")
    with captured() as stream:
        with logs.bound(review_id=review_id):
            log.info("review %s claimed", review_id)
            logs.bind(repository="octo/widgets", pr=7)
            log.info("review %s processing", review_id)
        with logs.bound(job_id=uuid.UUID(int=0xABCDEF12 << 96), repository="octo/widgets"):
            log.info("job ran")
        log.info("plain")

    lines = [line.split(": ", 1)[1] for line in stream.getvalue().splitlines()]
    assert lines == [
        f"[review 1a2b3c4d] review {review_id} claimed",
        f"[octo/widgets#7 review 1a2b3c4d] review {review_id} processing",
        "[octo/widgets job abcdef12] job ran",
        "plain",  # `bind` ended with the `bound` around it
    ]


async def test_tasks_created_inside_carry_the_fields(caplog: pytest.LogCaptureFixture):
    log = logging.getLogger("bot.test")

    async def work(name: str) -> None:
        await asyncio.sleep(0)
        log.warning("%s", name)

    with logs.bound(delivery_id="d-1"):
        inside = asyncio.create_task(work("inside"))
    outside = asyncio.create_task(work("outside"))
    await asyncio.gather(inside, outside)

    fields = {r.getMessage(): dict(r.log_context) for r in caplog.records}
    assert fields == {"inside": {"delivery_id": "d-1"}, "outside": {}}


async def test_a_reviews_text_lines_name_its_pr_and_the_last_has_its_figures(
    services, fake_github, fake_gemini
):
    pull = open_pull(fake_github)
    fake_gemini.findings["security"] = [finding(line=9)]
    with captured() as stream:
        review = await run_review(services, pull)
    usage = await calls.totals(services.pool, review.id)

    assert review.status == "completed"
    ours = [line for line in stream.getvalue().splitlines() if f"review {review.id}" in line]
    assert ours, stream.getvalue()
    assert all(f"[octo/widgets#7 review {str(review.id)[:8]}] " in line for line in ours), ours
    finish = re.search(
        rf"review {review.id} completed in (\d+\.\d) s \((\d+\.\d) s since claimed\): "
        r"(\d+) finding\(s\) \((\d+) withheld, (\d+) dismissed\), (\d+) call\(s\), "
        r"tokens (\d+) in \((\d+) cached\) (\d+) out, est\. cost \$(\d+\.\d{4})$",
        ours[-1],
    )
    assert finish is not None, ours[-1]
    created, claimed, *counts, cost = finish.groups()
    assert float(created) >= float(claimed) >= 0
    stats = review.stats
    assert [int(n) for n in counts] == [
        stats["findings"],
        stats["withheld"],
        stats["dismissed"],
        usage.calls,
        usage.prompt_tokens,
        usage.cached_tokens,
        usage.output_tokens,
    ]
    assert stats["findings"] == 1 and usage.calls == 6 and usage.prompt_tokens > 0
    assert float(cost) == round(usage.cost_usd, 4) and usage.cost_usd > 0


async def test_a_reviews_json_lines_carry_its_fields(services, fake_github, fake_gemini):
    pull = open_pull(fake_github)
    with captured("json") as stream:
        review = await run_review(services, pull)

    lines = json_lines(stream)
    ours = [line for line in lines if line.get("review_id") == str(review.id)]
    assert ours and ours[-1]["message"].startswith(f"review {review.id} completed in ")
    assert all((line["repository"], line["pr"]) == ("octo/widgets", 7) for line in ours[1:])
    assert not [
        line for line in lines if "review_id" not in line and str(review.id) in line["message"]
    ]


async def test_a_jobs_lines_carry_its_fields(services, caplog: pytest.LogCaptureFixture):
    mine = NewJob(uuid.uuid4(), Kind.COMMAND, 1, "octo", "widgets", 7, {"comment_id": 1})
    async with services.pool.acquire() as conn:
        await queue.create(conn, [mine])
    await services.pool.execute(
        "UPDATE jobs SET attempts = $2 WHERE id = $1", mine.id, jobs.MAX_ATTEMPTS
    )

    await process_job(mine.id, services, Hooks(lambda _: False, lambda _: None))

    gave_up = [r for r in caplog.records if "gave up" in r.getMessage()]
    assert [dict(r.log_context) for r in gave_up] == [
        {"job_id": mine.id, "repository": "octo/widgets", "pr": 7}
    ]
    assert logs.context() == {}
