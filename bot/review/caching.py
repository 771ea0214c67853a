"""When a chunk's shared prefix goes into an explicit Gemini cache (`caches.create`): when the
model accepts one that size and its readers make it cheaper than sending the prefix each time."""

from __future__ import annotations

from dataclasses import dataclass

from bot.review.pricing import Price

CACHE = "cache"  # what a cache's creation is metered and stored under, as an agent is
TTL_SECONDS = 300  # a chunk's agents and its verifier read it well within this, retries too
MIN_READERS = 3
# The smallest cache each model accepts (https://ai.google.dev/gemini-api/docs/caching);
# any other model is assumed to need the largest.
MIN_TOKENS = {"gemini-2.5-flash": 1_024, "gemini-2.5-flash-lite": 1_024, "gemini-2.5-pro": 4_096}
DEFAULT_MIN_TOKENS = 4_096
SAVING = 0.8  # cache only when it costs at most this share of sending the prefix each time


@dataclass(frozen=True)
class Cached:
    """A cache holding the system text and one chunk's shared prefix."""

    name: str  # "cachedContents/..."
    prefix: str  # what it holds after the system text: requests send only what follows
    tokens: int


def min_tokens(model: str) -> int:
    family = max((name for name in MIN_TOKENS if model.startswith(name)), key=len, default=None)
    return MIN_TOKENS[family] if family else DEFAULT_MIN_TOKENS


def pays(price: Price | None, model: str, tokens: int, readers: int) -> bool:
    """Whether creating a cache of `tokens` costs less than `readers` requests sending them.

    Creating bills the tokens as input plus their storage for the whole TTL (Google bills the
    TTL even when the cache is deleted sooner); each reader then pays the cached rate.
    """
    if price is None or price.storage is None or readers < MIN_READERS:
        return False
    if tokens < min_tokens(model):
        return False
    plain = readers * tokens * price.input
    cached = tokens * (price.input + readers * price.cached + price.storage * TTL_SECONDS / 3600)
    return cached <= SAVING * plain
