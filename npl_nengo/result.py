"""Result: what every backend returns from a run."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .errors import SimulationError, ValidationError

__all__ = ["Result", "UnknownOutput", "check_sample_every", "check_finite", "check_excursion", "spike_units",
           "MAX_EXCURSION"]


class UnknownOutput(ValidationError, KeyError):
    """``result[name]`` for a name the result does not hold."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


def check_sample_every(sample_every: object, where: str) -> int:
    """The ``sample_every`` option every backend takes: a positive integer."""
    from .validation import integer

    return integer(sample_every, "sample_every", where, minimum=1)


#: How far an output may leave its declared range, in widths of that range, before the run counts
#: as diverged (:func:`check_excursion`); ``run(..., max_excursion=None)`` turns the check off.
MAX_EXCURSION = 10.0


def check_excursion(outputs: dict[str, np.ndarray], t: np.ndarray, ranges: dict[str, tuple[float, float] | None],
                    limit: float | None, where: str, name: str) -> None:
    """Raise :class:`SimulationError` at the first output farther than ``limit`` range widths outside its range.

    A state that leaves its declared range by that much is silent garbage (the
    compiled code is only valid inside the range), so it is reported like a
    non-finite output: with the output, its value and the time.
    """
    if limit is None:
        return
    for out, values in outputs.items():
        lo_hi = ranges.get(out)
        if lo_hi is None:
            continue
        lo, hi = float(lo_hi[0]), float(lo_hi[1])
        width = hi - lo
        if not (math.isfinite(width) and width > 0):
            continue
        values = np.atleast_2d(values)
        bad = np.argwhere((values < lo - limit * width) | (values > hi + limit * width))
        if bad.size:
            first = bad[np.argmin(bad[:, 1])]
            trial = f" (trial {first[0]})" if len(values) > 1 or np.ndim(outputs[out]) == 2 else ""
            raise SimulationError(
                f"{where}: {name!r} diverged: output {out!r} = {values[first[0], first[1]]:.3g} at t={t[first[1]]:.6g} s"
                f"{trial}, more than {limit:g} range widths outside its range [{lo:g}, {hi:g}] "
                f"(max_excursion=None keeps such runs)")


def spike_units(record_spikes: object, spiking: bool, n_total: int, where: str) -> int:
    """How many units the ``record_spikes`` option every backend takes records (0 at rate level).

    ``True`` records all units, a number the first ``n`` (at most all of them).
    """
    if isinstance(record_spikes, bool):
        n = n_total if record_spikes else 0
    elif isinstance(record_spikes, (int, np.integer)) and record_spikes >= 0:
        n = min(int(record_spikes), n_total)
    else:
        raise ValidationError(f"{where}: record_spikes must be True, False or a number of units, got {record_spikes!r}")
    return n if spiking else 0


def check_finite(outputs: dict[str, np.ndarray], t: np.ndarray, where: str, name: str) -> None:
    """Raise :class:`SimulationError` naming the first non-finite output and its time.

    Outputs are ``(samples,)`` or, for a batch, ``(trials, samples)``.
    """
    for out, values in outputs.items():
        bad = np.argwhere(~np.isfinite(np.atleast_2d(values)))
        if bad.size:
            trial = f" (trial {bad[0, 0]})" if np.ndim(values) == 2 else ""
            raise SimulationError(f"{where}: {name!r} diverged: output {out!r} is not finite at "
                                  f"t={t[bad[0, 1]]:.6g} s{trial}")


@dataclass(frozen=True, eq=False)
class Result:
    """Outputs of one simulation run.

    Attributes
    ----------
    t : ndarray (n,)
        Sample times in seconds (the first sample is at ``dt * sample_every``).
    outputs : dict of str -> ndarray (n,) or (trials, n)
        Every named output of the network; also reachable as ``result[name]``.
        A batch run (``inputs=[{...}, {...}]``) holds one row per trial; see
        :attr:`trials` and :meth:`trial`.
    backend, neurons : str
        Where and with which neuron model it ran.
    dt : float
        Simulation time step (s).
    seed : int or None
        Seed of the run's random draws.
    name : str
        Name of the network.
    spikes : ndarray or None
        Spike counts per time step for the recorded neurons (n_steps, n_recorded), if asked for.
    info : dict
        Backend-specific details (wall time, interruptions, ...).
    """

    t: np.ndarray
    outputs: dict[str, np.ndarray]
    backend: str
    neurons: str
    dt: float
    seed: int | None
    name: str
    spikes: np.ndarray | None = None
    info: dict = field(default_factory=dict)

    def __getitem__(self, name: str) -> np.ndarray:
        try:
            return self.outputs[name]
        except KeyError:
            raise UnknownOutput(f"Result of {self.name!r} has no output {name!r} (outputs: {list(self.outputs)})") from None

    def __contains__(self, name: str) -> bool:
        return name in self.outputs

    def keys(self):
        return self.outputs.keys()

    @property
    def trials(self) -> int | None:
        """Number of trials of a batch run, ``None`` for a single run."""
        return self.info.get("trials")

    def trial(self, i: int) -> "Result":
        """Trial ``i`` of a batch run as a single-run Result."""
        if self.trials is None:
            raise ValidationError("Result.trial: this is a single run, not a batch")
        if not -self.trials <= i < self.trials:
            raise ValidationError(f"Result.trial: trial {i} out of range (the batch has {self.trials})")
        spikes = None if self.spikes is None else self.spikes[i]
        return Result(self.t, {k: v[i] for k, v in self.outputs.items()}, self.backend, self.neurons, self.dt,
                      self.seed, self.name, spikes, {**self.info, "trials": None, "trial": i % self.trials})

    def mean(self, name: str, t0: float, t1: float) -> float:
        """Mean of an output over ``t0 < t <= t1`` (s)."""
        if self.trials is not None:
            raise ValidationError("Result.mean: a batch result; take result.trial(i).mean(...)")
        mask = (self.t > t0 + 1e-12) & (self.t <= t1 + 1e-12)
        if not mask.any():
            raise ValidationError(f"Result.mean: no samples in ({t0}, {t1}] s")
        return float(np.mean(self[name][mask]))

    def plot(self, outputs: "list[str] | None" = None, trial: int | None = None, ax=None):
        """A quick look: every output (or those named) against time; returns the matplotlib Figure.

        Up to 10 outputs share one axis in matplotlib's default colours; more
        take the 20 distinct colours of ``tab20``, and past 20 one panel per
        group of 10, so no two lines of one axis share a colour.  A batch
        result draws trial ``trial`` (default: every trial, thin lines of one
        colour per output).  ``ax`` draws into an existing axis (at most 20
        outputs).  pyplot is not used unless you pass an axis of your own: the
        figure is free-standing (``fig.savefig("out.png")``; in Jupyter it
        shows as an image).
        """
        from .plots import result_figure

        return result_figure(self, outputs=outputs, trial=trial, ax=ax)

    def to_dataframe(self):
        """The outputs as a pandas DataFrame: one column per output, indexed by ``t`` (s).

        A batch result has a ``(trial, t)`` MultiIndex, one block of rows per
        trial (``df.loc[2]`` is trial 2).  pandas is optional: without it this
        raises :class:`ValidationError` naming ``pip install pandas``.
        """
        import importlib

        try:
            pd = importlib.import_module("pandas")  # optional; not a dependency
        except ImportError:
            raise ValidationError("Result.to_dataframe needs pandas, which is not installed: pip install pandas") from None
        t = np.asarray(self.t, dtype=float)
        if self.trials is None:
            return pd.DataFrame({k: np.asarray(v) for k, v in self.outputs.items()},
                                index=pd.Index(t, name="t"), columns=list(self.outputs))
        n = int(self.trials)
        index = pd.MultiIndex.from_arrays([np.repeat(np.arange(n), len(t)), np.tile(t, n)], names=["trial", "t"])
        return pd.DataFrame({k: np.asarray(v).reshape(-1) for k, v in self.outputs.items()}, index=index,
                            columns=list(self.outputs))

    def __repr__(self) -> str:
        return (
            f"Result({self.name!r}, backend={self.backend!r}, neurons={self.neurons!r}, "
            f"t=[{self.t[0] if len(self.t) else 0:g}..{self.t[-1] if len(self.t) else 0:g}] s, outputs={list(self.outputs)})"
        )
