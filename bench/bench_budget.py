"""A ~100 MB pull request: peak RSS growth of `serve`, and the Gemini tokens and calls it spends.

One fresh `serve` process and one fresh PR per mix, reviewed through a signed `opened` webhook:
  many-files   2,400 files of ordinary code lines, six large CSV data files, a few src/*.py
  long-lines   about a hundred files of one ~1 MB line each (minified JS, JSON), a few src/*.py
  one-huge     one ~100 MB data file, a few src/*.py
  files-api    many-files again, within GitHub's limits of the .diff media type (300 files,
               20,000 lines): GitHub answers 406 and the App pages the files API
The first three are served by the diff endpoint: the fake's 406 limits are lifted for them.

Peak RSS is the most of psutil's samples (every 20 ms) and the kernel's high-water mark
(VmHWM, reset after the baseline), less the RSS once the process is ready. Tokens are the
promptTokenCount FakeGemini reported, summed over the review's calls. BENCH_BUDGET_MB sets the
diff's size (default 100) and BENCH_BUDGET_MIXES a comma-separated subset of the mixes.

Money: FakeGemini thinks BENCH_THINKING tokens a call (default 8,192, 2.5 Flash's dynamic
thinking at its documented most) unless a request's thinkingBudget or maxOutputTokens cuts
it. Each review's bill is priced from its stored calls (input, cached, output, thinking) at
the 2.5 Flash prices; its worst case is what the calls it made could have been billed: every
request's input plus its maxOutputTokens at the output rate, or, with none sent, the model's
output limit (65,536 tokens, thoughts included). BENCH_APP_ROOT serves another checkout's
`bot` (e.g. /work/main) against the same fakes, to measure before and after in one sitting.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import asyncpg
import common
import psutil

from bot.review.pricing import DEFAULT_PRICES, cost
from tests.fakes.diffs import make_file_diff
from tests.reviewing import finding

MB = 1_000_000
SIZE = int(float(os.environ.get("BENCH_BUDGET_MB", "100")) * MB)
MIXES = ("many-files", "long-lines", "one-huge", "files-api")
WANTED = [m for m in os.environ.get("BENCH_BUDGET_MIXES", ",".join(MIXES)).split(",") if m]
TARGET_RSS_MB = 200
MAX_REVIEW_TOKENS = 400_000  # the App's default
MAX_REVIEW_USD = 0.50  # the App's default
THINKING = int(os.environ.get("BENCH_THINKING", "8192"))
APP_ROOT = os.environ.get("BENCH_APP_ROOT", "")  # "": this checkout
MODEL_OUTPUT_LIMIT = 65_536  # gemini-2.5-flash's most output tokens, thoughts included
PRICE = DEFAULT_PRICES["gemini-2.5-flash"]
REVIEW_TIMEOUT = 240.0  # seconds per mix
SAMPLE_EVERY = 0.02


# ------------------------------------------------------------------------------ diff text


def _short(path: str) -> str:
    return hashlib.sha1(path.encode(), usedforsecurity=False).hexdigest()[:7]


def added(path: str, lines: list[str]) -> str:
    """A `git diff` section adding `path` with `lines` (no newline in them)."""
    head = (
        f"diff --git a/{path} b/{path}\nnew file mode 100644\nindex 0000000..{_short(path)}\n"
        f"--- /dev/null\n+++ b/{path}\n@@ -0,0 +1{'' if len(lines) == 1 else f',{len(lines)}'} @@\n"
    )
    return head + "".join(f"+{line}\n" for line in lines)


def code_lines(seed: int, count: int) -> list[str]:
    """Ordinary Python, 40 to 70 characters a line, varied by `seed`."""
    shapes = (
        "def handler_{s}_{i}(request, limit={m}):",
        "    items = fetch_items(request.user_id, page={i})",
        "    total = sum(item.amount for item in items if item.id != {s})",
        "    if total > limit:",
        "        log.warning('over limit %s for %d', request.path, {i})",
        "        return Response(status=429)",
        "    return Response(json={{'total': total, 'seq': {i}}})",
        "",
    )
    return [shapes[i % 8].format(s=seed, i=i, m=i % 97) for i in range(count)]


def source_files(count: int) -> dict[str, str]:
    """Small source files that a review reads: the reason a review happens at all."""
    files = {}
    for n in range(count):
        body = [
            "import os",
            "import subprocess",
            "",
            "",
            f"def run_{n}(command):",
            "    return subprocess.call(command, shell=True)",
            "",
            "",
            f"def evaluate_{n}(user_input):",
            "    return eval(user_input)",
            "",
            "",
            f"def path_{n}(name):",
            "    return os.path.join('/srv/data', name)",
        ]
        files[f"src/module_{n}.py"] = "\n".join(body) + "\n"
    return files


@dataclass
class Mix:
    name: str
    raw_diff: str
    sources: dict[str, str]  # the small files, also in the head commit
    files: int
    lift_limits: bool  # serve the .diff whatever its size (else GitHub's 406 limits apply)


def _assemble(sections: dict[str, str], sources: dict[str, str]) -> str:
    for path, text in sources.items():
        sections[path] = make_file_diff(path, None, text)
    return "".join(sections[p] for p in sorted(sections, key=lambda p: p.encode()))


def many_files(size: int) -> tuple[str, dict[str, str]]:
    """72% in 2,400 code files (about 700 lines each), 28% in six CSV files."""
    sections: dict[str, str] = {}
    code_files = 2400
    sample = code_lines(code_files, 800)
    per_line = sum(len(line) + 2 for line in sample) / len(sample)  # "+", the line, "\n"
    per_file = max(1, int(size * 0.72 / code_files / per_line))
    for i in range(code_files):
        sections[f"services/svc_{i // 40:02d}/handler_{i}.py"] = added(
            f"services/svc_{i // 40:02d}/handler_{i}.py", code_lines(i, per_file)
        )

    def csv_row(r: int) -> str:
        return f"{r},{r * 7 % 1000},customer_{r % 5000},{r * 3.25:.2f},2025-01-{r % 28 + 1:02d}"

    rows = max(1, int(size * 0.28 / 6 / (len(csv_row(500_000)) + 2)))
    for k in range(6):
        lines = [csv_row(r) for r in range(k * rows, (k + 1) * rows)]
        sections[f"data/fixtures_{k}.csv"] = added(f"data/fixtures_{k}.csv", lines)
    sources = source_files(8)
    return _assemble(sections, sources), sources


def long_lines(size: int) -> tuple[str, dict[str, str]]:
    """Files of one very long line: minified JS and JSON, 0.6 to 1.4 MB a line."""
    piece = "var a{n}=function(b,c){{return b*{n}+c.length}};"
    js = "".join(piece.format(n=n) for n in range(60_000))  # about 2.6 MB
    record = '{{"id":{n},"name":"item-{n}","tags":["a","b"],"score":{s}}},'
    data = "[" + "".join(record.format(n=n, s=n % 100) for n in range(40_000))  # about 2.5 MB
    sections: dict[str, str] = {}
    total, n = 0, 0
    while total < size:
        length = int((0.6 + 0.8 * ((n * 37) % 11) / 10) * MB)
        if n % 3 == 2:
            path, text = f"data/records_{n}.json", data[:length] + "]"
        else:
            path, text = f"static/bundle_{n}.min.js", f"/*{n}*/" + js[:length]
        sections[path] = added(path, [text])
        total += len(sections[path])
        n += 1
    sources = source_files(6)
    return _assemble(sections, sources), sources


def one_huge(size: int) -> tuple[str, dict[str, str]]:
    """One newline-delimited JSON file of the whole size, and a few source files."""
    line = '{{"ts":"2025-03-{d:02d}T12:{m:02d}:00Z","user":{u},"event":"view","page":"/p/{p}"}}'

    def event(i: int) -> str:
        return line.format(d=i % 28 + 1, m=i % 60, u=i % 100_000, p=i % 997)

    count = max(1, int(size / (len(event(55_555)) + 2)))
    lines = [event(i) for i in range(count)]
    sections = {"data/events.ndjson": added("data/events.ndjson", lines)}
    del lines
    sources = source_files(5)
    return _assemble(sections, sources), sources


BUILDERS: dict[str, Callable[[int], tuple[str, dict[str, str]]]] = {
    "many-files": many_files,
    "long-lines": long_lines,
    "one-huge": one_huge,
    "files-api": many_files,
}


def build(name: str) -> Mix:
    raw, sources = BUILDERS[name](SIZE)
    files = raw.count("\ndiff --git ") + raw.startswith("diff --git ")
    return Mix(name, raw, sources, files, name != "files-api")


# ------------------------------------------------------------------------------------ RSS


class RssSampler(threading.Thread):
    """Samples a process's RSS every SAMPLE_EVERY seconds; its own thread, so a busy event
    loop in this process does not stretch the period."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True, name="rss")
        self.proc = psutil.Process(pid)
        self.peak = 0
        self.samples = 0
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            try:
                rss = self.proc.memory_info().rss
            except psutil.Error:
                return
            self.peak = max(self.peak, rss)
            self.samples += 1
            self._halt.wait(SAMPLE_EVERY)

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=5)


def reset_high_water_mark(pid: int) -> bool:
    """Reset the kernel's peak RSS (VmHWM) to the current RSS (Linux: clear_refs 5)."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


# ---------------------------------------------------------------------------------- a run


@dataclass
class Result:
    mix: str
    diff_mb: float
    files: int
    growth_mb: float
    sampled_mb: float
    hwm_mb: float | None
    prompt_tokens: int
    calls: int
    calls_not_200: int
    count_calls: int  # countTokens requests
    status: str
    conclusion: str
    title: str
    seconds: float
    diff_requests: int  # GET /pulls/{n} as .diff, and what they answered
    diff_statuses: str
    file_pages: int  # GET /pulls/{n}/files
    bill_usd: float  # the review's calls at the 2.5 Flash prices
    output_usd: float  # of it, output and thinking
    thinking_tokens: int
    worst_usd: float  # what those calls could have been billed at most


async def one_mix(
    fake: common.Fakes, database_url: str, workdir: Path, name: str, number: int
) -> Result:
    fake.github.reset()
    fake.gemini.reset()
    fake.gemini.thinking_tokens = THINKING
    # eval() on line 10 of src/module_0.py: the review has something to publish inline.
    fake.gemini.findings["security"] = [finding("src/module_0.py", 10)]
    started_build = time.monotonic()
    mix = build(name)
    if mix.lift_limits:
        fake.github.max_diff_files = 10**9
        fake.github.max_diff_lines = 10**12
    pull = fake.github.add_pull(
        common.OWNER,
        common.REPO,
        number,
        files={p: (None, text) for p, text in mix.sources.items()},
        raw_diff=mix.raw_diff,
    )
    diff_mb = len(mix.raw_diff.encode()) / MB
    mix.raw_diff = ""  # the fake holds it
    pull.diff()  # parsed and cached here, not on the fakes' loop during the review
    common.note(
        f"{name}: {diff_mb:.1f} MB diff of {mix.files} files, built and parsed in "
        f"{time.monotonic() - started_build:.1f} s"
    )

    settings = common.settings(fake, database_url, port=common.free_port())
    env = common.server_env(settings) | {"MAX_REVIEW_TOKENS": str(MAX_REVIEW_TOKENS)}
    if APP_ROOT:
        env["PYTHONPATH"] = APP_ROOT
    url = f"http://127.0.0.1:{settings.port}"
    log = workdir / f"serve-{name}.log"
    conn = await asyncpg.connect(database_url)
    try:
        async with aiohttp.ClientSession() as session:
            with common.process([common.PYTHON, "-m", "bot", "serve"], env, log) as proc:
                await common.wait_ready(session, f"{url}/healthz", proc)
                await asyncio.sleep(1.0)  # start-up settles (gc.freeze, the first reclaim)
                baseline = psutil.Process(proc.pid).memory_info().rss
                hwm_reset = reset_high_water_mark(proc.pid)
                sampler = RssSampler(proc.pid)
                sampler.start()
                began = time.monotonic()
                review_id = await common.deliver(session, url, pull)
                status = await common.final_status(conn, review_id, proc, REVIEW_TIMEOUT)
                seconds = time.monotonic() - began
                sampler.stop()
                hwm = common.high_water_mark(proc.pid) if hwm_reset else None
        spent = await conn.fetchrow(
            "SELECT coalesce(sum(prompt_tokens), 0) AS prompt, coalesce(sum(cached_tokens), 0)"
            " AS cached, coalesce(sum(output_tokens), 0) AS output, coalesce(sum(thinking_tokens),"
            " 0) AS thinking FROM gemini_calls WHERE review_id = $1",
            review_id,
        )
    finally:
        await conn.close()
    runs = fake.github.check_runs(common.OWNER, common.REPO, pull.head_sha)
    run = runs[-1] if runs else {}
    requests = list(fake.gemini.requests)
    peak = max(sampler.peak, hwm or 0)
    pull_path = f"/repos/{common.OWNER}/{common.REPO}/pulls/{pull.number}"
    seen = list(fake.github.requests)
    diffs = [r for r in seen if r.path == pull_path and "diff" in r.headers.get("accept", "")]
    pages = [r for r in seen if r.path == f"{pull_path}/files"]
    output = int(spent["output"]) + int(spent["thinking"])
    bill = cost(PRICE, int(spent["prompt"]), int(spent["cached"]), output)
    worst = sum(
        cost(PRICE, r.prompt_tokens, 0, r.max_output_tokens or MODEL_OUTPUT_LIMIT)
        for r in requests
        if r.status == 200 or r.status >= 500
    )
    return Result(
        mix=name,
        diff_mb=diff_mb,
        files=mix.files,
        growth_mb=(peak - baseline) / MB,
        sampled_mb=(sampler.peak - baseline) / MB,
        hwm_mb=None if hwm is None else (hwm - baseline) / MB,
        prompt_tokens=fake.gemini.seen_prompt_tokens(),
        calls=len(requests),
        calls_not_200=sum(r.status != 200 for r in requests),
        count_calls=len(fake.gemini.count_requests),
        status=status,
        conclusion=f"{run.get('status', 'no check run')}/{run.get('conclusion')}",
        title=(run.get("output") or {}).get("title", ""),
        seconds=seconds,
        diff_requests=len(diffs),
        diff_statuses="/".join(str(r.status) for r in diffs),
        file_pages=len(pages),
        bill_usd=bill,
        output_usd=cost(PRICE, 0, 0, output),
        thinking_tokens=int(spent["thinking"]),
        worst_usd=worst,
    )


async def run_all(fake: common.Fakes, database_url: str, workdir: Path) -> list[Result]:
    results = []
    for number, name in enumerate(WANTED, start=1):
        result = await one_mix(fake, database_url, workdir, name, number)
        common.note(
            f"{name}: RSS +{result.growth_mb:.0f} MB (sampled +{result.sampled_mb:.0f}, "
            f"VmHWM +{result.hwm_mb if result.hwm_mb is not None else float('nan'):.0f}); "
            f"{result.prompt_tokens:,} prompt tokens in {result.calls} calls "
            f"({result.calls_not_200} not 200); review {result.status} in "
            f"{result.seconds:.1f} s; check run {result.conclusion} {result.title!r}; "
            f".diff answered {result.diff_statuses or 'never asked'}, "
            f"{result.file_pages} files API pages; bill ${result.bill_usd:.4f} "
            f"({result.output_usd / result.bill_usd if result.bill_usd else 0:.0%} output and "
            f"thinking, {result.thinking_tokens:,} thinking tokens), worst case "
            f"${result.worst_usd:.4f}"
        )
        results.append(result)
    return results


def main() -> None:
    common.stop_on_sigterm()
    unknown = [m for m in WANTED if m not in MIXES]
    if unknown:
        raise SystemExit(f"BENCH_BUDGET_MIXES: unknown {unknown}; known: {', '.join(MIXES)}")
    workdir = Path(tempfile.mkdtemp(prefix="bench-budget-"))
    try:
        with common.database() as database_url, common.fakes() as fake:
            results = common.run(run_all(fake, database_url, workdir))
        errors, warnings = common.serve_logs(workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    row = common.row
    rows = []
    for r in results:
        label = f"{r.mix} ({r.diff_mb:.0f} MB, {r.files} files)"
        rows += [
            row(
                f"{label}: peak RSS growth",
                round(r.growth_mb, 1),
                "MB",
                f"< {TARGET_RSS_MB}",
                r.growth_mb < TARGET_RSS_MB,
            ),
            row(
                f"{r.mix}: Gemini input tokens",
                r.prompt_tokens,
                "tokens",
                f"<= {MAX_REVIEW_TOKENS}",
                r.prompt_tokens <= MAX_REVIEW_TOKENS,
            ),
            row(f"{r.mix}: Gemini calls (info; {r.calls_not_200} not 200)", r.calls, "req"),
            row(f"{r.mix}: bill at 2.5 Flash prices (info)", round(r.bill_usd, 4), "USD"),
            row(
                f"{r.mix}: output and thinking share of the bill (info; "
                f"{r.thinking_tokens:,} thinking tokens)",
                round(100 * r.output_usd / r.bill_usd, 1) if r.bill_usd else 0,
                "%",
            ),
            row(
                f"{r.mix}: worst case of the calls made",
                round(r.worst_usd, 4),
                "USD",
                f"<= {MAX_REVIEW_USD} (MAX_REVIEW_USD)",
                r.worst_usd <= MAX_REVIEW_USD,
            ),
            row(f"{r.mix}: countTokens requests (info)", r.count_calls, "req"),
            row(
                f"{r.mix}: review status / check run",
                f"{r.status} / {r.conclusion}",
                "",
                "completed",
                r.status == "completed",
            ),
            row(f"{r.mix}: review time (info)", round(r.seconds, 1), "s"),
            row(
                f"{r.mix}: .diff answers / files API pages",
                f"{r.diff_statuses or '-'} / {r.file_pages}",
                "",
                "406 / >= 1" if r.mix == "files-api" else "200 / 0",
                (r.diff_statuses == "406" and r.file_pages >= 1)
                if r.mix == "files-api"
                else (r.diff_statuses == "200" and r.file_pages == 0),
            ),
        ]
    rows += [
        row("server log ERROR lines", errors, "lines", "0", errors == 0),
        row("server log WARNING lines", warnings, "lines"),
    ]
    common.emit("budget", rows)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
