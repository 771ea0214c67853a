"""How much a model may think before it answers: the thinking budget each request sends.

Gemini 2.5 models think by default (dynamically, up to thousands of tokens a call), and the
thoughts are billed at the output rate. Every request sends `thinkingConfig.thinkingBudget`
within the model's range (https://ai.google.dev/gemini-api/docs/thinking#set-budget):
2.5 Pro 128 to 32,768 and cannot turn thinking off; 2.5 Flash 0 (off) to 24,576; 2.5
Flash-Lite 0 (off) or 512 to 24,576. Models before 2.5 do not think and refuse the field.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_BUDGET = 1_024  # GEMINI_THINKING_BUDGET unset; README says why
MAX_BUDGET = 32_768  # the most GEMINI_THINKING_BUDGET (or an eval configuration) may ask


@dataclass(frozen=True)
class Range:
    """The thinking budgets a model accepts: 0 when it may be off, else `low` to `high`."""

    low: int
    high: int
    can_stop: bool


RANGES = {
    "gemini-2.5-pro": Range(128, 32_768, can_stop=False),
    "gemini-2.5-flash-lite": Range(512, 24_576, can_stop=True),
    "gemini-2.5-flash": Range(1, 24_576, can_stop=True),
}
NO_THINKING = ("gemini-1.", "gemini-2.0-")  # these refuse a thinkingConfig


def budget_for(model: str, wanted: int) -> int | None:
    """The thinking budget to send to `model` for `wanted` tokens (0: none wanted); None:
    send no thinkingConfig (the model does not think). The model's range wins: Pro thinks at
    least 128 tokens, Flash-Lite at least 512 once it thinks at all."""
    if model.startswith(NO_THINKING):
        return None
    family = max((name for name in RANGES if model.startswith(name)), key=len, default=None)
    if family is None:  # a model this table does not know: the budget as asked
        return max(wanted, 0)
    limits = RANGES[family]
    if wanted <= 0 and limits.can_stop:
        return 0
    return min(max(wanted, limits.low), limits.high)
