"""Untrusted text in our markdown: each context holds, checked with a CommonMark parser."""

from __future__ import annotations

import pytest
from hypothesis import given

from bot.review.markdown import ZWSP, block, clean, code, plain, text
from tests.inert import FORBIDDEN, HOSTILE, assert_inert, hostile_text, shown, tokens


@pytest.mark.parametrize("hostile", HOSTILE)
def test_text_shows_exactly_its_characters(hostile):
    rendered = text(f"before {hostile} after")

    assert_inert(rendered)
    assert shown(rendered) == " ".join(clean(f"before {hostile} after").split())


@given(hostile_text)
def test_any_text_is_inert_and_shown_as_written(value):
    rendered = text(value)

    assert_inert(rendered)
    assert shown(rendered) == " ".join(clean(value).split())


@given(hostile_text)
def test_multiline_text_stays_inside_its_list_item(value):
    rendered = "- item\n  " + text(value, multiline=True, indent="  ")

    found = tokens(rendered)
    assert [t.type for t in found].count("list_item_open") == 1
    assert not (FORBIDDEN - {"bullet_list_open"}) & {t.type for t in found}


def code_spans(markdown: str) -> list[str]:
    return [t.content for t in tokens(markdown) if t.type == "code_inline"]


@pytest.mark.parametrize("hostile", HOSTILE)
def test_code_holds_any_backticks(hostile):
    value = f"src/{hostile}.py"

    rendered = f"{code(value)} then `a later span`"

    spans = [span.replace(ZWSP, "") for span in code_spans(rendered)]
    assert spans == [" ".join(clean(value).split("\n")), "a later span"]
    assert not {"html_inline", "link_open", "image"} & {t.type for t in tokens(rendered)}


@given(hostile_text.filter(lambda v: clean(v).strip(" \n")))
def test_any_code_span_is_one_span_of_the_value(value):
    spans = code_spans(f"x {code(value)} y")

    assert [span.replace(ZWSP, "") for span in spans] == [" ".join(clean(value).split("\n"))]


def test_code_never_carries_our_marker():
    assert "<!-- second-look" not in code("<!-- second-look:summary -->")
    assert "<!-- second-look" not in text("<!-- second-look:summary -->")


@given(hostile_text)
def test_a_block_is_closed_only_by_its_own_fence(value):
    rendered = block(value, "suggestion") + "\n\nafter"

    fences = [t for t in tokens(rendered) if t.type == "fence"]
    assert len(fences) == 1
    assert fences[0].info == "suggestion"
    assert fences[0].content == clean(value).rstrip() + "\n"
    assert shown(rendered).endswith("after")


def test_plain_is_one_clean_line_within_its_limit():
    assert plain("a\u202eb\n\nc\x00d   e", 100) == "ab cd e"
    assert plain("x" * 300, 255) == "x" * 254 + "…"
    assert plain("one\n two\n", 100, multiline=True) == "one\ntwo"
