"""The Router and the payload models: every action a handler reviews is validated strictly."""

from __future__ import annotations

from gidgethub import sansio

from bot.app import events
from bot.app.payloads import Envelope, PullRequestEvent
from tests.payloads import pull_request_payload


def event(action: str) -> sansio.Event:
    return sansio.Event(pull_request_payload(action), event="pull_request", delivery_id="1")


def test_each_action_with_a_handler_has_its_strict_model_and_no_other_does():
    for action in ("opened", "reopened", "synchronize", "ready_for_review", "edited", "closed"):
        handled = bool(events.router.fetch(event(action)))
        model = events.MODELS.get(("pull_request", action))

        assert handled == (model is PullRequestEvent), action


def test_an_unhandled_delivery_is_checked_as_an_envelope():
    payload = events.payload_of(event("labeled"))

    assert type(payload) is Envelope
    assert payload.repository is not None and payload.repository.full_name == "octo/widgets"
