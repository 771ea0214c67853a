"""Checks that rendered markdown is inert, with a CommonMark parser, and hostile text to try."""

from __future__ import annotations

import re

from hypothesis import strategies as st
from markdown_it import MarkdownIt
from markdown_it.token import Token

from bot.review.markdown import ZWSP

MD = MarkdownIt("gfm-like")  # CommonMark with GitHub's tables, strikethrough and autolinks
MD.linkify.set({"fuzzy_link": False})  # as GitHub: `www.`, a scheme or an email, not `a.com`

# Every way we know for text to become something other than text on GitHub.
HOSTILE = [
    "`", "``", "```", "````", "~~~", "|", "||", "\\", "\\`", "\\\\`",
    "<details>x</details>", "<!-- second-look:summary -->", "<!--", "-->",
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>",
    "[x](https://evil.example)", "![i](https://evil.example/p.png)", "[x]: https://evil.example",
    "[x][y]", "<https://evil.example>", "https://evil.example", "www.evil.example",
    "a@evil.example", "mailto:a@evil.example", "@alice", "@org/team", "other/repo#12", "#12",
    "GH-12", "&#64;alice", "&lt;b&gt;", "&amp;", "\u202egnp.exe", "\u2066x\u2069", "\u200f",
    "**bold**", "_em_", "~~gone~~", "# heading", "> quote", "- item", "+ item", "* item",
    "1. item", "2) item", "---", "===", "***", "    indented", "$x$", "$$x$$", "\x00", "\x1b[31m",
    "\r\n", "\n", "\n\n", " ",
]  # fmt: skip

hostile_text = st.lists(st.one_of(st.sampled_from(HOSTILE), st.text(max_size=8)), max_size=12).map(
    "".join
)

FORBIDDEN = {
    "html_inline", "html_block", "link_open", "image", "code_inline", "code_block", "fence",
    "em_open", "strong_open", "s_open", "heading_open", "blockquote_open", "bullet_list_open",
    "ordered_list_open", "hr", "table_open",
}  # fmt: skip
MENTION = re.compile(r"@[A-Za-z0-9]")
REFERENCE = re.compile(r"#\d")


def tokens(markdown: str) -> list[Token]:
    """Every block and inline token of the rendered markdown."""
    out = []
    for token in MD.parse(markdown):
        out.append(token)
        out.extend(token.children or [])
    return out


def shown(markdown: str) -> str:
    """The text a reader sees, zero-width spaces aside."""
    return "".join(t.content for t in tokens(markdown) if t.type == "text").replace(ZWSP, "")


def assert_inert(markdown: str) -> None:
    found = tokens(markdown)
    assert not FORBIDDEN & {t.type for t in found}, [t.type for t in found]
    for token in found:
        if token.type == "text":
            assert not MENTION.search(token.content), token.content
            assert not REFERENCE.search(token.content), token.content
    for bidi in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069":
        assert bidi not in markdown
