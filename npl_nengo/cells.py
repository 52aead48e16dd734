"""What a comparison or sweep cell is: its route, its neurons, how it is built and judged.

``compare`` and ``sweep`` both run cells (a route, a seed, a backend, a neuron
mode); the routes, the neuron mode each route actually runs, how a route's
network is built and the logic-level tolerance a cell is held to live here,
once, so a cell is the same cell in both.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .errors import ValidationError

__all__ = ["METHODS", "LIF_ROUTES", "level_tol", "neurons_for", "build", "names", "seeds"]

#: Routes: the paper's min-norm solve, the noise-aware fit on tanh units (signed spikes),
#: the same fit on LIF units (positive spikes, ``activation="lif"``), NEF ensembles.
METHODS = ("taylor", "sampled", "lif", "nef")
#: Routes whose spiking cells run LIF neurons whatever the mode's name.
LIF_ROUTES = ("lif", "nef")
#: Logic-level tolerances (truth tables, latches): the min-norm weights at rate level are held
#: to the paper's precision, the pinned sampled fit to 2 % of the level (5 % under Poisson spikes),
#: the LIF routes (the fit on LIF units, NEF ensembles) to 5 %, anything else (the min-norm
#: weights under spikes) to a spiking-sized tolerance.
LEVEL_TOL_RATE_TAYLOR, LEVEL_TOL_SAMPLED, LEVEL_TOL_POISSON, LEVEL_TOL = 0.005, 0.002, 0.005, 0.03
LEVEL_TOL_LIF = 0.005


def level_tol(method: str, mode: str) -> float:
    """The logic-level tolerance of a cell (see :data:`LEVEL_TOL`)."""
    if method == "taylor" and mode == "rate":
        return LEVEL_TOL_RATE_TAYLOR
    if method == "sampled" and mode in ("rate", "regular"):
        return LEVEL_TOL_SAMPLED
    if method == "sampled" and mode == "poisson":
        return LEVEL_TOL_POISSON
    if method in LIF_ROUTES:
        return LEVEL_TOL_LIF
    return LEVEL_TOL


def neurons_for(method: str, mode: str) -> str:
    """The neuron mode a route runs for ``mode``: LIF routes spike as LIF units."""
    return "lif" if method in LIF_ROUTES and mode != "rate" else mode


def build(program: Any, method: str, seed: int, n_neurons: int | None = None, max_rate: float = 1000.0,
          **options: Any) -> Any:
    """The network of one route: a ProgrammedRNN (``taylor``, ``sampled``, ``lif``) or an NEFNetwork."""
    from .compiler import compile
    from .nef import nef

    if method not in METHODS:
        raise ValidationError(f"method {method!r} is not one of {', '.join(METHODS)}")
    if method == "nef":
        return nef(program, n_neurons=n_neurons, seed=seed)
    if n_neurons is not None:
        options["n_neurons"] = n_neurons
    if method == "lif":
        return compile(program, method="sampled", activation="lif", seed=seed, **options)
    return compile(program, method=method, seed=seed, max_rate=max_rate, **options)


def names(values: Sequence[str] | str, what: str, where: str) -> list[str]:
    """A non-empty list of names (or one comma-separated string), duplicates dropped."""
    items = [v.strip() if isinstance(v, str) else v for v in (values.split(",") if isinstance(values, str) else values)]
    if not items or not all(isinstance(v, str) and v for v in items):
        raise ValidationError(f"{where}: {what} must be a non-empty list of names, got {values!r}")
    return list(dict.fromkeys(items))


def seeds(values: Sequence[int] | int, where: str) -> list[int]:
    """One seed or a list of them: non-negative integers (Python or numpy), duplicates dropped."""
    values = [values] if isinstance(values, (int, np.integer)) else list(values)
    if not values or any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 0 for s in values):
        raise ValidationError(f"{where}: seeds must be non-negative integers, got {values!r}")
    return [int(s) for s in dict.fromkeys(values)]
