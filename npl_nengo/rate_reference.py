"""Spiking against its rate reference: one call, the program's own metric.

>>> cmp = npl.rate_reference("nand", backend="nengo_dl", neurons="regular")   # doctest: +SKIP
>>> cmp.summary()                                                              # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import SimulationError, ValidationError
from .metrics import Score
from .rnn import ProgrammedRNN

__all__ = ["RateReference", "rate_reference"]


@dataclass
class RateReference:
    """A spiking run scored against the rate run of the same network.

    Attributes
    ----------
    rate, spiking : Score
        The program's metric on the rate run and on the spiking run (same
        network, backend, inputs and protocol).
    deviation : dict
        Per output: ``rms`` and ``max`` of (spiking − rate) over the whole run.
    """

    name: str
    backend: str
    neurons: str
    rate: Score
    spiking: Score
    deviation: dict[str, dict[str, float]]

    @property
    def error_increase(self) -> float:
        """How much the metric's error grows from rate to spiking."""
        return float(self.spiking.error - self.rate.error)

    def summary(self) -> str:
        dev = ", ".join(f"{k}: rms {v['rms']:.3g}, max {v['max']:.3g}" for k, v in self.deviation.items())
        return (f"{self.name} on {self.backend}: rate {self.rate.summary()}; {self.neurons} {self.spiking.summary()}; "
                f"spiking - rate: {dev}")


def rate_reference(
    network: Any,
    rnn: ProgrammedRNN | None = None,
    backend: str = "nengo_dl",
    neurons: str = "regular",
    method: str = "sampled",
    seed: int = 0,
    **run_options: Any,
) -> RateReference:
    """Run a library network rate and spiking on one backend and compare them.

    Parameters
    ----------
    network
        A library name (``"nand"``) or :class:`~npl_nengo.networks.Entry`:
        it supplies the program and the metric.
    rnn
        The compiled network; default ``compile(entry.build(), method=method, seed=seed)``.
    backend
        Where both runs happen (default nengo_dl).
    neurons
        The spiking mode (``"regular"``, ``"poisson"``, ...).
    **run_options
        Passed to both metric runs (``max_rate`` only to the spiking one).
    """
    from . import networks
    from .compiler import compile

    entry = networks.get(network) if isinstance(network, str) else network
    if not isinstance(entry, networks.Entry):
        raise ValidationError(f"rate_reference: expected a library name or Entry, got {type(network).__name__}")
    if neurons == "rate":
        raise ValidationError("rate_reference: neurons must be a spiking mode, not 'rate'")
    rnn = compile(entry.build(), method=method, seed=seed) if rnn is None else rnn
    spiking_only = {k: run_options.pop(k) for k in ("max_rate",) if k in run_options}
    rate = entry.metric(rnn, backend=backend, neurons="rate", seed=seed, **run_options)
    spiking = entry.metric(rnn, backend=backend, neurons=neurons, seed=seed, **run_options, **spiking_only)
    if rate.result is None or spiking.result is None:  # a diverged run's Score has no result to compare
        run, score = ("rate", rate) if rate.result is None else (neurons, spiking)
        raise SimulationError(f"rate_reference: the {run} run diverged: {score.details.get('diverged')}")
    deviation = {}
    for name in rate.result.outputs:
        diff = np.asarray(spiking.result[name]) - np.asarray(rate.result[name])
        deviation[name] = {"rms": float(np.sqrt(np.mean(diff**2))), "max": float(np.max(np.abs(diff)))}
    return RateReference(entry.name, backend, neurons, rate, spiking, deviation)
