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


# m.py's diff changes line 2 (`b = 20`) and line 25; lines 1 and 3-5 are unchanged context.
HEAD = {"m.py": NEW}


def test_a_finding_on_context_lines_is_dropped_unless_its_evidence_names_a_changed_line():
    checked = check(
        [
            at(3, title="no evidence"),
            at(3, title="by number", evidence="Lines 2-2 set b, which c depends on"),
            at(4, title="by code", evidence="`b = 20` makes c wrong"),
            at(5, title="another hunk's line", evidence="line 25 changed"),
        ],
        DIFF,
    )

    assert sorted(f.title for f in checked.findings) == ["by code", "by number"]
    assert checked.untouched == 2


def test_a_finding_on_an_added_line_needs_no_evidence():
    assert check([at(2)], DIFF).untouched == 0


def test_context_lines_around_a_deletion_only_hunk_are_never_untouched():
    old = "".join(f"x{i} = {i}\n" for i in range(1, 30))
    diff = Diff(files=[parse_file(make_file_diff("d.py", old, old.replace("x10 = 10\n", "")))])

    assert check([at(10, file_path="d.py")], diff).untouched == 0


def kept(line: int, suggestion: str, **kw) -> Finding:
    return at(line, suggestion=suggestion, suggestion_kept=True, **kw)


def test_a_kept_suggestion_that_parses_is_offered_one_that_does_not_is_not():
    checked = check(
        [kept(2, "b = 21\n"), kept(25, "v25 = (250\n", title="other")], DIFF, texts=HEAD
    )

    offered = {f.line_start: f.offered for f in checked.findings}
    assert offered == {2: True, 25: False}


def test_no_offer_without_the_verifiers_word_or_the_head_text():
    unverified = at(2, suggestion="b = 21\n")

    assert not check([unverified], DIFF, texts=HEAD).findings[0].offered
    assert not check([kept(2, "b = 21\n")], DIFF).findings[0].offered, "head text unknown"


def test_a_language_we_do_not_parse_needs_only_the_verifiers_word():
    diff = Diff(files=[parse_file(make_file_diff("c.yml", "a: 1\nb: 2\n", "a: 1\nb: 3\n"))])

    (finding,) = check([kept(2, "b: [\n", file_path="c.yml")], diff).findings
    assert finding.offered


def test_a_merged_finding_takes_the_verifiers_word_with_the_suggestion_it_takes():
    bare = at(2, severity="high", title="Magic number")
    fixed = kept(2, "b = 21\n", agent_type="style")

    (merged,) = check([bare, fixed], DIFF, texts=HEAD).findings
    assert (merged.severity, merged.suggestion, merged.offered) == ("high", "b = 21\n", True)
