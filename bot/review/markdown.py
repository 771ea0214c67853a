"""Text we did not write, made safe for GitHub: one function per context, none breakable.

Model output, file paths, PR titles, branch names and config values reach comments, reviews
and check runs only through these:
- `text`: prose in our markdown. No HTML, link, image, autolink, mention, reference, code,
  emphasis, heading, list, quote or table cell boundary can form from it.
- `code`: an inline code span, fenced with more backticks than any run inside it.
- `block`: a fenced code block, likewise.
- `plain`: a field GitHub shows unrendered (a check run's title, an annotation).
- `terminal`: text the command line prints, with no escape sequence that drives a terminal.
Each strips bidi controls (Trojan Source) and other invisible or control characters first.
"""

from __future__ import annotations

import re

ZWSP = "\u200b"  # a zero-width space: breaks a mention, an autolink or a reference invisibly

# Bidi embeddings, overrides and isolates, marks, zero-width characters and the BOM.
_INVISIBLE = re.compile("[\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff]")
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Every character that can open or close a markdown construct, or decode to one (`&#64;`).
_SPECIAL = re.compile(r"([\\`*_~\[\]<>|&#$])")
_LINE_START = re.compile(r"(?m)^([-+=]|\d+(?=[.)]))")
# Where an autolink could start: a scheme's colon (`https:`, `mailto:`), `//`, `www.`.
_LINK_LIKE = re.compile(r"(?i)(?<=[a-z0-9])(?=:[^\s:])|(?<=/)(?=/)|(?<=www)(?=\.)")
# ANSI/ECMA-48 sequences, 7-bit and 8-bit: CSI (`ESC [ ... final`), OSC, DCS, SOS, PM and APC
# strings (up to BEL or ST), and two-character escapes. What is left of a broken one is a
# control character, which `clean` takes out.
_ESCAPES = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -/]*[0-~]"
)
_MARKER_OPEN = "<!--"  # our own markers are HTML comments: text never carries one


def clean(value: str) -> str:
    """Unicode-safe text: one kind of newline, no control or invisible characters."""
    value = value.replace("\r\n", "\n").replace("\r", "\n").replace("\t", "    ")
    return _CONTROL.sub("", _INVISIBLE.sub("", value))


def terminal(value: str) -> str:
    """Text for a terminal: no escape sequence, control, bidi or invisible character; newlines
    kept, tabs as spaces."""
    return clean(_ESCAPES.sub("", value))


def text(value: str, *, multiline: bool = False, indent: str = "") -> str:
    """Prose that renders as exactly these characters and nothing more.

    One line unless `multiline`; then each further line starts with `indent`, so a
    description stays inside the list item it belongs to.
    """
    value = clean(value).replace(_MARKER_OPEN, "<!-" + ZWSP + "-")
    lines = [" ".join(line.split()) for line in value.split("\n")]
    if not multiline:
        lines = [" ".join(line for line in lines if line)]
    value = "\n".join(lines)
    value = _SPECIAL.sub(r"\\\1", value)
    value = _escape_line_starts(value)
    value = value.replace("@", "@" + ZWSP)
    value = re.sub(r"#(?=\d)", "#" + ZWSP, value)
    value = _LINK_LIKE.sub(ZWSP, value)
    return value.replace("\n", "\n" + indent)


def _escape_line_starts(value: str) -> str:
    """A line cannot start a list, a setext heading or a thematic break."""

    def escape(match: re.Match[str]) -> str:
        start = match.group(1)
        return "\\" + start if not start.isdigit() else start + "\\"

    return _LINE_START.sub(escape, value)


def code(value: str) -> str:
    """An inline code span that shows `value` on one line, whatever backticks it holds.

    Not for a table cell: GitHub splits a cell at `|` even inside code.
    """
    value = " ".join(clean(value).split("\n")).replace(_MARKER_OPEN, "<!-" + ZWSP + "-")
    if not value.strip(" "):
        value = value or " "
        return f"`{value}`"
    fence = "`" * (_longest_run(value) + 1)
    # CommonMark strips one space from each end when both are there: pad when it matters.
    pad = " " if value[0] in "` " or value[-1] in "` " else ""
    return f"{fence}{pad}{value}{pad}{fence}"


def block(value: str, info: str = "") -> str:
    """A fenced code block no line of `value` can close early."""
    value = clean(value).rstrip()
    fence = "`" * max(3, _longest_run(value) + 1)
    return f"{fence}{info}\n{value}\n{fence}"


def plain(value: str, limit: int, *, multiline: bool = False) -> str:
    """A field GitHub does not render, cut at `limit` characters; one line unless asked."""
    lines = [" ".join(line.split()) for line in clean(value).split("\n")]
    value = "\n".join(lines).strip() if multiline else " ".join(filter(None, lines))
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _longest_run(value: str) -> int:
    return max((len(run) for run in re.findall(r"`+", value)), default=0)


def workflow_command(value: str, *, prop: bool = False) -> str:
    """A GitHub Actions workflow command's message (or, `prop`, a property's value): one line
    in the job log that no newline, `::` or `,` in it can end or extend."""
    value = clean(value).replace("%", "%25").replace("\n", "%0A")
    return value.replace(":", "%3A").replace(",", "%2C") if prop else value
