"""Argument checks shared by the public API. Pure Python: importing it imports neither numpy
nor torch. Each raises ``TypeError`` or ``ValueError`` naming the argument and what was expected.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable

__all__ = ["check_bool", "check_choice", "check_float", "check_int", "check_pair"]


def check_int(value, name: str, minimum: int | None = None, maximum: int | None = None) -> int:
    """``value`` as an int, checked against the inclusive bounds. Bools are refused."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return int(value)


def check_float(value, name: str, minimum: float | None = None, maximum: float | None = None,
                *, exclusive_minimum: bool = False) -> float:
    """``value`` as a finite float within the bounds (``minimum`` exclusive if asked)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if minimum is not None and (value <= minimum if exclusive_minimum else value < minimum):
        relation = ">" if exclusive_minimum else ">="
        raise ValueError(f"{name} must be {relation} {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return value


def check_choice(value, name: str, choices: Iterable[str]) -> str:
    """``value`` if it is one of ``choices``."""
    choices = tuple(choices)
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, one of {choices}, got {type(value).__name__}")
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value


def check_pair(value, name: str, minimum: int | None = None) -> tuple[int, int]:
    """An int or a pair of ints as a pair (each checked with :func:`check_int`)."""
    if isinstance(value, tuple | list):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a pair of ints, got {len(value)} values")
        return check_int(value[0], name, minimum), check_int(value[1], name, minimum)
    v = check_int(value, name, minimum)
    return v, v


def check_bool(value, name: str) -> bool:
    """``value`` if it is a bool (ints and other truthy values are refused)."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool, got {type(value).__name__}")
    return value


def check_shard(shard, name: str = "shard") -> tuple[int, int]:
    """``shard`` as ``(rank, world)`` with ``0 <= rank < world``: a process's place in a
    data-parallel run."""
    if not (isinstance(shard, tuple | list) and len(shard) == 2):
        raise TypeError(f"{name} must be a pair (rank, world), got {shard!r}")
    world = check_int(shard[1], f"{name}[1]", minimum=1)
    return check_int(shard[0], f"{name}[0]", minimum=0, maximum=world - 1), world
