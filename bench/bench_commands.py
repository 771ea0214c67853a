"""Commands and thread replies while Gemini takes 1 s: how soon `/second-look review` updates
the summary of a PR reviewed once and says Done, and the GitHub calls each command costs."""

from __future__ import annotations

import asyncio
import os
import re
import statistics
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import aiohttp
import asyncpg
import common

from bot.review.render import MARKER
from tests.payloads import issue_comment_payload, review_comment_payload
from tests.reviewing import finding

RUNS = int(os.environ.get("BENCH_COMMANDS_RUNS", "5"))
GEMINI_LATENCY, TARGET = 1.0, 2.0
REPLY_MARKER = "<!-- second-look:reply -->"
POLL = 0.002  # seconds between looks at the fakes' state
QUIET = 0.2  # seconds watched after each completion for calls made late


# ------------------------------------------------------------------------------- call lists

_PLACEHOLDERS = [
    (re.compile(r"/repos/[^/]+/[^/]+"), "/repos/{owner}/{repo}"),
    (re.compile(r"/app/installations/\d+"), "/app/installations/{installation_id}"),
    (re.compile(r"/comments/\d+"), "/comments/{comment_id}"),
    (re.compile(r"/(issues|pulls)/\d+"), r"/\1/{number}"),
    (re.compile(r"/check-runs/\d+"), "/check-runs/{check_run_id}"),
    (re.compile(r"/collaborators/[^/]+"), "/collaborators/{login}"),
    (re.compile(r"/compare/[^/]+\.\.\.[^/]+"), "/compare/{base}...{head}"),
    (re.compile(r"\b[0-9a-f]{40}\b"), "{sha}"),
    (re.compile(r"/\d+(?=/|$)"), "/{id}"),
]
_GRAPHQL_HINTS = (
    "resolveReviewThread",
    "unresolveReviewThread",
    "reviewThreads",
    "Blob",
    "pullRequest",
)


def shape(r) -> str:
    """A recorded request as `METHOD path`, ids replaced by placeholders."""
    path = r.path
    for pattern, placeholder in _PLACEHOLDERS:
        path = pattern.sub(placeholder, path)
    text = f"{r.method} {path}"
    if path.endswith("/graphql") and isinstance(r.json, dict):
        query = str(r.json.get("query", ""))
        kind = "mutation" if query.lstrip().startswith("mutation") else "query"
        hint = next((h for h in _GRAPHQL_HINTS if h in query), "")
        variables = r.json.get("variables") or {}
        read = [
            re.sub(r"\b[0-9a-f]{40}\b", "{sha}", str(v))
            for k, v in variables.items()
            if re.fullmatch(r"e\d+", k)
        ]
        pull = " + PR" if "number" in variables and "Blob" in hint else ""
        hint += f" {', '.join(read)}{pull}" if read else ""
        text += f" ({kind} {hint})".replace(" )", ")")
    if "diff" in r.headers.get("accept", ""):
        text += " (diff)"
    if r.status >= 400:
        text += f" -> {r.status}"
    return text


def listing(calls: list[str]) -> str:
    return "\n  ".join(calls) if calls else "(none)"


# ------------------------------------------------------------------------------------ a run


@dataclass
class Measured:
    calls: list[str]
    seconds: float
    late: list[str] = field(default_factory=list)  # calls in the quiet window after it
    outcome: str = ""


@dataclass
class Run:
    summary_s: float = 0.0
    done_s: float = 0.0
    review_status: str = ""
    review_trigger: str = ""
    gemini_calls: int = 0
    job_calls: list[str] = field(default_factory=list)
    review_calls: list[str] = field(default_factory=list)
    late: list[str] = field(default_factory=list)
    done_text: str = ""
    timeline: list[str] = field(default_factory=list)  # the command's calls, ms after POST
    others: dict[str, Measured] = field(default_factory=dict)
    clean: Run | None = None  # the same command once the agents find nothing: no verifier


class Bench:
    def __init__(
        self, session: aiohttp.ClientSession, pool: asyncpg.Pool, fake: common.Fakes, url: str
    ) -> None:
        self.session, self.pool, self.fake, self.url = session, pool, fake, url

    async def post(self, payload: dict, event: str) -> dict:
        body, headers = common.delivery(payload, event=event)
        async with self.session.post(self.url, data=body, headers=headers) as response:
            answer = await response.json()
            if response.status not in (200, 202):
                raise RuntimeError(f"{event} delivery answered {response.status}: {answer}")
            return answer

    async def until(self, check, timeout: float = 30):
        """Poll `check()` every few ms until it returns something; that."""
        deadline = time.monotonic() + timeout
        while (got := await check()) is None:
            if time.monotonic() > deadline:
                raise RuntimeError(f"nothing after {timeout:g} s")
            await asyncio.sleep(POLL)
        return got

    def seen_since(self, start: int):
        return self.fake.github.requests[start:]

    async def late_calls(self, end: int) -> list[str]:
        await asyncio.sleep(QUIET)
        return [shape(r) for r in self.fake.github.requests[end:]]

    async def job_done(self, job_id: str) -> str | None:
        row = await self.pool.fetchrow(
            "SELECT status, outcome FROM jobs WHERE id = $1::uuid", job_id
        )
        if row is not None and row["status"] in ("done", "failed"):
            return f"{row['status']}: {row['outcome']}"
        return None

    async def opened(self, number: int) -> common.Any:
        """PR `number` opened and reviewed once: a summary comment and one inline comment."""
        gh = self.fake.github
        pull = gh.add_pull(
            common.OWNER, common.REPO, number, files={"app.py": (common.OLD_APP, common.NEW_APP)}
        )
        # Commands and thread answers are taken from people with write access (issue "Who may
        # steer the reviewer"): the maintainer's role is what the permission API answers.
        gh.set_permission(common.OWNER, common.REPO, "maintainer", "maintain")
        payload = common.pull_request_payload(
            "opened", number=number, head_sha=pull.head_sha, owner=common.OWNER, repo=common.REPO
        )
        review_id = (await self.post(payload, "pull_request"))["review_id"]

        async def final() -> str | None:
            status = await self.pool.fetchval(
                "SELECT status FROM reviews WHERE id = $1::uuid", review_id
            )
            return status if status in common.FINAL else None

        status = await self.until(final)
        if status != "completed":
            raise RuntimeError(f"the first review of #{number} ended {status}")
        await asyncio.sleep(QUIET)
        return pull

    def summary_id(self, number: int) -> int:
        [summary] = [
            c
            for c in self.fake.github.comments(common.OWNER, common.REPO, number)
            if c["body"].startswith(MARKER)
        ]
        return int(summary["id"])

    async def review_command(self, pull, run: Run) -> None:
        gh, number = self.fake.github, pull.number
        summary_id, head = self.summary_id(number), pull.head_sha[:12]
        payload = self.command(number, "/second-look review", "maintainer", "MEMBER")
        start, asked = len(gh.requests), len(self.fake.gemini.requests)
        wall, mono, started = time.time(), time.monotonic(), time.perf_counter()
        await self.post(payload, "issue_comment")
        summary_path = f"/repos/{common.OWNER}/{common.REPO}/issues/comments/{summary_id}"
        reply_path = f"/repos/{common.OWNER}/{common.REPO}/issues/{number}/comments"

        def sent(method: str, path: str, wanted):
            """A check: the first call since the delivery of `method path` whose body fits."""

            async def check():
                for r in self.seen_since(start):
                    body = str((r.json or {}).get("body", ""))
                    if r.method == method and r.path == path and wanted(body):
                        return r
                return None

            return check

        summary_updated = sent("PATCH", summary_path, lambda body: head in body)
        replied = sent("POST", reply_path, lambda body: body.startswith(REPLY_MARKER))
        await self.until(summary_updated)
        run.summary_s = time.perf_counter() - started
        reply = await self.until(replied)
        run.done_s = time.perf_counter() - started
        end = len(gh.requests)
        run.done_text = str(reply.json["body"]).split("\n", 1)[1][:60]
        row = await self.pool.fetchrow(
            "SELECT id, status, trigger, created_at FROM reviews WHERE owner = $1 AND repo = $2"
            " AND pr_number = $3 AND created_at >= to_timestamp($4) ORDER BY seq DESC LIMIT 1",
            common.OWNER,
            common.REPO,
            number,
            wall,
        )
        if row is None:
            raise RuntimeError(f"no review of #{number} after the command")
        status = await self.until(lambda: self._final(row["id"]))
        run.review_status, run.review_trigger = status, row["trigger"]
        created = row["created_at"].timestamp()
        calls = gh.requests[start:end]
        run.job_calls = [shape(r) for r in calls if r.time < created]
        run.review_calls = [shape(r) for r in calls if r.time >= created]
        asked_now = self.fake.gemini.requests[asked:]
        run.gemini_calls = len(asked_now)
        events = [(r.time - wall, "GitHub " + shape(r)) for r in calls]
        events += [(g.time - mono, f"Gemini {g.agent}") for g in asked_now]
        events.append((created - wall, "(review row created)"))
        events.append((run.summary_s, "(summary update seen)"))
        events.append((run.done_s, "(Done reply seen)"))
        run.timeline = [f"{1000 * t:7.1f} ms  {what}" for t, what in sorted(events)]
        run.late = await self.late_calls(end)

    async def _final(self, review_id: uuid.UUID) -> str | None:
        status = await self.pool.fetchval("SELECT status FROM reviews WHERE id = $1", review_id)
        return status if status in common.FINAL else None

    async def job(self, payload: dict, event: str) -> Measured:
        """Deliver; the calls until its job is done, and any made in the moment after."""
        gh = self.fake.github
        start, started = len(gh.requests), time.perf_counter()
        answer = await self.post(payload, event)
        if "job_id" not in answer:
            raise RuntimeError(f"{event} delivery started no job: {answer}")
        outcome = await self.until(lambda: self.job_done(answer["job_id"]))
        seconds, end = time.perf_counter() - started, len(gh.requests)
        calls = [shape(r) for r in gh.requests[start:end]]
        return Measured(calls, seconds, await self.late_calls(end), outcome)

    def command(self, number: int, body: str, login: str, association: str) -> dict:
        stored = self.fake.github.seed_comments(
            common.OWNER, common.REPO, number, [body], login=login
        )[0]
        return issue_comment_payload(
            body, comment_id=stored["id"], login=login, association=association, number=number
        )

    async def thread_reply(self, pull) -> Measured:
        gh = self.fake.github
        [ours] = [
            c
            for c in gh.review_comments(common.OWNER, common.REPO, pull.number)
            if "in_reply_to_id" not in c
        ]
        stored = gh.reply(
            common.OWNER,
            common.REPO,
            pull.number,
            ours["id"],
            "Why is this a problem?",
            login="maintainer",
        )
        payload = review_comment_payload(stored, number=pull.number, head_sha=pull.head_sha)
        return await self.job(payload, "pull_request_review_comment")

    async def one(self, number: int) -> Run:
        pull = await self.opened(number)
        run = Run()
        await self.review_command(pull, run)
        run.others["pause"] = await self.job(
            self.command(number, "/second-look pause", "maintainer", "MEMBER"), "issue_comment"
        )
        run.others["help"] = await self.job(
            self.command(number, "/second-look help", "maintainer", "MEMBER"), "issue_comment"
        )
        run.others["refused (outsider)"] = await self.job(
            self.command(number, "/second-look review", "passer-by", "NONE"), "issue_comment"
        )
        run.others["thread answer"] = await self.thread_reply(pull)
        # Once more with no finding: one Gemini round (the agents), no verifier after it.
        found, self.fake.gemini.findings = self.fake.gemini.findings, {}
        try:
            run.clean = Run()
            await self.review_command(pull, run.clean)
        finally:
            self.fake.gemini.findings = found
        return run


async def run(fake: common.Fakes, database_url: str) -> list[Run]:
    async with common.app_served(fake, database_url) as (url, pool, session):
        bench = Bench(session, pool, fake, url)
        return [await bench.one(number) for number in range(1, RUNS + 1)]


# -------------------------------------------------------------------------------- reporting


def typical(lists: list[list[str]]) -> tuple[list[str], Counter]:
    """The most frequent call list over the runs, and how often each list occurred."""
    counts = Counter(tuple(x) for x in lists)
    return list(counts.most_common(1)[0][0]), counts


def report_calls(name: str, lists: list[list[str]]) -> list[str]:
    """Note the call list (and any run that differed); the typical list."""
    calls, counts = typical(lists)
    common.note(
        f"{name}: {len(calls)} GitHub calls ({counts[tuple(calls)]} of {len(lists)} "
        f"runs):\n  {listing(calls)}"
    )
    for other, n in counts.items():
        if list(other) != calls:
            common.note(
                f"  {name}, {n} run(s) differ: {len(other)} calls:\n    " + "\n    ".join(other)
            )
    return calls


def main() -> None:
    common.stop_on_sigterm()
    with common.database() as database_url, common.fakes() as fake:
        fake.gemini.latency = GEMINI_LATENCY
        fake.gemini.findings["security"] = [finding()]  # an inline comment to reply to
        results = common.run(run(fake, database_url))
    for n, r in enumerate(results, start=1):
        others = ", ".join(
            f"{k} {m.seconds:.3f} s ({m.outcome}, {len(m.calls)} calls)"
            for k, m in r.others.items()
        )
        common.note(
            f"run {n}: summary {r.summary_s:.3f} s, done {r.done_s:.3f} s ({r.review_status}, "
            f"trigger {r.review_trigger}, {r.gemini_calls} Gemini calls, "
            f"{len(r.job_calls)}+{len(r.review_calls)} GitHub calls, {r.done_text!r}); {others}"
        )
    common.note("run 1, review command, timeline:\n  " + "\n  ".join(results[0].timeline))
    job_calls = report_calls(
        "review command, the job before the review", [r.job_calls for r in results]
    )
    review_calls = report_calls(
        "review command, the review itself", [r.review_calls for r in results]
    )
    whole = report_calls(
        "review command, delivery to Done", [r.job_calls + r.review_calls for r in results]
    )
    names = list(results[0].others)
    typical_of = {k: report_calls(k, [r.others[k].calls for r in results]) for k in names}
    late = [
        (n, k, m.late)
        for n, r in enumerate(results, 1)
        for k, m in [("review", Measured(r.late, 0)), *r.others.items()]
        if m.late
    ]
    for n, k, calls in late:
        common.note(f"run {n}, {k}: {len(calls)} call(s) after completion:\n  {listing(calls)}")

    summary = [r.summary_s for r in results]
    done = [r.done_s for r in results]
    median_summary, median_done = statistics.median(summary), statistics.median(done)
    completed = sum(
        r.review_status == "completed" and r.review_trigger == "command" for r in results
    )
    gemini = "/".join(map(str, sorted({r.gemini_calls for r in results})))
    row = common.row
    clean = [r.clean.summary_s for r in results if r.clean]
    median_clean = statistics.median(clean)
    rows = [
        row(
            "review command to summary updated, no finding (agents only), median",
            round(median_clean, 3),
            "s",
            f"< {TARGET:g}",
            median_clean < TARGET,
        ),
        row("review command to summary updated, no finding, max", round(max(clean), 3), "s"),
        # Agents (1 s), then the verifier of their finding (1 s): two rounds of FakeGemini.
        row(
            "review command to summary updated, one finding (agents, verifier), median",
            round(median_summary, 3),
            "s",
            f"< {TARGET + GEMINI_LATENCY:g}",
            median_summary < TARGET + GEMINI_LATENCY,
        ),
        row("review command to summary updated, one finding, max", round(max(summary), 3), "s"),
        row("review command to Done reply, median", round(median_done, 3), "s"),
        row("review command to Done reply, max", round(max(done), 3), "s"),
        row("command reviews completed", completed, f"of {RUNS}", f"== {RUNS}", completed == RUNS),
        row("Gemini calls per command review", gemini),
        row("GitHub calls: review command, delivery to Done", len(whole), "calls"),
        row("GitHub calls: review command, job before review", len(job_calls), "calls"),
        row("GitHub calls: review command, the review", len(review_calls), "calls"),
    ]
    for k in names:
        rows.append(row(f"GitHub calls: {k}", len(typical_of[k]), "calls"))
    answer = [r.others["thread answer"].seconds for r in results]
    rows.append(
        row("thread reply to answer posted, median", round(statistics.median(answer), 3), "s")
    )
    rows.append(
        row(
            "calls after completion (all runs)",
            sum(len(c) for _, _, c in late),
            "calls",
            "== 0",
            not late,
        )
    )
    common.emit("commands", rows)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
