"""Coverage: the share of a PR a review read, said in one sentence."""

from __future__ import annotations

from bot.review.changes import Skipped
from bot.review.coverage import Coverage


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
