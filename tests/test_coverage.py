"""Coverage: the share of a PR a review read, said in one sentence."""

from __future__ import annotations

from bot.review.changes import UNPARSABLE, Skipped
from bot.review.coverage import AgentFailure, Coverage


def test_the_sentence_rounds_the_share_of_lines_down():
    coverage = Coverage(files=121, reviewed_files=37, lines=1000, reviewed_lines=129)

    assert coverage.sentence() == "Reviewed 37 of 121 files, 12% of changed lines"
    assert Coverage(2, 2, 1000, 999).line_percent == 99  # never 100 unless all
    assert Coverage(1, 0, 0, 0).line_percent == 100  # nothing changed: nothing left out


def test_only_a_cut_file_makes_the_review_partial():
    chosen = Skipped("logo.png", "binary")
    cut = Skipped("big.py", "over this review's token budget (max_review_tokens)", cut=True)

    assert not Coverage(2, 1, 10, 5, not_reviewed=(chosen,)).partial
    assert Coverage(3, 1, 10, 5, not_reviewed=(chosen, cut)).partial


def test_a_partial_review_is_never_100_percent():
    cut = Skipped("odd.py", "its diff could not be parsed: ...", cut=True, unparsable=True)

    assert Coverage(2, 1, 10, 10, not_reviewed=(cut,)).line_percent == 99  # odd.py had no lines
    assert Coverage(1, 0, 0, 0, not_reviewed=(cut,)).line_percent == 0
    failed = AgentFailure("bugs", "Gemini answered 503", 1, ("a.py",))
    assert Coverage(1, 1, 10, 10, failed=(failed,)).line_percent == 99


def test_a_file_only_some_agents_read_is_not_counted_as_reviewed():
    failed = AgentFailure("bugs", "Gemini answered 503", 1, ("b.py",))

    coverage = Coverage(2, 1, 10, 6, failed=(failed,), partly_files=1, partly_lines=4)

    assert coverage.sentence() == (
        "Reviewed 1 of 2 files (1 more by only some of the agents), 60% of changed lines"
    )
    assert coverage.partial and not coverage.unread


def test_the_reasons_name_each_cause_once_and_the_unparsable_files():
    unparsable = tuple(
        Skipped(f"f{i}.py", UNPARSABLE + "a hunk header does not parse", cut=True, unparsable=True)
        for i in range(7)
    )
    budget = Skipped("big.py", "over this review's token budget", cut=True)
    calls = (
        AgentFailure("bugs", "connection error (after 3 attempts)", 1),
        AgentFailure("style", "connection error (after 3 attempts)", 1),
        AgentFailure("security", "Gemini answered 400 (after 1 attempt)", 2),
    )

    coverage = Coverage(9, 1, 90, 10, (*unparsable, budget), unfinished=2, failed=calls)

    assert coverage.reasons() == (
        "the diff of 7 file(s) could not be parsed: f0.py, f1.py, f2.py, f3.py, f4.py and 2 more",
        "1 file(s) it would have read were left out by its token budget or a size cap",
        "2 agent call(s) were not made: the token budget ran out",
        "2 agent call(s) failed: connection error (after 3 attempts)",
        "1 agent call(s) failed: Gemini answered 400 (after 1 attempt)",
    )
    assert Coverage(1, 1, 5, 5).reasons() == ()


def test_nothing_read_when_no_file_parsed():
    odd = Skipped("odd.py", UNPARSABLE + "Hunk is shorter than expected", 3, True, True)
    lock = Skipped("uv.lock", "lock file", 40)

    coverage = Coverage(2, 0, 43, 0, not_reviewed=(odd, lock))

    assert coverage.unread
    assert coverage.unread_reason == (
        "the diff could not be parsed: odd.py (Hunk is shorter than expected)"
    )
    assert not Coverage(2, 1, 43, 40, not_reviewed=(odd,)).unread
