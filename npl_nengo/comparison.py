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

from typing import Any, Callable, Mapping, Sequence

from .cells import METHODS, Cell, Row, Target, compile_route, deviation, error_row, plan, relative_deviation, run_cell
from .cells import names as _cell_names, seeds as _cell_seeds
from . import validation
from .registry import BACKENDS
from .report import Report
from .result import Result

__all__ = ["compare", "DEFAULT_BACKENDS", "METHODS", "deviation"]

#: The backends a comparison runs on unless told otherwise: every registered one.
DEFAULT_BACKENDS = tuple(BACKENDS)


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
        Backend names (default: every registered backend, :data:`DEFAULT_BACKENDS`).  ``"nef"`` cells run only on the
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
        CSV, JSON and PNG plots (:meth:`Report.save`).  A cell whose compile
        or run raised (a library error, or any other exception) is an
        ``ERROR`` row with the message (``TypeName: message`` for an
        unexpected exception) and the other cells still run; only
        ``KeyboardInterrupt`` and ``SystemExit`` end the comparison.
    """
    from tqdm.auto import tqdm

    target = Target.of(network, metric)
    if inputs is not None or duration is not None:
        target = _replace_run(target, inputs, duration)
    backends, modes = _cell_names(backends, "backends", "compare"), _cell_names(neurons, "neurons", "compare")
    seeds = _cell_seeds(seeds, "compare")
    methods = [target.compiled.method] if target.compiled is not None else _cell_names(methods, "methods", "compare")
    max_rate = validation.number(max_rate, "max_rate", "compare", positive=True, unit="Hz")
    if n_neurons is not None:
        n_neurons = validation.integer(n_neurons, "n_neurons", "compare", minimum=1)
    cells = plan(methods, seeds, backends, modes, max_rates=[float(max_rate)], where="compare")

    rows: list[Row] = []
    references: dict[tuple, Result] = {}
    bar = tqdm(total=len(cells), desc=f"compare {target.name}", unit="run", disable=not progress, leave=False)
    try:
        for route in dict.fromkeys(c.compile_key for c in cells):
            todo = [c for c in cells if c.compile_key == route]
            method, _, seed, _ = route
            net, compile_s, message = compile_route(target, method, seed, n_neurons, max_rate)
            if net is None:  # the route's cells are ERROR rows, the others still run
                rows += [error_row(target, cell, message, compile_s) for cell in todo]
                bar.update(len(todo))
                continue
            # the rate reference: the same network at rate level on the numpy reference backend (NEF: on nengo)
            ref_cell = Cell(method, seed, "nengo" if method == "nef" else "reference", "rate", "rate", None,
                            todo[0].max_rate)
            if not any((c.backend, c.neurons) == (ref_cell.backend, "rate") for c in todo):
                bar.set_postfix_str(f"{method} seed {seed}: rate reference")
                # None: no reference, no deviations
                reference = run_cell(target, net, ref_cell, dt=dt, run_options=run_options).run
            else:
                todo.sort(key=lambda c: (c.backend, c.neurons) != (ref_cell.backend, "rate"))  # the reference first
                reference = None
            for cell in todo:
                bar.set_postfix_str(f"{method} seed {seed} {cell.backend} {cell.neurons}")
                row = run_cell(target, net, cell, dt=dt, run_options=run_options, reference=reference,
                               spike_units=spike_units, compile_s=compile_s)
                if (cell.backend, cell.neurons) == (ref_cell.backend, "rate") and row.run is not None:
                    reference = row.run
                    row.deviation, row.deviation_by_output = relative_deviation(reference, reference, net)
                if reference is not None:
                    references[(method, seed)] = reference
                rows.append(row)
                bar.update()
    finally:
        bar.close()
    rank = {**{m: i for i, m in enumerate(methods)}, **{b: i for i, b in enumerate(backends)},
            **{n: i for i, n in enumerate(modes)}, "lif": len(modes)}
    rows.sort(key=lambda r: (rank[r.method], rank[r.backend], rank.get(r.neurons, 0), r.seed))
    runs = {(r.method, r.seed, r.backend, r.neurons): r.run for r in rows if r.run is not None}
    scores = {(r.method, r.seed, r.backend, r.neurons): r.score for r in rows if r.result != "ERROR"}
    metric_name = next((s.metric for s in scores.values() if s is not None), None)
    settings = {"backends": backends, "neurons": modes, "seeds": seeds, "methods": methods, "n_neurons": n_neurons,
                "max_rate": max_rate, "dt": dt, "spike_units": spike_units,
                "metric": None if target.metric is None else metric_name,
                "inputs": None if target.metric is not None else dict(target.inputs),
                "duration": None if target.metric is not None else target.duration,
                "run_options": {k: repr(v) for k, v in run_options.items()}}
    return Report(target.name, target.description, rows, settings, runs=runs, scores=scores, references=references)


def _replace_run(target: Target, inputs: Mapping[str, Any] | None, duration: float | None) -> Target:
    """The metric-less run's inputs and duration, as the caller gives them."""
    import dataclasses

    return dataclasses.replace(target, inputs=dict(inputs) if inputs is not None else target.inputs,
                               duration=float(duration) if duration is not None else target.duration)
