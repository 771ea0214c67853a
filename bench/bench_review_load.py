"""Review load through one `serve`: CPU per review, the intake while reviews run, and the same
figures for another checkout (`--baseline DIR`) measured in the same sitting, alternating.

Each run is one fresh `python -m bot serve` of one checkout (PYTHONPATH), on a database its own
`python -m bot migrate` made, against the one FakeGitHub and FakeGemini (1 s an answer) of this
process, reset between runs. MAX_CONCURRENT_REVIEWS is the concurrency and GEMINI_MAX_IN_FLIGHT
five calls a review, so the App itself runs that many reviews at once. Phases, in order:
  warm-up    WARMUP reviews, not counted (imports, the installation token, the pool)
  drafts     --drafts draft PRs `opened` at the concurrency: the answer rate, and the App's
             CPU from the first delivery until every draft's review is `skipped`, per delivery
  ignored    --ignored `pull_request` `labeled` deliveries (no handler) at the concurrency
  reviews    --prs PRs (FILES files each, a few findings) opened by --concurrency clients, each
             opening the next when its review is final; meanwhile --senders clients POST
             `labeled` deliveries without pause: the webhook answers while reviewing.
App CPU per review is the serve process's user + system CPU over the reviews phase (/proc),
less the stream's deliveries at the CPU each that `ignored` measured, over reviews completed
(the figure with the stream left in is printed too). Peak RSS is the kernel's VmHWM at the end.
GitHub and Gemini calls per review are what the fakes recorded during the reviews phase.

The table has a column per checkout (the median over rounds and the range) and now / baseline.
`--max-cpu-ratio R` exits 1 when now's CPU per review is more than R times the baseline's.
Under `make bench` (no arguments): BENCH_LOAD_BASELINE and BENCH_LOAD_MAX_CPU_RATIO.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import asyncpg
import common

from tests.fakes.github import PullState
from tests.reviewing import finding

FILES = 10  # files a PR changes
WARMUP = 3
GEMINI_LATENCY = 1.0
REVIEW_TIMEOUT = 600.0  # seconds for a whole phase
DRAFTS, IGNORED, SENDERS = 300, 3000, 4
FIRST_DRAFT, FIRST_WARMUP = 100_001, 200_001  # PR numbers apart from the reviewed ones


# ------------------------------------------------------------------------------------- the PRs


def old_file(i: int) -> str:
    """A module of about 40 lines."""
    lines = [f'"""Module {i}."""', "", "import os", "import subprocess", ""]
    for k in range(5):
        lines += ["", f"def step_{k}(value):", f"    total = value * {k + i}"]
        lines += ["    if total > 100:", "        return total - 100", "    return total"]
    return "\n".join(lines) + "\n"


def new_file(i: int) -> str:
    """The module with one function changed and two added: the lines findings sit on."""
    text = old_file(i).replace("    return total\n", "    return total + 1\n", 1)
    return text + (
        "\n\ndef run(command):\n    return subprocess.call(command, shell=True)\n"
        "\n\ndef evaluate(user_input):\n    return eval(user_input)\n"
    )


def pr_files() -> dict[str, tuple[str, str]]:
    return {f"src/pkg/module_{i:02d}.py": (old_file(i), new_file(i)) for i in range(FILES)}


def script_findings(fake: common.Fakes) -> None:
    """Three findings a review: two agents, on added lines of two of the files."""
    lines = new_file(0).splitlines()
    run_line = lines.index("    return subprocess.call(command, shell=True)") + 1
    eval_line = lines.index("    return eval(user_input)") + 1
    fake.gemini.findings["security"] = [
        finding("src/pkg/module_00.py", eval_line),
        finding("src/pkg/module_01.py", run_line, severity="high", title="shell=True"),
    ]
    fake.gemini.findings["bugs"] = [
        finding("src/pkg/module_02.py", eval_line, severity="medium", title="eval of input")
    ]


# -------------------------------------------------------------------------------------- a run


@dataclass
class Checkout:
    label: str  # "now" or "baseline"
    root: Path
    commit: str


@dataclass
class Answers:
    """Timed answers of POST /webhooks."""

    latencies: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else math.nan

    def refused(self) -> int:
        return sum(n for status, n in self.statuses.items() if status not in (200, 202))


async def post(session: aiohttp.ClientSession, url: str, payload: dict, answers: Answers) -> dict:
    """POST one signed pull_request delivery; time it; its answer's JSON ({} if none)."""
    body, headers = common.delivery(payload)
    started = time.perf_counter()
    answer: dict = {}
    try:
        async with session.post(url, data=body, headers=headers) as response:
            if response.content_type == "application/json":
                answer = await response.json()
            else:
                await response.read()
            answers.statuses[response.status] += 1
    except (aiohttp.ClientError, TimeoutError) as exc:
        answers.statuses[type(exc).__name__] += 1
    answers.latencies.append(time.perf_counter() - started)
    return answer


def payload(action: str, pull: PullState, draft: bool = False) -> dict:
    return common.pull_request_payload(
        action,
        number=pull.number,
        head_sha=pull.head_sha,
        owner=common.OWNER,
        repo=common.REPO,
        draft=draft,
    )


def labeled(number: int) -> dict:
    """A delivery no handler takes: a label added to a PR."""
    body = common.pull_request_payload(
        "labeled", number=number, head_sha="c" * 40, owner=common.OWNER, repo=common.REPO
    )
    body["label"] = {"id": 1, "name": "bench", "color": "ededed"}
    return body


class Finals:
    """Polls the reviews table for the reviews waited on; one query for all of them."""

    def __init__(self, pool: asyncpg.Pool, proc: subprocess.Popen) -> None:
        self.pool, self.proc = pool, proc
        self.waiting: dict[str, asyncio.Future[str]] = {}

    async def wait(self, review_id: str) -> str:
        future = asyncio.get_running_loop().create_future()
        self.waiting[review_id] = future
        return await future

    async def poll(self) -> None:
        while True:
            await asyncio.sleep(0.05)
            if self.proc.poll() is not None:
                for future in self.waiting.values():
                    future.set_result(f"serve exited ({self.proc.returncode})")
                self.waiting.clear()
                return
            if not self.waiting:
                continue
            rows = await self.pool.fetch(
                "SELECT id::text AS id, status FROM reviews WHERE id = ANY($1::uuid[])"
                " AND status = ANY($2::text[])",
                list(self.waiting),
                list(common.FINAL),
            )
            for row in rows:
                future = self.waiting.pop(row["id"], None)
                if future is not None and not future.done():
                    future.set_result(row["status"])


async def closed_loop(work: Iterator, workers: int, step) -> None:
    """`workers` clients, each taking the next item of `work` when done with its last."""

    async def client() -> None:
        for item in work:
            await step(item)

    await asyncio.gather(*(client() for _ in range(workers)))


@dataclass
class Run:
    checkout: str
    figures: dict[str, float]
    statuses: Counter
    errors: int


async def reviews_phase(
    session, url, fake, proc, finals: Finals, pulls: list, concurrency: int, senders: int
) -> tuple[float, int, Counter, Answers, float, int, int, int]:
    statuses: Counter = Counter()
    opened = Answers()
    stream = Answers()
    done = asyncio.Event()

    async def review(pull) -> None:
        answer = await post(session, url, payload("opened", pull), opened)
        review_id = answer.get("review_id")
        statuses[await finals.wait(review_id) if review_id else "not accepted"] += 1

    async def sender(k: int) -> None:
        n = 0
        while not done.is_set():
            n += 1
            await post(session, url, labeled(1 + (k * 1_000_003 + n) % len(pulls)), stream)

    github, gemini = len(fake.github.requests), len(fake.gemini.requests)
    counts = len(fake.gemini.count_requests)
    cpu, started = common.cpu_seconds(proc.pid), time.perf_counter()
    streaming = [asyncio.create_task(sender(k)) for k in range(senders)]
    async with asyncio.timeout(REVIEW_TIMEOUT):
        await closed_loop(iter(pulls), concurrency, review)
    seconds = time.perf_counter() - started
    cpu = common.cpu_seconds(proc.pid) - cpu
    streamed = len(stream.latencies)  # answered while the reviews ran
    done.set()
    await asyncio.gather(*streaming)
    del stream.latencies[streamed:]
    stream.seconds = seconds
    github = len(fake.github.requests) - github
    gemini = len(fake.gemini.requests) - gemini
    counts = len(fake.gemini.count_requests) - counts
    return cpu, streamed, statuses, stream, seconds, github, gemini, counts


async def intake_phase(session, url, proc, finals: Finals | None, payloads, concurrency):
    """Deliveries at the concurrency: their answers, and the App's CPU until their reviews
    (if any) are final."""
    answers = Answers()
    ids: list[str] = []

    async def one(body: dict) -> None:
        answer = await post(session, url, body, answers)
        if answer.get("review_id"):
            ids.append(answer["review_id"])

    cpu, started = common.cpu_seconds(proc.pid), time.perf_counter()
    async with asyncio.timeout(REVIEW_TIMEOUT):
        await closed_loop(iter(payloads), concurrency, one)
        answers.seconds = time.perf_counter() - started
        statuses = Counter(await asyncio.gather(*(finals.wait(i) for i in ids))) if finals else {}
    return answers, (common.cpu_seconds(proc.pid) - cpu) / len(payloads), Counter(statuses)


async def one_run(
    checkout: Checkout, database_url: str, fake: common.Fakes, args, workdir: Path, name: str
) -> Run:
    """One serve of the checkout on its freshly migrated database, through every phase."""
    fake.github.reset()
    fake.gemini.reset()
    fake.gemini.latency = args.gemini_latency
    script_findings(fake)
    files = pr_files()

    def pull(n: int, draft: bool = False):
        made = fake.github.add_pull(common.OWNER, common.REPO, n, files=files, draft=draft)
        made.diff()  # computed here, not on the fakes' loop during the run
        return made

    pulls = [pull(n) for n in range(1, args.prs + 1)]
    if args.repo_config:  # e.g. "verify: false": what one part of the review costs
        fake.github.set_content(
            common.OWNER, common.REPO, "main", ".github/second-look.yml", args.repo_config
        )
    warm = [pull(n) for n in range(FIRST_WARMUP, FIRST_WARMUP + WARMUP)]
    drafts = [pull(n, True) for n in range(FIRST_DRAFT, FIRST_DRAFT + args.drafts)]

    settings = common.settings(
        fake,
        database_url,
        port=common.free_port(),
        max_concurrent_reviews=args.concurrency,
        gemini_max_in_flight=min(1000, 5 * args.concurrency),
        daily_budget_usd=1_000_000,  # the worst case of 50 reviews at once is reserved
    )
    env = common.server_env(settings, root=checkout.root)
    base = f"http://127.0.0.1:{settings.port}"
    url = f"{base}/webhooks"
    log = workdir / f"serve-{name}.log"
    connector = aiohttp.TCPConnector(limit=args.concurrency + args.senders + 10)
    timeout = aiohttp.ClientTimeout(total=120)
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    try:
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            with common.process([common.PYTHON, "-m", "bot", "serve"], env, log) as proc:
                await common.wait_ready(session, f"{base}/healthz", proc)
                finals = Finals(pool, proc)
                polling = asyncio.create_task(finals.poll())
                try:
                    figures, statuses = await measure(
                        session, url, fake, proc, finals, pulls, warm, drafts, args
                    )
                finally:
                    polling.cancel()
                figures["peak_rss"] = (common.high_water_mark(proc.pid) or 0) / 2**20
    finally:
        await pool.close()
    errors, _warnings, digest = common.log_digest(log)
    if digest:
        common.note(f"{name}: server log, warnings/errors:", *digest[:6], sep="\n  ")
    return Run(checkout.label, figures, statuses, errors)


async def measure(session, url, fake, proc, finals, pulls, warm, drafts, args):
    answers = Answers()
    for w in warm:
        answer = await post(session, url, payload("opened", w), answers)
        status = await finals.wait(answer["review_id"]) if "review_id" in answer else answer
        if status != "completed":
            raise RuntimeError(f"the warm-up review ended {status}")

    draft_answers, draft_cpu, draft_statuses = await intake_phase(
        session,
        url,
        proc,
        finals,
        [payload("opened", d, draft=True) for d in drafts],
        args.concurrency,
    )
    ignored_answers, ignored_cpu, _ = await intake_phase(
        session,
        url,
        proc,
        None,
        [labeled(n) for n in range(1, args.ignored + 1)],
        args.concurrency,
    )
    cpu, streamed, statuses, stream, seconds, github, gemini, counts = await reviews_phase(
        session, url, fake, proc, finals, pulls, args.concurrency, args.senders
    )
    completed = statuses.get("completed", 0)
    refused = draft_answers.refused() + ignored_answers.refused() + stream.refused()
    figures = {
        "cpu_review": 1000 * (cpu - streamed * ignored_cpu) / max(completed, 1),
        "cpu_review_gross": 1000 * cpu / max(completed, 1),
        "reviews_rate": completed / seconds,
        "webhook_rate": stream.rate,
        "webhook_p50": 1000 * common.percentile(stream.latencies, 50),
        "webhook_p99": 1000 * common.percentile(stream.latencies, 99),
        "draft_cpu": 1000 * draft_cpu,
        "draft_rate": draft_answers.rate,
        "ignored_cpu": 1000 * ignored_cpu,
        "ignored_rate": ignored_answers.rate,
        "github_calls": github / max(completed, 1),
        "gemini_calls": gemini / max(completed, 1),
        "count_calls": counts / max(completed, 1),
        "refused": refused,
    }
    statuses = statuses + Counter({f"draft {k}": v for k, v in draft_statuses.items()})
    return figures, statuses


# ------------------------------------------------------------------------------------- results

# key, label, unit, decimals
FIGURES = (
    ("cpu_review", "App CPU per review", "ms", 1),
    ("cpu_review_gross", "App CPU per review, the stream left in", "ms", 1),
    ("reviews_rate", "reviews completed", "/s", 1),
    ("webhook_rate", "webhook answers while reviewing", "/s", 0),
    ("webhook_p50", "webhook answer p50 while reviewing", "ms", 1),
    ("webhook_p99", "webhook answer p99 while reviewing", "ms", 1),
    ("draft_cpu", "CPU per draft delivery", "ms", 2),
    ("draft_rate", "draft deliveries answered", "/s", 0),
    ("ignored_cpu", "CPU per ignored delivery", "ms", 2),
    ("ignored_rate", "ignored deliveries answered", "/s", 0),
    ("peak_rss", "App peak RSS", "MiB", 0),
    ("github_calls", "GitHub calls per review", "", 2),
    ("gemini_calls", "Gemini calls per review", "", 2),
    ("count_calls", "countTokens calls per review", "", 2),
    ("refused", "answers not 2xx", "", 0),
)


def summary(runs: list[Run], key: str) -> tuple[float, float, float]:
    values = [r.figures[key] for r in runs]
    return statistics.median(values), min(values), max(values)


def cell(runs: list[Run], key: str, decimals: int) -> str:
    if not runs:
        return ""
    median, low, high = summary(runs, key)
    text = f"{median:,.{decimals}f}"
    if len(runs) > 1 and round(low, decimals) != round(high, decimals):
        text += f" ({low:,.{decimals}f}-{high:,.{decimals}f})"
    return text


def table(now: list[Run], base: list[Run], checkouts: list[Checkout]) -> str:
    names = {c.label: f"{c.label} {c.commit}" for c in checkouts}
    header = ["figure", names["now"]] + ([names["baseline"], "now / baseline"] if base else [])
    lines = [header]
    for key, label, unit, decimals in FIGURES:
        line = [f"{label} ({unit})" if unit else label, cell(now, key, decimals)]
        if base:
            ratio = summary(now, key)[0] / summary(base, key)[0] if summary(base, key)[0] else 0
            line += [cell(base, key, decimals), f"{ratio:.2f}x" if ratio else "-"]
        lines.append(line)
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = []
    for n, line in enumerate(lines):
        cells = zip(line, widths, strict=True)
        out.append(
            "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(cells))
        )
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def commit_of(root: Path) -> str:
    try:
        sha = subprocess.run(  # noqa: S603
            ["git", "-C", str(root), "rev-parse", "--short", "HEAD"],  # noqa: S607
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(  # noqa: S603
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],  # noqa: S607
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        return sha + ("+" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return root.name


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prs", type=int, default=300, help="PRs reviewed a run (300)")
    parser.add_argument("--concurrency", type=int, default=50, help="reviews at once (50)")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each checkout (2)")
    parser.add_argument("--drafts", type=int, default=DRAFTS, help=f"draft deliveries ({DRAFTS})")
    parser.add_argument(
        "--ignored", type=int, default=IGNORED, help=f"ignored deliveries ({IGNORED})"
    )
    parser.add_argument(
        "--senders",
        type=int,
        default=SENDERS,
        help=f"clients POSTing while reviews run ({SENDERS})",
    )
    parser.add_argument(
        "--repo-config",
        default="",
        help="the reviewed repository's .github/second-look.yml (YAML text)",
    )
    parser.add_argument(
        "--gemini-latency",
        type=float,
        default=GEMINI_LATENCY,
        help=f"seconds a FakeGemini answer takes ({GEMINI_LATENCY:g})",
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        default=os.environ.get("BENCH_LOAD_BASELINE") or None,
        help="another checkout, measured alternately in the same sitting",
    )
    parser.add_argument(
        "--max-cpu-ratio",
        type=float,
        default=os.environ.get("BENCH_LOAD_MAX_CPU_RATIO") or None,
        help="exit 1 when CPU per review is more than this times the baseline's (e.g. 1.2)",
    )
    args = parser.parse_args()
    if args.max_cpu_ratio is not None and not args.baseline:
        parser.error("--max-cpu-ratio needs --baseline")
    if args.baseline and not (args.baseline / "bot" / "__main__.py").is_file():
        parser.error(f"--baseline {args.baseline}: no bot/__main__.py there")
    return args


def main() -> int:
    common.stop_on_sigterm()
    args = arguments()
    checkouts = [Checkout("now", common.ROOT, commit_of(common.ROOT))]
    if args.baseline:
        root = args.baseline.resolve()
        checkouts.insert(0, Checkout("baseline", root, commit_of(root)))
    workdir = Path(tempfile.mkdtemp(prefix="bench-review-load-"))
    runs: list[Run] = []
    try:
        with common.cluster() as cluster, common.fakes() as fake:
            for number in range(args.rounds):
                for checkout in checkouts:
                    started = time.monotonic()
                    name = f"{len(runs):02d}-{checkout.label}"
                    with common.empty_database(cluster) as database_url:
                        migrate_log = workdir / f"migrate-{name}.log"
                        common.migrate_checkout(checkout.root, database_url, migrate_log)
                        run = common.run(one_run(checkout, database_url, fake, args, workdir, name))
                    runs.append(run)
                    f = run.figures
                    common.note(
                        f"round {number + 1} {checkout.label} {checkout.commit}: "
                        f"{dict(run.statuses)}; CPU/review {f['cpu_review']:.1f} ms "
                        f"(gross {f['cpu_review_gross']:.1f}), webhooks {f['webhook_rate']:.0f}/s "
                        f"p99 {f['webhook_p99']:.0f} ms, draft {f['draft_cpu']:.2f} ms, ignored "
                        f"{f['ignored_cpu']:.2f} ms, RSS {f['peak_rss']:.0f} MiB, GitHub "
                        f"{f['github_calls']:.2f}, Gemini {f['gemini_calls']:.2f}; "
                        f"{time.monotonic() - started:.0f} s"
                    )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    now = [r for r in runs if r.checkout == "now"]
    base = [r for r in runs if r.checkout == "baseline"]
    print(table(now, base, checkouts), flush=True)

    row = common.row
    rows = []
    for checkout, its in (("now", now), ("baseline", base)):
        if not its:
            continue
        completed = sum(r.statuses.get("completed", 0) for r in its)
        expected = args.prs * len(its)
        skipped = sum(r.statuses.get("draft skipped", 0) for r in its)
        errors = sum(r.errors for r in its)
        rows += [
            row(
                f"{checkout}: reviews completed",
                completed,
                "",
                f"== {expected}",
                completed == expected,
            ),
            row(
                f"{checkout}: drafts skipped",
                skipped,
                "",
                f"== {args.drafts * len(its)}",
                skipped == args.drafts * len(its),
            ),
            row(f"{checkout}: server log ERROR lines", errors, "lines", "0", errors == 0),
        ]
        for key, label, unit, decimals in FIGURES:
            rows.append(
                row(f"{checkout}: {label} (median)", round(summary(its, key)[0], decimals), unit)
            )
    ratio = None
    if base:
        ratio = summary(now, "cpu_review")[0] / summary(base, "cpu_review")[0]
        limit = args.max_cpu_ratio
        target, ok = (f"<= {limit:g}", ratio <= limit) if limit else ("", None)
        rows.append(row("CPU per review, now / baseline", round(ratio, 2), "x", target, ok))
    common.emit("review_load", rows)
    failed = any(r["ok"] is False for r in rows)
    if failed:
        common.note("review_load: a figure misses its target (see the rows marked NO)")
    return 1 if failed else 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
