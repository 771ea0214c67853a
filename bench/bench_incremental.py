"""Gemini input of an incremental review after a one-file push, as a share of the full review."""

from __future__ import annotations

import random

import common

from bot.app.services import Services
from bot.app.worker import process_review
from bot.store import reviews
from tests.reviewing import finding

FILES, NUMBER, TARGET_PERCENT = 20, 1, 15.0
PUSHED = "pkg/module_07.py"  # the one file the second push changes
FLAGGED = "pkg/module_02.py"  # unchanged by the push: its finding should be carried forward


def source(rng: random.Random, index: int) -> list[str]:
    """60 to 120 lines of plausible Python."""
    lines = [f'"""Module {index}."""\n', "\n", "import os\n", "\n"]
    while len(lines) < rng.randint(60, 120):
        name = f"step_{index}_{len(lines)}"
        lines += [
            "\n",
            f"def {name}(value, limit={rng.randint(1, 99)}):\n",
            f'    """Do step {name}."""\n',
            "    if value > limit:\n",
            f"        return os.environ.get('{name.upper()}', value)\n",
            f"    return value * {rng.randint(2, 9)}\n",
        ]
    return lines


def edit(lines: list[str], at: list[int], tag: str) -> str:
    """The file with the lines at `at` (0-based) rewritten: one hunk each when far apart."""
    out = list(lines)
    for n in at:
        out[n] = out[n].rstrip("\n") + f"  # {tag}\n"
    return "".join(out)


def pull_files() -> dict[str, tuple[str, str]]:
    rng = random.Random(5)  # noqa: S311 - reproducible fixture text
    files = {}
    for i in range(FILES):
        old = source(rng, i)
        files[f"pkg/module_{i:02d}.py"] = ("".join(old), edit(old, [10, 30, 50], "changed"))
    return files


async def run(fake: common.Fakes, database_url: str) -> tuple[list, list[int]]:
    """Full review, one-file push, incremental review; the reviews and where each one's
    Gemini requests start in FakeGemini's record."""
    files = pull_files()
    pull = fake.github.add_pull(common.OWNER, common.REPO, NUMBER, files=files)
    fake.gemini.findings["bugs"] = [finding(FLAGGED, line=11, severity="high", title="Kept")]
    done, starts = [], []
    async with Services.open(common.settings(fake, database_url)) as services:
        for trigger in ("opened", "synchronize"):
            if trigger == "synchronize":
                lines = files[PUSHED][1].splitlines(keepends=True)
                pull.push({PUSHED: edit(lines, [40], "pushed again")})
            starts.append(len(fake.gemini.requests))
            review_id = await common.new_review(services.pool, pull, trigger)
            await process_review(review_id, services)
            done.append(await reviews.get(services.pool, review_id))
    return done, starts + [len(fake.gemini.requests)]


def main() -> None:
    common.stop_on_sigterm()
    with common.database() as database_url, common.fakes() as fake:
        (full, incremental), bounds = common.run(run(fake, database_url))
        requests = list(fake.gemini.requests)
    full_req, incr_req = requests[bounds[0] : bounds[1]], requests[bounds[1] : bounds[2]]
    fake_full = sum(r.prompt_tokens for r in full_req)
    fake_incr = sum(r.prompt_tokens for r in incr_req)
    db_full, db_incr = full.stats.get("prompt_tokens", 0), incremental.stats.get("prompt_tokens", 0)
    percent = round(100 * db_incr / db_full, 1) if db_full else float("nan")
    sent = sorted({p for r in incr_req for p in r.files})
    carried = incremental.stats.get("carried")
    common.note(f"full review stats: {full.stats}")
    common.note(f"incremental review stats: {incremental.stats}; files sent: {sent}")
    common.note(
        f"calls: full {len(full_req)}, incremental {len(incr_req)}; "
        f"FakeGemini share {100 * fake_incr / max(fake_full, 1):.1f} %"
    )
    row = common.row
    common.emit(
        "incremental",
        [
            row("input tokens, full review (stats)", db_full, "tokens"),
            row("input tokens, incremental review (stats)", db_incr, "tokens"),
            row(
                "incremental as a share of full",
                percent,
                "%",
                f"<= {TARGET_PERCENT:g}",
                percent <= TARGET_PERCENT,
            ),
            row("input tokens, full review (FakeGemini)", fake_full, "tokens"),
            row("input tokens, incremental review (FakeGemini)", fake_incr, "tokens"),
            row(
                "stats agree with FakeGemini",
                db_full == fake_full and db_incr == fake_incr,
                "",
                "True",
                db_full == fake_full and db_incr == fake_incr,
            ),
            row("files sent to Gemini, incremental", len(sent), "files", "1", sent == [PUSHED]),
            row(
                "review was incremental",
                incremental.stats.get("incremental"),
                "",
                "True",
                incremental.stats.get("incremental") is True,
            ),
            row("findings carried forward", carried, "findings", "1", carried == 1),
            row(
                "statuses",
                f"{full.status}/{incremental.status}",
                "",
                "completed/completed",
                full.status == incremental.status == "completed",
            ),
        ],
    )


if __name__ == "__main__":
    main()
