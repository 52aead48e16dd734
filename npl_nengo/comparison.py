"""Backend comparison: one network, every backend and neuron mode, one :class:`~npl_nengo.report.Report`.

>>> report = npl.compare("nand", backends=["reference", "nengo"], neurons=["rate", "regular"])  # doctest: +SKIP
>>> print(report.table())                                                                         # doctest: +SKIP
>>> report.save("nand-report")                 # report.md, report.csv, report.json, *.png   # doctest: +SKIP

For every compiler method and seed the network is compiled once; every
backend then runs the *same* numbers.  Each cell (method, seed, backend,
neurons) runs the network's own metric (the library entry's, or ``metric=``),
and its run is compared with the **rate reference**: the same compiled network
at rate level on the numpy reference backend (RK4), or, for the NEF route,
the NEF network with rate neurons (``nengo.LIFRate``) on nengo.
"""

from __future__ import annotations

import math
import time
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from .cells import LIF_ROUTES, METHODS, build as build_route, level_tol as _level_tol, neurons_for
from .cells import names as _cell_names, seeds as _cell_seeds
from .errors import NplError, ValidationError
from .program import Circuit, Program
from .report import Report
from .result import Result
from .rnn import ProgrammedRNN

__all__ = ["compare", "DEFAULT_BACKENDS", "METHODS"]

#: The backends a comparison runs on unless told otherwise.
DEFAULT_BACKENDS = ("reference", "nengo", "nengo_dl", "brian2")


def _target(network: Any, metric: Callable | None):
    """``(name, description, build or rnn, metric, default inputs, default duration, level_tol)``."""
    from . import networks

    if isinstance(network, str):
        if network.endswith(".npz"):
            from .rnn import load

            network = load(network)
        else:
            network = networks.get(network)
    if isinstance(network, networks.Entry):
        return (network.name, network.description, network.build, metric or network.metric, dict(network.inputs),
                network.duration, network.level_tol and metric is None)
    if isinstance(network, (Program, Circuit)):
        return network.name, getattr(network, "description", "") or "", lambda: network, metric, None, 1.0, False
    if isinstance(network, ProgrammedRNN):
        return network.name, f"compiled network ({network.method}, N={network.n_neurons})", network, metric, None, 1.0, False
    raise ValidationError(f"compare: expected a library name, a saved .npz, an Entry, a Program, a Circuit or a "
                          f"ProgrammedRNN, got {type(network).__name__}")


def _default_inputs(rnn: Any) -> dict[str, float]:
    """Every input at the middle of its declared range."""
    ranges = getattr(rnn, "input_ranges", None)
    if ranges is None:  # an NEF network
        ranges = [rnn.flat.input_ranges[n] for n in rnn.input_names]
    return {n: 0.5 * (lo + hi) for n, (lo, hi) in zip(rnn.input_names, ranges)}


def deviation(result: Result, reference: Result) -> dict[str, float]:
    """RMS of ``result - reference`` per output, on the reference's sample times.

    Outputs whose runs have different sample times are compared after linear
    interpolation onto the reference's times (over their common span).
    """
    out = {}
    for name in reference.outputs:
        if name not in result.outputs:
            continue
        y, y_ref = np.asarray(result[name], float), np.asarray(reference[name], float)
        if y.shape != y_ref.shape or not np.allclose(result.t, reference.t):
            keep = (reference.t >= result.t[0]) & (reference.t <= result.t[-1])
            y, y_ref = np.interp(reference.t[keep], result.t, y), y_ref[keep]
        out[name] = float(np.sqrt(np.mean((y - y_ref) ** 2))) if y.size else float("nan")
    return out


def _spike_rate(result: Result) -> float | None:
    """Mean spike rate (Hz) of the recorded units: ``sum |counts| / (units x duration)``."""
    spikes = result.spikes
    if spikes is None or spikes.size == 0:
        return None
    steps, units = spikes.shape[-2], spikes.shape[-1]
    return float(np.abs(spikes).sum() / (units * steps * result.dt) / (spikes.size // (steps * units)))


def compare(
    network: Any,
    backends: Sequence[str] | str = DEFAULT_BACKENDS,
    neurons: Sequence[str] | str = ("rate", "regular"),
    seeds: Sequence[int] | int = (0,),
    methods: Sequence[str] | str = ("taylor", "sampled"),
    n_neurons: int | None = None,
    max_rate: float = 1000.0,
    dt: float = 1e-3,
    metric: Callable[..., Any] | None = None,
    inputs: Mapping[str, Any] | None = None,
    duration: float | None = None,
    spike_units: int = 100,
    progress: bool = False,
    **run_options: Any,
) -> Report:
    """Run a network on several backends and neuron modes and compare them.

    Parameters
    ----------
    network
        A library name (``"nand"``) or :class:`~npl_nengo.networks.Entry` (its
        metric scores every run), a :class:`Program` or :class:`Circuit`
        (compiled here by every method in ``methods``), a compiled
        :class:`ProgrammedRNN` or the path of a saved ``.npz`` (run as it is).
    backends
        Backend names (default: all four).  ``"nef"`` cells run only on the
        nengo-family backends.
    neurons
        Neuron modes: ``"rate"`` and spiking modes (``"regular"``, ``"poisson"``);
        the spiking mode of the ``lif`` and ``nef`` routes is always ``"lif"``
        (LIF-route cells run where LIF spikes do: nengo, nengo_dl, brian2; the
        reference backend runs its rate cell).
    seeds
        One compile and one run per seed (compiler seed = run seed).
    methods
        ``"taylor"``, ``"sampled"``, ``"lif"`` (the sampled fit on LIF units, with
        the entry's ``lif_compile``), ``"nef"`` (ignored for a compiled network).
    n_neurons, max_rate, dt
        Neurons per part (default: the compiler's choice), spike rate at
        ``tanh = 1`` (Hz; also the sampled compiler's noise budget) and time step.
    metric
        ``metric(rnn, backend=, neurons=, dt=, seed=, **options) -> Score``;
        default: the library entry's.  Without one, every cell just runs
        ``inputs`` for ``duration`` s and is scored by its deviation only.
    inputs, duration
        The metric-less run (default: every input at mid-range, 1 s).
    spike_units
        Spiking cells record the spikes of this many units (the first ones)
        to measure the spike rate.
    progress
        Show a progress bar (tqdm, on stderr).
    **run_options
        Passed to every run (e.g. ``synapse="euler"``).

    Returns
    -------
    Report
        One row per cell: metric verdict and error, deviation from the rate
        reference, wall time, neuron count and spike rate; writes Markdown,
        CSV, JSON and PNG plots (:meth:`Report.save`).
    """
    from tqdm.auto import tqdm

    from .backend import NEF_BACKENDS, get_backend, run
    from . import networks

    if isinstance(network, str) and not network.endswith(".npz"):
        network = networks.get(network)  # once, for _target and _recommended
    name, description, source, metric, default_inputs, default_duration, level_tol = _target(network, metric)
    recommended, spiking_ok, backend_options = _recommended(network)
    lif_options = dict(getattr(network, "lif_compile", {}) or {})
    # the method whose cells use (and are judged by) the entry's recommended compile
    rec_method = recommended.get("method", "sampled") if recommended is not None else None
    backends, modes = _cell_names(backends, "backends", "compare"), _cell_names(neurons, "neurons", "compare")
    seeds = _cell_seeds(seeds, "compare")
    if isinstance(source, ProgrammedRNN):
        methods = [source.method]
    else:
        methods = _cell_names(methods, "methods", "compare")
        for m in methods:
            if m not in METHODS:
                raise ValidationError(f"compare: method {m!r} is not one of {', '.join(METHODS)}")
    supported = {b: get_backend(b).NEURONS for b in backends}  # an unknown or unavailable backend fails here
    if not (isinstance(max_rate, (int, float)) and math.isfinite(max_rate) and max_rate > 0):
        raise ValidationError(f"compare: max_rate must be a positive number of Hz, got {max_rate!r}")
    cells = []
    for m in methods:
        for s in seeds:
            for b in backends:
                for n in modes:
                    # LIF-route cells run rate or LIF neurons whatever the mode's name (each once)
                    n = neurons_for(m, n)
                    if m == "nef" and b not in NEF_BACKENDS or m == "lif" and n == "lif" and n not in supported[b]:
                        continue
                    if (m, s, b, n) not in cells:
                        cells.append((m, s, b, n))
    if not cells:
        raise ValidationError(f"compare: nothing to run (method nef runs on {', '.join(NEF_BACKENDS)} only; "
                              f"LIF spikes on backends that support neurons='lif')")
    for m, _, b, n in cells:
        if m not in LIF_ROUTES and n not in supported[b]:
            raise ValidationError(f"compare: backend {b!r} does not support neurons={n!r} "
                                  f"(supported: {', '.join(supported[b])})")
    run_inputs = dict(inputs if inputs is not None else default_inputs or {})
    run_duration = float(duration if duration is not None else default_duration)

    def execute(rnn: Any, method: str, seed: int, backend: str, mode: str) -> tuple[Any, Result, float]:
        spiking = mode != "rate"
        options = {**(backend_options.get(backend, {}) if method == rec_method else {}), **run_options,
                   "dt": dt, "seed": seed}
        if spiking:
            options["record_spikes"] = spike_units
            if method not in LIF_ROUTES:
                options["max_rate"] = max_rate
        if level_tol:
            options["tol"] = _level_tol(method, mode)
        start = time.perf_counter()
        if metric is not None:
            score = metric(rnn, backend=backend, neurons=mode, **options)
            result = score.result
        else:
            options.pop("tol", None)
            score, result = None, run(rnn, run_inputs or _default_inputs(rnn), duration=run_duration,
                                      backend=backend, neurons=mode, **options)
        return score, result, time.perf_counter() - start

    rows: list[dict] = []
    runs: dict[tuple, Result] = {}
    scores: dict[tuple, Any] = {}
    references: dict[tuple, Result] = {}
    bar = tqdm(total=len(cells), desc=f"compare {name}", unit="run", disable=not progress, leave=False)
    try:
        for method in methods:
            for seed in seeds:
                todo = [c for c in cells if c[0] == method and c[1] == seed]
                if not todo:
                    continue
                start = time.perf_counter()
                if isinstance(source, ProgrammedRNN):
                    rnn = source
                else:
                    options = ({k: v for k, v in recommended.items() if k != "method"} if method == rec_method
                               else dict(lif_options) if method == "lif" else {})
                    if n_neurons is not None:  # the caller's size overrides the entry's
                        options["n_neurons"] = n_neurons
                    rnn = build_route(source(), method, seed, max_rate=max_rate, **options)
                compile_s = time.perf_counter() - start
                spans = _spans(rnn)
                ref_backend = "nengo" if method == "nef" else "reference"
                ref_key = (method, seed, ref_backend, "rate")
                ordered = sorted(todo, key=lambda c: c != ref_key)  # the reference cell first, if asked for
                if ref_key not in todo:
                    bar.set_postfix_str(f"{method} seed {seed}: rate reference")
                    try:
                        references[(method, seed)] = execute(rnn, method, seed, ref_backend, "rate")[1]
                    except NplError:
                        pass  # no reference: deviations stay empty
                for cell in ordered:
                    _, _, backend, mode = cell
                    mode_run = mode
                    bar.set_postfix_str(f"{method} seed {seed} {backend} {mode_run}")
                    counted = recommended is None or (method == rec_method and (mode_run == "rate" or spiking_ok))
                    row = {"backend": backend, "method": method, "neurons": mode_run, "seed": seed, "counted": counted,
                           "N": int(rnn.n_neurons), "weight_norm": float(getattr(rnn, "weight_norm", float("nan"))),
                           "compile_s": compile_s}
                    try:
                        score, result, wall = execute(rnn, method, seed, backend, mode_run)
                    except NplError as exc:  # e.g. spike noise amplified into a divergence
                        row.update(result="ERROR", error=float("nan"), tol=None, passed=False, message=str(exc),
                                   statistic="error",
                                   deviation=float("nan"), deviation_by_output={}, spike_rate=None,
                                   wall_s=float("nan"), run_s=float("nan"))
                        rows.append(row)
                        bar.update()
                        continue
                    key = (method, seed, backend, mode_run)
                    scores[key] = score
                    if result is not None:  # None: the metric's run diverged (score.details["diverged"])
                        runs[key] = result
                        if cell == ref_key:
                            references[(method, seed)] = result
                    ref = references.get((method, seed))
                    dev = deviation(result, ref) if ref is not None and result is not None else {}
                    rel = [v / spans[k] for k, v in dev.items() if spans.get(k)]
                    row.update(
                        result=("PASS" if score.passed else "FAIL") if score is not None else "RAN",
                        passed=bool(score.passed) if score is not None else None,
                        error=float(score.error) if score is not None else float("nan"),
                        tol=_tolerance(score) if score is None or "diverged" not in score.details
                        else (_level_tol(method, mode_run) if level_tol else None),
                        message=score.details.get("diverged", "") if score is not None else "",
                        statistic=_statistic(score),
                        deviation=float(max(rel)) if rel else float("nan"),
                        deviation_by_output=dev,
                        spike_rate=_spike_rate(result) if result is not None else None,
                        wall_s=wall,
                        run_s=float(result.info.get("wall_seconds", float("nan"))) if result is not None else float("nan"),
                    )
                    rows.append(row)
                    bar.update()
    finally:
        bar.close()
    rank = {**{m: i for i, m in enumerate(methods)}, **{b: i for i, b in enumerate(backends)},
            **{n: i for i, n in enumerate(modes)}, "lif": len(modes)}
    rows.sort(key=lambda r: (rank[r["method"]], rank[r["backend"]], rank.get(r["neurons"], 0), r["seed"]))
    settings = {"backends": backends, "neurons": modes, "seeds": seeds, "methods": methods, "n_neurons": n_neurons,
                "max_rate": max_rate, "dt": dt, "spike_units": spike_units,
                "metric": None if metric is None else _metric_name(scores),
                "inputs": None if metric is not None else run_inputs, "duration": None if metric is not None else run_duration,
                "run_options": {k: repr(v) for k, v in run_options.items()}}
    return Report(name, description, rows, settings, runs=runs, scores=scores, references=references)


def _recommended(network: Any) -> tuple[dict | None, bool, dict]:
    """A library :class:`~npl_nengo.networks.Entry`'s recommended compile, whether it is expected to pass under spikes, and
    the run options per backend its cells take.  ``(None, True, {})`` for anything else: then
    every cell counts."""
    from . import networks

    if isinstance(network, networks.Entry):
        return dict(network.compile), bool(network.spiking), dict(network.backend_options)
    return None, True, {}


def _spans(rnn: Any) -> dict[str, float]:
    """Width of every output's declared range (the deviation is relative to it)."""
    from .backend import output_ranges

    spans = {n: float(r[1] - r[0]) for n, r in output_ranges(rnn).items() if r is not None}
    return {n: w for n, w in spans.items() if w > 0}


def _tolerance(score: Any) -> float | None:
    """A number when the metric has one level tolerance; ``None`` when it has its own set."""
    if score is None:
        return None
    tol = score.details.get("tol")
    return float(tol) if isinstance(tol, (int, float)) and not isinstance(tol, bool) else None


def _statistic(score: Any) -> str:
    """The statistic that decided a verdict, as the metric names it (its own name if it names none)."""
    if score is None:
        return ""
    if "diverged" in score.details:
        return "divergence"
    return str(score.details.get("decided_by", score.metric))


def _metric_name(scores: Mapping[tuple, Any]) -> str | None:
    for s in scores.values():
        if s is not None:
            return s.metric
    return None
