"""What works only in part, and why: /healthz's body and the dashboard's banner say the same.

Degraded is not down: the App takes deliveries and reviews, so /healthz stays 200 (a load
balancer keeps sending, an orchestrator does not restart it: a restart would not mend GitHub).
Setup is not down either: before the App is registered, the first-run setup page is what this
process serves, and /healthz says so (200, `"status": "setup"`); no database is open yet.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the setup pages use SETUP without opening the App's services
    from bot.app.services import Services

SETUP = {
    "status": "setup",
    "setup": "no GitHub App is configured: open the setup page this server logged to register one",
}


def degraded(services: Services) -> dict[str, str]:
    """What is degraded -> why, in a sentence; empty when everything works."""
    from bot.app import app_identity

    found: dict[str, str] = {}
    identity = services.github.identity
    why = app_identity.off(identity)
    if why is not None and identity.unknown:  # asked, and GitHub gave no slug
        found["github_app"] = why
    return found
