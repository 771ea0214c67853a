"""The Martian benchmark's PRs and their golden comments, as shipped (package data,
`resources.martian_data`), and the choice of them `--repo` and `--limit` make."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib.resources.abc import Traversable

from bot.tools.eval_cases import Case, EvalError


@dataclass(frozen=True)
class Golden:
    comment: str
    severity: str


@dataclass(frozen=True)
class BenchPR:
    repository: str  # the benchmark's name: sentry, grafana, cal.com, discourse, keycloak
    url: str
    owner: str
    repo: str
    number: int
    title: str
    golden: tuple[Golden, ...]

    @property
    def pull(self) -> str:
        """OWNER/REPO#N, as `review` takes it."""
        return f"{self.owner}/{self.repo}#{self.number}"

    def case(self) -> Case:
        """The key of its saved result: the review reads the PR at this address (its GitHub
        reads kept on disk), so the address stands for the review's input."""
        return Case(id=self.pull, diff=self.url)


@dataclass(frozen=True)
class Benchmark:
    commit: str
    prs: tuple[BenchPR, ...]
    published_judge: str
    published: Mapping[str, Mapping[str, float]]  # tool -> precision, recall, f1 (percent)


def load(folder: Traversable) -> Benchmark:
    """golden.json of `folder` (the shipped one: resources.martian_data())."""
    where = folder / "golden.json"
    try:
        data = json.loads(where.read_text(encoding="utf-8"))
        prs = tuple(
            BenchPR(
                str(p["repository"]),
                str(p["url"]),
                str(p["owner"]),
                str(p["repo"]),
                int(p["number"]),
                str(p.get("title", "")),
                tuple(Golden(str(g["comment"]), str(g["severity"]).lower()) for g in p["golden"]),
            )
            for p in data["prs"]
        )
        published = data.get("published") or {}
        return Benchmark(
            str(data.get("commit", "")),
            prs,
            str(published.get("judge", "")),
            {str(k): dict(v) for k, v in (published.get("tools") or {}).items()},
        )
    except OSError as exc:
        raise EvalError(f"cannot read {where}: {exc.strerror or exc}") from None
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise EvalError(f"{where} is not the benchmark's data ({exc!r})") from None


def select(prs: Sequence[BenchPR], repo: str | None, limit: int | None) -> list[BenchPR]:
    """The PRs of repository `repo` (any case), then the first `limit`."""
    chosen = list(prs)
    if repo is not None:
        names = sorted({p.repository for p in prs})
        chosen = [p for p in chosen if p.repository.lower() == repo.lower()]
        if not chosen:
            raise EvalError(f"no repository {repo!r}: one of {', '.join(names)}")
    return chosen if limit is None else chosen[:limit]
