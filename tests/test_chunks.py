"""The diff as the agents read it: the context around each hunk, and its share of a chunk."""

from __future__ import annotations

import re

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
