"""Parameter sweeps on dask.distributed: N, max rate, compiler, seed, backend, neuron mode.

>>> table = npl.sweep("nand", n_neurons=[50, 100, 200], methods=["taylor", "sampled", "nef"],
...                   seeds=[0, 1, 2], neurons=["regular"])          # doctest: +SKIP
>>> print(table.table()); table.save("nand-sweep")                    # doctest: +SKIP

Every combination is one trial: compile (once per method, N, seed and, for the
sampled compiler, max rate: the noise budget it fits for), then score the
network with its library metric on one backend in one neuron mode.  Compiles
and runs are dask tasks (a run depends on its compile's future, so a network
is compiled once and shipped to the workers that run it).  By default the
trials run on a :class:`distributed.LocalCluster` of ``workers`` processes;
``scheduler="tcp://host:8786"`` (or a :class:`distributed.Client`) runs the
same tasks on an existing cluster, whose workers need npl_nengo installed.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ContextManager, Iterator, Sequence

from .errors import BackendUnavailable, ValidationError
from . import validation
from .cells import METHODS, Cell, Row, Target, compile_route, error_row, failure, names, plan, run_cell
from .cells import seeds as _seeds
from .files import DirectoryClaim, claim_directory, jsonable, write_atomic

__all__ = ["sweep", "SweepResult"]

GENERATOR = "npl_nengo.sweep"
#: The files of a saved sweep (``sweep.png`` only where some trial has an error to plot).
FILES = ("sweep.md", "sweep.csv", "sweep.json", "sweep.png")
#: Distinct error messages the table and the Markdown list (the JSON and CSV files hold every trial's).
MAX_LISTED = 10
#: How long to try reaching a ``scheduler=`` address.
CONNECT_TIMEOUT = "10s"
ROW_KEYS = ("network", "method", "N", "max_rate", "seed", "backend", "mode", "neurons", "result", "passed", "error",
            "tol", "accuracy", "compile_s", "run_s", "wall_s", "message")


# -- tasks (run on the workers; module-level so that they pickle by reference) ----------------------
def _compile_task(name: str, cell: Cell) -> dict:
    """Build a cell's network on a worker (the library entry's compile for its route, at the grid's N).

    Never raises: a failure (an unexpected exception included) is the message of its cells' ERROR rows."""
    start = time.perf_counter()
    try:
        target = Target.of(name, where="sweep")
    except Exception as exc:  # noqa: BLE001 - the cells' rows say what went wrong
        return {"network": None, "compile_s": time.perf_counter() - start, "message": f"compile: {failure(exc)}"}
    network, compile_s, message = compile_route(target, cell.method, cell.seed, cell.n_neurons, cell.max_rate)
    return {"network": network, "compile_s": compile_s, "message": message}


def _run_task(compiled: dict, name: str, cell: Cell, dt: float, tol: float | None) -> Row:
    """Run and judge one cell on a worker: :func:`npl_nengo.cells.run_cell`, the numbers sent back.

    Never raises an ``Exception``: a failure is the cell's ERROR row."""
    try:
        target = Target.of(name, where="sweep")
    except Exception as exc:  # noqa: BLE001
        return _failed_row(name, cell, failure(exc), compiled.get("compile_s", math.nan))
    if compiled["network"] is None:
        return error_row(target, cell, compiled["message"], compiled["compile_s"])
    return run_cell(target, compiled["network"], cell, dt=dt, tol=tol, compile_s=compiled["compile_s"]).without_run()


def _failed_row(name: str, cell: Cell, message: str, compile_s: float = math.nan) -> Row:
    """An ERROR row for a cell whose task failed outside the cell runner (a lost worker, ...)."""
    return Row(name, cell.method, cell.seed, cell.backend, cell.mode or cell.neurons, cell.neurons, cell.n_neurons,
               cell.max_rate, compile_s=compile_s, message=message, statistic="error")


def _one_line(message: str, limit: int) -> str:
    """A message on one line, cut to ``limit`` characters (the JSON and CSV files keep it whole)."""
    message = " ".join(message.split())
    return message if len(message) <= limit else message[:limit - 1] + "…"


# -- result --------------------------------------------------------------------------------------------
@dataclass(eq=False)
class SweepResult:
    """The trials of a sweep: one row per trial, aggregated over seeds by :meth:`summary`.

    Rows hold ``network, method, N, max_rate`` (``None`` for NEF: its LIF
    rates are nengo's), ``seed, backend, neurons, result, passed, error``,
    ``accuracy`` (truth tables: share of right signs), ``compile_s, run_s,
    message``.
    """

    network: str
    rows: list[Row]
    settings: dict = field(default_factory=dict)

    def summary(self) -> list[dict]:
        """Per (method, backend, neurons, max_rate, N): seeds passed, trials that raised an error (``errors``),
        median error, mean accuracy."""
        groups: dict[tuple, list[Row]] = {}
        for r in self.rows:
            groups.setdefault((r["method"], r["backend"], r["mode"], r["max_rate"], r["N"]), []).append(r)
        out = []
        order = {m: i for i, m in enumerate(METHODS)}
        for (method, backend, mode, max_rate, n), rs in sorted(groups.items(), key=lambda kv: (
                order.get(kv[0][0], 9), kv[0][1], kv[0][2], kv[0][3] or 0.0, kv[0][4])):
            errors = [r["error"] for r in rs if not math.isnan(r["error"])]  # a divergence counts, as inf
            acc = [r["accuracy"] for r in rs if r["accuracy"] is not None]
            out.append({"method": method, "backend": backend, "mode": mode, "neurons": rs[0]["neurons"],
                        "max_rate": max_rate, "N": n,
                        "trials": len(rs), "passed": sum(bool(r["passed"]) for r in rs),
                        "errors": sum(r["result"] == "ERROR" for r in rs),
                        "median_error": statistics.median(errors) if errors else math.nan,
                        "accuracy": sum(acc) / len(acc) if acc else None})
        return out

    def failures(self) -> list[tuple[str, int]]:
        """The messages of the trials that raised an error (result ``ERROR``), each once, with how many."""
        counts: dict[str, int] = {}
        for r in self.rows:
            if r["result"] == "ERROR":
                counts[r["message"] or "error"] = counts.get(r["message"] or "error", 0) + 1
        return list(counts.items())

    def table(self) -> str:
        """The summary as a fixed-width text table, then the errors trials raised (if any)."""
        errors = any(r["result"] == "ERROR" for r in self.rows)
        head = ("method", "backend", "neurons", "max_rate", "N", "passed", "median error", "accuracy",
                *(("errors",) if errors else ()))
        body = [(g["method"], g["backend"], g["neurons"], "–" if g["max_rate"] is None else f"{g['max_rate']:g}",
                 str(g["N"]), f"{g['passed']}/{g['trials']}",
                 "–" if math.isnan(g["median_error"]) else f"{g['median_error']:.3g}",
                 "–" if g["accuracy"] is None else f"{g['accuracy']:.2f}",
                 *((str(g["errors"]),) if errors else ())) for g in self.summary()]
        widths = [max(len(h), *(len(b[i]) for b in body)) for i, h in enumerate(head)]
        line = lambda cells: "  ".join(c.ljust(w) if i < 3 else c.rjust(w)  # noqa: E731
                                       for i, (c, w) in enumerate(zip(cells, widths)))
        failures = [f"error ({n} trial{'s' if n > 1 else ''}): {_one_line(m, 200)}"
                    for m, n in self.failures()[:MAX_LISTED]]
        if len(self.failures()) > MAX_LISTED:
            failures.append(f"... and {len(self.failures()) - MAX_LISTED} other errors (sweep.json holds every trial)")
        return "\n".join([f"sweep of {self.network}: {len(self.rows)} trials", line(head), *map(line, body),
                          *failures])

    def to_csv(self) -> str:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(ROW_KEYS)
        for r in self.rows:
            writer.writerow(["" if r[k] is None else r[k] for k in ROW_KEYS])
        return buf.getvalue()

    def to_dict(self) -> dict:
        return jsonable({"generator": GENERATOR, "network": self.network, "settings": self.settings, "rows": self.rows,
                          "summary": self.summary()})

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, allow_nan=False)

    def to_markdown(self, figures: Sequence[str] = ()) -> str:
        s = self.settings
        lines = [f"# {self.network}: sweep", "",
                 f"- N: {s.get('n_neurons')}; max rates: {s.get('max_rates')}; methods: {s.get('methods')}; "
                 f"seeds: {s.get('seeds')}; backends: {s.get('backends')}; neurons: {s.get('neurons')}",
                 f"- {len(self.rows)} trials on {s.get('scheduler')} in {s.get('wall_s', math.nan):.1f} s", "",
                 "| method | backend | neurons | max rate | N | passed | median error | accuracy |",
                 "|---|---|---|---|---|---|---|---|"]
        errors = any(r["result"] == "ERROR" for r in self.rows)
        if errors:
            lines[-2:] = [lines[-2] + " errors |", lines[-1] + "---|"]
        for g in self.summary():
            lines.append(f"| {g['method']} | {g['backend']} | {g['neurons']} | "
                         f"{'–' if g['max_rate'] is None else format(g['max_rate'], 'g')} | {g['N']} | "
                         f"{g['passed']}/{g['trials']} | "
                         f"{'–' if math.isnan(g['median_error']) else format(g['median_error'], '.3g')} | "
                         f"{'–' if g['accuracy'] is None else format(g['accuracy'], '.2f')} |"
                         + (f" {g['errors']} |" if errors else ""))
        if errors:
            lines += ["", "## Errors", "", "Trials that raised an error (result ERROR), each message once:", ""]
            lines += [f"- {n} trial{'s' if n > 1 else ''}: `{_one_line(m, 1000).replace('`', chr(39))}`"
                      for m, n in self.failures()[:MAX_LISTED]]
            if len(self.failures()) > MAX_LISTED:
                lines.append(f"- ... and {len(self.failures()) - MAX_LISTED} other errors (see sweep.json)")
        if figures:
            lines += ["", *(f"![{Path(f).stem}]({f})" for f in figures)]
        return "\n".join(lines) + "\n"

    def plot(self, path: str | os.PathLike) -> Path | None:
        """Median error (and truth-table accuracy, where there is one) against N, one line per method.

        Panels (backend, neuron mode, spike rate) where no trial has a finite
        error are left out (an error axis is logarithmic); ``None``, and no
        file, where no panel is left."""
        from . import plots

        plotted = self._plottable()
        return None if plotted is None else plots.sweep_figure(plotted, Path(path))

    def _plottable(self) -> "SweepResult | None":
        """The rows whose panel has a positive finite median error to draw (``None``: no such panel)."""
        good = {(g["backend"], g["mode"], g["max_rate"]) for g in self.summary()
                if math.isfinite(g["median_error"]) and g["median_error"] > 0}
        rows = [r for r in self.rows if (r.backend, r.mode, r.max_rate) in good
                or (r.method == "nef" and any(k[:2] == (r.backend, r.mode) for k in good))]
        return SweepResult(self.network, rows, self.settings) if rows else None

    def save(self, directory: str | os.PathLike, overwrite: bool = False) -> dict[str, Path]:
        """Write ``sweep.md``, ``sweep.csv``, ``sweep.json`` and ``sweep.png`` into ``directory``.

        As :meth:`npl_nengo.report.Report.save`: the directory is the sweep's
        own (new, empty or an earlier sweep's), claimed against other writers;
        ``overwrite`` adds the sweep to a directory holding other files, keeping
        any it replaces as ``NAME.orig``.  ``sweep.png`` is left out (and not in
        the returned paths) where no trial has a finite error to plot.
        """
        with self.claim(directory, overwrite) as claim:
            staging = claim.staging()
            figure = self.plot(staging / "sweep.png")
            write_atomic(staging / "sweep.json", self.to_json())
            write_atomic(staging / "sweep.csv", self.to_csv())
            write_atomic(staging / "sweep.md", self.to_markdown(["sweep.png"] if figure else []))
            written = claim.commit(["sweep.json", "sweep.csv", *(["sweep.png"] if figure else []), "sweep.md"])
        paths = {"markdown": written["sweep.md"], "csv": written["sweep.csv"], "json": written["sweep.json"]}
        return {**paths, "png": written["sweep.png"]} if figure else paths

    @staticmethod
    def claim(directory: str | os.PathLike, overwrite: bool = False) -> ContextManager[DirectoryClaim]:
        """Hold ``directory`` for a sweep until the ``with`` block ends (see :meth:`Report.claim
        <npl_nengo.report.Report.claim>`)."""
        return claim_directory(directory, FILES, GENERATOR, overwrite, "sweep")

    def __repr__(self) -> str:
        return f"SweepResult({self.network!r}, {len(self.rows)} trials)"


# -- the sweep -----------------------------------------------------------------------------------------
def _positive_list(values: Any, what: str, kind: type) -> list:
    values = [values] if isinstance(values, (int, float)) and not isinstance(values, bool) else list(values)
    ok = values and all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in values)
    if not ok or any(v <= 0 for v in values) or (kind is int and any(int(v) != v for v in values)):
        raise ValidationError(f"sweep: {what} must be a non-empty list of positive {kind.__name__}s, got {values!r}")
    return [kind(v) for v in dict.fromkeys(values)]


@contextlib.contextmanager
def _client(scheduler: Any, workers: int) -> Iterator[Any]:
    """A dask Client: on a new LocalCluster, on ``scheduler``'s address, or ``scheduler`` itself."""
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:  # pragma: no cover - the "sweep" extra is part of "all"
        raise BackendUnavailable(f"sweep needs dask.distributed: pip install 'npl_nengo[sweep]' ({exc})") from exc
    if scheduler is not None and not isinstance(scheduler, str):
        yield scheduler  # a Client the caller owns
        return
    if scheduler is None:
        # one single-threaded worker process per core: the backends are single-threaded numpy loops,
        # and processes keep Brian2's and TensorFlow's global state apart; the scheduler's HTTP server
        # (dashboard, health checks) on a free port
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster, \
                Client(cluster) as client:
            yield client
        return
    try:
        client = Client(scheduler, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ValidationError(f"sweep: cannot reach the dask scheduler at {scheduler!r}: {exc}") from None
    with client:
        yield client


def sweep(
    network: str,
    n_neurons: Sequence[int] | int = (50, 100, 200),
    max_rates: Sequence[float] | float = (1000.0,),
    methods: Sequence[str] | str = ("taylor", "sampled"),
    seeds: Sequence[int] | int = (0,),
    backends: Sequence[str] | str = ("reference",),
    neurons: Sequence[str] | str = ("regular",),
    dt: float = 1e-3,
    tol: float | None = None,
    scheduler: Any = None,
    workers: int = 2,
    progress: bool = False,
) -> SweepResult:
    """Score a library network over a grid of parameters, trials in parallel on dask.distributed.

    Parameters
    ----------
    network
        A library name (the workers rebuild the program and its metric from it).
    n_neurons
        Neurons per part.
    max_rates
        Spike rates at ``tanh = 1`` (Hz): the spiking runs' rate and the sampled
        compiler's noise budget (LIF and NEF trials ignore it).
    methods
        ``"taylor"``, ``"sampled"``, ``"lif"`` (the sampled fit on LIF units),
        ``"nef"`` (NEF on nengo/nengo_dl only).  The spiking mode of ``lif`` and
        ``nef`` is LIF spikes (run once per backend that has them).
    seeds, backends, neurons
        Compiler and run seeds, backends, neuron modes.
    tol
        Level tolerance for truth tables and latches; default: each cell's,
        as :func:`npl_nengo.compare` holds it (:func:`npl_nengo.cells.level_tol`).
    scheduler
        ``None``: a new LocalCluster of ``workers`` processes; an address
        (``"tcp://127.0.0.1:8786"``) or a :class:`distributed.Client`: that cluster.
    progress
        Show a progress bar (tqdm, on stderr).
    """
    from . import networks

    if not isinstance(network, str):
        raise ValidationError(f"sweep: network must be a library name, got {type(network).__name__}")
    networks.get(network)  # an unknown name fails here, not on the workers
    sizes = _positive_list(n_neurons, "n_neurons", int)
    rates = _positive_list(max_rates, "max_rates", float)
    methods, backends, modes, seeds = (names(methods, "methods", "sweep"), names(backends, "backends", "sweep"),
                                       names(neurons, "neurons", "sweep"), _seeds(seeds, "sweep"))
    workers = validation.integer(workers, "workers", "sweep", minimum=1)
    # the plan: one trial per cell, one compile per route (sampled: one per noise budget)
    cells = plan(methods, seeds, backends, modes, sizes=sizes, max_rates=rates, where="sweep")
    compiles: dict[tuple, Cell] = {}
    for cell in cells:
        compiles.setdefault(cell.compile_key, cell)  # each route built as its first cell asks
    from tqdm.auto import tqdm

    start = time.perf_counter()
    rows: list[Row] = []
    with _client(scheduler, workers) as client:
        from distributed import as_completed  # importable: _client checked

        compiled = {key: client.submit(_compile_task, network, cell, pure=False) for key, cell in compiles.items()}
        futures = [client.submit(_run_task, compiled[cell.compile_key], network, cell, dt, tol, pure=False)
                   for cell in cells]
        cell_of = {future.key: cell for future, cell in zip(futures, cells)}
        with tqdm(total=len(futures), desc=f"sweep {network}", unit="trial", disable=not progress, leave=False) as bar:
            try:
                for future in as_completed(futures):
                    # a task's own failures are its row already; this is a lost worker, a result that does not
                    # travel, ...: the trial's ERROR row, and the sweep goes on (an interrupt still stops it)
                    try:
                        rows.append(future.result())
                    except Exception as exc:  # noqa: BLE001
                        rows.append(_failed_row(network, cell_of[future.key], failure(exc)))
                    bar.update()
            except BaseException:
                client.cancel(futures + list(compiled.values()))
                raise
        scheduler_text = client.scheduler.address if scheduler is not None else f"LocalCluster({workers} workers)"
    order = {k: i for i, k in enumerate(METHODS)}
    rows.sort(key=lambda r: (order[r.method], r.backend, r.mode, r.max_rate or 0, r.N or 0, r.seed))
    settings = {"n_neurons": sizes, "max_rates": rates, "methods": methods, "seeds": seeds, "backends": backends,
                "neurons": modes, "dt": dt, "tol": tol, "scheduler": scheduler_text,
                "wall_s": time.perf_counter() - start}
    return SweepResult(network, rows, settings)
