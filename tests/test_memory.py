"""The Action's memory block: round trip, the size limit, and reading hostile text safely."""

from __future__ import annotations

import base64
import json
import random
import re
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.review.findings import Finding
from bot.review.memory import MAX_INFLATED, Memory, decode, encode, with_memory
from bot.review.render import MARKER

HEAD = "a1" * 20
SUMMARY = f"{MARKER}\n## Second Look review\n\nNo findings.\n"


def finding(n: int, **changes: object) -> Finding:
    fields: dict[str, object] = {
        "agent_type": "bugs",
        "severity": "high",
        "file_path": f"src/m{n}.py",
        "line_start": n + 1,
        "line_end": n + 3,
        "title": f"Off by one {n}",
        "description": f"The loop stops early ({n}).",
        "suggestion": "for i in range(n + 1):",
        "fingerprint": f"{n:032x}",
    }
    fields.update(changes)
    return Finding(**fields)  # type: ignore[arg-type]


MEMORY = Memory(
    HEAD,
    frozenset({"0" * 32, "f" * 32}),
    (
        finding(1),
        finding(2, line_start=None, line_end=None, suggestion=None),
        finding(3, severity="info", withheld=True),
    ),
)


def line_of(payload: object, version: str = "v1") -> str:
    data = zlib.compress(json.dumps(payload).encode())
    return f"<!-- second-look:memory {version} {base64.urlsafe_b64encode(data).decode()} -->"


def valid_payload() -> dict:
    return json.loads(zlib.decompress(base64.urlsafe_b64decode(encode(MEMORY).split()[3])))


def test_a_memory_reads_back_as_written_from_the_comment_body():
    body = with_memory(SUMMARY, MEMORY)
    assert body.startswith(SUMMARY.rstrip())
    assert body.endswith(" -->\n") and body.count("second-look:memory") == 1
    assert decode(body) == MEMORY
    assert decode(body).findings[2].withheld  # type: ignore[union-attr]
    assert decode(body.replace("\n", "\r\n")) == MEMORY  # as GitHub hands back edited bodies


def test_verification_details_are_not_kept():
    verified = finding(1, verdict="kept", confidence=0.9, verify_reason="real", dismissed_by="x")
    back = decode(with_memory(SUMMARY, Memory(HEAD, frozenset(), (verified,))))
    assert back is not None and back.findings == (finding(1),)


def test_the_block_is_replaced_not_added_again():
    once = with_memory(SUMMARY, MEMORY)
    newer = Memory("b2" * 20, frozenset({"1" * 32}))
    twice = with_memory(once, newer)
    assert twice.count("second-look:memory") == 1
    assert decode(twice) == newer
    assert twice.startswith(SUMMARY.rstrip())


def test_the_payload_is_url_safe_and_one_line():
    line = encode(MEMORY)
    payload = line.removeprefix("<!-- second-look:memory v1 ").removesuffix(" -->")
    assert re.fullmatch(r"[A-Za-z0-9_-]+=*", payload)
    assert "\n" not in line


def test_over_the_limit_findings_are_dropped_and_the_memory_says_so():
    # Incompressible descriptions: hex of seeded random bytes.
    many = tuple(finding(n, description=random.Random(n).randbytes(400).hex()) for n in range(40))
    memory = Memory(HEAD, frozenset({"ab" * 16}), many)
    assert len(encode(memory, limit=10**9)) > 16_000
    line = encode(memory)
    assert len(line) <= 16_000
    back = decode(f"{SUMMARY}\n{line}")
    assert back == Memory(HEAD, frozenset({"ab" * 16}), (), complete=False)


def test_a_memory_already_incomplete_stays_incomplete():
    memory = Memory(HEAD, frozenset(), (), complete=False)
    assert decode(with_memory(SUMMARY, memory)) == memory


def test_encode_refuses_what_decode_would_refuse():
    with pytest.raises(ValueError):
        encode(Memory(HEAD, frozenset({"not hex"})))
    with pytest.raises(ValueError):
        encode(Memory("main", frozenset()))


@pytest.mark.parametrize(
    "tamper",
    [
        lambda p: {**p, "h": "main"},
        lambda p: {**p, "i": ["zz" * 16]},
        lambda p: {**p, "i": "0" * 32},
        lambda p: {**p, "c": "yes"},
        lambda p: {**p, "f": {}},
        lambda p: {k: v for k, v in p.items() if k != "h"},
        lambda p: {**p, "f": [{**p["f"][0], "s": "blocker"}]},
        lambda p: {**p, "f": [{**p["f"][0], "k": "<script>"}]},
        lambda p: {**p, "f": [{**p["f"][0], "l": True}]},
        lambda p: {**p, "f": [{**p["f"][0], "l": 9, "e": 3}]},
        lambda p: {**p, "f": [{**p["f"][0], "l": None}]},
        lambda p: {**p, "f": [{**p["f"][0], "t": 7}]},
        lambda p: {**p, "f": [{**p["f"][0], "w": 1}]},
        lambda p: {**p, "f": [[1, 2]]},
        lambda p: [p],
    ],
)
def test_a_tampered_payload_reads_as_none(tamper):
    payload = valid_payload()
    assert decode(f"{SUMMARY}\n{line_of(payload)}") == MEMORY  # the untampered one reads
    assert decode(f"{SUMMARY}\n{line_of(tamper(payload))}") is None


def test_a_broken_block_reads_as_none():
    line = encode(MEMORY)
    data = line.split()[3]
    packed = base64.urlsafe_b64decode(data)
    bomb = base64.urlsafe_b64encode(zlib.compress(b"[" + b" " * (MAX_INFLATED + 10) + b"]"))
    broken = [
        line.replace(" v1 ", " v2 "),  # another version
        line.replace(data, data[:-7] + "!" + data[-6:]),  # not base64
        line.replace(data, data[: len(data) // 2]),  # cut short
        line.replace(data, base64.urlsafe_b64encode(packed[:-4]).decode()),  # truncated zlib
        line.replace(data, base64.urlsafe_b64encode(packed + b"junk").decode()),  # trailing data
        line.replace(data, base64.urlsafe_b64encode(b"not zlib").decode()),
        line.replace(data, base64.urlsafe_b64encode(zlib.compress(b"{not json")).decode()),
        line.replace(data, base64.urlsafe_b64encode(zlib.compress(b"\xff\xfe")).decode()),
        line.replace(data, bomb.decode()),  # inflates past the limit
    ]
    assert decode(f"{SUMMARY}\n{line}") == MEMORY
    for text in broken:
        assert decode(f"{SUMMARY}\n{text}") is None, text


def test_a_block_quoted_or_outside_our_comment_is_not_found():
    line = encode(MEMORY)
    assert decode(f"{SUMMARY}\n> {line}") is None  # quoted in a reply
    assert decode(f"{SUMMARY}\nsee {line}") is None  # inside a sentence
    assert decode(f"Someone wrote:\n{line}") is None  # not our comment
    assert decode(f" {SUMMARY}\n{line}") is None
    assert decode(f"{SUMMARY}\n{line}") == MEMORY


def test_the_first_block_of_our_comment_is_the_one():
    first = Memory(HEAD, frozenset({"1" * 32}))
    second = Memory(HEAD, frozenset({"2" * 32}))
    assert decode(f"{SUMMARY}\n{encode(first)}\n{encode(second)}\n") == first


@given(st.text())
def test_decode_never_raises_on_arbitrary_text(text):
    assert decode(text) is None or text.startswith(MARKER)
    for body in (MARKER + text, f"{MARKER}\n<!-- second-look:memory v1 {text} -->"):
        result = decode(body)
        assert result is None or isinstance(result, Memory)


@given(st.data())
def test_decode_never_raises_on_a_mutated_block(data):
    line = encode(MEMORY)
    chars = list(line)
    for _ in range(data.draw(st.integers(1, 6))):
        at = data.draw(st.integers(0, len(chars) - 1))
        chars[at] = data.draw(st.characters())
    mutated = "".join(chars)
    result = decode(f"{SUMMARY}\n{mutated}")
    assert result is None or isinstance(result, Memory)


@given(st.binary(max_size=2000))
def test_decode_never_raises_on_arbitrary_compressed_bytes(raw):
    for packed in (raw, zlib.compress(raw)):
        text = base64.urlsafe_b64encode(packed).decode()
        result = decode(f"{SUMMARY}\n<!-- second-look:memory v1 {text} -->")
        assert result is None or isinstance(result, Memory)


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda inner: (
            st.lists(inner, max_size=4)
            | st.dictionaries(st.sampled_from(list("hicfaspletdgkw")), inner, max_size=10)
        ),
        max_leaves=30,
    )
)
def test_decode_never_raises_on_arbitrary_json(payload):
    result = decode(f"{SUMMARY}\n{line_of(payload)}")
    assert result is None or isinstance(result, Memory)
