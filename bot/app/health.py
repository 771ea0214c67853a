"""What works only in part, and why: /healthz's body and the dashboard's banner say the same.

Degraded is not down: the App takes deliveries and reviews, so /healthz stays 200 (a load
balancer keeps sending, an orchestrator does not restart it: a restart would not mend GitHub).
"""

from __future__ import annotations

from bot.app import app_identity
from bot.app.services import Services


def degraded(services: Services) -> dict[str, str]:
    """What is degraded -> why, in a sentence; empty when everything works."""
    found: dict[str, str] = {}
    identity = services.github.identity
    why = app_identity.off(identity)
    if why is not None and identity.unknown:  # asked, and GitHub gave no slug
        found["github_app"] = why
    return found
