"""What a failure says (bot/errors.py): one readable sentence, the type and the host, never
a repr, never a secret."""

from __future__ import annotations

from http import HTTPStatus

import aiohttp
import gidgethub
import pytest

from bot import errors
from bot.app.worker import ReviewError
from bot.github.client import naming
from bot.logs import add_secret

REPR_MARKS = ("ConnectionKey", "Errno", "('", "')", "Error(")


async def refused() -> aiohttp.ClientConnectorError:
    """What aiohttp raises for a port nobody listens on (a real connection, refused)."""
    async with aiohttp.ClientSession() as session:
        try:
            await session.get("http://127.0.0.1:9/")
        except aiohttp.ClientConnectorError as exc:
            return exc
    raise AssertionError("something listens on 127.0.0.1:9")


async def test_a_refused_connection_is_its_type_and_host():
    exc = await refused()
    assert "ConnectionKey" in repr(exc)  # what the issue saw on the dashboard

    said = errors.describe(exc)

    assert said == "ClientConnectorError: cannot connect to 127.0.0.1:9 (Connection refused)"


async def test_github_unreachable_names_the_request_and_the_host():
    exc = await refused()
    with pytest.raises(gidgethub.GitHubException) as caught, naming("POST /app/installations/1"):
        raise exc

    said = errors.describe(caught.value)

    assert said == (
        "GitHub failed to POST /app/installations/1: ClientConnectorError: cannot connect to "
        "127.0.0.1:9 (Connection refused)"
    )
    assert not any(mark in said for mark in REPR_MARKS), said


def test_a_github_answer_names_its_status_and_request():
    exc = gidgethub.BadRequest(HTTPStatus.NOT_FOUND, "Not Found")
    exc.request = "GET /repos/o/r/pulls/7"  # type: ignore[attr-defined]

    assert errors.describe(exc) == "GitHub answered 404 to GET /repos/o/r/pulls/7: Not Found"


@pytest.mark.parametrize(
    ("exc", "said"),
    [
        (TimeoutError(), "TimeoutError: no answer in time"),
        (ConnectionResetError(104, "Connection reset by peer"),
         "ConnectionResetError: Connection reset by peer"),
        (FileNotFoundError(2, "No such file or directory", "key.pem"),
         "FileNotFoundError: No such file or directory: key.pem"),
        (KeyError("head"), "KeyError: 'head'"),
        (ReviewError("GEMINI_API_KEY is not set"), "GEMINI_API_KEY is not set"),  # ours, as written
        (aiohttp.ServerDisconnectedError(), "ServerDisconnectedError: Server disconnected"),
    ],
)  # fmt: skip
def test_other_failures_are_type_and_message_and_ours_as_written(exc, said):
    assert errors.describe(exc) == said


def test_one_line_capped_and_without_secrets():
    secret = "ghs_" + "s3cr3t" * 6
    add_secret(secret)
    exc = RuntimeError(f"first line with {secret}\n  second line\nthird")

    said = errors.describe(exc)
    long = errors.describe(RuntimeError("x" * 5000))

    assert said == "RuntimeError: first line with ***"
    assert len(long) == errors.LIMIT and long.endswith("…")


def test_gemini_says_its_status_message_and_attempts():
    assert errors.gemini("503 UNAVAILABLE", "The model is\n overloaded.", 4) == (
        "Gemini answered 503 UNAVAILABLE: The model is overloaded. (after 4 attempts)"
    )
    assert errors.gemini("timeout", "no answer within 60 s", 1) == (
        "timeout: no answer within 60 s (after 1 attempt)"
    )
    assert len(errors.gemini("500", "y" * 900, 2)) < 260
