"""Build typed dataclasses from YAML mappings, with messages that name the key.

Why by hand: the configs are plain dataclasses (house style) and every message must name the
dotted YAML key, the value received and the fix. The type checks here are the small subset our
fields use (scalars, Optional, Literal, list, dict, nested dataclasses); the semantic checks live in
each dataclass's `__post_init__`.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import types
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

from rosearch.errors import ConfigError

_NAMES = {int: "an integer", float: "a number", str: "a string", bool: "true or false"}


def build(cls: type, data: Any, key: str) -> Any:
    """Turn `data` (a YAML mapping) into an instance of dataclass `cls`; `key` is its dotted path."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(key or "<top level>", data, f"Write a mapping of {cls.__name__} fields here.")
    hints = get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    for name in data:
        if name not in fields:
            close = difflib.get_close_matches(str(name), list(fields), n=1)
            hint = f"Did you mean '{close[0]}'?" if close else f"Known keys: {', '.join(fields)}."
            raise ConfigError(_join(key, str(name)), data[name], f"Unknown key. {hint}")
    kwargs = {name: convert(hints[name], data[name], _join(key, name)) for name in data}
    return _construct(cls, kwargs, key)


def _construct(cls: type, kwargs: dict[str, Any], key: str) -> Any:
    """Call the constructor; a ConfigError from `__post_init__` gets its key prefixed with `key`."""
    try:
        return cls(**kwargs)
    except ConfigError as err:
        if key and not err.key.startswith(key + "."):
            raise ConfigError(_join(key, err.key), err.value, err.fix) from None
        raise


def convert(tp: Any, value: Any, key: str) -> Any:
    """Check `value` against type `tp` and convert it (nested dataclasses, tuples)."""
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        options = get_args(tp)
        if value is None and type(None) in options:
            return None
        non_none = [o for o in options if o is not type(None)]
        mapping_option = next((o for o in non_none if dataclasses.is_dataclass(o)), None)
        if isinstance(value, dict) and mapping_option is not None:
            return build(mapping_option, value, key)  # its own errors name the inner key
        errors = []
        for option in non_none:
            try:
                return convert(option, value, key)
            except ConfigError as err:
                errors.append(err)
        raise errors[0] if len(non_none) == 1 else ConfigError(key, value, f"Expected {_describe(tp)}.")
    if origin is Literal:
        choices = get_args(tp)
        if value not in choices:
            raise ConfigError(key, value, f"Use one of: {', '.join(map(str, choices))}.")
        return value
    if origin is list:
        if not isinstance(value, list):
            raise ConfigError(key, value, f"Expected a list ({_describe(tp)}).")
        (item,) = get_args(tp)
        return [convert(item, v, f"{key}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(key, value, f"Expected a mapping ({_describe(tp)}).")
        k_tp, v_tp = get_args(tp)
        return {convert(k_tp, k, key): convert(v_tp, v, _join(key, str(k))) for k, v in value.items()}
    if dataclasses.is_dataclass(tp):
        return build(tp, value, key)
    if tp is Any:
        return value
    if tp is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return _finite(float(value), key)
    if tp is float and isinstance(value, str):
        # YAML 1.1 reads "5e-5" as a string; accept it as the number it plainly is.
        try:
            number = float(value)
        except ValueError:
            pass
        else:
            return _finite(number, key)
    if tp in _NAMES and (type(value) is tp):
        return value
    raise ConfigError(key, value, f"Expected {_describe(tp)}.")


def _finite(value: float, key: str) -> float:
    """No setting of ours means anything at NaN or infinity (YAML's .nan / .inf): refuse them here,
    once, rather than in every range check (NaN passes every comparison)."""
    if not math.isfinite(value):
        raise ConfigError(key, value, "Expected a finite number.")
    return value


def _describe(tp: Any) -> str:
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        return " or ".join("null" if a is type(None) else _describe(a) for a in get_args(tp))
    if origin is Literal:
        return "one of " + ", ".join(map(str, get_args(tp)))
    if origin is list:
        return f"a list of {_describe(get_args(tp)[0])}"
    if origin is dict:
        return f"a mapping to {_describe(get_args(tp)[1])}"
    if dataclasses.is_dataclass(tp):
        return f"a mapping of {tp.__name__} fields"
    return _NAMES.get(tp, getattr(tp, "__name__", str(tp)))


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def to_dict(obj: Any) -> Any:
    """A dataclass tree as plain YAML/JSON-able data."""
    if dataclasses.is_dataclass(obj):
        return {f.name: to_dict(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (list, tuple)):
        return [to_dict(v) for v in obj]
    if isinstance(obj, dict):
        return {k: to_dict(v) for k, v in obj.items()}
    return obj


__all__ = ["build", "convert", "to_dict"]
