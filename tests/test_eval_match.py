"""eval's matching: the same place (lines within NEAR), the same issue (the kind rule or a
judge), one to one; and the report's figures and costs built on it."""

from __future__ import annotations

import pytest

from bot.review.findings import Finding
from bot.tools.eval_cases import Case, Expected
from bot.tools.eval_match import match, maximum_matching
from bot.tools.eval_report import report, score
from bot.tools.eval_results import CaseResult

pytestmark = pytest.mark.timeout(30)

SQL = Expected("a.py", 10, 12, "high", "The query concatenates user input: SQL injection.")
NAMING = Expected("a.py", 30, 30, "low", "The variable name says nothing of what it holds.")


def finding(
    line: int | None, agent: str = "security", path: str = "a.py", title: str = "SQL injection"
) -> Finding:
    return Finding(agent, "high", path, line, line, title, "User input reaches the query.")


async def pairs(findings, expected, kind="bug", judge=None, by_line=True):
    return (await match(findings, expected, kind, judge, by_line=by_line)).pairs


@pytest.mark.parametrize(
    ("found", "matched"),
    [
        (finding(7), True),  # three lines before the range
        (finding(15), True),  # three lines after
        (finding(6), False),
        (finding(16), False),
        (finding(11, path="b.py"), False),
        (finding(None), False),  # about the whole file
    ],
)
async def test_a_finding_matches_on_the_same_path_within_three_lines(found, matched):
    assert bool(await pairs([found], [SQL])) is matched


async def test_without_a_judge_the_finding_kind_must_agree_with_the_case():
    for agent in ("security", "bugs", "performance"):
        assert await pairs([finding(10, agent)], [SQL], "bug") == ((0, 0),)
    assert await pairs([finding(10, "style")], [SQL], "bug") == ()
    assert await pairs([finding(30, "style")], [NAMING], "style") == ((0, 0),)
    assert await pairs([finding(30, "bugs")], [NAMING], "style") == ()
    assert await pairs([finding(10, "ruff")], [SQL], "bug") == (), "an unknown kind: no match"


async def test_the_words_do_not_decide_without_a_judge():
    assert await pairs([finding(10, title="Unsafe string building")], [SQL]) == ((0, 0),)


async def test_matching_is_one_to_one_and_the_largest_pairing():
    near_both = Expected("a.py", 14, 14, "high", "Another injection two lines on.")
    # The first finding fits both labels, the second only the first: taking the first label for
    # the first finding (greedy) would leave the second unmatched.
    found = [finding(12), finding(9)]
    assert await pairs(found, [SQL, near_both]) == ((0, 1), (1, 0))
    assert await pairs([finding(10), finding(11)], [SQL]) in (((0, 0),), ((1, 0),))
    assert await pairs([finding(10)], [SQL, SQL]) in (((0, 0),), ((0, 1),))


def test_maximum_matching_finds_augmenting_paths():
    # Four findings, three labels: three pairs, though taking each finding's first fit in
    # order (0-0, then 2-1, 3-2) would leave finding 1 with nothing and need reshuffling.
    edges = [[0, 1], [0], [1, 2], [2]]
    found = maximum_matching(edges)
    assert len(found) == 3
    assert len({left for left, _ in found}) == len({right for _, right in found}) == 3
    assert all(right in edges[left] for left, right in found)
    assert maximum_matching([[], []]) == []


class WordJudge:
    """A judge that calls two sentences the same issue when they share a word it is given."""

    def __init__(self, word: str) -> None:
        self.word = word
        self.asked: list[tuple[str, str]] = []

    async def same_issue(self, candidate: str, golden: str) -> bool:
        self.asked.append((candidate, golden))
        return self.word in candidate.lower() and self.word in golden.lower()


async def test_a_judge_decides_the_same_issue_instead_of_the_kind():
    judge = WordJudge("injection")
    assert await pairs([finding(10, "style")], [SQL], judge=judge) == ((0, 0),)
    said = "a.py:10 (high) SQL injection\nUser input reaches the query."
    assert judge.asked == [(said, SQL.what)], "where, how severe, what: as the benchmark's"
    other = WordJudge("overflow")
    assert await pairs([finding(10)], [SQL], judge=other) == ()
    far = WordJudge("injection")
    assert await pairs([finding(40)], [SQL], judge=far) == ()
    assert far.asked == [], "the judge reads only pairs at the same place"


def case(name: str, kind: str = "bug", *expected: Expected) -> Case:
    return Case(name, "", expected=expected, kind=kind)


async def test_the_report_counts_matches_intervals_and_cost():
    results = [
        CaseResult(case("c1", "bug", SQL), [finding(10), finding(50)], cost_usd=0.25),
        CaseResult(case("c2", "bug", SQL), [finding(10, "style")], cost_usd=0.25),
        CaseResult(case("c3", "clean"), [finding(3)], cost_usd=0.5),
        CaseResult(case("c4", "style", NAMING), [finding(30, "style")], cost_usd=0.0),
    ]

    data = report(await score(results, ["security", "style"]), ["security", "style"], "m")

    line = data["overall"]["by_line"]
    assert (line["findings"], line["matched"], line["expected"]) == (5, 2, 3)
    assert (line["precision"], line["recall"]) == (0.4, 0.667)
    assert line["interval"]["precision"][0] <= 0.4 <= line["interval"]["precision"][1]
    assert data["kinds"] == {"bug": 2, "style": 1, "clean": 1}
    assert data["false_positives_on_clean_prs"] == 1
    assert data["cost_usd"] == 1.0
    assert (data["cost_per_case_usd"], data["cost_per_true_finding_usd"]) == (0.25, 0.5)
    assert [c["matched"] for c in data["cases"]] == [1, 0, 0, 1]
    assert data["overall"]["by_file"]["matched"] == 2


async def test_a_run_without_a_true_finding_has_no_cost_per_true_finding():
    results = [CaseResult(case("c1", "bug", SQL), [finding(50)], cost_usd=0.1)]
    data = report(await score(results, ["security"]), ["security"], "m")
    assert data["cost_per_true_finding_usd"] is None and data["cost_per_case_usd"] == 0.1
    assert data["overall"]["by_line"]["matched"] == 0
    assert data["overall"]["by_file"]["matched"] == 1, "by file, 40 lines off still counts"


async def test_a_report_asks_its_judge_once_per_pair_of_sentences():
    judge = WordJudge("injection")
    results = [CaseResult(case(f"c{n}", "bug", SQL), [finding(10)]) for n in range(3)]

    data = report(await score(results, ["security"], judge), ["security"], "m")

    assert data["overall"]["by_line"]["matched"] == 3
    assert len(judge.asked) == 1
