"""The package's layout: one file name per module, and __main__ only parses and calls."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

BOT = Path(__file__).resolve().parents[1] / "bot"


def test_no_two_modules_share_a_file_name():
    names = Counter(p.name for p in BOT.rglob("*.py") if p.name != "__init__.py")
    assert [name for name, count in names.items() if count > 1] == []


def test_main_parses_arguments_and_calls():
    assert len((BOT / "__main__.py").read_text().splitlines()) < 250
