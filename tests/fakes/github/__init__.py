"""A fake of the GitHub REST API (the parts Second Look uses), served over HTTP on loopback.

Handlers run on the BackgroundLoop's thread while tests set up and read state from theirs:
state is plain data, every compound change happens under one lock with no await inside.
FakeGitHub (app.py) is put together from one mixin per concern; see each module.
"""

from tests.fakes.github.app import FakeGitHub
from tests.fakes.github.auth import ACTIONS_APP, ACTIONS_BOT, TOKEN_PERMISSIONS, make_rsa_keypair
from tests.fakes.github.checks import (
    ANNOTATION_LEVELS,
    CHECK_CONCLUSIONS,
    CHECK_STATUSES,
    MAX_ANNOTATIONS_PER_REQUEST,
    MAX_OUTPUT_TEXT,
)
from tests.fakes.github.comments import MAX_COMMENT_BODY
from tests.fakes.github.errors import DOCS, GitHubError
from tests.fakes.github.http import SECONDARY_RATE_LIMIT
from tests.fakes.github.pulls import MAX_FILES_LISTED
from tests.fakes.github.reviews import REVIEW_EVENTS
from tests.fakes.github.state import Commit, IssuedToken, PullState, Recorded

__all__ = [
    "ACTIONS_APP",
    "ACTIONS_BOT",
    "ANNOTATION_LEVELS",
    "CHECK_CONCLUSIONS",
    "CHECK_STATUSES",
    "DOCS",
    "MAX_ANNOTATIONS_PER_REQUEST",
    "MAX_COMMENT_BODY",
    "MAX_FILES_LISTED",
    "MAX_OUTPUT_TEXT",
    "REVIEW_EVENTS",
    "SECONDARY_RATE_LIMIT",
    "TOKEN_PERMISSIONS",
    "Commit",
    "FakeGitHub",
    "GitHubError",
    "IssuedToken",
    "PullState",
    "Recorded",
    "make_rsa_keypair",
]
