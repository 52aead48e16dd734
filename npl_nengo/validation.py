"""Checks of user-given values, in one place (after ``nengo.params``).

Every public function validates its arguments with these, so the same kind of
value is accepted (numpy integers and floats wherever Python ones are; never
``bool``, NaN or infinity where a number is meant) and refused with the same
kind of message everywhere: ``"<where>: <name> must be <what>, got <value!r>"``.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Iterable

from .errors import ValidationError

__all__ = ["integer", "number", "seed", "one_of", "MAX_SEED", "port"]

#: The largest seed every backend takes: numpy's legacy ``RandomState`` (nengo, nengo_dl) and
#: Brian2's ``seed()`` refuse anything at or above 2**32 with their own ``ValueError``.
MAX_SEED = 2**32 - 1


def _refuse(where: str, name: str, what: str, value: Any) -> ValidationError:
    return ValidationError(f"{where}: {name} must be {what}, got {value!r}")


def integer(value: Any, name: str, where: str, minimum: int | None = None, maximum: int | None = None) -> int:
    """``value`` as an ``int`` (Python or numpy integer, not ``bool``) within ``[minimum, maximum]``."""
    if minimum == 0 and maximum is None:
        what = "a non-negative integer"
    elif minimum == 1 and maximum is None:
        what = "a positive integer"
    elif maximum is None:
        what = f"an integer >= {minimum}" if minimum is not None else "an integer"
    else:
        what = f"an integer in {minimum if minimum is not None else '-inf'}..{maximum}"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise _refuse(where, name, what, value)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise _refuse(where, name, what, value)
    return int(value)


def number(value: Any, name: str, where: str, positive: bool = False, minimum: float | None = None,
           maximum: float | None = None, unit: str = "") -> float:
    """``value`` as a finite ``float`` (any real number type, not ``bool``); ``positive``: ``> 0``;
    ``minimum``/``maximum``: inclusive bounds.  ``unit`` names the unit in the message."""
    what = "a positive number" if positive else "a non-negative number" if minimum == 0 and maximum is None \
        else "a number"
    if (minimum is not None and minimum != 0) or maximum is not None:
        what += f" in [{minimum if minimum is not None else '-inf'}, {maximum if maximum is not None else 'inf'}]"
    if unit:
        what += f" of {unit}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(float(value)):
        raise _refuse(where, name, what, value)
    value = float(value)
    if (positive and value <= 0) or (minimum is not None and value < minimum) or \
            (maximum is not None and value > maximum):
        raise _refuse(where, name, what, value)
    return value


def seed(value: Any, where: str, name: str = "seed") -> int:
    """A random seed: an integer (Python or numpy) in ``0 .. MAX_SEED`` (``2**32 - 1``), the range every
    backend takes."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not 0 <= int(value) <= MAX_SEED:
        raise _refuse(where, name, f"a non-negative integer below 2**32 (0..{MAX_SEED}, the seeds every backend "
                                   "takes)", value)
    return int(value)


def port(value: Any, where: str, name: str = "port") -> int:
    """A TCP port: an integer in ``0 .. 65535`` (0: the system picks a free one)."""
    return integer(value, name, where, minimum=0, maximum=65535)


def one_of(value: Any, name: str, where: str, choices: Iterable[str]) -> str:
    """``value`` if it is one of ``choices``."""
    choices = tuple(choices)
    if not isinstance(value, str) or value not in choices:
        raise ValidationError(f"{where}: {name} {value!r} is not one of {', '.join(map(repr, choices))}")
    return value
