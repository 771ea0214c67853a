"""The dashboard over HTTP: pages, filters, pagination, errors, access and escaping."""

from __future__ import annotations

import dataclasses
import hashlib
import ipaddress
import logging
import re
import uuid
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

import pytest
from aiohttp import web

from bot.app import dashboard
from bot.app import remote as bot_remote
from bot.app.conversation.context import Hooks
from bot.app.dashboard import auth
from bot.github.client import web_url
from bot.pull import Pull
from bot.store import calls, publications, pulls, queue, reviews
from bot.store.findings_table import FindingRepo
from bot.store.publications import Action, Publication, Target
from tests.reviewing import OWNER, REPO, finding, open_pull, run_review

TOKEN = "dashboard-token-0123456789"
DAY = datetime(2024, 5, 10, 12, 0, tzinfo=UTC)
HOSTILE = "<script>alert(1)</script>"

# ------------------------------------------------------------------------------ HTML reading

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}


@dataclasses.dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    children: list[Node | str] = dataclasses.field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text for c in self.children)

    def all(self, selector: str) -> list[Node]:
        """Descendants matching `tag#id.class[attr][attr=value]` (one compound selector)."""
        match = re.fullmatch(r"([a-z0-9]*)(#[\w-]+)?((?:\.[\w-]+)*)((?:\[[^\]]+\])*)", selector)
        assert match, selector
        tag, ident, classes, attrs = match.groups()
        wanted_classes = [c for c in classes.split(".") if c]
        wanted_attrs = [a.split("=", 1) for a in re.findall(r"\[([^\]]+)\]", attrs)]
        found: list[Node] = []
        for node in self._descendants():
            if tag and node.tag != tag:
                continue
            if ident and node.attrs.get("id") != ident[1:]:
                continue
            if any(c not in node.attrs.get("class", "").split() for c in wanted_classes):
                continue
            if any(
                a[0] not in node.attrs or (len(a) == 2 and node.attrs[a[0]] != a[1])
                for a in wanted_attrs
            ):
                continue
            found.append(node)
        return found

    def one(self, selector: str) -> Node:
        found = self.all(selector)
        assert len(found) == 1, f"{selector}: {len(found)} elements"
        return found[0]

    def cell(self, name: str) -> str:
        return self.one(f"td.{name}").text.strip()

    def _descendants(self) -> list[Node]:
        out: list[Node] = []
        for child in self.children:
            if isinstance(child, Node):
                out.append(child)
                out.extend(child._descendants())
        return out


class _Tree(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse(body: str) -> Node:
    tree = _Tree()
    tree.feed(body)
    tree.close()
    return tree.root


# --------------------------------------------------------------------------------- the rows


@dataclasses.dataclass(frozen=True)
class StoredFinding:
    agent_type: str = "security"
    severity: str = "critical"
    file_path: str = "app.py"
    line_start: int | None = 9
    line_end: int | None = 9
    title: str = "eval of user input"
    description: str = "eval runs whatever the user sends."
    suggestion: str | None = None
    fingerprint: str = ""
    carried_from: uuid.UUID | None = None
    verdict: str | None = None
    confidence: float | None = None
    verify_reason: str | None = None
    withheld: bool = False
    dismissed_by: str | None = None
    evidence: str = ""
    model_confidence: float | None = None
    suggestion_kept: bool | None = None
    offered: bool = False


async def add_review(
    pool,
    *,
    owner: str = OWNER,
    repo: str = REPO,
    number: int = 7,
    at: datetime = DAY,
    status: str | None = None,
    error: str | None = None,
    trigger: str = "opened",
    base_ref: str = "main",
    head: str | None = None,
) -> uuid.UUID:
    """A review created as a delivery would, then moved to `status` at `at`."""
    review = queue.NewReview(
        id=uuid.uuid4(),
        installation_id=1,
        owner=owner,
        repo=repo,
        pr_number=number,
        head_sha=head or uuid.uuid4().hex + uuid.uuid4().hex[:8],
        base_ref=base_ref,
        trigger=queue.Trigger(trigger),
        draft=False,
        supersede=False,
    )
    async with pool.acquire() as conn:
        await queue.create(conn, [review])
    await pool.execute("UPDATE reviews SET created_at = $2 WHERE id = $1", review.id, at)
    if status is not None:
        finished = at + timedelta(seconds=75) if status not in ("pending", "processing") else None
        await pool.execute(
            "UPDATE reviews SET status = $2, error = $3, finished_at = $4,"
            " attempts = CASE WHEN $2 = 'pending' THEN 0 ELSE 1 END WHERE id = $1",
            review.id,
            status,
            error,
            finished,
        )
    return review.id


async def add_call(pool, review_id: uuid.UUID, **fields: Any) -> None:
    values: dict[str, Any] = {
        "review_id": review_id,
        "installation_id": 1,
        "owner": OWNER,
        "repo": REPO,
        "model": "gemini-2.5-flash",
        "agent": "security",
        "chunk": 1,
        "chunk_digest": "d" * 64,
        "attempt": 1,
        "status": "ok",
        "error": None,
        "latency_ms": 840,
        "prompt_tokens": 12_000,
        "cached_tokens": 4_000,
        "output_tokens": 300,
        "thinking_tokens": 200,
        "estimated": False,
        "cost_usd": 0.0125,
        "answer": None,
        "created_at": DAY,
    }
    values.update(fields)
    await calls.add(pool, [calls.CallRow(**values)])


# ------------------------------------------------------------------------------------ clients


def peer(address: str):
    """A middleware that makes every request come from `address`."""

    @web.middleware
    async def from_peer(request: web.Request, handler):
        return await handler(request.clone(remote=address))

    return from_peer


@pytest.fixture
def make_client(aiohttp_client, settings, pool):
    """The dashboard of an App listening on `host` (loopback unless said), `trusted` proxies,
    with GitHub's API at `api_url` (github.com unless said)."""

    async def make(
        token: str = "",
        remote: str | None = None,
        host: str = "127.0.0.1",
        trusted: str = "",
        api_url: str = "https://api.github.com",
        hooks: Hooks | None = None,
    ):
        app = web.Application(middlewares=[peer(remote)] if remote else [])
        networks = tuple(ipaddress.ip_network(n) for n in trusted.split(",") if n)
        bot_remote.trust(app, networks)
        changed = dataclasses.replace(
            settings,
            dashboard_token=token,
            host=host,
            trusted_proxies=networks,
            github_api_url=api_url,
        )
        dashboard.setup(app, changed, lambda: pool, hooks=(lambda: hooks) if hooks else None)
        return await aiohttp_client(app)

    return make


@pytest.fixture
async def client(make_client):
    """Token unset, requests from 127.0.0.1: served."""
    return await make_client()


async def page(client, path: str, status: int = 200, **kw) -> Node:
    response = await client.get(path, allow_redirects=False, **kw)
    body = await response.text()
    assert response.status == status, body[:500]
    return parse(body)


# ------------------------------------------------------------------------------ the list


async def test_list_shows_each_review_newest_first(client, pool):
    older = await add_review(pool, number=3, at=DAY - timedelta(hours=1), status="failed")
    newer = await add_review(pool, number=4, at=DAY, status="completed", trigger="synchronize")
    await FindingRepo(pool).create_many(
        newer,
        [
            StoredFinding(),
            StoredFinding(severity="medium"),
            StoredFinding(severity="medium"),
            StoredFinding(severity="low", withheld=True),
        ],
    )
    await add_call(pool, newer)
    await add_call(
        pool,
        newer,
        agent="bugs",
        prompt_tokens=1000,
        cached_tokens=0,
        output_tokens=50,
        thinking_tokens=0,
        cost_usd=0.0005,
    )

    doc = await page(client, "/dashboard")

    rows = doc.one("table#reviews").all("tr[data-review-id]")
    assert [r.attrs["data-review-id"] for r in rows] == [str(newer), str(older)]
    assert [r.attrs["data-status"] for r in rows] == ["completed", "failed"]
    first = rows[0]
    head = await pool.fetchval("SELECT head_sha FROM reviews WHERE id = $1", newer)
    assert first.cell("repository") == f"{OWNER}/{REPO}"
    assert first.cell("pr") == "#4"
    assert first.one("td.pr").one("a").attrs["href"] == f"https://github.com/{OWNER}/{REPO}/pull/4"
    assert first.cell("head") == head[:12]
    assert first.one("a.review-link").attrs["href"] == f"/dashboard/reviews/{newer}"
    assert first.cell("trigger") == "synchronize"
    assert first.cell("status") == "completed"
    assert first.cell("started") == "2024-05-10 12:00:00 UTC"
    assert first.cell("duration") == "1 min 15 s"
    assert first.cell("findings") == "1 critical, 2 medium, +1 withheld"
    assert first.cell("tokens") == "13,000 in · 4,000 cached · 550 out"
    assert first.cell("cost") == "$0.0130"
    # No calls and no findings: zeros, not empty cells.
    assert rows[1].cell("tokens") == "0 in · 0 cached · 0 out"
    assert rows[1].cell("cost") == "$0.0000"
    assert rows[1].cell("findings") == "0"
    table = doc.one("table#reviews")
    assert table.attrs["data-poll-ms"] == "2000"
    assert doc.all("a#prev") == [] and doc.all("a#next") == []


async def test_list_form_and_navigation(client, pool):
    doc = await page(client, "/dashboard?status=failed&repo=octo")

    form = doc.one("form#filters")
    assert form.attrs["method"] == "get"
    assert form.one("input[name=repo]").attrs["value"] == "octo"
    options = form.one("select[name=status]").all("option")
    assert [o.attrs["value"] for o in options] == [
        "",
        "pending",
        "processing",
        "completed",
        "failed",
        "superseded",
        "skipped",
    ]
    assert options[0].text == "any"
    assert [o.attrs["value"] for o in options if "selected" in o.attrs] == ["failed"]
    assert form.one("input[name=since]").attrs["type"] == "date"
    assert form.one("input[name=until]").attrs["type"] == "date"
    assert form.all("button#apply")
    assert doc.one("a#nav-reviews").attrs["href"] == "/dashboard"
    assert doc.one("a#nav-repositories").attrs["href"] == "/dashboard/repositories"
    assert doc.one("p#empty").text.startswith("No reviews")


async def test_filters_by_repository_status_and_dates(client, pool):
    a = await add_review(pool, owner="octo", repo="widgets", at=DAY, status="completed")
    b = await add_review(pool, owner="octo", repo="gadgets", at=DAY - timedelta(days=2))
    c = await add_review(
        pool, owner="other", repo="widgets", at=DAY - timedelta(days=5), status="failed"
    )

    async def ids(query: str) -> set[str]:
        doc = await page(client, f"/dashboard?{query}")
        return {r.attrs["data-review-id"] for r in doc.all("tr[data-review-id]")}

    assert await ids("repo=octo") == {str(a), str(b)}
    assert await ids("repo=OCTO/Widgets") == {str(a)}  # names compare without case
    assert await ids("repo=octo/none") == set()
    assert await ids("status=failed") == {str(c)}
    assert await ids("status=") == {str(a), str(b), str(c)}
    assert await ids("since=2024-05-08") == {str(a), str(b)}
    assert await ids("until=2024-05-08") == {str(b), str(c)}  # until is inclusive
    assert await ids("since=2024-05-08&until=2024-05-08") == {str(b)}
    assert await ids("repo=octo&status=pending&since=2024-05-01") == {str(b)}


async def test_pages_of_fifty(client, pool):
    created = [
        await add_review(pool, number=n, at=DAY - timedelta(minutes=n), status="completed")
        for n in range(1, 53)
    ]

    first = await page(client, "/dashboard?status=completed")
    ids = [r.attrs["data-review-id"] for r in first.all("tr[data-review-id]")]
    assert ids == [str(i) for i in created[:50]]
    assert first.all("a#prev") == []
    next_href = first.one("a#next").attrs["href"]
    assert "status=completed" in next_href and "page=2" in next_href

    second = await page(client, next_href)
    ids = [r.attrs["data-review-id"] for r in second.all("tr[data-review-id]")]
    assert ids == [str(i) for i in created[50:]]
    assert second.all("a#next") == []
    prev_href = second.one("a#prev").attrs["href"]
    assert "page=1" in prev_href and "status=completed" in prev_href
    # A live table adds new rows only on the first page.
    assert first.one("table#reviews").attrs["data-live-new"] == "true"
    assert second.one("table#reviews").attrs["data-live-new"] == "false"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("repo=not%20a%20repo", "repo must be OWNER or OWNER/REPO"),
        ("repo=a/b/c", "repo must be OWNER or OWNER/REPO"),
        ("status=done", "status must be one of"),
        ("since=2024-13-01", "since must be a date"),
        ("until=yesterday", "until must be a date"),
        ("since=2024-02-30", "since must be a date"),
        ("since=2024-05-09&until=2024-05-01", "since is after until"),
        ("page=0", "page must be a whole number"),
        ("page=-1", "page must be a whole number"),
        ("page=two", "page must be a whole number"),
        ("status=failed&status=completed", "status is given more than once"),
    ],
)
async def test_a_malformed_filter_is_400_with_a_message(client, pool, query, message):
    doc = await page(client, f"/dashboard?{query}", status=400)
    assert message in doc.one("p#error").text
    assert doc.all("form#filters")  # the form is there to correct it

    response = await client.get(f"/dashboard/reviews.json?{query}")
    assert response.status == 400
    assert message in (await response.json())["error"]


async def test_json_has_the_page_rows_as_the_table_shows_them(client, pool):
    review_id = await add_review(pool, status="processing")
    await add_call(pool, review_id)
    response = await client.get("/dashboard/reviews.json?repo=octo/widgets")
    assert response.status == 200
    data = await response.json()
    assert [r["id"] for r in data["rows"]] == [str(review_id)]
    row = data["rows"][0]
    assert row["status"] == "processing" and row["finished"] is False
    assert row["url"] == f"/dashboard/reviews/{review_id}"
    assert row["tokens"] == "12,000 in · 4,000 cached · 500 out"
    assert row["duration"].endswith(" so far")

    await pool.execute(
        "UPDATE reviews SET status = 'completed', finished_at = $2 WHERE id = $1",
        review_id,
        DAY + timedelta(seconds=5),
    )
    data = await (await client.get("/dashboard/reviews.json?repo=octo/widgets")).json()
    assert data["rows"][0]["status"] == "completed"
    assert data["rows"][0]["duration"] == "5.0 s"
    assert data["more"] is False and data["page"] == 1


@pytest.mark.parametrize(
    ("api_url", "web"),
    [
        ("https://api.github.com", "https://github.com"),
        ("https://api.github.com/", "https://github.com"),
        ("https://ghe.example.com/api/v3", "https://ghe.example.com"),
        ("https://ghe.example.com:8443/api/v3/", "https://ghe.example.com:8443"),
        ("https://api.octocorp.ghe.com", "https://octocorp.ghe.com"),
        ("http://127.0.0.1:9999", "http://127.0.0.1:9999"),
    ],
)
def test_the_web_host_follows_the_api_url(api_url, web):
    assert web_url(api_url) == web


async def test_links_to_github_go_to_the_configured_enterprise_server(make_client, pool):
    client = await make_client(api_url="https://ghe.example.com/api/v3")
    review_id = await add_review(pool, number=4)
    await FindingRepo(pool).create_many(review_id, [StoredFinding(file_path="app.py")])
    pr = f"https://ghe.example.com/{OWNER}/{REPO}/pull/4"

    listing = await page(client, "/dashboard")
    data = await (await client.get("/dashboard/reviews.json")).json()
    doc = await page(client, f"/dashboard/reviews/{review_id}")

    assert listing.one("td.pr").one("a").attrs["href"] == pr
    assert data["rows"][0]["pr_url"] == pr
    (item,) = doc.one("table#findings").all("tr.finding")
    assert item.one("td.location").one("a").attrs["href"].startswith(f"{pr}/files#diff-")
    hrefs = [a.attrs.get("href", "") for a in doc.all("a")]
    assert not [h for h in hrefs if "github.com" in h], hrefs


async def test_a_review_run_by_the_worker_shows_its_timeline_findings_and_calls(
    client, pool, services, fake_github, fake_gemini
):
    pull = open_pull(fake_github)
    fake_gemini.findings["security"] = [finding(line=9)]
    review = await run_review(services, pull)
    assert review.status == "completed"

    listing = await page(client, "/dashboard")
    row = listing.one(f"tr[data-review-id={review.id}]")
    assert row.attrs["data-status"] == "completed"
    assert row.cell("findings") == "1 critical"
    assert row.cell("tokens").endswith(" out") and row.cell("cost").startswith("$")

    doc = await page(client, f"/dashboard/reviews/{review.id}")
    events = doc.one("ol#timeline").all("li.event")
    assert [e.attrs["data-status"] for e in events] == ["pending", "processing", "completed"]
    assert "attempt 1" in events[2].text
    assert doc.one("ol#timeline").attrs["data-finished"] == "true"
    (item,) = doc.one("table#findings").all("tr.finding")
    assert item.cell("severity") == "critical"
    assert item.cell("agent") == "security"
    assert item.cell("location") == "app.py:9"
    anchor = hashlib.sha256(b"app.py").hexdigest()
    assert item.one("td.location").one("a").attrs["href"] == (
        f"https://github.com/{OWNER}/{REPO}/pull/7/files#diff-{anchor}R9"
    )
    agents = {c.cell("agent") for c in doc.one("table#calls").all("tr.call")}
    assert agents >= {"security", "bugs"}


async def test_review_page_timeline_names_errors_and_the_newer_review(client, pool):
    newer = await add_review(pool, at=DAY)
    older = await add_review(pool, at=DAY - timedelta(minutes=3))
    await pool.execute(
        "UPDATE reviews SET status = 'processing', attempts = 1 WHERE id = $1", older
    )
    await pool.execute(
        "UPDATE reviews SET status = 'pending', error = 'Gemini answered 503' WHERE id = $1",
        older,
    )
    await pool.execute(
        "UPDATE reviews SET status = 'processing', attempts = 2, error = NULL WHERE id = $1", older
    )
    await pool.execute(
        "UPDATE reviews SET status = 'superseded', superseded_by = $2, finished_at = now()"
        " WHERE id = $1",
        older,
        newer,
    )

    doc = await page(client, f"/dashboard/reviews/{older}")
    events = doc.one("ol#timeline").all("li.event")
    assert [e.attrs["data-status"] for e in events] == [
        "pending",
        "processing",
        "pending",
        "processing",
        "superseded",
    ]
    assert [e.one("span.attempt").text for e in events] == [
        "attempt 0",
        "attempt 1",
        "attempt 1",
        "attempt 2",
        "attempt 2",
    ]
    assert events[2].one("span.event-error").text == "Gemini answered 503"
    assert events[4].one("a.superseded-by").attrs["href"] == f"/dashboard/reviews/{newer}"
    assert all(e.one("time").text.endswith(" UTC") for e in events)
    # Nothing found and no call made: a sentence each, no empty table under its header.
    assert doc.all("table#findings") == [] and doc.all("table#calls") == []
    assert doc.one("p#no-findings").text.startswith("No findings.")
    assert doc.one("p#no-calls").text == "No Gemini calls."

    # A review still going polls its timeline; a finished one does not.
    running = await page(client, f"/dashboard/reviews/{newer}")
    timeline = running.one("ol#timeline")
    assert timeline.attrs["data-finished"] == "false"
    assert timeline.attrs["data-source"] == f"/dashboard/reviews/{newer}/events.json"
    data = await (await client.get(timeline.attrs["data-source"])).json()
    assert data["status"] == "pending" and data["finished"] is False
    assert [e["status"] for e in data["events"]] == ["pending"]


@pytest.mark.parametrize(
    "path",
    [
        f"/dashboard/reviews/{uuid.UUID(int=1)}",
        "/dashboard/reviews/not-a-uuid",
        "/dashboard/reviews/%3Cscript%3E",
    ],
)
async def test_an_unknown_or_malformed_review_is_404(client, pool, path):
    doc = await page(client, path, status=404)
    assert "no such review" in doc.one("p#not-found").text
    response = await client.get(f"{path}/events.json")
    assert response.status == 404


async def test_repositories_have_their_totals(client, pool):
    empty = await page(client, "/dashboard/repositories")
    assert empty.all("table#repositories") == []  # no header above nothing
    assert empty.one("p#empty").text == "No reviews yet."
    a = await add_review(pool, repo="widgets", status="completed")
    await add_review(pool, repo="widgets", status="failed")
    await add_review(pool, repo="widgets")
    await add_review(pool, owner="zeta", repo="tools", status="skipped")
    await FindingRepo(pool).create_many(a, [StoredFinding(), StoredFinding(withheld=True)])
    await add_call(pool, a)
    await add_call(pool, a, prompt_tokens=1_000, cached_tokens=0, cost_usd=0.0075)

    doc = await page(client, "/dashboard/repositories")
    rows = doc.one("table#repositories").all("tr.repository")
    assert [r.cell("repository") for r in rows] == ["octo/widgets", "zeta/tools"]
    widgets = rows[0]
    assert widgets.cell("reviews") == "3"
    assert widgets.cell("status-completed") == "1"
    assert widgets.cell("status-failed") == "1"
    assert widgets.cell("status-pending") == "1"
    assert widgets.cell("status-skipped") == "0"
    assert widgets.cell("findings") == "1"  # the withheld one is not counted
    assert widgets.cell("tokens") == "13,000 in · 4,000 cached · 1,000 out"
    assert widgets.cell("cost") == "$0.0200"
    assert widgets.one("a").attrs["href"] == "/dashboard?repo=octo%2Fwidgets"
    assert rows[1].cell("tokens") == "0 in · 0 cached · 0 out"
    assert rows[1].cell("cost") == "$0.0000" and rows[1].cell("status-skipped") == "1"


async def test_hostile_text_is_escaped_everywhere(client, pool):
    review_id = await add_review(
        pool,
        owner=HOSTILE,
        repo='x"><img src=x onerror=alert(2)>',
        base_ref=HOSTILE,
        status="failed",
        error=f"boom {HOSTILE}",
    )
    await FindingRepo(pool).create_many(
        review_id, [StoredFinding(title=HOSTILE, file_path=f"{HOSTILE}.py", agent_type=HOSTILE)]
    )
    await add_call(pool, review_id, model=HOSTILE, error=HOSTILE, status="failed")

    for path in ("/dashboard", f"/dashboard/reviews/{review_id}", "/dashboard/repositories"):
        response = await client.get(path)
        body = await response.text()
        assert response.status == 200
        assert "<script>alert" not in body and "<img src=x" not in body, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body, path

    doc = await page(client, f"/dashboard/reviews/{review_id}")
    assert doc.one("dd.error").text == f"boom {HOSTILE}"
    assert doc.one("dd.base").text == HOSTILE
    assert doc.one("tr.finding").cell("title") == HOSTILE
    assert doc.one("tr.call").cell("model") == HOSTILE
    # The only scripts are ours, by URL.
    assert [s.attrs.get("src") for s in doc.all("script")] == ["/dashboard/static/dashboard.js"]
    listing = await page(client, "/dashboard")
    assert listing.one("tr[data-review-id]").cell("repository").startswith(HOSTILE)
    # The filter echoes what was typed, escaped.
    response = await client.get("/dashboard", params={"repo": HOSTILE})
    body = await response.text()
    assert response.status == 400 and "<script>alert" not in body
    assert parse(body).one("input[name=repo]").attrs["value"] == HOSTILE


async def test_pages_forbid_foreign_scripts_and_framing(client, pool):
    response = await client.get("/dashboard")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    script = await client.get("/dashboard/static/dashboard.js")
    assert script.status == 200
    text = await script.text()
    assert "data-poll-ms" in text and "innerHTML" not in text


# -------------------------------------------------------------------------------------- access


async def test_with_a_token_pages_redirect_to_the_login_and_json_is_401(make_client, pool):
    client = await make_client(TOKEN)
    for path in ("/dashboard", "/dashboard/repositories", f"/dashboard/reviews/{uuid.uuid4()}"):
        response = await client.get(path, allow_redirects=False)
        assert response.status == 303, path
        assert response.headers["Location"] == "/dashboard/login"
    response = await client.get("/dashboard/reviews.json")
    assert response.status == 401
    assert TOKEN not in await response.text()
    wrong = await client.get(
        "/dashboard", headers={"Authorization": "Bearer nope"}, allow_redirects=False
    )
    assert wrong.status == 303


async def test_a_bearer_token_is_served(make_client, pool):
    client = await make_client(TOKEN, remote="203.0.113.9")
    headers = {"Authorization": f"Bearer {TOKEN}"}
    response = await client.get("/dashboard", headers=headers)
    assert response.status == 200
    assert TOKEN not in await response.text()
    response = await client.get("/dashboard/reviews.json", headers=headers)
    assert response.status == 200


async def test_login_sets_a_signed_session_cookie(make_client, pool):
    client = await make_client(TOKEN, remote="203.0.113.9")
    form = await page(client, "/dashboard/login")
    assert form.one("form#login").attrs["method"] == "post"
    assert form.one("input[name=token]").attrs.get("value", "") == ""
    assert form.all("button[type=submit]")
    assert form.all("p#login-error") == []

    response = await client.post("/dashboard/login", data={"token": TOKEN}, allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == "/dashboard"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(f"{auth.COOKIE}=")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/dashboard" in cookie
    assert "Secure" not in cookie  # plain http here
    value = response.cookies[auth.COOKIE].value
    assert TOKEN not in value and auth.valid_session(TOKEN, value)

    # The client keeps the cookie: the pages are served now.
    response = await client.get("/dashboard", allow_redirects=False)
    assert response.status == 200
    assert (await client.get("/dashboard/reviews.json")).status == 200


async def test_the_cookie_is_secure_over_https(make_client, pool):
    client = await make_client(TOKEN)
    response = await client.post(
        "/dashboard/login",
        data={"token": TOKEN},
        headers={"X-Forwarded-Proto": "https"},
        allow_redirects=False,
    )
    assert response.status == 303
    assert "Secure" in response.headers["Set-Cookie"]


async def test_a_wrong_token_is_401_with_the_form(make_client, pool):
    client = await make_client(TOKEN)
    response = await client.post("/dashboard/login", data={"token": "guess"}, allow_redirects=False)
    body = await response.text()
    assert response.status == 401
    doc = parse(body)
    assert doc.one("p#login-error").text
    assert doc.all("form#login")
    assert auth.COOKIE not in response.cookies
    assert TOKEN not in body and "guess" not in body
    missing = await client.post("/dashboard/login", data={}, allow_redirects=False)
    assert missing.status == 401


def tampered(value: str) -> str:
    """The value with its last hex digit changed (to another digit, whatever it was)."""
    return value[:-1] + ("1" if value.endswith("0") else "0")


async def test_a_cookie_signed_with_another_token_is_refused(make_client, pool):
    client = await make_client(TOKEN)
    for value in (
        auth.session_value("the-old-token"),
        "garbage",
        tampered(auth.session_value(TOKEN)),
        auth.session_value(TOKEN, issued=1_000_000),  # long expired
    ):
        response = await client.get(
            "/dashboard", cookies={auth.COOKIE: value}, allow_redirects=False
        )
        assert response.status == 303, value
    good = await client.get(
        "/dashboard", cookies={auth.COOKIE: auth.session_value(TOKEN)}, allow_redirects=False
    )
    assert good.status == 200


def test_sessions_expire():
    value = auth.session_value(TOKEN, issued=1_000)
    assert auth.valid_session(TOKEN, value, now=1_000 + auth.SESSION_SECONDS - 1)
    assert not auth.valid_session(TOKEN, value, now=1_000 + auth.SESSION_SECONDS)
    assert not auth.valid_session("another", value, now=1_001)


@pytest.mark.parametrize("remote", ["127.0.0.1", "127.3.4.5", "::1", "::ffff:127.0.0.1"])
async def test_without_a_token_loopback_peers_are_served(make_client, pool, remote):
    client = await make_client(remote=remote)
    assert (await client.get("/dashboard")).status == 200
    assert (await client.get("/dashboard/reviews.json")).status == 200


@pytest.mark.parametrize("remote", ["203.0.113.9", "10.0.0.1", "::ffff:10.0.0.1", "2001:db8::1"])
async def test_without_a_token_other_peers_are_403(make_client, pool, remote):
    client = await make_client(remote=remote)
    for path in ("/dashboard", "/dashboard/reviews.json", "/dashboard/login"):
        response = await client.get(path, allow_redirects=False)
        text = await response.text()
        assert response.status == 403, path
        assert "DASHBOARD_TOKEN" in text and text.count("\n") == 1


async def test_without_a_token_a_proxied_request_is_not_local(client, pool):
    response = await client.get("/dashboard", headers={"X-Forwarded-For": "203.0.113.9"})
    assert response.status == 403
    response = await client.get("/dashboard/login", allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == "/dashboard"


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "review.example.com"])
async def test_without_a_token_an_app_listening_beyond_loopback_refuses(make_client, pool, host):
    client = await make_client(remote="127.0.0.1", host=host)  # even from this machine
    for path in ("/dashboard", "/dashboard/reviews.json", "/dashboard/login"):
        response = await client.get(path, allow_redirects=False)
        text = await response.text()
        assert response.status == 403, path
        assert "DASHBOARD_TOKEN" in text and "HOST=127.0.0.1" in text and host in text
        assert text.count("\n") == 1


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost"])
async def test_without_a_token_an_app_on_loopback_serves_this_machine(make_client, pool, host):
    client = await make_client(remote="127.0.0.1", host=host)
    assert (await client.get("/dashboard")).status == 200


async def test_with_a_token_any_host_is_fine(make_client, pool):
    client = await make_client(TOKEN, remote="203.0.113.9", host="0.0.0.0")
    headers = {"Authorization": f"Bearer {TOKEN}"}
    assert (await client.get("/dashboard", headers=headers)).status == 200
    assert (await client.get("/dashboard", allow_redirects=False)).status == 303


async def test_behind_a_trusted_proxy_only_this_machine_is_served(make_client, pool):
    client = await make_client(remote="127.0.0.1", trusted="127.0.0.1")
    outsider = await client.get("/dashboard", headers={"X-Forwarded-For": "203.0.113.9"})
    assert outsider.status == 403 and "DASHBOARD_TOKEN" in await outsider.text()
    spoofed = await client.get("/dashboard", headers={"X-Forwarded-For": "127.0.0.1, 203.0.113.9"})
    assert spoofed.status == 403
    malformed = await client.get("/dashboard", headers={"X-Forwarded-For": "127.0.0.1:80"})
    assert malformed.status == 403
    assert (await client.get("/dashboard")).status == 403  # the proxy named no one
    here = await client.get("/dashboard", headers={"X-Forwarded-For": "127.0.0.1"})
    assert here.status == 200


async def test_a_refused_sign_in_logs_the_client_behind_the_proxy(make_client, pool, caplog):
    client = await make_client(TOKEN, remote="127.0.0.1", trusted="127.0.0.1")
    with caplog.at_level(logging.INFO, logger="bot.app.dashboard.auth"):
        response = await client.post(
            "/dashboard/login",
            data={"token": "guess"},
            headers={"X-Forwarded-For": "198.51.100.7"},
        )
    assert response.status == 401
    assert "sign-in refused from 198.51.100.7" in caplog.text


def test_durations_read_in_the_largest_units():
    from bot.app.dashboard import present

    assert present.seconds(0.42) == "0.4 s"
    assert present.seconds(65) == "1 min 05 s"
    assert present.seconds(3725) == "1 h 02 min"


# ------------------------------------------------------------------- what reached GitHub


async def test_review_page_says_what_reached_github_and_what_did_not(client, pool):
    review_id = await add_review(pool, status="failed", error="GitHub answered 404 to GET x")
    for said in (
        Publication(Target.CHECK, Action.POSTED, "in progress", github_id=55),
        Publication(Target.CHECK, Action.FAILED, "completed: Review failed", 55,
                    "GitHub answered 502 to PATCH /repos/octo/widgets/check-runs/55: Server Error"),
        Publication(Target.COMMENT, Action.FAILED, "Review failed", None,
                    f"GitHub failed to GET /x: ClientConnectorError: cannot connect to {HOSTILE}"),
    ):  # fmt: skip
        await publications.record(pool, review_id, said)

    doc = await page(client, f"/dashboard/reviews/{review_id}")

    rows = {r.attrs["data-target"]: r for r in doc.all("tr.reach")}
    assert list(rows) == ["comment", "inline", "check"]
    assert [r.attrs["data-state"] for r in rows.values()] == ["failed", "none", "failed"]
    comment = rows["comment"].one("td.said").text
    assert comment.startswith("Could not be posted at 20")
    assert comment.endswith(
        f"(“Review failed”): GitHub failed to GET /x: ClientConnectorError: cannot connect to "
        f"{HOSTILE}; the PR has nothing of it."
    )
    assert rows["inline"].one("td.said").text == "Nothing recorded as posted."
    check = rows["check"].one("td.said").text
    assert "to show “completed: Review failed” (GitHub answered 502 to PATCH" in check
    assert "; GitHub still shows “in progress”, from 20" in check
    assert rows["check"].one("a").attrs["href"] == f"https://github.com/{OWNER}/{REPO}/runs/55"
    assert rows["comment"].all("a") == []  # it never existed
    assert "not told of this failure" in doc.one("dd#untold").text


async def test_review_page_says_why_a_pending_review_waits_and_until_when(client, pool):
    deferred, queued, due = [await add_review(pool, status="pending") for _ in range(3)]
    outage = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    await pool.execute(
        "UPDATE reviews SET not_before = $2, outage_since = $3, outage_retries = 2 WHERE id = $1",
        deferred, outage + timedelta(minutes=2), outage,
    )  # fmt: skip
    await pool.execute(
        "UPDATE reviews SET not_before = $2 WHERE id = $1", queued, outage + timedelta(hours=8)
    )

    waits = [
        (await page(client, f"/dashboard/reviews/{review_id}")).all("dd#waiting")
        for review_id in (deferred, queued, due)
    ]

    assert waits[0][0].text == (
        "Not taken before 2026-12-07 09:02:00 UTC: GitHub or Gemini was away (deferred 2 times "
        "since 2026-12-07 09:00:00 UTC; see What reached GitHub)."
    )
    assert waits[1][0].text == "Not taken before 2026-12-07 17:00:00 UTC: a Gemini quota or cap."
    assert waits[2] == []  # pending with no not_before: it may run now


async def test_review_page_links_what_was_posted(client, pool):
    review_id = await add_review(pool, status="completed")
    await reviews.set_fields(
        pool,
        review_id,
        [
            Publication(Target.COMMENT, Action.UPDATED, "1 critical", 901),
            Publication(Target.INLINE, Action.POSTED, "1 inline comment(s)", 77),
        ],
        comment_id=901,
    )

    doc = await page(client, f"/dashboard/reviews/{review_id}")

    rows = {r.attrs["data-target"]: r for r in doc.all("tr.reach")}
    pr = f"https://github.com/{OWNER}/{REPO}/pull/7"
    assert rows["comment"].one("a").attrs["href"] == f"{pr}#issuecomment-901"
    assert rows["inline"].one("a").attrs["href"] == f"{pr}#pullrequestreview-77"
    assert re.fullmatch(r"Updated at [\d-]+ [\d:]+ UTC: “1 critical”\.",
                        rows["comment"].one("td.said").text)  # fmt: skip
    assert rows["inline"].one("td.said").text.endswith(": “1 inline comment(s)”.")
    assert doc.all("dd#untold") == []


async def test_the_list_the_page_and_the_table_say_one_status(client, pool):
    older = await add_review(pool, status="processing")
    newer = await add_review(pool, at=DAY + timedelta(minutes=1))
    await queue.supersede(pool, [newer])

    listing = await page(client, "/dashboard")
    detail = await page(client, f"/dashboard/reviews/{older}")
    data = await (await client.get("/dashboard/reviews.json")).json()

    table = await pool.fetchval("SELECT status FROM reviews WHERE id = $1", older)
    shown = listing.one(f"tr[data-review-id={older}]").cell("status")
    assert table == shown == detail.one("dd.status").text == "superseded"
    assert {r["id"]: r["status"] for r in data["rows"]}[str(older)] == "superseded"


# -------------------------------------------------------------------------------- re-run


@dataclasses.dataclass
class Started:
    """The scheduler's hooks as the dashboard gets them: what it started and cancelled."""

    reviews: list[uuid.UUID] = dataclasses.field(default_factory=list)
    cancelled: list[uuid.UUID] = dataclasses.field(default_factory=list)

    def hooks(self) -> Hooks:
        return Hooks(
            start_review=lambda review_id: self.reviews.append(review_id) is None,
            cancel_reviews=self.cancelled.extend,
        )


async def signed_in(make_client, started: Started, **kw):
    client = await make_client(TOKEN, hooks=started.hooks(), **kw)
    response = await client.post("/dashboard/login", data={"token": TOKEN}, allow_redirects=False)
    assert response.status == 303
    return client


def origin(client) -> dict[str, str]:
    return {"Origin": str(client.make_url("/")).rstrip("/")}


async def rerun_form(client, review_id: uuid.UUID) -> tuple[str, str]:
    doc = await page(client, f"/dashboard/reviews/{review_id}")
    form = doc.one("form#rerun")
    assert form.attrs["method"] == "post"
    return form.attrs["action"], form.one("input[name=csrf]").attrs["value"]


async def test_a_signed_in_operator_re_runs_a_full_review_of_that_head(make_client, pool):
    started = Started()
    client = await signed_in(make_client, started)
    head = "c0ffee" * 6 + "abcd"
    done = await add_review(pool, status="completed", head=head, trigger="synchronize")

    action, csrf = await rerun_form(client, done)
    response = await client.post(
        action, data={"csrf": csrf}, headers=origin(client), allow_redirects=False
    )

    assert response.status == 303
    new_id = uuid.UUID(response.headers["Location"].rsplit("/", 1)[1])
    assert response.headers["Location"] == f"/dashboard/reviews/{new_id}"
    row = await pool.fetchrow(
        "SELECT head_sha, trigger, status, owner, repo, pr_number FROM reviews WHERE id = $1",
        new_id,
    )
    assert dict(row) == {
        "head_sha": head, "trigger": "rerun", "status": "pending",
        "owner": OWNER, "repo": REPO, "pr_number": 7,
    }  # fmt: skip
    assert started.reviews == [new_id]
    assert (await page(client, response.headers["Location"])).one("dd.trigger").text == "rerun"


async def test_a_re_run_supersedes_the_prs_waiting_review_through_the_queue(make_client, pool):
    started = Started()
    client = await signed_in(make_client, started)
    waiting = await add_review(pool, head="a" * 40)

    action, csrf = await rerun_form(client, waiting)
    response = await client.post(
        action, data={"csrf": csrf}, headers=origin(client), allow_redirects=False
    )

    assert response.status == 303
    assert started.cancelled == [waiting]
    status = await pool.fetchval("SELECT status FROM reviews WHERE id = $1", waiting)
    assert status == "superseded"


@pytest.mark.parametrize(
    ("form", "headers", "said"),
    [
        ({}, "own", "stale"),
        ({"csrf": "0" * 64}, "own", "stale"),
        ("csrf", {"Origin": "https://evil.example"}, "not from this server's own address"),
        ("csrf", {"Origin": "null"}, "not from this server's own address"),
        ("csrf", {}, "without an Origin or Referer"),
    ],
)
async def test_a_re_run_needs_the_sessions_token_and_this_servers_origin(
    make_client, pool, form, headers, said
):
    started = Started()
    client = await signed_in(make_client, started)
    review_id = await add_review(pool, status="completed")
    action, csrf = await rerun_form(client, review_id)
    data = {"csrf": csrf} if form == "csrf" else form

    response = await client.post(
        action,
        data=data,
        headers=origin(client) if headers == "own" else headers,
        allow_redirects=False,
    )

    assert response.status == 403
    assert said in await response.text()
    assert started.reviews == []
    assert await pool.fetchval("SELECT count(*) FROM reviews") == 1


async def test_another_sessions_form_is_stale(make_client, pool):
    started = Started()
    client = await signed_in(make_client, started)
    review_id = await add_review(pool, status="completed")
    action, _ = await rerun_form(client, review_id)
    other = await signed_in(make_client, Started())
    _, theirs = await rerun_form(other, review_id)

    response = await client.post(
        action, data={"csrf": theirs}, headers=origin(client), allow_redirects=False
    )

    assert response.status == 403 and started.reviews == []


async def test_a_script_re_runs_with_the_bearer_token(make_client, pool):
    started = Started()
    client = await make_client(TOKEN, hooks=started.hooks(), remote="203.0.113.9")
    review_id = await add_review(pool, status="failed", error="boom")

    response = await client.post(
        f"/dashboard/reviews/{review_id}/rerun",
        headers={"Authorization": f"Bearer {TOKEN}"},
        allow_redirects=False,
    )

    assert response.status == 303 and len(started.reviews) == 1


async def test_without_a_token_the_dashboard_only_reads(make_client, pool):
    started = Started()
    client = await make_client(hooks=started.hooks())  # loopback, no DASHBOARD_TOKEN: served
    review_id = await add_review(pool, status="completed")

    doc = await page(client, f"/dashboard/reviews/{review_id}")
    response = await client.post(
        f"/dashboard/reviews/{review_id}/rerun", headers=origin(client), allow_redirects=False
    )

    assert doc.all("form#rerun") == []
    assert "set DASHBOARD_TOKEN and sign in" in doc.one("p#rerun-note").text
    assert response.status == 403 and "DASHBOARD_TOKEN" in await response.text()
    assert started.reviews == []


async def test_signed_out_a_re_run_goes_to_the_login(make_client, pool):
    started = Started()
    client = await make_client(TOKEN, hooks=started.hooks())
    review_id = await add_review(pool, status="completed")

    response = await client.post(
        f"/dashboard/reviews/{review_id}/rerun", headers=origin(client), allow_redirects=False
    )

    assert response.status == 303 and response.headers["Location"] == "/dashboard/login"
    assert started.reviews == []


async def test_no_re_run_of_an_ignored_pr_or_of_a_head_pushed_over(make_client, pool):
    started = Started()
    client = await signed_in(make_client, started)
    old = await add_review(pool, status="completed", head="1" * 40)
    new = await add_review(pool, status="completed", head="2" * 40, at=DAY + timedelta(minutes=5))
    other = await add_review(pool, status="completed", number=8)
    await pulls.set_state(pool, Pull(1, OWNER, REPO, 8), paused_by=None, ignored_by="maintainer")
    _, csrf = await rerun_form(client, new)  # the session's token: good for any review

    notes = {
        review_id: (await page(client, f"/dashboard/reviews/{review_id}")).one("p#rerun-note")
        for review_id in (old, other)
    }
    answers = [
        await client.post(
            f"/dashboard/reviews/{review_id}/rerun",
            data={"csrf": csrf},
            headers=origin(client),
            allow_redirects=False,
        )
        for review_id in (old, other)
    ]

    assert "A newer head of this pull request (222222222222)" in notes[old].text
    assert "ignored" in notes[other].text
    assert [a.status for a in answers] == [409, 409]
    assert started.reviews == []


async def test_a_dashboard_without_the_scheduler_offers_no_re_run(make_client, pool):
    client = await make_client(TOKEN)
    await client.post("/dashboard/login", data={"token": TOKEN}, allow_redirects=False)
    review_id = await add_review(pool, status="completed")

    doc = await page(client, f"/dashboard/reviews/{review_id}")

    assert doc.all("form#rerun") == [] and doc.all("p#rerun-note") == []
