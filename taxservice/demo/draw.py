"""Drawing from the demo's one generator (never the global one), so a seed fixes the city."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


def weighted(rng: random.Random, pairs: Sequence[tuple[T, int]]) -> T:
    """One value of `pairs` (value, weight), drawn with those weights."""
    values = [value for value, _ in pairs]
    weights = [weight for _, weight in pairs]
    return rng.choices(values, weights=weights, k=1)[0]
