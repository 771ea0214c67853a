"""FakeGitHub: the endpoint mixins put together, and the URL routes that reach them."""

from __future__ import annotations

from aiohttp import web

from tests.fakes.github.checks import Checks
from tests.fakes.github.comments import Comments
from tests.fakes.github.contents import Contents
from tests.fakes.github.conversation import Conversation
from tests.fakes.github.graphql import GraphQL
from tests.fakes.github.hooks import Hooks
from tests.fakes.github.manifests import Manifests
from tests.fakes.github.reviews import Reviews


class FakeGitHub(Checks, Conversation, Reviews, Comments, GraphQL, Contents, Manifests, Hooks):
    """The GitHub REST API for one App, as an aiohttp application.

    Set up state with add_pull / set_content / seed_comments, serve `.app` (start(bg)), point
    GITHUB_API_URL at `.url`, then read what the code did: `.requests`, comments(), reviews(),
    review_comments(), check_runs(), `.tokens_issued`, `.rejected_comments`; the conversation
    around review comments with react() / reactions(), reply(), set_permission(), threads().
    """

    def __init__(self, app_id: str, public_key_pem: str) -> None:
        super().__init__(app_id, public_key_pem)
        self.app = self._make_app()

    def _make_app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware], client_max_size=64 * 1024**2)
        app.on_response_prepare.append(self._on_prepare)
        r = r"/repos/{owner}/{repo}"
        n = r"{number:\d+}"
        app.router.add_get("/app", self._get_app)
        app.router.add_post(r"/app/installations/{iid:\d+}/access_tokens", self._access_token)
        app.router.add_get(f"{r}/installation", self._repo_installation)
        app.router.add_get(f"{r}/pulls/{n}", self._get_pull)
        app.router.add_get(f"{r}/pulls/{n}/files", self._pull_files)
        app.router.add_get(f"{r}/pulls/{n}/reviews", self._list_reviews)
        app.router.add_post(f"{r}/pulls/{n}/reviews", self._create_review)
        app.router.add_get(f"{r}/pulls/{n}/comments", self._list_review_comments)
        app.router.add_post(rf"{r}/pulls/{n}/comments/{{cid:\d+}}/replies", self._create_reply)
        app.router.add_get(rf"{r}/pulls/comments/{{cid:\d+}}", self._get_review_comment)
        app.router.add_get(
            rf"{r}/pulls/comments/{{cid:\d+}}/reactions", self._list_review_comment_reactions
        )
        app.router.add_post(
            rf"{r}/pulls/comments/{{cid:\d+}}/reactions", self._create_review_comment_reaction
        )
        app.router.add_get(
            rf"{r}/issues/comments/{{cid:\d+}}/reactions", self._list_issue_comment_reactions
        )
        app.router.add_post(
            rf"{r}/issues/comments/{{cid:\d+}}/reactions", self._create_issue_comment_reaction
        )
        app.router.add_get(
            f"{r}/collaborators/{{username}}/permission", self._collaborator_permission
        )
        app.router.add_get(f"{r}/contents/{{path:.+}}", self._get_contents)
        app.router.add_get(f"{r}/issues/{n}/comments", self._list_comments)
        app.router.add_post(f"{r}/issues/{n}/comments", self._create_comment)
        app.router.add_get(rf"{r}/issues/comments/{{cid:\d+}}", self._get_comment)
        app.router.add_patch(rf"{r}/issues/comments/{{cid:\d+}}", self._edit_comment)
        app.router.add_delete(rf"{r}/issues/comments/{{cid:\d+}}", self._delete_comment)
        app.router.add_post(f"{r}/check-runs", self._create_check_run)
        app.router.add_get(rf"{r}/check-runs/{{run:\d+}}", self._get_check_run)
        app.router.add_patch(rf"{r}/check-runs/{{run:\d+}}", self._update_check_run)
        app.router.add_get(rf"{r}/check-runs/{{run:\d+}}/annotations", self._list_annotations)
        app.router.add_get(f"{r}/commits/{{ref}}/check-runs", self._commit_check_runs)
        app.router.add_get(f"{r}/compare/{{basehead:.+}}", self._compare)
        app.router.add_post("/graphql", self._graphql)
        app.router.add_get("/app/hook/deliveries", self._list_hook_deliveries)
        app.router.add_post(
            r"/app/hook/deliveries/{delivery_id:\d+}/attempts", self._redeliver_hook_delivery
        )
        app.router.add_post("/app-manifests/{code}/conversions", self._manifest_conversion)
        # GitHub's web pages of the manifest flow, which a browser goes through.
        app.router.add_post("/settings/apps/new", self._new_app_from_manifest)
        app.router.add_post("/organizations/{org}/settings/apps/new", self._new_app_from_manifest)
        app.router.add_post("/settings/apps/new/create", self._create_app_from_manifest)
        return app
