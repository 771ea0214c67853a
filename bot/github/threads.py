"""Our inline review threads on a PR, read in one GraphQL query (GitHub sends no webhook for
reactions), and resolved by the resolveReviewThread mutation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.github.client import Identity, RetryingGitHubAPI
from bot.pull import Pull
from bot.review.render import marked_fingerprint

PAGE = 100  # threads a page; GitHub's cap on `first`
THREAD_COMMENTS = 50  # the conversation an answer reads; the first comment is ours
RESOLVE_BATCH = 50  # mutations in one request

_QUERY = """
query($owner: String!, $name: String!, $number: Int!, $first: Int!, $after: String,
      $comments: Int!, $reactions: Boolean!) {
  repository(owner: $owner, name: $name) {
    pullRequest(number: $number) {
      reviewThreads(first: $first, after: $after) {
        pageInfo { hasNextPage endCursor }
        nodes {
          id isResolved isOutdated path
          comments(first: $comments) {
            nodes {
              databaseId body author { __typename login }
              reactions(first: 100) @include(if: $reactions) {
                nodes { content user { login } }
              }
            }
          }
        }
      }
    }
  }
}
"""


@dataclass(frozen=True)
class ThreadComment:
    id: int
    author: str
    bot: bool
    body: str


@dataclass(frozen=True)
class Thread:
    """A review thread that one of our inline comments starts."""

    id: str
    fingerprint: str
    resolved: bool
    outdated: bool  # GitHub's word for "the lines it was on changed since"
    path: str
    comments: list[ThreadComment]
    thumbs_up: list[str] = field(default_factory=list)  # who reacted 👍 to our comment
    thumbs_down: list[str] = field(default_factory=list)

    @property
    def root_id(self) -> int:
        return self.comments[0].id


@dataclass
class Threads:
    """Our threads on a PR, and the GraphQL requests reading them took."""

    threads: list[Thread] = field(default_factory=list)
    calls: int = 0

    def by_fingerprint(self) -> dict[str, Thread]:
        return {t.fingerprint: t for t in self.threads}

    def by_root(self, comment_id: int) -> Thread | None:
        return next((t for t in self.threads if t.root_id == comment_id), None)


async def ours(
    gh: RetryingGitHubAPI, identity: Identity, pull: Pull, *, conversation: bool = False
) -> Threads:
    """The PR's threads that our inline comments start (by author and marker), with the 👍
    and 👎 on our comment; `conversation`: with the replies too (up to THREAD_COMMENTS)."""
    found = Threads()
    after: str | None = None
    while True:
        data = await gh.query(
            _QUERY,
            owner=pull.owner,
            name=pull.repo,
            number=pull.number,
            first=PAGE,
            after=after,
            comments=THREAD_COMMENTS if conversation else 1,
            reactions=not conversation,
        )
        found.calls += 1
        node = ((data or {}).get("repository") or {}).get("pullRequest")
        if node is None:
            return found
        page = node["reviewThreads"]
        parsed = (_thread(node, identity) for node in page["nodes"] or [])
        found.threads += [thread for thread in parsed if thread is not None]
        if not page["pageInfo"]["hasNextPage"]:
            return found
        after = page["pageInfo"]["endCursor"]


def _thread(node: dict[str, Any], identity: Identity) -> Thread | None:
    """A review thread of the answer, if our inline comment starts it."""
    nodes = (node.get("comments") or {}).get("nodes") or []
    comments = [
        ThreadComment(
            id=int(c.get("databaseId") or 0),
            author=(c.get("author") or {}).get("login") or "ghost",
            bot=(c.get("author") or {}).get("__typename") == "Bot",
            body=c.get("body") or "",
        )
        for c in nodes
    ]
    if not comments:
        return None
    root = comments[0]
    fingerprint = marked_fingerprint(root.body)
    if fingerprint is None or not root.bot or not identity.wrote(root.author):
        return None  # someone else's thread, or text that only looks like our marker
    reactions = (nodes[0].get("reactions") or {}).get("nodes") or []

    def who(content: str) -> list[str]:
        return sorted(
            {
                (r.get("user") or {}).get("login") or "ghost"
                for r in reactions
                if r.get("content") == content
            }
        )

    return Thread(
        id=node["id"],
        fingerprint=fingerprint,
        resolved=bool(node["isResolved"]),
        outdated=bool(node["isOutdated"]),
        path=node.get("path") or "",
        comments=comments,
        thumbs_up=who("THUMBS_UP"),
        thumbs_down=who("THUMBS_DOWN"),
    )


async def resolve(gh: RetryingGitHubAPI, thread_ids: Sequence[str]) -> int:
    """Resolve the threads, RESOLVE_BATCH to a request; the number of requests made."""
    requests = 0
    ids = list(dict.fromkeys(thread_ids))
    for start in range(0, len(ids), RESOLVE_BATCH):
        batch = ids[start : start + RESOLVE_BATCH]
        names = [f"t{i}" for i in range(len(batch))]
        header = ", ".join(f"${name}: ID!" for name in names)
        fields = " ".join(
            f"{name}: resolveReviewThread(input: {{threadId: ${name}}}) {{ thread {{ id }} }}"
            for name in names
        )
        await gh.query(f"mutation({header}) {{ {fields} }}", **dict(zip(names, batch, strict=True)))
        requests += 1
    return requests
