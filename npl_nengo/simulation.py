"""Running a programmed network: :func:`run`.

:func:`run` checks its arguments, looks the backend up in the registry
(:mod:`npl_nengo.registry`), runs a batch of trials at once where the backend
batches and one by one where it does not, and checks the outputs.  A backend
only builds and runs the numbers of the ProgrammedRNN it receives; it never
re-solves weights.
"""

from __future__ import annotations

import contextlib
import math
import numbers
import threading
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping

import numpy as np

from .errors import ValidationError
from . import validation
from .inputs import InputLike
from .registry import backend_info
from .result import MAX_EXCURSION, Result, check_excursion, check_sample_every, spike_units
from .rnn import ProgrammedRNN

if TYPE_CHECKING:
    from .nef import NEFNetwork

__all__ = ["run", "output_ranges", "estimate", "MAX_RECORD_BYTES", "MAX_STEPS", "RECORD_BYTES"]

#: The most memory a run may need for what it records (outputs, spikes, the time axis) and the input
#: tables it builds, as :func:`estimate` reckons it; :func:`run` refuses a run that would need more,
#: before anything is allocated, and names the ``sample_every`` that fits.  A module constant: raise
#: it (``npl_nengo.simulation.MAX_RECORD_BYTES = ...``) on a machine with the memory to spare.
MAX_RECORD_BYTES = 2 * 1024**3
#: The most time steps one run may take (10^9: 11.6 days of simulated time at dt = 1 ms, hours to
#: days of wall time on any backend); :func:`run` refuses longer runs, whatever ``sample_every``.
MAX_STEPS = 10**9
#: Bytes a backend needs per recorded value when its module declares none (``RECORD_BYTES`` there):
#: ``sample``: one output at one recorded sample; ``spike``: one recorded unit at one step;
#: ``input``: one input at one step, for a backend that tabulates time-varying inputs before the run.
RECORD_BYTES = {"sample": 24, "spike": 8, "input": 0}


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
        ``record_spikes=n``, ``progress=report`` (``report(done, total)`` steps as
        the run advances, every backend: :mod:`npl_nengo.progress`); and ``max_excursion`` (default
        :data:`~npl_nengo.result.MAX_EXCURSION` = 10): an output farther than
        that many range widths outside its declared range raises
        :class:`SimulationError` (``None``: keep such runs).

    Returns
    -------
    Result
        ``result.t`` and ``result[name]`` for every named output.

    Raises
    ------
    ValidationError
        For an ill-typed or out-of-range argument, and before anything is
        allocated, for a run longer than :data:`MAX_STEPS` steps or whose
        recording would take more than :data:`MAX_RECORD_BYTES` (see
        :func:`estimate`; the message names the ``sample_every`` that fits).
    SimulationError
        If an output becomes NaN or infinite, or leaves its range by more
        than ``max_excursion`` range widths: naming the output and the time.

    Notes
    -----
    Ctrl-C (SIGINT) during a run returns the partial result on every backend
    (Brian2's ``cpp_standalone`` target excepted: it simulates in a separate
    program and raises ``KeyboardInterrupt``): what was simulated until then,
    ``result.t`` and every output of equal length, and
    ``result.info["interrupted"] = True``.  A batch run trial by trial stops
    at the interrupted trial and keeps the trials completed before it (the
    interrupted one only if it was the first).
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
    for observer in getattr(_OBSERVERS, "stack", ()):
        observer(inputs, duration, dt, options.get("initial"))
    result = _run(rnn, inputs, duration, backend, neurons, dt, seed, options)
    check_excursion(result.outputs, result.t, output_ranges(rnn), limit, backend, rnn.name)
    return result


#: Per thread: the callbacks of :func:`observing_runs` blocks, innermost last.
_OBSERVERS = threading.local()


@contextlib.contextmanager
def observing_runs(observer: Callable[[Any, float, float, Any], None]) -> Iterator[None]:
    """Call ``observer(inputs, duration, dt, initial)`` for every :func:`run` started in this thread
    inside the block (a metric's runs included), before it simulates.

    :func:`npl_nengo.compare` uses it to drive the exact trajectory with the inputs its cells ran,
    as given, without re-deriving a metric's protocol.
    """
    stack = getattr(_OBSERVERS, "stack", ())
    _OBSERVERS.stack = (*stack, observer)
    try:
        yield
    finally:
        _OBSERVERS.stack = stack


def output_ranges(rnn: "ProgrammedRNN | NEFNetwork") -> dict[str, tuple[float, float] | None]:
    """Each output's declared range (``None`` where an NEF program declares none)."""
    if isinstance(rnn, ProgrammedRNN):
        return {n: (float(lo), float(hi)) for n, (lo, hi) in zip(rnn.output_names, rnn.output_ranges)}
    return dict(rnn.flat.output_ranges)  # an NEF network: its program's ranges


def estimate(
    rnn: "ProgrammedRNN | NEFNetwork",
    duration: float,
    dt: float = 1e-3,
    backend: str = "reference",
    neurons: str = "rate",
    inputs: Mapping[str, InputLike] | list | None = None,
    **options: Any,
) -> dict[str, Any]:
    """What a run would take, reckoned before it starts: what :func:`run` checks against its limits.

    Returns ``{"steps", "samples", "trials", "spike_units", "sample_every", "bytes", "per_sample",
    "fixed"}``: time steps, recorded samples per output, trials, recorded spiking units, and the
    bytes of the recording (every output at every sample of every trial, the time axis, the spike
    counts) and of the input tables a backend builds, at the backend's declared cost per value (its
    module's ``RECORD_BYTES``, measured; :data:`RECORD_BYTES` where it declares none); ``bytes``
    is ``per_sample`` times ``samples`` plus ``fixed``.  ``steps`` and ``bytes`` are floats (a
    hostile ``dt`` gives astronomic numbers, never an allocation).

    >>> estimate(rnn, 1000.0, dt=1e-3, backend="nengo", sample_every=100)["bytes"]  # doctest: +SKIP
    2640000.0
    """
    duration = validation.number(duration, "duration", "run", positive=True, unit="seconds")
    dt = validation.number(dt, "dt", "run", positive=True, unit="seconds")
    info = backend_info(backend)
    info.check_neurons(neurons)
    return _estimate(rnn, inputs, duration, dt, neurons, info.check_options(options), info)


def _estimate(rnn, inputs, duration: float, dt: float, neurons: str, options: Mapping[str, Any], info) -> dict:
    sample_every = check_sample_every(options.get("sample_every", 1), "run")
    steps = float(round(duration / dt)) if math.isfinite(duration / dt) else math.inf
    samples = steps // sample_every if math.isfinite(steps) else math.inf
    initial = options.get("initial")
    trials = len(inputs) if isinstance(inputs, (list, tuple)) else len(initial) if isinstance(initial, list) else 1
    n_spk = spike_units(options.get("record_spikes", False), neurons != "rate", int(rnn.n_neurons), "run")
    cost = {**RECORD_BYTES, **getattr(info.module, "RECORD_BYTES", {})}
    batch = {id(x): x for x in (inputs if isinstance(inputs, (list, tuple)) else [inputs])}.values()  # trials may share
    varying = any(isinstance(x, Mapping) and any(_varying(v) for v in x.values()) for x in batch)
    copies = 2 if trials > 1 and not info.batches else 1  # trials run one by one are stacked at the end
    per_trial = samples * (len(rnn.output_names) * cost["sample"] + 8) + steps * n_spk * cost["spike"]
    total = copies * trials * per_trial + (steps * len(rnn.input_names) * cost["input"] if varying else 0.0)
    return {"steps": steps, "samples": samples, "trials": trials, "spike_units": n_spk, "bytes": float(total),
            "sample_every": sample_every, "per_sample": copies * trials * (len(rnn.output_names) * cost["sample"] + 8),
            "fixed": float(total - copies * trials * samples * (len(rnn.output_names) * cost["sample"] + 8))}


def _varying(value: Any) -> bool:
    """Whether an input value varies in time (an array or a callable; a number is held)."""
    if isinstance(value, np.ndarray):
        return value.ndim > 0
    return callable(value) or not isinstance(value, numbers.Real)


def _size(n: float) -> str:
    for unit, scale in (("TiB", 1024**4), ("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n:.0f} bytes"


def _check_cost(rnn, inputs, duration: float, dt: float, neurons: str, options: Mapping[str, Any], info) -> None:
    """Refuse, before anything is allocated, a run longer than MAX_STEPS or recording more than MAX_RECORD_BYTES."""
    cost = _estimate(rnn, inputs, duration, dt, neurons, options, info)
    steps, need, se = cost["steps"], cost["bytes"], cost["sample_every"]
    what = f"run: duration={duration:g} s at dt={dt:g} s is {steps:.4g} steps; with sample_every={se}"
    if cost["spike_units"]:
        what += f" and the spikes of {cost['spike_units']} units"
    what += f" the recording on {info.name} would take ~{_size(need)}"
    if not steps <= MAX_STEPS:
        raise ValidationError(f"{what}, and a run may take at most MAX_STEPS = {MAX_STEPS:.3g} steps "
                              f"(npl_nengo.simulation.MAX_STEPS): shorten the duration, use a larger dt, or "
                              f"split the run")
    if not need <= MAX_RECORD_BYTES:
        limit = f"more than the limit of {_size(MAX_RECORD_BYTES)} (npl_nengo.simulation.MAX_RECORD_BYTES)"
        room = MAX_RECORD_BYTES - cost["fixed"]
        fits = max(se + 1, math.ceil(steps * cost["per_sample"] / room)) if room > cost["per_sample"] else 0
        if 0 < fits <= steps:
            hint = f"pass sample_every={fits} or more (npl-nengo run: --sample-every {fits})"
        else:
            hint = "record fewer spiking units (record_spikes), shorten the duration or use a larger dt"
        raise ValidationError(f"{what}, {limit}: {hint}")


def _run(rnn, inputs, duration, backend, neurons, dt, seed, options) -> Result:
    info = backend_info(backend)
    options = info.check_options(options)
    info.check_neurons(neurons)
    _check_cost(rnn, inputs, duration, dt, neurons, options, info)
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
            results: list[Result] = []
            try:
                for x, x0 in zip(trial_inputs, trial_initial):
                    results.append(module.run(rnn, inputs=x, duration=float(duration), neurons=neurons, dt=float(dt),
                                              seed=seed, initial=x0, **rest))
                    if results[-1].info.get("interrupted"):
                        break
            except KeyboardInterrupt:  # between two trials
                if not results:
                    raise
                results[-1].info["interrupted"] = True
            return _stack(results, n)
    return module.run(rnn, inputs=inputs, duration=float(duration), neurons=neurons, dt=float(dt), seed=seed, **options)


def _stack(results: list[Result], requested: int | None = None) -> Result:
    """Trials run one by one as one batch Result.

    After Ctrl-C (the last trial interrupted) the trials completed before it, or the
    interrupted one alone if it was the first: every trial of a batch has the same samples.
    """
    interrupted = bool(results[-1].info.get("interrupted"))
    def shape(r: Result) -> tuple:
        return (len(r.t), None if r.spikes is None else r.spikes.shape)

    if interrupted and len(results) > 1 and shape(results[-1]) != shape(results[0]):
        results = results[:-1]
    first = results[0]
    spikes = None if first.spikes is None else np.stack([np.asarray(r.spikes) for r in results])
    info = {**first.info, "trials": len(results),
            "wall_seconds": sum(r.info.get("wall_seconds", 0.0) for r in results),
            "interrupted": interrupted or any(r.info.get("interrupted") for r in results)}
    if requested is not None and requested != len(results):
        info["trials_requested"] = requested
    return Result(first.t, {k: np.stack([r[k] for r in results]) for k in first.outputs}, first.backend,
                  first.neurons, first.dt, first.seed, first.name, spikes, info)
