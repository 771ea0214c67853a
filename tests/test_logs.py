"""Secrets never reach a log line, not even inside a traceback."""

from __future__ import annotations

import io
import logging
import types

import pytest

from bot import logs
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
