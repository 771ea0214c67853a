"""The PR diff, streamed one file at a time: caps, skips and chunk boundaries."""

from __future__ import annotations

import pytest

from bot.github.diff import fetch_diff
from bot.pull import Pull
from bot.review.changes import UNPARSABLE, Skipped, parse_file, skip_reason
from bot.review.selection import Selection
from tests.fakes.diffs import make_file_diff
from tests.reviewing import OWNER, REPO, many_files, open_pull


async def diff_of(services, pull, max_file_bytes=1_000_000, **selecting):
    """The diff as a selection with room for everything keeps it."""
    selecting.setdefault("hold_bytes", 10**9)
    selection = Selection(10**9, **selecting)
    await fetch_diff(
        services.github,
        Pull(pull.installation_id, OWNER, REPO, pull.number),
        selection=selection,
        max_file_bytes=max_file_bytes,
    )
    diff, _ = selection.choose()
    return diff


BIG = "".join(f"line {i:05d} " + "x" * 40 + "\n" for i in range(5_000))


async def test_file_over_the_cap_is_skipped_and_named(services, fake_github):
    pull = open_pull(fake_github, files={"big.txt": (None, BIG), "small.py": ("a\n", "b\n")})

    diff = await diff_of(services, pull, max_file_bytes=100_000)

    assert diff.paths == ["small.py"]
    assert [(s.path, s.reason) for s in diff.skipped] == [
        ("big.txt", "size cap: the diff of this file is over 100,000 bytes (MAX_DIFF_FILE_BYTES)")
    ]


async def test_files_api_applies_the_same_cap(services, fake_github):
    fake_github.max_diff_files = 1
    pull = open_pull(fake_github, files={"big.txt": (None, BIG), "small.py": ("a\n", "b\n")})

    diff = await diff_of(services, pull, max_file_bytes=100_000)

    assert fake_github.find_requests("GET", r"/pulls/7/files")
    assert diff.paths == ["small.py"]
    assert [s.path for s in diff.skipped] == ["big.txt"]


async def test_boundaries_split_across_chunks_give_the_same_files(services, fake_github):
    fake_github.diff_chunk_size = 7  # cut "\ndiff --git " itself across chunks
    files = many_files(12)
    pull = open_pull(fake_github, files=files)

    diff = await diff_of(services, pull)

    assert diff.paths == sorted(files)
    assert all(f.added == frozenset({2}) for f in diff.files)


async def test_a_megabyte_line_does_not_break_the_stream(services, fake_github):
    line = "x" * 1_500_000
    pull = open_pull(fake_github, files={"data.txt": (None, line + "\n"), "a.py": ("1\n", "2\n")})

    diff = await diff_of(services, pull, max_file_bytes=2_000_000)

    assert diff.paths == ["a.py", "data.txt"]
    assert diff.file("data.txt").new_text[1] == line


async def test_binary_deleted_and_generated_files_are_skipped_with_reasons(services, fake_github):
    pull = open_pull(
        fake_github,
        files={
            "logo.png": (None, b"\x89PNG\r\n\x1a\n\x00"),
            "old.py": ("gone\n", None),
            "package-lock.json": ("{}\n", '{"a": 1}\n'),
            "static/app.min.js": (None, "var a=1;\n"),
            "vendor/lib/x.go": (None, "package x\n"),
            "main.py": (None, "print('hi')\n"),
        },
    )

    diff = await diff_of(services, pull)

    assert diff.paths == ["main.py"]
    assert {s.path: s.reason for s in diff.skipped} == {
        "logo.png": "binary",
        "old.py": "deleted",
        "package-lock.json": "lock file",
        "static/app.min.js": "minified",
        "vendor/lib/x.go": "vendored",
    }


def test_quoted_non_ascii_path_is_unquoted():
    text = make_file_diff("docs/café.md", "a\n", "b\n")

    parsed = parse_file(text)

    assert parsed.path == "docs/café.md"


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("yarn.lock", "lock file"),
        ("web/node_modules/x/index.js", "vendored"),
        ("src/app.py", None),
        ("docs/a.md", "ignored by config (docs/*)"),
    ],
)
def test_skip_reasons(path, reason):
    assert skip_reason(path, ignore=("docs/*",)) == reason


def test_hunk_lines_know_their_new_side_numbers():
    text = make_file_diff("m.py", "a\nb\nc\nd\n", "a\nB\nc\nd\ne\n")

    parsed = parse_file(text)

    assert parsed.added == frozenset({2, 5})
    assert parsed.in_one_hunk(1, 3)
    assert not parsed.in_one_hunk(5, 6)


GOOD = "diff --git a/m.py b/m.py\n--- a/m.py\n+++ b/m.py\n@@ -1,2 +1,3 @@\n a\n+b\n c\n"


@pytest.mark.parametrize(
    ("text", "why"),
    [
        (GOOD.replace("@@ -1,2 +1,3 @@", "@@ -1,2 +1,3 BROKEN @@"),
         "a hunk header does not parse: '@@ -1,2 +1,3 BROKEN @@'"),
        (GOOD + "@@ -10,2 +11 3 @@\n d\n+e\n f\n",  # the second hunk's header is damaged
         "a hunk header does not parse: '@@ -10,2 +11 3 @@'"),
        (GOOD + "+stray\n", "1 changed line(s) outside any hunk"),
        (GOOD.replace("+++ b/m.py\n", "+++ b/m.py\n+orphan\n"),
         "1 changed line(s) outside any hunk"),
        (GOOD.replace("-1,2 +1,3", "-1,2 +1,9"), "Hunk is shorter than expected"),
    ],
    ids=["header", "second-header", "after-a-hunk", "before-any-hunk", "counts"],
)  # fmt: skip
def test_a_file_whose_changed_lines_are_not_all_read_is_unparsable_and_cut(text, why):
    parsed = parse_file(text)

    assert isinstance(parsed, Skipped), parsed
    assert (parsed.path, parsed.cut, parsed.unparsable) == ("m.py", True, True)
    assert parsed.reason == UNPARSABLE + why


@pytest.mark.parametrize(
    "text",
    [
        GOOD,
        GOOD + "-- \n2.43.0\n\n",  # git format-patch's signature after the last file
        "diff --git a/m.py b/m.py\n--- a/m.py\n+++ b/m.py\n@@ -1 +1 @@\n-a\n"
        "\\ No newline at end of file\n+b\n\\ No newline at end of file\n",
        "diff --git a/m.py b/n.py\nsimilarity index 100%\nrename from m.py\nrename to n.py\n",
        "diff --git a/m.py b/m.py\nold mode 100644\nnew mode 100755\n",
    ],
    ids=["plain", "format-patch", "no-newline", "rename", "mode"],
)
def test_a_diff_git_writes_is_read_whole(text):
    parsed = parse_file(text)

    assert not (isinstance(parsed, Skipped) and parsed.cut), parsed
