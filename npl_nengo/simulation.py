"""Running a programmed network: :func:`run`.

:func:`run` checks its arguments, looks the backend up in the registry
(:mod:`npl_nengo.registry`), runs a batch of trials at once where the backend
batches and one by one where it does not, and checks the outputs.  A backend
only builds and runs the numbers of the ProgrammedRNN it receives; it never
re-solves weights.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

import numpy as np

from .errors import ValidationError
from . import validation
from .inputs import InputLike
from .registry import backend_info
from .result import MAX_EXCURSION, Result, check_excursion
from .rnn import ProgrammedRNN

if TYPE_CHECKING:
    from .nef import NEFNetwork

__all__ = ["run", "output_ranges"]


def run(
    rnn: "ProgrammedRNN | NEFNetwork",
    inputs: Mapping[str, InputLike] | None = None,
    duration: float = 1.0,
    backend: str = "reference",
    neurons: str = "rate",
    dt: float = 1e-3,
    seed: int = 0,
    **options: Any,
) -> Result:
    """Simulate a programmed network on a backend.

    Parameters
    ----------
    rnn
        The compiled network (see :func:`npl_nengo.compile`), or an NEF
        description (:func:`npl_nengo.nef`) for the nengo-family backends.
    inputs
        ``{input name: value}``: numbers, arrays (one sample per step) or
        callables of time (s).  A list of such dicts is a batch of trials:
        nengo_dl runs it as one minibatch, other backends one trial after the
        other; the Result then holds one row per trial (``result.trial(i)``).
        Likewise ``initial=[...]``, one initial state per trial (many starts
        of an attractor).
    duration
        Simulated time in seconds.
    backend
        ``"reference"`` (numpy, built in), ``"nengo"`` (``nengo.Simulator``;
        options ``synapse="zoh" | "euler"``) or ``"brian2"`` (options
        ``target="numpy" | "cython" | "cpp_standalone"``,
        ``method="exponential_euler" | "euler"``).
    neurons
        ``"rate"``, or a spiking mode the backend supports (``"regular"``,
        ``"poisson"``, nengo also ``"stochastic"`` and ``"lif"``; pass
        ``max_rate=`` in Hz).
    dt
        Time step in seconds.
    seed
        Seed of the run's random draws (spike phases, Poisson spikes).
    **options
        Backend options, e.g. ``integrator="rk4" | "euler"``, ``max_rate=1000``,
        ``initial="rstar" | "zero" | {signal: value}``, ``sample_every=1``,
        ``record_spikes=n``; and ``max_excursion`` (default
        :data:`~npl_nengo.result.MAX_EXCURSION` = 10): an output farther than
        that many range widths outside its declared range raises
        :class:`SimulationError` (``None``: keep such runs).

    Returns
    -------
    Result
        ``result.t`` and ``result[name]`` for every named output.

    Raises
    ------
    SimulationError
        If an output becomes NaN or infinite, or leaves its range by more
        than ``max_excursion`` range widths: naming the output and the time.
    """
    from .nef import NEFNetwork

    if isinstance(rnn, NEFNetwork):
        if not backend_info(backend).nef:
            from .registry import nef_backends

            raise ValidationError(f"run: an NEF network runs on {', '.join(nef_backends())}, not on backend {backend!r}")
    elif not isinstance(rnn, ProgrammedRNN):
        hint = " (compile it first: npl_nengo.compile(...))" if type(rnn).__name__ in ("Program", "Circuit") else ""
        raise ValidationError(f"run: expected a ProgrammedRNN, got {type(rnn).__name__}{hint}")
    duration = validation.number(duration, "duration", "run", positive=True, unit="seconds")
    dt = validation.number(dt, "dt", "run", positive=True, unit="seconds")
    if duration < dt:
        raise ValidationError(f"run: duration {duration} s is shorter than one time step dt={dt} s")
    seed = validation.seed(seed, "run")
    limit = options.pop("max_excursion", MAX_EXCURSION)
    if limit is not None:
        limit = validation.number(limit, "max_excursion", "run", positive=True, unit="range widths (or None)")
    result = _run(rnn, inputs, duration, backend, neurons, dt, seed, options)
    check_excursion(result.outputs, result.t, output_ranges(rnn), limit, backend, rnn.name)
    return result


def output_ranges(rnn: "ProgrammedRNN | NEFNetwork") -> dict[str, tuple[float, float] | None]:
    """Each output's declared range (``None`` where an NEF program declares none)."""
    if isinstance(rnn, ProgrammedRNN):
        return {n: (float(lo), float(hi)) for n, (lo, hi) in zip(rnn.output_names, rnn.output_ranges)}
    return dict(rnn.flat.output_ranges)  # an NEF network: its program's ranges


def _run(rnn, inputs, duration, backend, neurons, dt, seed, options) -> Result:
    info = backend_info(backend)
    options = info.check_options(options)
    info.check_neurons(neurons)
    module = info.module
    initial = options.get("initial")
    if isinstance(inputs, (list, tuple)) or isinstance(initial, list):
        if isinstance(inputs, (list, tuple)) and (not inputs or not all(isinstance(x, Mapping) for x in inputs)):
            raise ValidationError("run: a batch of inputs is a non-empty list of dicts {input name: value}")
        n = len(inputs) if isinstance(inputs, (list, tuple)) else len(initial)
        if isinstance(initial, list) and len(initial) != n:
            raise ValidationError(f"run: {len(initial)} initial states for a batch of {n} trials")
        if not info.batches:  # trial by trial
            trial_inputs = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs] * n
            trial_initial = initial if isinstance(initial, list) else [initial] * n
            rest = {k: v for k, v in options.items() if k != "initial"}
            return _stack([module.run(rnn, inputs=x, duration=float(duration), neurons=neurons, dt=float(dt),
                                      seed=seed, initial=x0, **rest) for x, x0 in zip(trial_inputs, trial_initial)])
    return module.run(rnn, inputs=inputs, duration=float(duration), neurons=neurons, dt=float(dt), seed=seed, **options)


def _stack(results: list[Result]) -> Result:
    """Trials run one by one as one batch Result."""
    first = results[0]
    spikes = None if first.spikes is None else np.stack([np.asarray(r.spikes) for r in results])
    info = {**first.info, "trials": len(results),
            "wall_seconds": sum(r.info.get("wall_seconds", 0.0) for r in results),
            "interrupted": any(r.info.get("interrupted") for r in results)}
    return Result(first.t, {k: np.stack([r[k] for r in results]) for k in first.outputs}, first.backend,
                  first.neurons, first.dt, first.seed, first.name, spikes, info)
