"""The diff as the agents read it: the context around each hunk, and its share of a chunk."""

from __future__ import annotations

import re

from hypothesis import assume, given
from hypothesis import strategies as st

from bot.review.changes import ChangedFile, parse_file
from bot.review.chunks import CONTEXT_SHARE, chunk_diff, context_of
from tests.fakes.diffs import make_file_diff


def changed(path: str, old: str, new: str) -> ChangedFile:
    parsed = parse_file(make_file_diff(path, old, new))
    assert isinstance(parsed, ChangedFile)
    return parsed


def function(name: str, lines: int) -> str:
    body = "".join(f"    step_{i} = {name}_input({i})\n" for i in range(lines))
    return f"def {name}():\n{body}    return step_0\n\n\n"


OLD = function("first", 30) + function("second", 30)
NEW = OLD.replace("    step_20 = second_input(20)\n", "    step_20 = second_input(21)\n")


def numbers(text: str, marker: str) -> list[int]:
    return [int(n) for n in re.findall(rf"^ +(\d+) {re.escape(marker)}\| ", text, re.MULTILINE)]


def test_context_is_the_enclosing_function_and_never_repeats_a_diff_line():
    file = changed("app.py", OLD, NEW)
    context = context_of(file, NEW)
    assert context is not None

    [chunk] = chunk_diff([file], 100_000, {"app.py": context})

    shown = numbers(chunk.text, "~")
    diff_lines = set(file.new_text)
    assert shown and min(shown) == 35, "from the def line of `second`"
    assert "~ context: function second" in chunk.text
    assert not diff_lines & set(shown), "a line is either diff or context"
    assert "first_input" not in chunk.text, "nothing of the function before"


def test_context_takes_at_most_its_share_of_a_chunk():
    big = function("big", 400)
    file = changed("big.py", big, big.replace("step_200 = big_input(200)", "step_200 = 0"))
    context = context_of(file, big.replace("step_200 = big_input(200)", "step_200 = 0"))
    assert context is not None

    for budget in (1_500, 4_000, 20_000):
        for chunk in chunk_diff([file], budget, {"big.py": context}):
            assert len(chunk.text) <= budget
            assert chunk.context_chars <= CONTEXT_SHARE * len(chunk.text)
            context_text = sum(len(line) + 1 for line in chunk.text.splitlines() if "~| " in line)
            assert context_text <= chunk.context_chars


def test_context_is_the_signature_then_the_lines_nearest_the_hunk_when_room_is_short():
    file = changed("app.py", OLD, NEW)
    context = context_of(file, NEW)
    assert context is not None

    [chunk] = chunk_diff([file], len(chunk_diff([file], 10**6)[0].text) + 200, {"app.py": context})

    shown = numbers(chunk.text, "~")
    first_hunk_line = min(file.new_text)
    assert shown[0] == 35, "the def line of `second`"
    assert max(shown) == first_hunk_line - 1, "then the line just above the hunk"
    assert "       ~| ...\n" in chunk.text, "and a mark where lines are left out"


def test_a_head_that_does_not_match_the_diff_gives_no_context():
    file = changed("app.py", OLD, NEW)

    assert context_of(file, OLD) is None, "the base's text, not the head's"
    assert context_of(file, NEW.replace("\n", "\r\n")) is not None, "line endings aside"


def test_a_hunk_that_only_deletes_gets_the_function_it_deleted_from():
    new = OLD.replace("    step_20 = second_input(20)\n", "")
    file = changed("app.py", OLD, new)
    context = context_of(file, new)
    assert context is not None

    [chunk] = chunk_diff([file], 100_000, {"app.py": context})

    assert "~ context: function second" in chunk.text


def test_without_heads_no_context_is_shown():
    file = changed("app.py", OLD, NEW)

    [chunk] = chunk_diff([file], 100_000)

    assert numbers(chunk.text, "~") == [] and chunk.context_chars == 0


LINES = st.sampled_from(
    [
        "def run(x):",
        "    x = x + 1",
        "    return x",
        "",
        "class Box:",
        "    def size(self):",
        "        return 2",
        "# note",
    ]
)


@st.composite
def edited_files(draw):
    """A file of code-like lines and a new version with lines replaced, added and deleted."""
    old = draw(st.lists(LINES, min_size=1, max_size=60))
    new = list(old)
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(new)))
        kind = draw(st.sampled_from(["insert", "replace", "delete"]))
        if kind == "insert" or not new:
            new.insert(at, f"    added_{at} = {at}")
        elif kind == "replace":
            new[min(at, len(new) - 1)] = f"    changed_{at} = {at}"
        else:
            del new[min(at, len(new) - 1)]
    return "\n".join(old) + "\n", "\n".join(new) + "\n"


@given(edited_files(), st.integers(300, 6_000))
def test_context_never_takes_a_diff_line_or_more_than_its_share(pair, budget):
    old, new = pair
    assume(old != new)
    file = changed("app.py", old, new)
    context = context_of(file, new)
    assert context is not None, "the head text matches the diff it was made from"

    chunks = chunk_diff([file], budget, {"app.py": context})

    for chunk in chunks:
        assert len(chunk.text) <= budget
        assert chunk.context_chars <= CONTEXT_SHARE * len(chunk.text)
        assert not set(numbers(chunk.text, "~")) & set(file.new_text)
    added = [
        line.split("+| ", 1)[1] for c in chunks for line in c.text.split("\n") if "+| " in line
    ]
    expected = [text for h in file.hunks for kind, _, text in h.lines if kind == "+"]
    assert added == expected, "every added line read once, in order"
