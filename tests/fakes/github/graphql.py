"""POST /graphql: the part of GitHub's GraphQL API that Second Look reads, run by graphql-core.

Parse and validation errors answer 200 with `errors` and no `data`, as GitHub does; a field
that fails answers null in `data` with an error whose `path` names it.
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

from aiohttp import web
from graphql import GraphQLError, build_schema, graphql_sync

from tests.fakes.diffs import blob_sha
from tests.fakes.github.contents import Contents, Tree
from tests.fakes.github.errors import GitHubError
from tests.fakes.github.state import IssuedToken, _Repo

GRAPHQL_DOCS = "https://docs.github.com/graphql"
# Names, types and nullability as in GitHub's public schema (schema.docs.graphql).
SCHEMA = build_schema("""
    scalar GitObjectID
    scalar DateTime
    scalar URI

    type Query {
      repository(owner: String!, name: String!, followRenames: Boolean = true): Repository
    }

    type Mutation {
      resolveReviewThread(input: ResolveReviewThreadInput!): ResolveReviewThreadPayload
      unresolveReviewThread(input: UnresolveReviewThreadInput!): UnresolveReviewThreadPayload
    }

    type Repository {
      name: String!
      nameWithOwner: String!
      object(expression: String, oid: GitObjectID): GitObject
      pullRequest(number: Int!): PullRequest
    }

    interface GitObject {
      oid: GitObjectID!
    }

    type Blob implements GitObject {
      oid: GitObjectID!
      byteSize: Int!
      isBinary: Boolean
      isTruncated: Boolean!
      text: String
    }

    type Tree implements GitObject {
      oid: GitObjectID!
    }

    type Commit implements GitObject {
      oid: GitObjectID!
    }

    type PullRequest {
      number: Int!
      title: String!
      body: String!
      baseRefName: String!
      headRefOid: GitObjectID!
      reviewThreads(
        after: String, before: String, first: Int, last: Int
      ): PullRequestReviewThreadConnection!
    }

    type PageInfo {
      endCursor: String
      hasNextPage: Boolean!
      hasPreviousPage: Boolean!
      startCursor: String
    }

    interface Actor {
      login: String!
      url: URI!
    }

    type User implements Actor {
      databaseId: Int
      id: ID!
      login: String!
      url: URI!
    }

    type Bot implements Actor {
      databaseId: Int
      id: ID!
      login: String!
      url: URI!
    }

    enum DiffSide {
      LEFT
      RIGHT
    }

    type PullRequestReviewThreadConnection {
      edges: [PullRequestReviewThreadEdge]
      nodes: [PullRequestReviewThread]
      pageInfo: PageInfo!
      totalCount: Int!
    }

    type PullRequestReviewThreadEdge {
      cursor: String!
      node: PullRequestReviewThread
    }

    type PullRequestReviewThread {
      comments(
        after: String, before: String, first: Int, last: Int, skip: Int
      ): PullRequestReviewCommentConnection!
      diffSide: DiffSide!
      id: ID!
      isOutdated: Boolean!
      isResolved: Boolean!
      line: Int
      originalLine: Int
      originalStartLine: Int
      path: String!
      startDiffSide: DiffSide
      startLine: Int
    }

    type PullRequestReviewCommentConnection {
      edges: [PullRequestReviewCommentEdge]
      nodes: [PullRequestReviewComment]
      pageInfo: PageInfo!
      totalCount: Int!
    }

    type PullRequestReviewCommentEdge {
      cursor: String!
      node: PullRequestReviewComment
    }

    type PullRequestReviewComment {
      author: Actor
      body: String!
      createdAt: DateTime!
      databaseId: Int
      diffHunk: String!
      id: ID!
      path: String!
      reactions(
        after: String, before: String, content: ReactionContent, first: Int, last: Int
      ): ReactionConnection!
      replyTo: PullRequestReviewComment
      url: URI!
    }

    enum ReactionContent {
      CONFUSED
      EYES
      HEART
      HOORAY
      LAUGH
      ROCKET
      THUMBS_DOWN
      THUMBS_UP
    }

    type ReactionConnection {
      edges: [ReactionEdge]
      nodes: [Reaction]
      pageInfo: PageInfo!
      totalCount: Int!
      viewerHasReacted: Boolean!
    }

    type ReactionEdge {
      cursor: String!
      node: Reaction
    }

    type Reaction {
      content: ReactionContent!
      createdAt: DateTime!
      databaseId: Int
      id: ID!
      user: User
    }

    input ResolveReviewThreadInput {
      clientMutationId: String
      threadId: ID!
    }

    type ResolveReviewThreadPayload {
      clientMutationId: String
      thread: PullRequestReviewThread
    }

    input UnresolveReviewThreadInput {
      clientMutationId: String
      threadId: ID!
    }

    type UnresolveReviewThreadPayload {
      clientMutationId: String
      thread: PullRequestReviewThread
    }
""")
BROKEN = (
    "Something went wrong while executing your query. This may be the result of a timeout, "
    "or it could be a GitHub bug. Please include `{request_id}` when reporting this issue."
)


class _Typed(Exception):
    """A field failure GitHub reports with an error `type` (the field answers null)."""

    type = "INTERNAL"

    def __init__(self, message: str, type_: str | None = None) -> None:
        super().__init__(message)
        if type_ is not None:
            self.type = type_


class _NotFound(_Typed):
    """What GitHub reports as an error of type NOT_FOUND (the field answers null)."""

    type = "NOT_FOUND"


# GitHub checks connection bounds before it runs a query: these answer `errors` and no `data`.
PAGINATION_ERRORS = ("EXCESSIVE_PAGINATION", "MISSING_PAGINATION_BOUNDARIES")


class GraphQL(Contents):
    """POST /graphql, authenticated by an installation token like the REST endpoints."""

    async def _graphql(self, request: web.Request) -> web.Response:
        issued = self._graphql_token(request)
        data = await self._body(request)
        query, variables = data.get("query"), data.get("variables") or {}
        if isinstance(variables, str):  # GitHub takes the variables as a JSON string too
            try:
                variables = json.loads(variables or "{}")
            except ValueError:
                raise GitHubError(400, "Problems parsing JSON", docs=GRAPHQL_DOCS) from None
        if not isinstance(query, str) or not isinstance(variables, dict):
            message = "A query attribute must be specified and must be a string."
            return self._graphql_json({"errors": [{"message": message}]})
        result = graphql_sync(
            SCHEMA,
            query,
            root_value={
                "repository": lambda _info, owner, name, **_: self._gql_repo(issued, owner, name),
                **self._gql_mutations(issued),
            },
            variable_values=variables,
            operation_name=data.get("operationName"),
        )
        answer: dict[str, Any] = {}
        errors = [_formatted(error) for error in result.errors or []]
        if result.data is not None and not any(e.get("type") in PAGINATION_ERRORS for e in errors):
            answer["data"] = result.data
        if errors:
            answer["errors"] = errors
        return self._graphql_json(answer)

    def _gql_mutations(self, issued: IssuedToken) -> dict[str, Any]:
        # The Mutation root's fields; the mixins that add mutations extend this.
        return {}

    def _graphql_json(self, answer: dict[str, Any]) -> web.Response:
        return self._json(answer, 200, {"X-RateLimit-Resource": "graphql"})

    def _graphql_token(self, request: web.Request) -> IssuedToken:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if not scheme:
            raise GitHubError(
                401,
                "This endpoint requires you to be authenticated.",
                docs=f"{GRAPHQL_DOCS}/guides/forming-calls-with-graphql#authenticating-with-graphql",
            )
        with self._lock:
            issued = self._tokens.get(token.strip())
        if scheme.lower() not in ("token", "bearer") or issued is None:
            raise GitHubError(401, "Bad credentials", docs=GRAPHQL_DOCS)
        if issued.expires_at <= time.time():
            raise GitHubError(401, "Bad credentials", docs=GRAPHQL_DOCS)
        return issued

    def _gql_repo(self, issued: IssuedToken, owner: str, name: str) -> dict[str, Any]:
        with self._lock:
            state = self._repos.get((owner.lower(), name.lower()))
        # Another installation's repository is invisible, as a private repo would be.
        if state is None or not self._sees(issued, state):
            raise _NotFound(f"Could not resolve to a Repository with the name '{owner}/{name}'.")
        return {
            "name": state.name,
            "nameWithOwner": f"{state.owner}/{state.name}",
            "object": lambda _info, expression=None, oid=None: self._gql_object(
                state, expression, oid
            ),
            "pullRequest": lambda _info, number: self._gql_pull(state, number),
        }

    def _gql_object(self, state: _Repo, expression: str | None, oid: str | None) -> Any:
        if expression in self.graphql_broken_expressions:
            raise RuntimeError(BROKEN.format(request_id=secrets.token_hex(4).upper()))
        if expression is None:
            with self._lock:
                known = oid in state.commits
            return {"__typename": "Commit", "oid": oid} if known else None
        # A ref name cannot hold ":" (git check-ref-format), so the first one ends it.
        ref, colon, path = expression.partition(":")
        if not colon:
            with self._lock:
                shas = [r for r in self._resolve_refs(state, ref) if r in state.commits]
            return {"__typename": "Commit", "oid": shas[0]} if shas else None
        found = self._lookup(state, ref, path)
        if found is None:
            return None
        if isinstance(found, Tree):
            return {"__typename": "Tree", "oid": blob_sha(f"tree {path}")}
        limit = self.graphql_blob_limit
        binary = b"\0" in found[:8000] or not _is_utf8(found)
        return {
            "__typename": "Blob",
            "oid": blob_sha(found),
            "byteSize": len(found),
            "isBinary": binary,
            "isTruncated": len(found) > limit,
            # Cut at a byte count, so a character split at the cut is dropped.
            "text": None if binary else found[:limit].decode("utf-8", errors="ignore"),
        }

    def _gql_pull(self, state: _Repo, number: int) -> dict[str, Any]:
        # Conversation extends this with the pull request's reviewThreads.
        with self._lock:
            pull = state.pulls.get(number)
        if pull is None:
            raise _NotFound(f"Could not resolve to a PullRequest with the number of {number}.")
        return {
            "number": pull.number,
            "title": pull.title,
            "body": pull.body,
            "baseRefName": pull.base_ref,
            "headRefOid": pull.head_sha,
        }


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _formatted(error: GraphQLError) -> dict[str, Any]:
    shaped: dict[str, Any] = {}
    if isinstance(error.original_error, _Typed):
        shaped["type"] = error.original_error.type
    return {**shaped, **error.formatted}
