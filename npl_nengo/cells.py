"""Cells: what :func:`~npl_nengo.compare` and :func:`~npl_nengo.sweep` both run.

A cell is one compiled network (a route: compiler method, seed, size and,
for the sampled compiler, noise budget) run on one backend in one neuron mode
and judged by the network's metric.  Everything a cell is lives here once:

* :data:`METHODS`, the routes, and :func:`neurons_for`, the neuron mode a
  route actually runs;
* :class:`Target`, what is being compared (a library entry, a program, a
  compiled network) with its metric and its recommended compiles;
* :func:`plan`, the cells of a grid (the NEF route only where NEF runs, LIF
  routes once per backend that has LIF spikes);
* :func:`level_tol`, the one tolerance policy for logic levels;
* :func:`compile_route` and :func:`run_cell`, which build a route's network
  and run and judge one cell into a :class:`Row`; a cell that fails, with a
  library error or any other exception, is an ``ERROR`` row saying why
  (:func:`failure`), and the other cells go on.  Only ``KeyboardInterrupt``
  and ``SystemExit`` stop a comparison or a sweep.

``compare`` and ``sweep`` differ only in what they do around it: ``compare``
runs the cells in this process against a rate reference, ``sweep`` ships
them to dask workers.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping, Sequence

import numpy as np

from .errors import NplError, ValidationError
from .result import Result

__all__ = ["METHODS", "LIF_ROUTES", "Cell", "Row", "Target", "plan", "run_cell", "compile_route", "error_row", "failure",
           "level_tol", "neurons_for", "build", "deviation", "relative_deviation", "names", "seeds"]

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
#: The spike rate at ``tanh = 1`` (Hz) when a cell names none.
DEFAULT_MAX_RATE = 1000.0


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


def build(program: Any, method: str, seed: int, n_neurons: int | None = None, max_rate: float = DEFAULT_MAX_RATE,
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


# -- what is compared -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Target:
    """What a comparison or sweep runs: a network, how to build it per route, and how to judge a run.

    Make one with :meth:`of`.  A library entry brings its metric, its
    recommended compile (used, and counted, for that method's cells), its LIF
    compile and its per-backend run options; a :class:`~npl_nengo.Program` is
    compiled per route and run without a metric unless one is given; a
    compiled network is run as it is.
    """

    name: str
    description: str
    program: Callable[[], Any] | None
    compiled: Any = None
    metric: Callable[..., Any] | None = None
    #: whether the metric takes a logic-level tolerance ``tol`` (:func:`level_tol`)
    takes_level_tol: bool = False
    inputs: Mapping[str, Any] = field(default_factory=dict)
    duration: float = 1.0
    #: the library entry's recommended compile (``None``: every cell counts)
    recommended: Mapping[str, Any] | None = None
    lif_compile: Mapping[str, Any] = field(default_factory=dict)
    backend_options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    spiking: bool = True

    @classmethod
    def of(cls, network: Any, metric: Callable[..., Any] | None = None, where: str = "compare") -> "Target":
        """A library name, a saved ``.npz``, an :class:`~npl_nengo.networks.Entry`, a Program or Circuit,
        or a ProgrammedRNN; ``metric`` replaces the entry's."""
        from . import networks
        from .program import Circuit, Program
        from .rnn import ProgrammedRNN, load

        if isinstance(network, str):
            network = load(network) if network.endswith(".npz") else networks.get(network)
        if isinstance(network, networks.Entry):
            return cls(network.name, network.description, network.build, None, metric or network.metric,
                       network.level_tol and metric is None, dict(network.inputs), network.duration,
                       dict(network.compile), dict(network.lif_compile or {}), dict(network.backend_options),
                       bool(network.spiking))
        if isinstance(network, (Program, Circuit)):
            return cls(network.name, getattr(network, "description", "") or "", lambda: network, metric=metric)
        if isinstance(network, ProgrammedRNN):
            return cls(network.name, f"compiled network ({network.method}, N={network.n_neurons})",
                       _library_program(network), network, metric=metric)
        raise ValidationError(f"{where}: expected a library name, a saved .npz, an Entry, a Program, a Circuit or a "
                              f"ProgrammedRNN, got {type(network).__name__}")

    @property
    def recommended_method(self) -> str | None:
        """The method whose cells use (and are judged by) the recommended compile."""
        return None if self.recommended is None else self.recommended.get("method", "sampled")

    def compile_options(self, method: str) -> dict[str, Any]:
        """Keyword arguments of the route's compile: the recommended one, the LIF one, or none."""
        if method == self.recommended_method:
            return {k: v for k, v in (self.recommended or {}).items() if k != "method"}
        return dict(self.lif_compile) if method == "lif" else {}

    def build(self, method: str, seed: int, n_neurons: int | None = None, max_rate: float | None = None) -> Any:
        """The network of one route (a compiled target: itself); ``n_neurons`` overrides the entry's size."""
        if self.compiled is not None:
            return self.compiled
        assert self.program is not None
        options = self.compile_options(method)
        if n_neurons is not None:
            options["n_neurons"] = n_neurons
        return build(self.program(), method, seed, max_rate=max_rate or DEFAULT_MAX_RATE, **options)

    def counted(self, cell: "Cell") -> bool:
        """Whether a cell's verdict counts: every cell, or (a library entry) its recommended compile's
        cells, spiking ones only where the entry is known to pass under spikes."""
        return self.recommended is None or (cell.method == self.recommended_method
                                            and (cell.neurons == "rate" or self.spiking))

    def run_options(self, cell: "Cell") -> dict[str, Any]:
        """The entry's run options for a cell's backend (recommended compile's cells only)."""
        return dict(self.backend_options.get(cell.backend, {})) if cell.method == self.recommended_method else {}


def _library_program(rnn: Any) -> Callable[[], Any] | None:
    """The library entry's program a compiled network was compiled from (same name, same program digest,
    ``rnn.info["program"]``), for its exact trajectory only: a compiled target runs as it is."""
    from . import networks
    from .program import digest

    entry = networks.LIBRARY.get(rnn.name)
    if entry is None or not rnn.info.get("program"):
        return None
    try:
        return entry.build if digest(entry.build()) == rnn.info["program"] else None
    except Exception:  # noqa: BLE001 - an entry that does not build has no exact trajectory to offer
        return None


# -- cells and rows ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Cell:
    """One route on one backend in one neuron mode.

    ``neurons`` is what runs (:func:`neurons_for`), ``mode`` what was asked
    for; ``max_rate`` is ``None`` on the LIF routes (their rates are the LIF
    units'), ``n_neurons`` ``None`` for the compiler's (or the entry's) choice.
    """

    method: str
    seed: int
    backend: str
    neurons: str
    mode: str = ""
    n_neurons: int | None = None
    max_rate: float | None = None

    @property
    def compile_key(self) -> tuple:
        """Cells with one key share one compiled network (the sampled fit depends on its noise budget)."""
        return self.method, self.n_neurons, self.seed, self.max_rate if self.method == "sampled" else None


@dataclass(eq=False)
class Row:
    """The outcome of one cell.

    Fields: the cell (``method, seed, backend, mode, neurons, N, max_rate``; ``N`` is the
    grid's neurons per part where the cell names one, else the network's size),
    the network (``network``; ``weight_norm`` ‖W‖, NaN for NEF;
    ``compile_s``), whether the verdict ``counted``, ``result``
    (``PASS``/``FAIL``/``ERROR``, or ``RAN`` without a metric), ``passed``,
    ``error`` (the metric's), ``tol`` (the level tolerance; ``None`` where the
    metric has its own set), ``statistic`` (what decided the verdict),
    ``message``, ``accuracy`` (truth tables: share of right signs),
    ``deviation`` (RMS difference from the rate reference over the output's
    declared range, worst output), ``deviation_by_output`` (absolute RMS per
    output), ``spike_rate`` (Hz, mean over the recorded units), ``wall_s`` (the
    whole cell), ``run_s`` (the simulation alone).  In memory only: the run's
    :class:`Result` (``run``) and the metric's Score (``score``).

    ``row["error"]`` reads a field as a mapping does; :meth:`to_dict` gives
    the saved form.
    """

    network: str
    method: str
    seed: int
    backend: str
    mode: str
    neurons: str
    N: int | None
    max_rate: float | None
    weight_norm: float = math.nan
    compile_s: float = math.nan
    counted: bool = True
    result: str = "ERROR"
    passed: bool | None = False
    error: float = math.nan
    tol: float | None = None
    statistic: str = ""
    message: str = ""
    accuracy: float | None = None
    deviation: float = math.nan
    deviation_by_output: dict[str, float] = field(default_factory=dict)
    spike_rate: float | None = None
    wall_s: float = math.nan
    run_s: float = math.nan
    run: Result | None = field(default=None, repr=False)
    score: Any = field(default=None, repr=False)

    def __getitem__(self, key: str) -> Any:
        if key in _SAVED:
            return getattr(self, key)
        raise KeyError(key)

    def get(self, key: str, default: Any = None) -> Any:
        return getattr(self, key) if key in _SAVED else default

    def keys(self) -> Iterator[str]:
        return iter(_SAVED)

    def to_dict(self) -> dict[str, Any]:
        """The saved fields (everything but the in-memory run and score)."""
        return {k: getattr(self, k) for k in _SAVED}

    def without_run(self) -> "Row":
        """A copy that keeps the numbers only (what a dask worker sends back)."""
        return dataclasses.replace(self, run=None, score=None)


_SAVED = tuple(f.name for f in dataclasses.fields(Row) if f.name not in ("run", "score"))


def plan(methods: Sequence[str], seeds: Sequence[int], backends: Sequence[str], modes: Sequence[str],
         sizes: Sequence[int | None] = (None,), max_rates: Sequence[float | None] = (None,),
         where: str = "compare") -> list[Cell]:
    """Every cell of a grid, in grid order (method, size, seed, rate, backend, mode), each once.

    The NEF route runs only on backends that run NEF networks; LIF routes run
    their spiking cells as LIF spikes, once per backend that has them (the
    others run their rate cells only); a taylor rate cell does not depend on
    the spike rate and runs at the first one only.  A tanh route asking for a
    neuron mode its backend lacks is a :class:`ValidationError`, as is an
    empty plan.
    """
    from .registry import backend_info, nef_backends

    for m in methods:
        if m not in METHODS:
            raise ValidationError(f"{where}: method {m!r} is not one of {', '.join(METHODS)}")
    infos = {b: backend_info(b) for b in backends}  # an unknown or unavailable backend fails here
    cells: list[Cell] = []
    seen: set[tuple] = set()
    for method in methods:
        rates = list(max_rates) if method not in LIF_ROUTES else [None]
        for n in sizes:
            for seed in seeds:
                for rate in rates:
                    for backend in backends:
                        info = infos[backend]
                        if method == "nef" and not info.nef:
                            continue
                        # a backend that runs LIF units only (ACTIVATIONS = ("lif",): nest) has no tanh cells
                        if method not in LIF_ROUTES and "tanh" not in getattr(info.module, "ACTIVATIONS", ("tanh",)):
                            continue
                        for mode in modes:
                            if mode == "rate" and method == "taylor" and rate != rates[0]:
                                continue
                            neurons = neurons_for(method, mode)
                            if method in LIF_ROUTES:
                                if neurons not in info.neurons:
                                    continue
                            else:
                                info.check_neurons(neurons, where)
                            key = (method, n, seed, rate, backend, neurons)
                            if key not in seen:
                                seen.add(key)
                                cells.append(Cell(method, int(seed), backend, neurons, mode, n, rate))
    if not cells:
        raise ValidationError(f"{where}: nothing to run (method nef runs on {', '.join(nef_backends())} only; "
                              f"LIF spikes on backends that support neurons='lif')")
    return cells


def run_cell(target: Target, network: Any, cell: Cell, *, dt: float = 1e-3, tol: float | None = None,
             run_options: Mapping[str, Any] | None = None, spike_units: int | None = None,
             reference: Result | None = None, compile_s: float = math.nan) -> Row:
    """Run one cell and judge it.

    Parameters
    ----------
    target
        What is compared: its metric (or, without one, a plain run of its
        inputs) and its per-backend run options.
    network
        The cell's compiled network (:meth:`Target.build`).
    cell
        The route, backend and neuron mode.
    dt, run_options
        Time step; options passed to every run (after the entry's own).
    tol
        Level tolerance for metrics that take one; default :func:`level_tol`.
    spike_units
        Spiking cells record the spikes of this many units (for the spike rate).
    reference
        The rate reference's run: the row's deviation is measured from it.
    compile_s
        How long the network took to compile (reported in the row).

    Returns
    -------
    Row
        ``result="ERROR"`` with the message when the run raised a library error
        (e.g. spike noise amplified into a divergence), or with the exception's
        type and message when anything else failed (a metric's bug, a backend's
        crash): one cell's failure never ends the comparison or sweep.
        ``KeyboardInterrupt`` and ``SystemExit`` propagate.
    """
    start = time.perf_counter()
    try:
        row = Row(target.name, cell.method, cell.seed, cell.backend, cell.mode or cell.neurons, cell.neurons,
                  cell.n_neurons if cell.n_neurons is not None else int(network.n_neurons), cell.max_rate,
                  float(getattr(network, "weight_norm", math.nan)), compile_s, target.counted(cell))
    except Exception as exc:  # noqa: BLE001 - not a network this cell can run
        row = error_row(target, cell, failure(exc), compile_s)
        row.wall_s = time.perf_counter() - start
        return row
    try:
        _run_and_judge(row, target, network, cell, dt, tol, run_options, spike_units, reference)
    except Exception as exc:  # noqa: BLE001 - a library error (e.g. a divergence) or anything else: the row says
        _failed(row, exc)
    row.wall_s = time.perf_counter() - start
    return row


def _failed(row: Row, exc: BaseException) -> None:
    """Make ``row`` an ERROR row for ``exc`` (whatever a partial judgement had filled in is dropped)."""
    row.result, row.passed, row.error, row.tol, row.accuracy = "ERROR", False, math.nan, None, None
    row.message, row.statistic = failure(exc), "error"
    row.deviation, row.deviation_by_output, row.spike_rate, row.run_s = math.nan, {}, None, math.nan
    row.run, row.score = None, None


def _run_and_judge(row: Row, target: Target, network: Any, cell: Cell, dt: float, tol: float | None,
                   run_options: Mapping[str, Any] | None, spike_units: int | None, reference: Result | None) -> None:
    """:func:`run_cell`'s work, into ``row``; raises what the run or the judgement raised."""
    from .simulation import run

    options: dict[str, Any] = {**target.run_options(cell), **(run_options or {}), "dt": dt, "seed": cell.seed}
    if cell.neurons != "rate":
        if spike_units:
            options["record_spikes"] = spike_units
        if cell.method not in LIF_ROUTES:
            options["max_rate"] = cell.max_rate or DEFAULT_MAX_RATE
    cell_tol = (tol if tol is not None else level_tol(cell.method, cell.neurons)) if target.takes_level_tol else None
    if target.metric is not None:
        if cell_tol is not None:
            options["tol"] = cell_tol
        score = target.metric(network, backend=cell.backend, neurons=cell.neurons, **options)
        result = score.result
    else:
        inputs = dict(target.inputs) or _default_inputs(network)
        score, result = None, run(network, inputs, duration=target.duration, backend=cell.backend,
                                  neurons=cell.neurons, **options)
    row.run, row.score = result, score
    if score is not None:
        row.result, row.passed, row.error = ("PASS" if score.passed else "FAIL"), bool(score.passed), float(score.error)
        row.tol = cell_tol if cell_tol is not None else _tolerance(score)
        row.message = score.details.get("diverged", "")
        row.statistic = "divergence" if "diverged" in score.details else str(score.details.get("decided_by", score.metric))
        row.accuracy = _accuracy(score)
    else:
        row.result, row.passed = "RAN", None
    if result is not None:  # None: the metric's run diverged (score.details["diverged"])
        row.run_s = float(result.info.get("wall_seconds", math.nan))
        row.spike_rate = _spike_rate(result)
        if reference is not None:
            row.deviation, row.deviation_by_output = relative_deviation(result, reference, network)


def failure(exc: BaseException) -> str:
    """The message of a failed cell: a library error's own message; for any other exception, its type and
    message (``ZeroDivisionError: division by zero``): an unexpected failure says what it was."""
    if isinstance(exc, NplError):
        return str(exc)
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def compile_route(target: Target, method: str, seed: int, n_neurons: int | None = None,
                  max_rate: float | None = None) -> tuple[Any, float, str]:
    """Build a route's network: ``(network, seconds, "")``, or ``(None, seconds, "compile: <why>")`` if the
    build raised (a library error or any other ``Exception``; the route's cells become ERROR rows)."""
    start = time.perf_counter()
    try:
        network = target.build(method, seed, n_neurons, max_rate)
    except Exception as exc:  # noqa: BLE001 - the route's rows say why
        return None, time.perf_counter() - start, f"compile: {failure(exc)}"
    return network, time.perf_counter() - start, ""


def error_row(target: Target, cell: Cell, message: str, compile_s: float = math.nan) -> Row:
    """The row of a cell whose network could not be built."""
    return Row(target.name, cell.method, cell.seed, cell.backend, cell.mode or cell.neurons, cell.neurons,
               cell.n_neurons, cell.max_rate, compile_s=compile_s, counted=target.counted(cell), message=message,
               statistic="error")


# -- measurements of a run ----------------------------------------------------------------------------
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


def relative_deviation(result: Result, reference: Result, network: Any) -> tuple[float, dict[str, float]]:
    """The worst output's RMS deviation from ``reference`` over its declared range, and the absolute
    RMS deviation per output (:func:`deviation`)."""
    by_output = deviation(result, reference)
    spans = _spans(network)
    rel = [v / spans[k] for k, v in by_output.items() if spans.get(k)]
    return (float(max(rel)) if rel else math.nan), by_output


def _default_inputs(network: Any) -> dict[str, float]:
    """Every input at the middle of its declared range."""
    ranges = getattr(network, "input_ranges", None)
    if ranges is None:  # an NEF network
        ranges = [network.flat.input_ranges[n] for n in network.input_names]
    return {n: 0.5 * (lo + hi) for n, (lo, hi) in zip(network.input_names, ranges)}


def _spike_rate(result: Result) -> float | None:
    """Mean spike rate (Hz) of the recorded units: ``sum |counts| / (units x duration)``."""
    spikes = result.spikes
    if spikes is None or spikes.size == 0:
        return None
    steps, units = spikes.shape[-2], spikes.shape[-1]
    return float(np.abs(spikes).sum() / (units * steps * result.dt) / (spikes.size // (steps * units)))


def _spans(network: Any) -> dict[str, float]:
    """Width of every output's declared range (the deviation is relative to it)."""
    from .simulation import output_ranges

    spans = {n: float(r[1] - r[0]) for n, r in output_ranges(network).items() if r is not None}
    return {n: w for n, w in spans.items() if w > 0}


def _tolerance(score: Any) -> float | None:
    """A number when the metric has one level tolerance; ``None`` when it has its own set."""
    tol = score.details.get("tol")
    return float(tol) if isinstance(tol, (int, float)) and not isinstance(tol, bool) else None


def _accuracy(score: Any) -> float | None:
    """Share of right signs for truth tables (``1 - wrong / cases``; 0 if the run diverged); ``None`` otherwise."""
    if score.metric == "truth_table" and "diverged" in score.details:
        return 0.0
    cases = score.details.get("cases")
    wrong = score.details.get("wrong_signs")
    return None if not cases or wrong is None else 1.0 - wrong / cases


# -- argument lists -----------------------------------------------------------------------------------
def names(values: Sequence[str] | str, what: str, where: str) -> list[str]:
    """A non-empty list of names (or one comma-separated string), duplicates dropped."""
    items = [v.strip() if isinstance(v, str) else v for v in (values.split(",") if isinstance(values, str) else values)]
    if not items or not all(isinstance(v, str) and v for v in items):
        raise ValidationError(f"{where}: {what} must be a non-empty list of names, got {values!r}")
    return list(dict.fromkeys(items))


def seeds(values: Sequence[int] | int, where: str) -> list[int]:
    """One seed or a list of them: integers in 0..2**32-1 (Python or numpy), duplicates dropped."""
    from . import validation

    values = [values] if isinstance(values, (int, np.integer)) else list(values)
    if not values or any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) or not 0 <= s <= validation.MAX_SEED
                         for s in values):
        raise ValidationError(f"{where}: seeds must be integers in 0..{validation.MAX_SEED}, got {values!r}")
    return [int(s) for s in dict.fromkeys(values)]
