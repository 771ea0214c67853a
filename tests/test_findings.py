"""Findings checked against the diff: dropped, moved to file level, merged."""

from __future__ import annotations

from bot.review.changes import Diff, parse_file
from bot.review.findings import Finding, check, suggestion_fits
from tests.fakes.diffs import make_file_diff

OLD = "a = 1\nb = 2\nc = 3\n" + "".join(f"v{i} = {i}\n" for i in range(4, 30))
NEW = OLD.replace("b = 2", "b = 20").replace("v25 = 25", "v25 = 250")
DIFF = Diff(files=[parse_file(make_file_diff("m.py", OLD, NEW))])


def at(line_start, line_end=None, **kw) -> Finding:
    fields = dict(
        agent_type="bugs",
        severity="medium",
        file_path="m.py",
        line_start=line_start,
        line_end=line_end or line_start,
        title="Magic number",
        description="",
    )
    return Finding(**(fields | kw))


def test_finding_on_a_file_outside_the_diff_is_dropped_and_counted():
    checked = check([at(2, file_path="other.py")], DIFF)

    assert checked.findings == []
    assert checked.dropped == 1


def test_finding_off_the_hunks_becomes_file_level():
    checked = check([at(30)], DIFF)

    (finding,) = checked.findings
    assert (finding.line_start, finding.line_end) == (None, None)
    assert checked.moved == 1
    assert "Reported at line 30" in finding.description


def test_range_spanning_two_hunks_becomes_file_level():
    checked = check([at(2, 25)], DIFF)

    assert checked.findings[0].line_start is None


def test_same_finding_from_two_agents_is_merged_keeping_the_most_severe():
    checked = check(
        [
            at(2, title="Magic number!"),
            at(1, 3, agent_type="style", severity="high", title="magic  number"),
        ],
        DIFF,
    )

    (merged,) = checked.findings
    assert merged.severity == "high"
    assert "Also reported by the bugs agent" in merged.description
    assert checked.merged == 1


def test_fingerprint_ignores_the_line_number_but_not_the_code():
    moved_down = Diff(files=[parse_file(make_file_diff("m.py", OLD, "x = 0\n" + NEW))])

    first = check([at(2)], DIFF).findings[0]
    again = check([at(3)], moved_down).findings[0]
    other = check([at(25)], DIFF).findings[0]

    assert first.fingerprint == again.fingerprint
    assert first.fingerprint != other.fingerprint


def test_suggestion_fits_only_the_flagged_lines():
    assert suggestion_fits(at(2, suggestion="b = TWENTY"), DIFF)
    assert not suggestion_fits(at(2, suggestion="b = 20"), DIFF), "no change"
    assert not suggestion_fits(at(2, suggestion="a = 1\nb = TWENTY"), DIFF), "repeats line 1"
    assert not suggestion_fits(at(2, suggestion="b = TWENTY\nc = 3"), DIFF), "repeats line 3"
    assert not suggestion_fits(at(30, suggestion="z"), DIFF), "not in the diff"
