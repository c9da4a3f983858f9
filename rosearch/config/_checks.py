"""Range checks shared by the config sections: each raises ConfigError naming the key, the value and the fix."""

from __future__ import annotations

from rosearch.errors import ConfigError


def positive(key: str, value: float | int | None, *, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if value is None or value <= 0:
        raise ConfigError(key, value, "Use a value greater than 0.")


def fraction(key: str, value: float, *, low_open: bool = False, high_open: bool = False) -> None:
    bad_low = value <= 0 if low_open else value < 0
    bad_high = value >= 1 if high_open else value > 1
    if bad_low or bad_high:
        lo, hi = ("(" if low_open else "["), (")" if high_open else "]")
        raise ConfigError(key, value, f"Use a number in {lo}0, 1{hi}.")


def nonempty_positive(key: str, values: list[int]) -> None:
    if not values:
        raise ConfigError(key, values, "Give at least one choice.")
    for i, v in enumerate(values):
        positive(f"{key}[{i}]", v)
    if len(set(values)) != len(values):
        raise ConfigError(key, values, "Remove the repeated choices.")
