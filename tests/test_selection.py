"""Selection: which files fit the budget, in priority order, holding little while it decides."""

from __future__ import annotations

from bot.review.selection import BUDGET, GENERATED, Attributes, Kind, Selection, kind_of
from tests.fakes.diffs import make_file_diff


def section(path: str, lines: int, width: int = 20) -> str:
    return make_file_diff(path, None, "".join(f"{i:0{width}d}\n" for i in range(lines)))


def chosen(selection: Selection) -> list[str]:
    diff, _ = selection.choose()
    return [f.path for f in diff.files]


def test_files_are_classed_by_path():
    assert kind_of("bot/app/worker.py") is Kind.SOURCE
    assert kind_of("tests/test_worker.py") is Kind.TEST
    assert kind_of("web/app.spec.ts") is Kind.TEST
    assert kind_of("README.md") is Kind.DOCS
    assert kind_of("config/settings.yaml") is Kind.DOCS
    assert kind_of("api/service_pb2.py") is Kind.GENERATED
    assert kind_of("data/cities.csv") is Kind.GENERATED
    assert kind_of("ui/__snapshots__/button.js") is Kind.GENERATED


def test_linguist_generated_in_gitattributes_marks_files_generated():
    attributes = Attributes.parse(
        "# generated clients\napi/** linguist-generated\n*.gen.go linguist-generated=true\n"
        "api/handwritten.py -linguist-generated\n"
    )

    assert kind_of("api/client.py", attributes.generated) is Kind.GENERATED
    assert kind_of("pkg/x.gen.go", attributes.generated) is Kind.GENERATED
    assert kind_of("api/handwritten.py", attributes.generated) is Kind.SOURCE
    assert kind_of("src/api/client.py", attributes.generated) is Kind.SOURCE


def test_source_comes_first_then_tests_then_docs_and_the_smaller_change_first():
    selection = Selection(capacity=10**6, hold_bytes=10**9)
    for text in (
        section("README.md", 5),
        section("tests/test_a.py", 5),
        section("src/big.py", 50),
        section("src/small.py", 5),
        section("data/x.csv", 5),
    ):
        selection.offer(text)

    assert chosen(selection) == [
        "src/small.py",
        "src/big.py",
        "tests/test_a.py",
        "README.md",
        "data/x.csv",
    ]


def test_what_does_not_fit_is_named_with_its_reason_and_lines():
    selection = Selection(capacity=400, hold_bytes=10**9)
    selection.offer(section("src/a.py", 20))
    selection.offer(section("docs/long.md", 200))
    selection.offer(section("data/rows.csv", 200))

    diff, coverage = selection.choose()

    assert diff.paths == ["src/a.py"]
    reasons = {s.path: (s.reason, s.lines, s.cut) for s in diff.skipped}
    assert reasons == {
        "docs/long.md": (BUDGET, 200, True),
        "data/rows.csv": (GENERATED, 200, False),
    }
    assert (coverage.files, coverage.reviewed_files) == (3, 1)
    assert (coverage.lines, coverage.reviewed_lines) == (420, 20)
    assert coverage.partial
    assert coverage.sentence() == "Reviewed 1 of 3 files, 4% of changed lines"


def test_a_file_of_very_long_lines_is_data_and_goes_last():
    selection = Selection(capacity=10**6, hold_bytes=10**9)
    selection.offer(section("src/blob.py", 3, width=2_000))
    selection.offer(section("src/code.py", 30))

    assert chosen(selection) == ["src/code.py", "src/blob.py"]


def test_held_text_stays_under_its_bound_and_the_worst_is_named():
    selection = Selection(capacity=10**6, hold_bytes=50_000)
    for i in range(200):
        selection.offer(section(f"data/part{i:03d}.csv", 100))
        assert selection._held_bytes <= 50_000
    selection.offer(section("src/main.py", 10))

    diff, coverage = selection.choose()

    assert "src/main.py" in diff.paths
    assert coverage.files == 201
    assert len(diff.files) + len(diff.skipped) == 201, "every file is reviewed or named"


def test_policy_skips_are_counted_but_do_not_make_the_review_partial():
    selection = Selection(capacity=10**6, hold_bytes=10**9, ignore=("docs/*",))
    selection.offer(section("docs/a.md", 3))
    selection.offer(section("yarn.lock", 3))
    binary = "Binary files a/logo.png and b/logo.png differ"
    selection.offer(f"diff --git a/logo.png b/logo.png\n{binary}\n")
    selection.offer(section("src/a.py", 3))

    diff, coverage = selection.choose()

    assert {s.path: s.reason for s in diff.skipped} == {
        "docs/a.md": "ignored by config (docs/*)",
        "yarn.lock": "lock file",
        "logo.png": "binary",
    }
    assert not coverage.partial and coverage.files == 4


def test_an_incremental_review_sends_only_changed_files_and_keeps_those_with_findings():
    selection = Selection(
        capacity=10**6,
        hold_bytes=10**9,
        wanted=lambda path: path == "src/new.py",
        keep=lambda path: path == "src/old.py",
    )
    for path in ("src/new.py", "src/old.py", "src/other.py"):
        selection.offer(section(path, 4))

    diff, coverage = selection.choose()

    assert sorted(diff.paths) == ["src/new.py", "src/old.py"]  # old.py only to check findings
    assert (coverage.files, coverage.reviewed_files) == (3, 3)


def test_a_size_capped_file_is_cut():
    selection = Selection(capacity=10**6, hold_bytes=10**9)
    selection.too_large("src/huge.py", 90_000, "size cap")

    diff, coverage = selection.choose()

    assert [(s.path, s.lines, s.cut) for s in diff.skipped] == [("src/huge.py", 90_000, True)]
    assert coverage.partial
