"""`eval`'s results file: one JSON line per reviewed case, written as each case ends, so a run
that stops (a quota, Ctrl-C, a crash) loses nothing finished and the next run resumes.

A saved result stands for its case while the case's review input (diff, title, body, base,
head files), the model and the prompt (every request's text, the default config) are the
same; the expected findings may change (they are scored again). A result with a failed agent
call is saved but not complete: the next run reviews that case again. The last line of a
key wins; a line that is not a result (cut off by a crash) is skipped and said.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from bot.review import agents, prompt, verify
from bot.review.agents import AgentAnswer
from bot.review.findings import Finding
from bot.review.gemini import json_schema
from bot.review.verify import VerifyAnswer
from bot.tools.eval_cases import Case

FORMAT = 1
DIRECTORY = Path(".data") / "eval"


SCORED_FIELDS = (
    "agent_type",
    "severity",
    "file_path",
    "line_start",
    "line_end",
    "title",
    "description",
)


@dataclass
class CaseResult:
    case: Case
    findings: list[Finding]  # posted: not withheld
    withheld: int = 0
    failures: list[str] = field(default_factory=list)
    prompt_tokens: int = 0
    cached_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0

    def as_json(self) -> dict[str, Any]:
        """What the results file keeps of it: what is scored and what it cost."""
        return {
            "findings": [{name: getattr(f, name) for name in SCORED_FIELDS} for f in self.findings],
            "withheld": self.withheld,
            "failures": self.failures,
            "prompt_tokens": self.prompt_tokens,
            "cached_tokens": self.cached_tokens,
            "output_tokens": self.output_tokens,
            "cost_usd": self.cost_usd,
        }

    @classmethod
    def from_json(cls, case: Case, data: Mapping[str, Any]) -> CaseResult | None:
        """A saved result of `case`, or None when it is not one as_json wrote."""
        try:
            findings = [Finding(**{k: f[k] for k in SCORED_FIELDS}) for f in data["findings"]]
            return cls(
                case,
                findings,
                withheld=int(data["withheld"]),
                failures=[str(f) for f in data["failures"]],
                prompt_tokens=int(data["prompt_tokens"]),
                cached_tokens=int(data["cached_tokens"]),
                output_tokens=int(data["output_tokens"]),
                cost_usd=float(data["cost_usd"]),
            )
        except (KeyError, TypeError, ValueError):
            return None


def default_path(cases: Traversable, configuration: str | None = None) -> Path:
    """Where the results of a cases file go by default: .data/eval/<its name>.results.jsonl, or
    .data/eval/<its name>.<configuration>.results.jsonl for a configuration of `--compare`."""
    stem = cases.name.removesuffix(".jsonl")
    if configuration:
        stem += f".{configuration}"
    return DIRECTORY / f"{stem}.results.jsonl"


def prompt_version(agent_names: Sequence[str], config_json: str, thinking_budget: int = 0) -> str:
    """A digest of everything every request says besides the case (its answer's schema too: a
    field asked anew, such as a finding's evidence, changes the answer), and the thinking budget
    it may spend: a change re-reviews."""
    schemas = [json.dumps(json_schema(s), sort_keys=True) for s in (AgentAnswer, VerifyAnswer)]
    texts = [prompt.SYSTEM, verify.TASK, *schemas, config_json, f"thinking {thinking_budget}"]
    texts += [agents.task(agents.AGENTS[name]) for name in agent_names if name in agents.AGENTS]
    return _digest(texts)


def case_digest(case: Case) -> str:
    """A digest of what the review of `case` reads (not what it is scored against)."""
    heads = json.dumps(case.head_files, sort_keys=True)
    return _digest([case.diff, case.title, case.body, case.base, heads])


def _digest(texts: Iterable[str]) -> str:
    hasher = hashlib.sha256()
    for text in texts:
        data = text.encode("utf-8", "surrogatepass")
        hasher.update(len(data).to_bytes(8, "big") + data)
    return hasher.hexdigest()[:16]


@dataclass(frozen=True)
class Key:
    case: str  # the case's id
    digest: str  # case_digest
    model: str
    prompt: str  # prompt_version


class ResultsFile:
    """The saved results: read once, appended to as each case ends."""

    def __init__(self, path: Path, model: str, prompt: str) -> None:
        self.path = path
        self.model = model
        self.prompt = prompt
        self._saved: dict[Key, dict[str, Any]] = {}

    def key(self, case: Case) -> Key:
        return Key(case.id, case_digest(case), self.model, self.prompt)

    def load(self) -> None:
        """Read what earlier runs saved; a missing file is an empty one.

        Raises OSError when the file exists but cannot be read.
        """
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return
        except UnicodeDecodeError:
            raise OSError(f"{self.path} is not UTF-8 text") from None
        for number, line in enumerate(lines, 1):
            item = _item(line)
            if item is None:
                if line.strip():
                    print(
                        f"second-look: {self.path}:{number}: not a result, skipped", file=sys.stderr
                    )
                continue
            key = Key(item["id"], item["case"], item["model"], item["prompt"])
            self._saved[key] = item

    def done(self, case: Case) -> dict[str, Any] | None:
        """The saved result of `case` under this model and prompt, if it is complete."""
        item = self._saved.get(self.key(case))
        return item if item is not None and item["complete"] else None

    def save(self, case: Case, result: dict[str, Any], complete: bool) -> None:
        """Append the result of `case` and flush it to disk before returning."""
        key = self.key(case)
        item = {
            "format": FORMAT,
            "id": key.case,
            "case": key.digest,
            "model": key.model,
            "prompt": key.prompt,
            "complete": complete,
            "result": result,
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(item, ensure_ascii=False) + "\n")
            out.flush()
            os.fsync(out.fileno())
        self._saved[key] = item

    def clear(self) -> None:
        """Forget every saved result (`--fresh`)."""
        self.path.unlink(missing_ok=True)
        self._saved = {}


def _item(line: str) -> dict[str, Any] | None:
    try:
        item = json.loads(line)
    except ValueError:
        return None
    if not isinstance(item, dict) or item.get("format") != FORMAT:
        return None
    if not all(isinstance(item.get(name), str) for name in ("id", "case", "model", "prompt")):
        return None
    if not isinstance(item.get("complete"), bool) or not isinstance(item.get("result"), dict):
        return None
    return item
