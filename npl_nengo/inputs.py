"""External inputs: constants, arrays and callables of time, and step protocols.

Every backend turns the user's ``inputs={...}`` into an :class:`Inputs` object
and asks it for values at the times it needs (RK4 stages included), so all
backends see the same input signals.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence, Union

import numpy as np

from .errors import ValidationError

__all__ = ["Inputs", "Protocol", "protocol", "InputLike"]

InputLike = Union[float, int, np.ndarray, Sequence[float], Callable[[float], float]]


class Inputs:
    """The external input signals of one run.

    Parameters
    ----------
    names
        The network's input names, in order.
    values
        ``{name: value}``; a value is a number (held constant), an array with one
        sample per time step (step ``i`` covers ``[i dt, (i + 1) dt)``; the last
        sample is held afterwards), or a callable ``f(t) -> float`` of time in
        seconds.  Every input must be given.
    dt
        Time step (s) of array inputs.
    """

    def __init__(self, names: Sequence[str], values: Mapping[str, InputLike] | None, dt: float):
        values = {} if values is None else values
        if not isinstance(values, Mapping):
            raise ValidationError(f"inputs must be a dict {{name: value}}, got {type(values).__name__}")
        unknown = [k for k in values if k not in names]
        if unknown:
            raise ValidationError(f"inputs: {unknown[0]!r} is not an input of this network (inputs: {list(names) or 'none'})")
        missing = [n for n in names if n not in values]
        if missing:
            raise ValidationError(f"inputs: input {missing[0]!r} is not given (inputs: {list(names)})")
        self.names = tuple(names)
        self.dt = float(dt)
        self._sources = [self._check(n, values[n]) for n in names]

    def _check(self, name: str, value: InputLike):
        if callable(value):
            return value
        if isinstance(value, bool):
            raise ValidationError(f"inputs: {name!r} is a bool, not a number")
        arr = np.asarray(value, dtype=float) if not isinstance(value, str) else None
        if arr is None or arr.dtype.kind != "f":
            raise ValidationError(f"inputs: {name!r} must be a number, an array or a callable of t")
        if arr.ndim == 2 and arr.shape[1] == 1:
            arr = arr[:, 0]
        if arr.ndim > 1 or arr.size == 0:
            raise ValidationError(f"inputs: {name!r} must be a number or a 1-D array, got shape {arr.shape}")
        if not np.all(np.isfinite(arr)):
            raise ValidationError(f"inputs: {name!r} holds non-finite values")
        return float(arr) if arr.ndim == 0 else arr

    def __len__(self) -> int:
        return len(self.names)

    @property
    def constant(self) -> bool:
        """Whether every input is a number (held for the whole run)."""
        return all(isinstance(src, float) for src in self._sources)

    def at(self, t: np.ndarray) -> np.ndarray:
        """Input values at times ``t`` (s): shape ``t.shape + (n_inputs,)``."""
        t = np.asarray(t, dtype=float)
        out = np.empty(t.shape + (len(self.names),))
        for j, (name, src) in enumerate(zip(self.names, self._sources)):
            if isinstance(src, float):
                out[..., j] = src
            elif isinstance(src, np.ndarray):
                idx = np.clip(np.floor(t / self.dt + 1e-9).astype(np.int64), 0, len(src) - 1)
                out[..., j] = src[idx]
            else:
                out[..., j] = self._call(name, src, t)
        return out

    @staticmethod
    def _call(name: str, f: Callable, t: np.ndarray) -> np.ndarray:
        try:
            values = np.array([f(float(ti)) for ti in t.ravel()], dtype=float).reshape(t.shape)
        except ValidationError:
            raise
        except Exception as exc:  # a user's callable may raise anything
            raise ValidationError(f"inputs: callable for {name!r} failed: {type(exc).__name__}: {exc}") from exc
        if not np.all(np.isfinite(values)):
            bad = t.ravel()[~np.isfinite(values.ravel())][0]
            raise ValidationError(f"inputs: callable for {name!r} returned a non-finite value at t={bad:g} s")
        return values


@dataclass(frozen=True)
class Protocol:
    """Inputs held at constant values over consecutive segments.

    Attributes
    ----------
    segments
        ``[(duration_s, {input: value}), ...]``.
    """

    segments: tuple[tuple[float, dict[str, float]], ...]

    @property
    def duration(self) -> float:
        return float(sum(d for d, _ in self.segments))

    @property
    def bounds(self) -> list[tuple[float, float]]:
        """Start and end time (s) of each segment."""
        ends = np.cumsum([d for d, _ in self.segments])
        return [(float(e - d), float(e)) for e, (d, _) in zip(ends, self.segments)]

    def inputs(self) -> dict[str, Callable[[float], float]]:
        """``{name: f(t)}`` step functions for :func:`npl_nengo.run`."""
        names = list(self.segments[0][1]) if self.segments else []
        ends = np.cumsum([d for d, _ in self.segments])
        out: dict[str, Callable[[float], float]] = {}
        for name in names:
            vals = np.array([v[name] for _, v in self.segments], dtype=float)
            out[name] = _Steps(ends, vals)
        return out


class _Steps:
    """Piecewise-constant function of time (picklable, unlike a closure)."""

    def __init__(self, ends: np.ndarray, values: np.ndarray):
        self.ends, self.values = ends, values

    def __call__(self, t: float) -> float:
        i = int(np.searchsorted(self.ends, t + 1e-12, side="right"))
        return float(self.values[min(i, len(self.values) - 1)])


def protocol(segments: Sequence[tuple[float, Mapping[str, float]]]) -> Protocol:
    """Build a :class:`Protocol` of held input values.

    >>> p = protocol([(1.0, {"s1": -0.1, "s2": 0.1}), (10.0, {"s1": -0.1, "s2": -0.1})])
    >>> p.duration
    11.0
    """
    out = []
    names = None
    for i, seg in enumerate(segments):
        try:
            dur, values = seg
            dur = float(dur)
        except (TypeError, ValueError):
            raise ValidationError(f"protocol: segment {i} is not (duration, {{input: value}})") from None
        if not (math.isfinite(dur) and dur > 0):
            raise ValidationError(f"protocol: segment {i} has duration {dur}, need > 0 s")
        values = {str(k): float(v) for k, v in dict(values).items()}
        if names is None:
            names = set(values)
        elif set(values) != names:
            raise ValidationError(f"protocol: segment {i} sets {sorted(values)}, segment 0 sets {sorted(names)}")
        out.append((dur, values))
    if not out:
        raise ValidationError("protocol: no segments")
    return Protocol(tuple(out))
