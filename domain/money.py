"""Money is `Decimal` in the currency's major unit; rules compare integer minor units."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def quantize(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def to_minor(amount: Decimal) -> int:
    """Integer fen/cents, so the rule engine never compares floats."""
    return int(quantize(amount) * 100)


def from_minor(minor: int) -> Decimal:
    return quantize(Decimal(minor) / 100)
