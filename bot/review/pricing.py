"""What Gemini calls cost: a price table per model (USD per million tokens), and one call's cost."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

# Google's standard paid-tier prices for text, from https://ai.google.dev/gemini-api/docs/pricing
# as published in 2025 (the README dates them). Pro's prices for prompts over 200,000 tokens
# are higher; a review's prompts are far below that.
PRICES_AS_OF = "2025-09"


@dataclass(frozen=True)
class Price:
    """USD per million tokens: fresh input, input served from a cache, and output; and per
    million tokens per hour, an explicit cache's storage (None: not known, so never cached)."""

    input: float
    cached: float
    output: float
    storage: float | None = None


DEFAULT_PRICES: dict[str, Price] = {
    "gemini-2.5-pro": Price(input=1.25, cached=0.125, output=10.00, storage=4.50),
    "gemini-2.5-flash": Price(input=0.30, cached=0.03, output=2.50, storage=1.00),
    "gemini-2.5-flash-lite": Price(input=0.10, cached=0.01, output=0.40, storage=1.00),
    "gemini-2.0-flash": Price(input=0.10, cached=0.025, output=0.40, storage=1.00),
    "gemini-2.0-flash-lite": Price(input=0.075, cached=0.075, output=0.30),
}


class PriceError(ValueError):
    """GEMINI_PRICES is not a valid price table."""


def parse_prices(text: str) -> dict[str, Price]:
    """The defaults, overridden per model by GEMINI_PRICES (a JSON object).

    `{"gemini-2.5-flash": {"input": 0.3, "cached": 0.03, "output": 2.5}}`; every key of a
    model must be given, as a number of dollars per million tokens, at least 0; `storage`
    (per million tokens per hour of an explicit cache) may be given too.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PriceError(f"GEMINI_PRICES is not JSON ({exc.msg})") from None
    return with_defaults(data)


def with_defaults(data: object) -> dict[str, Price]:
    """The defaults, overridden per model by `data` (GEMINI_PRICES already decoded)."""
    if not isinstance(data, dict):
        raise PriceError("GEMINI_PRICES must be a JSON object of model names to prices")
    prices = dict(DEFAULT_PRICES)
    for model, value in data.items():
        prices[model] = _price(model, value)
    return prices


def _price(model: str, value: object) -> Price:
    if isinstance(value, Price):
        return value
    keys = ("input", "cached", "output")
    if not isinstance(value, dict) or not set(keys) <= set(value) <= {*keys, "storage"}:
        raise PriceError(
            f"GEMINI_PRICES[{model!r}] must have the keys {', '.join(keys)} (and may have storage)"
        )
    numbers = {}
    for key in value:
        number = value[key]
        if isinstance(number, bool) or not isinstance(number, int | float) or number < 0:
            raise PriceError(f"GEMINI_PRICES[{model!r}].{key} must be a number of dollars, >= 0")
        numbers[key] = float(number)
    return Price(**numbers)


def price_of(prices: Mapping[str, Price], model: str) -> Price | None:
    """The model's price; a versioned name (`gemini-2.5-flash-001`) takes its family's."""
    if model in prices:
        return prices[model]
    family = max((name for name in prices if model.startswith(name + "-")), key=len, default=None)
    return prices[family] if family else None


def budget_price(prices: Mapping[str, Price], model: str) -> Price | None:
    """The price a budget reserves and settles at: the model's, or, for a model the table
    does not know, the dearest in it (so MAX_REVIEW_USD and DAILY_BUDGET_USD still bound its
    spend, conservatively; `usage` shows its calls as unpriced)."""
    found = price_of(prices, model)
    if found is not None or not prices:
        return found
    return max(prices.values(), key=lambda p: (p.output, p.input))


def cost(
    price: Price | None, prompt: int, cached: int, output: int, *, stored: float = 0.0
) -> float:
    """USD for one call: `prompt` includes the `cached` tokens; `output` includes thinking;
    `stored`: token-hours of an explicit cache the call created.

    An unknown model (no price) costs 0, and the usage command says it is unpriced.
    """
    if price is None:
        return 0.0
    fresh = max(prompt - cached, 0)
    storage = stored * (price.storage or 0.0)
    return (fresh * price.input + cached * price.cached + output * price.output + storage) / 1e6


def rounded(usd: float) -> float:
    """Dollars as every output shows them: to the hundredth of a cent (4 decimals)."""
    return round(usd, 4)
