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

Beside both the report holds the **exact** trajectory (``report.exact``): the
program's own ODE (:func:`npl_nengo.ode.integrate`), or for the library's guest
RNN the direct guest simulation, driven by the inputs the cells ran (recorded
from the first run of each route, not re-derived), sampled at the rate
reference's times.  It is what the figures draw as "exact"; computing it never
touches the compiled weights.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import time
from collections import OrderedDict
from typing import Any, Callable, Iterator, Mapping, Sequence

import numpy as np

from .cells import METHODS, Cell, Row, Target, compile_route, deviation, error_row, plan, relative_deviation, run_cell
from .cells import names as _cell_names, seeds as _cell_seeds
from . import validation
from .registry import BACKENDS, DEFAULT_BACKENDS  # noqa: F401  (DEFAULT_BACKENDS: part of this module's API)
from .report import Report
from .result import Result

__all__ = ["compare", "DEFAULT_BACKENDS", "METHODS", "deviation"]

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
        Backend names (default: the installed ones but the Loihi emulator, :data:`DEFAULT_BACKENDS`).  ``"nef"`` cells run only on the
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
    exact: dict[tuple, Result] = {}
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
            calls: list[tuple] = []
            if not any((c.backend, c.neurons) == (ref_cell.backend, "rate") for c in todo):
                bar.set_postfix_str(f"{method} seed {seed}: rate reference")
                # None: no reference, no deviations
                with _recording_inputs(calls):
                    reference = run_cell(target, net, ref_cell, dt=dt, run_options=run_options).run
            else:
                todo.sort(key=lambda c: (c.backend, c.neurons) != (ref_cell.backend, "rate"))  # the reference first
                reference = None
            for cell in todo:
                bar.set_postfix_str(f"{method} seed {seed} {cell.backend} {cell.neurons}")
                with _recording_inputs(calls):
                    row = run_cell(target, net, cell, dt=dt, run_options=run_options, reference=reference,
                                   spike_units=spike_units, compile_s=compile_s)
                if (cell.backend, cell.neurons) == (ref_cell.backend, "rate") and row.run is not None:
                    reference = row.run
                    row.deviation, row.deviation_by_output = relative_deviation(reference, reference, net)
                if reference is not None:
                    references[(method, seed)] = reference
                rows.append(row)
                bar.update()
            sampled_at = reference or next((r.run for r in rows[::-1] if r.run is not None and r.method == method
                                            and r.seed == seed), None)
            trajectory = exact_trajectory(target, calls[0] if calls else None, sampled_at)
            if trajectory is not None:
                exact[(method, seed)] = trajectory
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
    return Report(target.name, target.description, rows, settings, runs=runs, scores=scores, references=references,
                  exact=exact)


# -- the exact trajectory -----------------------------------------------------------------------------
@contextlib.contextmanager
def _recording_inputs(calls: list) -> Iterator[list]:
    """Record ``(inputs, duration, dt, initial)`` of every run started inside the block (metrics included).

    Only the first recorded run of a route matters: every cell of a route runs the same protocol.
    """
    from .simulation import observing_runs

    if calls:  # already recorded for this route
        yield calls
        return
    with observing_runs(lambda inputs, duration, dt, initial: calls.append((inputs, float(duration), float(dt),
                                                                             initial))):
        yield calls


#: Exact trajectories already solved, by content (program, inputs sampled on the time grid, initial state).
_EXACT_CACHE: "OrderedDict[str, dict[str, np.ndarray]]" = OrderedDict()
_EXACT_CACHE_SIZE = 16


#: Wall-clock seconds an exact solve may take before it is given up (the report then has no exact line).
EXACT_BUDGET_S = 60.0


class _OverBudget(Exception):
    pass


def _as_function(value: Any, dt: float, deadline: float) -> Any:
    """An input as the ODE takes it: a number, or a callable of t that gives up past ``deadline``
    (an array, one sample per step, is interpolated linearly between the steps: the solver needs a
    continuous input, and a step function would cost it a restart at every step)."""
    if isinstance(value, (int, float, np.number)):
        return value
    if callable(value):
        f = value
    else:
        samples = np.asarray(value, dtype=float).reshape(-1)
        if samples.size == 1:
            return float(samples[0])
        steps = np.arange(samples.size) * dt
        f = functools.partial(np.interp, xp=steps, fp=samples)
    return functools.partial(_timed, f, deadline)


def _timed(f: Callable[[float], Any], deadline: float, t: float) -> float:
    if time.perf_counter() > deadline:
        raise _OverBudget(f"the exact solve took more than {EXACT_BUDGET_S:g} s")
    return float(f(t))


def exact_trajectory(target: Any, call: tuple | None, sampled_at: Result | None) -> Result | None:
    """The exact trajectory of a run: the program's ODE (or, for a virtualized guest RNN, the direct guest)
    driven by the recorded inputs ``call`` and sampled at ``sampled_at``'s times; ``None`` where there is
    none (a compiled network, a batch run, a run that did not record its inputs, a Circuit started from a
    state of its own) or the ODE solve failed.  A Circuit is integrated as its wired parts (:func:`_circuit_ode`)."""
    from .program import Circuit, Program

    if call is None or sampled_at is None or target.program is None or sampled_at.trials is not None:
        return None
    inputs, duration, dt, initial = call
    if not isinstance(inputs, Mapping) or isinstance(initial, list):
        return None
    t = np.asarray(sampled_at.t, dtype=float)
    if not len(t) or t[-1] > duration + 1.5 * dt:
        return None
    try:
        program = target.program()
        if not isinstance(program, (Program, Circuit)):
            return None
        deadline = time.perf_counter() + EXACT_BUDGET_S
        drive = {k: _as_function(v, dt, deadline) for k, v in inputs.items() if k in program.inputs}
        start = None
        if isinstance(program, Circuit):
            if initial not in (None, "rstar"):
                return None
        elif isinstance(initial, Mapping):
            start = {k: float(v) for k, v in initial.items() if k in program.states}
        elif initial == "zero":
            start = {k: 0.0 for k in program.states}
        kick = 0.0
        outputs = _cached(target.name, program, drive, start, t, kick)
        if _stuck(outputs, sampled_at):  # resting on an unstable equilibrium the network leaves: nudge it off
            kick = KICK
            outputs = _cached(target.name, program, drive, start, t, kick)
    except Exception:  # noqa: BLE001 - no exact line rather than no report
        return None
    guest = getattr(program, "guest", None) is not None and not kick
    info: dict[str, Any] = {"exact": "guest" if guest else "ode"}
    if kick:
        info["kick"] = kick
    return Result(t, {k: v for k, v in outputs.items() if k in sampled_at.outputs}, "exact", "ode", dt, None,
                  target.name, info=info)


#: The nudge (added to the k-th state variable as ``KICK * (k + 1)``) that moves an exact trajectory off an
#: unstable equilibrium where its start is one (a symmetric ring oscillator) and the network's run moves.
KICK = 1e-6


def _cached(name: str, program: Any, drive: Mapping[str, Any], start: Any, t: np.ndarray,
            kick: float) -> dict[str, np.ndarray]:
    key = _exact_key(name, program, drive, start, t, kick)
    if key not in _EXACT_CACHE:
        _EXACT_CACHE[key] = _solve(name, program, drive, start, t, kick)
        while len(_EXACT_CACHE) > _EXACT_CACHE_SIZE:
            _EXACT_CACHE.popitem(last=False)
    _EXACT_CACHE.move_to_end(key)
    return _EXACT_CACHE[key]


def _stuck(exact: Mapping[str, np.ndarray], ran: Result) -> bool:
    """Whether the exact trajectory stands still over the second half while the run keeps moving (by more
    than a thousand times as much) in every output."""
    half = len(ran.t) // 2
    common = [k for k in exact if k in ran.outputs]
    if not common or half < 2:
        return False
    return all(np.ptp(exact[k][half:]) * 1e3 < np.ptp(np.asarray(ran[k])[half:]) for k in common)


def _exact_key(name: str, program: Any, drive: Mapping[str, Any], start: Any, t: np.ndarray, kick: float) -> str:
    """A content key: the program's equations, the inputs sampled on the grid, the initial state, the grid."""
    from .program import digest

    h = hashlib.sha256()
    h.update(repr((name, digest(program), sorted((start or {}).items()), kick)).encode())
    h.update(np.ascontiguousarray(t).tobytes())
    for k in sorted(drive):
        v = drive[k]
        h.update(k.encode())
        h.update(np.array([float(v(s)) for s in t] if callable(v) else [float(v)]).tobytes())
    return h.hexdigest()


def _held(value: float, t: float) -> float:
    return value


def _solve(name: str, program: Any, drive: Mapping[str, Any], start: Any, t: np.ndarray,
           kick: float = 0.0) -> dict[str, np.ndarray]:
    from . import ode

    guest = getattr(program, "guest", None)
    if guest is not None and not kick:  # a virtualized guest: the tanh RNN itself, not its Taylor expansion
        from .networks import virtual

        names = [f"u{j + 1}" for j in range(guest.m)]
        if list(program.inputs) == names and list(program.states) == [f"x{i + 1}" for i in range(guest.n)]:
            u = [drive.get(n, 0.0) for n in names]
            r = virtual.simulate_guest(guest, [f if callable(f) else functools.partial(_held, float(f)) for f in u], t)
            rs = guest.operating_point()
            out = {}
            for i in range(guest.n):  # the program's variables: r_i = r*_i + (deviation / LEVEL) x_i
                lo, hi = program.range_of(f"r{i + 1}")
                out[f"r{i + 1}"] = r[:, i]
                out[f"x{i + 1}"] = (r[:, i] - rs[i]) * virtual.LEVEL / (0.5 * (hi - lo))
            return out
    if not hasattr(program, "derivatives"):  # a Circuit
        return _circuit_ode(program, t, drive, kick)
    x0 = ode.state_vector(program, start) + kick * np.arange(1, len(program.states) + 1)
    return ode.integrate(program, t, initial=dict(zip(program.states, x0)), inputs=drive)


def _circuit_ode(circuit: Any, t: np.ndarray, drive: Mapping[str, Any], kick: float = 0.0) -> dict[str, np.ndarray]:
    """A Circuit's ODE: every part's program integrated together (each from its own initial values), an
    input port reading the output port wired to it (a state, or a map evaluated there) or its external
    input; returns the circuit's outputs sampled at ``t``."""
    import scipy.integrate

    from . import ode
    from .errors import SimulationError

    deadline = time.perf_counter() + EXACT_BUDGET_S
    flat = circuit.flat
    progs = [p.program for p in flat.parts]
    fields = [ode.vector_field(p) for p in progs]
    sizes = [len(p.states) for p in progs]
    starts = np.cumsum([0, *sizes])
    external = {port: e for e, ports in flat.inputs.items() for port in ports}
    sources = {e: (drive.get(e, 0.0)) for e in flat.inputs}

    def value(port: tuple[int, str], x: np.ndarray, now: float, memo: dict, depth: int = 0) -> float:
        if port in memo:
            return memo[port]
        if depth > 4 * len(progs) + 8:
            raise SimulationError(f"{circuit.name}: the maps of the circuit feed each other in a loop")
        p, name = port
        prog = progs[p]
        if name in prog.states:
            out = float(x[starts[p] + prog.states.index(name)])
        else:  # a map: the part's states and inputs
            values = {v: x[starts[p] + i] for i, v in enumerate(prog.states)}
            values.update({i: inport((p, i), x, now, memo, depth + 1) for i in prog.inputs})
            out = float(prog.evaluate(name, values))
        memo[port] = out
        return out

    def inport(port: tuple[int, str], x: np.ndarray, now: float, memo: dict, depth: int = 0) -> float:
        if port in flat.wires:
            return value(flat.wires[port], x, now, memo, depth + 1)
        e = external.get(port)
        if e is None:
            return 0.0
        f = sources[e]
        return float(f(now)) if callable(f) else float(f)

    def rhs(now: float, x: np.ndarray) -> np.ndarray:
        if time.perf_counter() > deadline:
            raise _OverBudget(f"the exact solve took more than {EXACT_BUDGET_S:g} s")
        memo: dict = {}
        return np.concatenate([fields[p](x[starts[p]:starts[p + 1]],
                                         [inport((p, i), x, now, memo) for i in prog.inputs])
                               for p, prog in enumerate(progs)])

    x0 = np.concatenate([ode.state_vector(p, None) for p in progs])
    x0 = x0 + kick * np.arange(1, len(x0) + 1)
    sol = scipy.integrate.solve_ivp(rhs, (0.0, float(t[-1])), x0, method="DOP853", t_eval=t, rtol=1e-10, atol=1e-12)
    if not sol.success or sol.y.shape[1] != len(t) or not np.all(np.isfinite(sol.y)):
        raise SimulationError(f"{circuit.name}: the circuit's ODE could not be integrated ({sol.message})")
    out: dict[str, list[float]] = {o: [] for o in flat.outputs}
    for k, now in enumerate(t):
        memo: dict = {}
        for o, port in flat.outputs.items():
            out[o].append(value(port, sol.y[:, k], float(now), memo))
    return {o: np.asarray(v) for o, v in out.items()}


def _replace_run(target: Target, inputs: Mapping[str, Any] | None, duration: float | None) -> Target:
    """The metric-less run's inputs and duration, as the caller gives them."""
    import dataclasses

    return dataclasses.replace(target, inputs=dict(inputs) if inputs is not None else target.inputs,
                               duration=float(duration) if duration is not None else target.duration)
