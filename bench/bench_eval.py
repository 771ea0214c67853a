"""`eval` on the whole shipped labelled set, and `eval --compare` of the example pair, against
FakeGemini scripted to catch a known share of the labels: the mechanics and their cost in time
(what an eval run spends besides the model), not the model's quality.

FakeGemini plays two models. Each label is caught by the agent of its kind (its own agent, or
`bugs` for a bug label and `style` for a style one) when a hash of the case and the model falls
under the model's catch rate; every agent adds a false finding on a few cases. So the figures
eval prints are known in advance up to the hash's luck, and `--compare` should find Pro (the
higher rate) better on recall with an interval above 0.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import common

from tests.fakes.gemini import GeminiRequest

HERE = Path(__file__).resolve().parent
PRS = HERE.parent / "bot" / "tools" / "eval_data" / "prs.jsonl"
CATCH = {"gemini-2.5-flash": 55, "gemini-2.5-pro": 70}  # percent of labels caught
FALSE = 6  # percent of (case, agent) pairs with a false finding
TITLE = re.compile(r"^Title: (.*)$", re.MULTILINE)
LISTED = "Findings (JSON):\n"


def luck(*parts: str) -> int:
    """0..99, the same for the same parts on every run."""
    return int(hashlib.sha256("|".join(parts).encode()).hexdigest()[:8], 16) % 100


def responder(fake: Any, cases: list[dict]) -> Any:
    by_title = {case["title"]: case for case in cases}

    def respond(seen: GeminiRequest) -> Any:
        if seen.agent == "walkthrough":
            return fake.walkthrough(seen)
        if seen.agent == "verifier":
            listed = json.loads(seen.prompt.rsplit(LISTED, 1)[1])
            keep = [{"id": f["id"], "keep": True, "confidence": 0.9, "reason": "r"} for f in listed]
            return {"verdicts": keep}
        case = by_title[TITLE.search(seen.prompt).group(1)]
        findings = []
        for label in case["expected"]:
            agent = label["agent"] or ("style" if case["kind"] == "style" else "bugs")
            if agent == seen.agent and luck(case["id"], label["what"]) < CATCH[seen.model]:
                findings.append(
                    {
                        "file_path": label["path"],
                        "line_start": label["line_start"],
                        "line_end": label["line_end"],
                        "severity": label["severity"],
                        "title": "A problem here",
                        "description": label["what"],
                    }
                )
        if seen.files and luck(case["id"], seen.agent or "", seen.model, "false") < FALSE:
            findings.append(
                {
                    "file_path": seen.files[0],
                    "line_start": 1,
                    "line_end": 1,
                    "severity": "low",
                    "title": "An imagined problem",
                    "description": "Not real: the bench's false finding.",
                }
            )
        return {"findings": [f for f in findings if f["file_path"] in seen.files]}

    return respond


def run_eval(fake: common.Fakes, workdir: Path, *args: str) -> tuple[dict, float]:
    env = {
        **os.environ,
        "PYTHONPATH": str(HERE.parent),
        "GEMINI_API_KEY": common.GEMINI_KEY,
        "GOOGLE_GEMINI_BASE_URL": fake.gemini.url,
        "GEMINI_RPM": "100000",
    }
    started = time.monotonic()
    done = subprocess.run(  # noqa: S603 - this interpreter, our own module
        [sys.executable, "-m", "bot", "eval", "--format", "json", *args],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=800,
        check=False,
    )
    took = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"eval {' '.join(args)} exited {done.returncode}: {done.stderr[-2000:]}")
    return json.loads(done.stdout), took


def span(figures: dict, name: str) -> str:
    low, high = figures["interval"][name]
    return f"{figures[name]:.3f} ({low:.3f}-{high:.3f})"


def main() -> None:
    cases = [json.loads(line) for line in PRS.read_text().splitlines()]
    rows = []
    with common.fakes() as fake, tempfile.TemporaryDirectory(prefix="bench-eval-") as tmp:
        fake.gemini.responder = responder(fake.gemini, cases)
        data, took = run_eval(fake, Path(tmp))
        line = data["overall"]["by_line"]
        common.note(
            f"eval, {data['prs']} cases: P {span(line, 'precision')}, R {span(line, 'recall')}, "
            f"F1 {span(line, 'f1')} in {took:.1f} s"
        )
        rows += [
            common.row("cases", data["prs"], "", ">= 130", data["prs"] >= 130),
            common.row("eval wall time, whole set", round(took, 1), "s"),
            common.row("eval time per case", round(took / data["prs"], 3), "s"),
            common.row("precision (95% interval)", span(line, "precision")),
            common.row("recall (95% interval)", span(line, "recall")),
            common.row("F1 (95% interval)", span(line, "f1")),
            common.row("findings on clean PRs", data["false_positives_on_clean_prs"]),
            common.row("cost per case (FakeGemini tokens)", data["cost_per_case_usd"], "USD"),
            common.row("cost per true finding", data["cost_per_true_finding_usd"], "USD"),
        ]
        flash, pro = (str(HERE.parent / "docs" / "eval" / f"{n}.yml") for n in ("flash", "pro"))
        compared, took = run_eval(fake, Path(tmp), "--compare", flash, pro)
        recall = compared["difference"]["recall"]
        low, high = recall["interval"]
        common.note(f"compare: recall B - A {recall['value']:+.3f} ({low:+.3f}..{high:+.3f})")
        rows += [
            common.row("compare wall time (two sides)", round(took, 1), "s"),
            common.row(
                "recall, Pro - Flash (95% interval)",
                f"{recall['value']:+.3f} ({low:+.3f}..{high:+.3f})",
                "",
                "interval above 0",
                low > 0,
            ),
        ]
    common.emit("eval", rows)


if __name__ == "__main__":
    main()
