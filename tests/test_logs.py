"""Secrets never reach a log line, not even inside a traceback."""

from __future__ import annotations

import io
import logging

import pytest

from bot.logs import add_secret, setup_logging, stop_listener

KEY = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAsecretkeymaterial0123\n-----END RSA PRIVATE KEY-----"  # noqa: E501


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
