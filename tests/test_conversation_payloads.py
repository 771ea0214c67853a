"""The conversation's deliveries under hostile input: whatever a field of an issue_comment,
review comment, check run or installation delivery holds, it is refused in one line
(PayloadError) or handled; nothing else escapes, and a job's payload holds no free text."""

from __future__ import annotations

import asyncio
import copy
import json
from typing import Any

from gidgethub import sansio
from hypothesis import given
from hypothesis import strategies as st

from bot.app import events
from bot.app.payloads import PayloadError
from bot.github.client import Identity
from tests.payloads import (
    check_run_payload,
    check_suite_payload,
    installation_payload,
    installation_repositories_payload,
    issue_comment_payload,
    review_comment,
    review_comment_payload,
)

SAMPLES: list[tuple[str, dict[str, Any]]] = [
    ("issue_comment", issue_comment_payload("/second-look review")),
    (
        "pull_request_review_comment",
        review_comment_payload(review_comment("false positive", in_reply_to_id=5)),
    ),
    ("check_run", check_run_payload()),
    ("check_suite", check_suite_payload()),
    ("installation", installation_payload("created")),
    ("installation_repositories", installation_repositories_payload()),
]
IDENTITY = Identity("4242", "second-look")

values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=20)
    | st.sampled_from(["a\x00b", "\ud800", "x" * 5000, "@everyone", "<!-- x -->"]),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


def paths(data: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every key path of a payload, containers included."""
    found = []
    if isinstance(data, dict):
        for key, value in data.items():
            found.append((*prefix, key))
            found += paths(value, (*prefix, key))
    return found


def handled(event_name: str, data: dict[str, Any]) -> events.Intake | None:
    """What intake decides for the delivery; None when it is refused as malformed."""
    event = sansio.Event(data, event=event_name, delivery_id="fuzz")
    try:
        payload = events.payload_of(event)
    except PayloadError as exc:
        assert "\n" not in str(exc) and len(str(exc)) <= 300
        return None
    intake = events.Intake()
    asyncio.run(events.router.dispatch(event, payload=payload, intake=intake, identity=IDENTITY))
    return intake


@given(st.sampled_from(range(len(SAMPLES))), st.data(), values)
def test_any_field_replaced_is_refused_in_one_line_or_handled(index, data, value):
    event_name, sample = SAMPLES[index]
    payload = copy.deepcopy(sample)
    where = data.draw(st.sampled_from(paths(payload)))
    node = payload
    for key in where[:-1]:
        node = node[key]
    node[where[-1]] = value

    intake = handled(event_name, payload)

    if intake is not None and intake.job is not None:
        text = json.dumps(intake.job.payload)
        assert "\\u0000" not in text and "<!--" not in text and "@everyone" not in text
        assert len(text) < 2_000


def test_every_sample_makes_a_job():
    for event_name, sample in SAMPLES:
        intake = handled(event_name, sample)
        assert intake is not None and intake.job is not None, event_name
