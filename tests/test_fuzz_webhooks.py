"""Fuzzing POST /webhooks with signed, mutated pull_request deliveries against a served App.

Each example is one signed delivery. Whatever it holds, the answer is 2xx, 400 or 413;
a delivery whose used fields were broken creates no review; one whose changes touch only
fields we do not read is reviewed; the App stays healthy. `make fuzz` runs the long profile
and prints the tally (deliveries sent, answers by status, reviews from invalid payloads).
"""

from __future__ import annotations

import copy
import http.client
import json
import re
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import asyncpg
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.app.web import create_app
from bot.store import db
from tests.fakes.loop import BackgroundLoop
from tests.payloads import WEBHOOK_SECRET, pull_request_payload, sign

TALLY: Counter[str] = Counter()

# Fields the App reads, by kind, and containers on the way to them.
INTEGERS = ["installation.id", "pull_request.number"]
NAMES = ["repository.name", "repository.owner.login", "repository.full_name"]
OTHERS = ["pull_request.head.sha", "pull_request.base.ref", "pull_request.draft", "action"]
CONTAINERS = [
    "installation",
    "repository",
    "repository.owner",
    "pull_request",
    "pull_request.head",
    "pull_request.base",
]
UNUSED = ["pull_request.title", "pull_request.body", "pull_request.user", "pull_request.state",
          "pull_request.head.ref", "pull_request.base.sha", "sender", "number", "zzz"]  # fmt: skip

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=12,
)
unstorable = st.sampled_from(["a\x00b", "\ud800", "\udfff x", "\x00"])
not_a_dict = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=5)
    | st.lists(st.integers(), max_size=2)
)
bad_integer = (
    st.none()
    | st.booleans()
    | st.integers(max_value=0)
    | st.integers(min_value=2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=5)
    | st.lists(st.integers(), max_size=2)
    | unstorable
)
bad_name = (
    st.none()
    | st.integers()
    | st.just("")
    | st.just("a" * 101)
    | st.just("a b")
    | st.just("..")
    | st.just("x/y")
    | unstorable
    | st.lists(st.text(max_size=3), max_size=2)
)
bad_other = {
    "pull_request.head.sha": st.none()
    | st.integers()
    | st.lists(st.just("a" * 40), max_size=1)
    | st.text(max_size=39)
    | st.just("A" * 40)
    | st.just("a" * 41)
    | unstorable,
    "pull_request.base.ref": st.none()
    | st.integers()
    | st.just("")
    | st.just("a..b")
    | st.just("a b")
    | st.just("x" * 256)
    | st.just("/main")
    | unstorable,
    "pull_request.draft": st.none() | st.integers() | st.text(max_size=5),
    "action": st.integers()
    | st.lists(st.just("opened"), max_size=1)
    | st.just("Opened")
    | unstorable,
}


@dataclass(frozen=True)
class Sent:
    body: bytes
    valid: bool | None  # None: the mutation may or may not leave the payload valid
    how: str
    content_type: str = "application/json"


def payload(number: int) -> dict[str, Any]:
    return pull_request_payload("opened", number=number, head_sha=uuid.uuid4().hex + "0" * 8)


def at(data: dict[str, Any], path: str) -> tuple[dict[str, Any], str]:
    *parents, last = path.split(".")
    for key in parents:
        data = data[key]
    return data, last


def mutated(base: dict[str, Any], path: str, value: Any) -> bytes:
    data = copy.deepcopy(base)
    parent, key = at(data, path)
    parent[key] = value
    return json.dumps(data).encode()


def deleted(base: dict[str, Any], path: str) -> bytes:
    data = copy.deepcopy(base)
    parent, key = at(data, path)
    del parent[key]
    return json.dumps(data).encode()


@st.composite
def deliveries(draw: st.DrawFn) -> Sent:
    base = payload(draw(st.integers(min_value=1, max_value=2**31 - 1)))
    kind = draw(st.sampled_from(["field", "delete", "container", "unused", "structure", "chaos"]))
    if kind == "field":
        path = draw(st.sampled_from(INTEGERS + NAMES + list(bad_other)))
        bad = bad_integer if path in INTEGERS else bad_name if path in NAMES else bad_other[path]
        return Sent(mutated(base, path, draw(bad)), False, f"bad {path}")
    if kind == "delete":
        path = draw(st.sampled_from(INTEGERS + NAMES + OTHERS[:2] + CONTAINERS))
        return Sent(deleted(base, path), False, f"no {path}")
    if kind == "container":
        path = draw(st.sampled_from(CONTAINERS))
        return Sent(mutated(base, path, draw(not_a_dict)), False, f"{path} not an object")
    if kind == "unused":
        path = draw(st.sampled_from(UNUSED))
        return Sent(mutated(base, path, draw(json_values)), True, f"any {path}")
    if kind == "structure":
        return draw(structures(base))
    path = draw(st.sampled_from(INTEGERS + NAMES + OTHERS + CONTAINERS + UNUSED))
    return Sent(mutated(base, path, draw(json_values)), None, f"any value at {path}")


@st.composite
def structures(draw: st.DrawFn, base: dict[str, Any]) -> Sent:
    """Bodies no json.dumps of a dict gives: deep nesting, non-finite numbers, duplicate keys."""
    text = json.dumps(base)
    shape = draw(st.sampled_from(["deep", "non-finite", "dup-first", "dup-last", "long", "form"]))
    if shape == "deep":
        depth = draw(st.integers(min_value=65, max_value=5000))
        nested = "[" * depth + "]" * depth
        return Sent(f'{{"zzz": {nested}, {text[1:]}'.encode(), False, f"nested {depth}")
    if shape == "non-finite":
        literal = draw(st.sampled_from(["NaN", "Infinity", "-Infinity", "1e400", "-1e999"]))
        return Sent(
            text.replace('"number": ', f'"number": {literal}, "n2": ', 1).encode(),
            False,
            f"number {literal}",
        )
    if shape in ("dup-first", "dup-last"):
        path = draw(st.sampled_from(["pull_request", "installation", "repository"]))
        junk = json.dumps(draw(not_a_dict))
        dup = f'"{path}": {junk}'
        # The last of two equal keys wins, as in every JSON parser GitHub's payloads meet.
        body = f"{{{dup}, {text[1:]}" if shape == "dup-first" else f"{text[:-1]}, {dup}}}"
        return Sent(body.encode(), shape == "dup-first", f"{shape} {path}")
    if shape == "long":
        size = draw(st.integers(min_value=10_000, max_value=200_000))
        return Sent(f'{{"zzz": [{"0," * size}0], {text[1:]}'.encode(), True, f"array of {size}")
    form = "payload=" + re.sub(r"[^A-Za-z0-9]", lambda m: f"%{ord(m.group()):02X}", text)
    return Sent(form.encode(), True, "form-encoded", "application/x-www-form-urlencoded")


class ServedApp:
    """The App served on a loop of its own, with a pool to read what it stored."""

    def __init__(self, settings) -> None:
        self.loop = BackgroundLoop()
        url = self.loop.serve(create_app(settings))
        self.port = int(url.rsplit(":", 1)[1])
        self.pool = self.loop.run(db.create_pool(settings.database_url, min_size=1, max_size=2))

    def post(self, sent: Sent) -> int:
        delivery_id = str(uuid.uuid4())
        headers = {
            "Content-Type": sent.content_type,
            "X-GitHub-Event": "pull_request",
            "X-GitHub-Delivery": delivery_id,
            "X-Hub-Signature-256": sign(sent.body, WEBHOOK_SECRET),
        }
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request("POST", "/webhooks", body=sent.body, headers=headers)
            response = connection.getresponse()
            response.read()
        finally:
            connection.close()
        self.last_delivery = delivery_id
        return response.status

    def reviews_of(self, delivery_id: str) -> list[asyncpg.Record]:
        return self.loop.run(
            self.pool.fetch("SELECT * FROM reviews WHERE delivery_id = $1", delivery_id)
        )

    def health(self) -> int:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        connection.request("GET", "/healthz")
        return connection.getresponse().status

    def close(self) -> None:
        self.loop.run(self.pool.close())
        self.loop.close()  # shuts the App down: its review tasks finish or are handed back


@pytest.fixture(scope="module")
def app(base_settings, github_server) -> Iterator[ServedApp]:
    served = ServedApp(replace(base_settings, shutdown_timeout=2))
    yield served
    assert served.health() == 200, "the App is still healthy after the fuzzing"
    served.close()
    github_server.reset()
    reviews = TALLY["reviews from invalid payloads"]
    print(
        f"\nfuzz: {TALLY['sent']} deliveries sent; answers "
        + ", ".join(f"{k[7:]}: {v}" for k, v in sorted(TALLY.items()) if k.startswith("status "))
        + f"; reviews from invalid payloads: {reviews}; 5xx: {TALLY['5xx']}"
    )


def check_row(row: asyncpg.Record) -> None:
    """What any review row must hold, whatever delivery created it."""
    assert 0 < row["installation_id"] < 2**63
    assert 0 < row["pr_number"] < 2**31
    assert re.fullmatch(r"[0-9a-f]{40}", row["head_sha"])
    assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]{0,38}", row["owner"])
    assert re.fullmatch(r"[A-Za-z0-9._-]{1,100}", row["repo"]) and row["repo"] not in (".", "..")
    assert 0 < len(row["base_ref"]) <= 255 and ".." not in row["base_ref"]


@given(deliveries())
def test_no_signed_delivery_gets_a_5xx_or_an_invalid_review(app, sent):
    status = app.post(sent)
    rows = app.reviews_of(app.last_delivery)

    TALLY["sent"] += 1
    TALLY[f"status {status}"] += 1
    TALLY["5xx"] += status >= 500
    TALLY["reviews from invalid payloads"] += bool(rows) and sent.valid is False
    assert status in (200, 202, 400, 413), sent.how
    assert len(rows) == (1 if status == 202 else 0), sent.how
    if sent.valid is False:
        assert status == 400, sent.how
    if sent.valid:
        assert status == 202, sent.how
    for row in rows:
        check_row(row)
