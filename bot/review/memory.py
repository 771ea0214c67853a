"""What the Action remembers between runs, kept in its own summary comment.

Without a database, `python -m bot action` stores what the next run needs in one hidden line
at the end of the summary comment it publishes anyway:

    <!-- second-look:memory v1 <payload> -->

The payload is compact JSON (short keys), zlib-compressed and base64url-encoded, so it holds
no `-->` and no space. Reading it back never raises: a block that is missing, of another
version, or whose payload does not decode, decompress (at most MAX_INFLATED bytes), parse or
validate, reads as None. Validation is all or nothing: one bad value (a severity not in
SEVERITIES, a fingerprint or head that is not hex, a wrong type) and the whole block is
refused, since a half-trusted memory is worse than a full review.

Only a block on a line of its own in a body that starts with our MARKER is read, and the first
such line is the one: our comment has exactly one, at its end. Text people write cannot carry
a block: everything we render from their text has its `<!--` defused (bot.review.markdown),
and a block quoted in another comment (`> <!-- ...`) is not on a line of its own, nor in our
comment. People with write access can still edit our comment; what they could put in the block
only changes which findings an incremental review carries forward or posts again.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import zlib
from dataclasses import dataclass, replace
from typing import Any

from bot.review.agents import SEVERITIES
from bot.review.findings import Finding
from bot.review.render import MARKER

VERSION = "v1"
MAX_INFLATED = 1_000_000  # bytes a payload may decompress to: no decompression bombs
MAX_PAYLOAD = 200_000  # characters of base64 a block may hold (a comment holds 65,536)
_BLOCK = re.compile(
    rf"^<!-- second-look:memory (\S{{1,16}}) (\S{{0,{MAX_PAYLOAD}}}) -->\r?$", re.MULTILINE
)
_HEAD = re.compile(r"(?:[0-9a-f]{40}|[0-9a-f]{64})?")  # "" for none; SHA-1 or SHA-256
_FINGERPRINT = re.compile(r"[0-9a-f]{8,64}")  # as render's finding marker accepts


@dataclass(frozen=True)
class Memory:
    """What the last review of this PR left for the next one."""

    head_sha: str  # the head the last review read ("" none)
    inline: frozenset[str]  # fingerprints already posted as inline comments
    findings: tuple[Finding, ...] = ()  # the last review's findings, to carry forward
    complete: bool = True  # False: findings were dropped to fit, the next review is a full one


class _Invalid(ValueError):
    """A payload that is not a memory we wrote."""


# ------------------------------------------------------------------------------ encoding


def encode(memory: Memory, limit: int = 16_000) -> str:
    """The memory as one line; without its findings (complete=False) when they would make the
    line longer than `limit`. The head and the inline fingerprints are always kept, so a line
    of only those may still be longer (about 22 characters per fingerprint).

    Raises ValueError for a memory that decode would refuse (e.g. a fingerprint not hex).
    """
    full = _payload(memory, with_findings=True)
    _from_payload(full)  # what we write must read back
    line = _line(full)
    if len(line) <= limit or not memory.findings:
        return line
    return _line(_payload(memory, with_findings=False))


def _payload(memory: Memory, *, with_findings: bool) -> dict[str, Any]:
    kept = memory.findings if with_findings else ()
    return {
        "h": memory.head_sha,
        "i": sorted(memory.inline),
        "c": memory.complete and len(kept) == len(memory.findings),
        "f": [_finding_json(f) for f in kept],
    }


def _finding_json(finding: Finding) -> dict[str, Any]:
    return {
        "a": finding.agent_type,
        "s": finding.severity,
        "p": finding.file_path,
        "l": finding.line_start,
        "e": finding.line_end,
        "t": finding.title,
        "d": finding.description,
        "g": finding.suggestion,
        "k": finding.fingerprint,
        "w": finding.withheld,
    }


def _line(payload: dict[str, Any]) -> str:
    raw = json.dumps(payload, separators=(",", ":"), ensure_ascii=True).encode()
    data = base64.urlsafe_b64encode(zlib.compress(raw, 9)).decode("ascii")
    return f"<!-- second-look:memory {VERSION} {data} -->"


def with_memory(body: str, memory: Memory, limit: int = 16_000) -> str:
    """`body` with its memory block (every line that looks like one) replaced by `memory`'s,
    on the last line."""
    kept = _BLOCK.sub("", body).rstrip()
    return f"{kept}\n\n{encode(memory, limit)}\n"


# ------------------------------------------------------------------------------ decoding


def decode(body: str) -> Memory | None:
    """The memory in our summary comment's body, or None (never raises)."""
    try:
        if not isinstance(body, str) or not body.startswith(MARKER):
            return None
        found = _BLOCK.search(body)
        if found is None or found.group(1) != VERSION:
            return None
        return _from_payload(_unpack(found.group(2)))
    except (_Invalid, ValueError, TypeError, RecursionError, MemoryError, zlib.error):
        return None


def _unpack(data: str) -> Any:
    try:
        packed = base64.b64decode(data, altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        raise _Invalid("not base64") from None
    inflater = zlib.decompressobj()
    raw = inflater.decompress(packed, MAX_INFLATED)
    if inflater.unconsumed_tail or not inflater.eof:
        raise _Invalid("too large, truncated or followed by more data")
    if inflater.unused_data:
        raise _Invalid("data after the stream")
    return json.loads(raw.decode("utf-8"))


def _from_payload(data: Any) -> Memory:
    if not isinstance(data, dict) or set(data) != {"h", "i", "c", "f"}:
        raise _Invalid("not a memory object")
    head = _str(data["h"])
    if not _HEAD.fullmatch(head):
        raise _Invalid("head is not a commit sha")
    inline = data["i"]
    if not isinstance(inline, list) or not all(_is_fingerprint(f) for f in inline):
        raise _Invalid("inline is not a list of fingerprints")
    complete, findings = data["c"], data["f"]
    if not isinstance(complete, bool) or not isinstance(findings, list):
        raise _Invalid("complete or findings of the wrong type")
    return Memory(head, frozenset(inline), tuple(_finding(f) for f in findings), complete)


def _finding(data: Any) -> Finding:
    if not isinstance(data, dict) or set(data) != set("aspletdgkw"):
        raise _Invalid("not a finding object")
    severity, start, end = _str(data["s"]), _line_number(data["l"]), _line_number(data["e"])
    if severity not in SEVERITIES:
        raise _Invalid("unknown severity")
    if (start is None) != (end is None) or (start is not None and end is not None and start > end):
        raise _Invalid("line range")
    fingerprint, withheld = _str(data["k"]), data["w"]
    if fingerprint and not _is_fingerprint(fingerprint):
        raise _Invalid("fingerprint is not hex")
    if not isinstance(withheld, bool):
        raise _Invalid("withheld is not a boolean")
    suggestion = data["g"]
    if suggestion is not None:
        suggestion = _str(suggestion)
    finding = Finding(
        _str(data["a"]),
        severity,
        _str(data["p"]),
        start,
        end,
        _str(data["t"]),
        _str(data["d"]),
        suggestion,
        fingerprint,
    )
    return replace(finding, withheld=withheld) if withheld else finding


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise _Invalid("not a string")
    return value


def _line_number(value: Any) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise _Invalid("not a line number")
    return value


def _is_fingerprint(value: Any) -> bool:
    return isinstance(value, str) and _FINGERPRINT.fullmatch(value) is not None
