"""The ``npl-nengo`` command line.

    npl-nengo list [--json]
    npl-nengo backends [--json]
    npl-nengo run NAME [--backend reference] [--neurons rate] [--duration 3] [--input s1=0.1 ...]
                       [--method taylor] [--n-neurons N] [--sample-every N] [--plot out.png] [--save net.npz]
                       [--progress] [--json]
    npl-nengo compare NAME [--backends reference,nengo,nengo_dl,brian2] [--methods taylor,sampled,lif,nef]
                           [--neurons rate,regular] [--seeds 0,1] [--out DIR] [--check] [--json]
    npl-nengo sweep NAME [--n-neurons 50,100,200] [--max-rates 1000] [--methods taylor,sampled,lif,nef]
                         [--seeds 0,1,2] [--backends reference] [--neurons regular] [--workers 2]
                         [--scheduler tcp://HOST:8786] [--out DIR] [--json]
    npl-nengo gui NAME [--route neuron|nef] [--neurons rate|regular|poisson|lif] [--n-neurons N] [--port P]
                       [--no-browser]
    npl-nengo experiment [trained|rotation|guest_sweep] [OPTIONS] [--json]

``NAME`` is a library network (``npl-nengo list``) or a saved ``.npz`` network
(one named after a library entry runs with that entry's inputs and duration
unless ``--input`` / ``--duration`` say otherwise).
Exit codes (:data:`EXIT_CODES`): 0 done, 1 ``--check`` found a failing cell,
2 a user mistake (reported in one line on stderr, no traceback), 3 a backend
or engine that is not installed, 4 a simulation that diverged, 130 interrupted.
Ctrl-C during ``run``'s simulation keeps the partial result: it is printed
(``interrupted at t=...``), saved and plotted as asked, and the exit code is 130.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import textwrap
from pathlib import Path
from typing import Any, Sequence

from ._version import __version__
from .errors import BackendUnavailable, NplError, SimulationError, ValidationError
from .files import command_line_wording
from .registry import BACKENDS, DEFAULT_BACKENDS

__all__ = ["main", "EXIT_CODES", "EXPERIMENTS"]

#: Exit status -> meaning (also in ``npl-nengo --help``).
EXIT_CODES = {0: "done", 1: "--check: a counted cell failed its metric", 2: "user mistake (bad argument, name or file)",
              3: "backend or engine not installed", 4: "simulation diverged", 130: "interrupted (Ctrl-C)"}

#: ``npl-nengo experiment NAME`` -> what it does (the modules of :mod:`npl_nengo.experiments`).
EXPERIMENTS = {
    "trained": "train an echo-state reservoir's readout to rotate a chaotic drive, decompile it and run it on a "
               "backend",
    "rotation": "program a random reservoir open loop to rotate a chaotic drive (static code, and with the lag code)",
    "guest_sweep": "virtualization error of random guest RNNs against guest size and expansion order",
}
#: Width ``npl-nengo list`` wraps its text to.
LIST_WIDTH = 100


def _parser() -> argparse.ArgumentParser:
    epilog = "exit codes: " + "; ".join(f"{k} {v}" for k, v in EXIT_CODES.items())
    p = argparse.ArgumentParser(prog="npl-nengo", description="Programmed RNNs on spiking simulators.", epilog=epilog)
    p.add_argument("--version", action="version", version=f"npl_nengo {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    ls = sub.add_parser("list", help="list the library networks", description="List the library networks.",
                        epilog=epilog)
    ls.add_argument("--json", action="store_true", help="print the list as JSON")
    bk = sub.add_parser("backends", help="list the backends: installed?, neuron modes, run options",
                        description="List the registered backends, whether each is installed, the neuron modes it "
                                    "runs and the run options it declares.", epilog=epilog)
    bk.add_argument("--json", action="store_true", help="print the list as JSON")

    def common(q: argparse.ArgumentParser) -> None:
        q.add_argument("name", help="library network (see 'list') or a saved .npz network")
        q.add_argument("--n-neurons", type=int, default=None, help="neurons per part (default: compiler's choice)")
        q.add_argument("--seed", type=int, default=0, help="seed of the compiler and the run (default 0)")
        q.add_argument("--dt", type=float, default=1e-3, help="time step in s (default 0.001)")
        q.add_argument("--max-rate", type=float, default=1000.0, help="spike rate in Hz at tanh = 1 (default 1000)")
        q.add_argument("--json", action="store_true", help="print the result as JSON")

    def files(q: argparse.ArgumentParser, what: str) -> None:
        q.add_argument("--out", metavar="DIR", help=f"write {what} into DIR")
        q.add_argument("--force", action="store_true", help="replace files in DIR that this command did not write")
        q.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                       help="progress bar on stderr (default: when stderr is a terminal)")

    r = sub.add_parser("run", help="compile a network and run it once", description="Compile a network and run it once.",
                       epilog=epilog)
    common(r)
    r.add_argument("--backend", default="reference", help=f"{', '.join(BACKENDS)} (default reference)")
    r.add_argument("--method", default="taylor", choices=["taylor", "sampled"], help="compiler (default taylor)")
    r.add_argument("--neurons", default="rate", help="rate, regular or poisson (default rate)")
    r.add_argument("--duration", type=float, default=None, help="simulated seconds (default: the network's)")
    r.add_argument("--input", action="append", default=[], metavar="NAME=VALUE", help="hold an input at a value")
    r.add_argument("--sample-every", type=int, default=None, metavar="N",
                   help="record every N-th step (default 1): bounds the memory of a long run")
    r.add_argument("--plot", metavar="PNG", help="write a plot of the outputs (.png, .pdf, .svg, ...; no extension: .png)")
    r.add_argument("--save", metavar="NPZ", help="save the compiled network")
    r.add_argument("--force", action="store_true", help="overwrite an existing --save file")
    r.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bar of the simulated steps on stderr, every backend (default: when stderr is a "
                        "terminal)")

    c = sub.add_parser("compare", help="score a network with its metric across backends, compilers and neuron modes",
                       description="Compile a network (every method, every seed), run it on every backend in every "
                                   "neuron mode, score each run with the network's metric and against the rate "
                                   "reference, print a table and write a report (Markdown, CSV, JSON, PNG).",
                       epilog=epilog)
    common(c)
    c.add_argument("--backends", default=",".join(DEFAULT_BACKENDS),
                   help=f"comma-separated backends (default: the installed ones but loihi_emulator, here "
                        f"{','.join(DEFAULT_BACKENDS)})")
    c.add_argument("--methods", default="taylor,sampled",
                   help="comma-separated: taylor, sampled, lif (the sampled fit on LIF units), nef (NEF "
                        "ensembles, nengo backends only); lif and nef spike as LIF units (default taylor,sampled)")
    c.add_argument("--neurons", default="rate,regular", help="comma-separated neuron modes (default rate,regular)")
    c.add_argument("--seeds", default=None, help="comma-separated seeds, one compile and run each (default: --seed)")
    c.add_argument("--check", action="store_true",
                   help="exit with status 1 if a counted cell fails its metric (for a library entry: its "
                        "recommended compile's cells; the others are marked *)")
    files(c, "report.md, report.csv, report.json and PNG figures")

    w = sub.add_parser("sweep", help="score a library network over a grid of N, rates, compilers, seeds (dask)",
                       description="Score a library network over every combination of the lists given, trials in "
                                   "parallel on dask.distributed (a local cluster, or --scheduler).", epilog=epilog)
    w.add_argument("name", help="library network (see 'list')")
    w.add_argument("--n-neurons", default="50,100,200", help="comma-separated neurons per part (default 50,100,200)")
    w.add_argument("--max-rates", default="1000", help="comma-separated spike rates in Hz (default 1000)")
    w.add_argument("--methods", default="taylor,sampled", help="comma-separated: taylor, sampled, lif, nef (default taylor,sampled)")
    w.add_argument("--seeds", default="0", help="comma-separated seeds (default 0)")
    w.add_argument("--backends", default="reference", help="comma-separated backends (default reference)")
    w.add_argument("--neurons", default="regular", help="comma-separated neuron modes (default regular)")
    w.add_argument("--dt", type=float, default=1e-3, help="time step in s (default 0.001)")
    w.add_argument("--tol", type=float, default=None,
                   help="logic-level tolerance (default: each cell's, as compare holds it)")
    w.add_argument("--workers", type=int, default=2, help="worker processes of the local cluster (default 2)")
    w.add_argument("--scheduler", metavar="ADDRESS", help="an existing dask scheduler (tcp://host:8786) instead of a "
                                                          "local cluster")
    w.add_argument("--json", action="store_true", help="print every trial as JSON")
    files(w, "sweep.md, sweep.csv, sweep.json and sweep.png")

    g = sub.add_parser("gui", help="open a library network in the Nengo GUI (nengo_gui on 127.0.0.1)",
                       description="Open a library network in the Nengo GUI (served on 127.0.0.1).", epilog=epilog)
    g.add_argument("name", help="library network (see 'list')")
    g.add_argument("--route", choices=["neuron", "nef"], default="neuron",
                   help="neuron: the compiled reservoir; nef: NEF ensembles (default neuron)")
    g.add_argument("--neurons", default=None, metavar="MODE",
                   help="rate, regular, poisson or lif, as for 'run'. neuron route: rate (default) shows the "
                        "taylor compile in rate units; regular/poisson the network's recommended compile "
                        "(sampled) spiking; lif its LIF compile on nengo.LIF units. nef route: lif (default) or "
                        "rate. Spiking builds show a spike raster")
    g.add_argument("--n-neurons", type=int, default=None, metavar="N",
                   help="neurons per part (default: the compile's choice)")
    g.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1, 0..65535 (default 0: a free one)")
    g.add_argument("--no-browser", dest="browser", action="store_false",
                   help="only print the URL (for servers and ssh sessions)")
    _experiment_parser(sub, epilog)
    return p


def _experiment_parser(sub, epilog: str) -> None:
    x = sub.add_parser("experiment", help="run a study of the method (trained, rotation, guest_sweep); "
                                          "no name: list them",
                       description="Run one of the experiments of npl_nengo.experiments (studies of the method, not "
                                   "library networks) and print its summary; without a name, list them.",
                       epilog=epilog)
    xs = x.add_subparsers(dest="experiment", metavar="EXPERIMENT")
    for name, summary in EXPERIMENTS.items():
        q = xs.add_parser(name, help=summary, description=summary[0].upper() + summary[1:] + ".", epilog=epilog)
        q.add_argument("--seed", type=int, default=0, help="seed (default 0)")
        q.add_argument("--json", action="store_true", help="print the result as JSON")
        if name == "trained":
            q.add_argument("--n-neurons", type=int, default=200, metavar="N", help="reservoir neurons (default 200)")
            q.add_argument("--radius", type=float, default=0.5, help="spectral radius of A, in (0, 1) (default 0.5)")
            q.add_argument("--train-steps", type=int, default=10_000, metavar="N",
                           help="training steps of 1 ms after a 1000-step washout (default 10000)")
            q.add_argument("--backend", default="reference", help=f"{', '.join(BACKENDS)} (default reference)")
            q.add_argument("--neurons", default="rate", help="neuron mode of the run (default rate)")
            q.add_argument("--duration", type=float, default=1.0, help="held-out seconds run (default 1)")
            q.add_argument("--tol", type=float, default=0.05, help="largest passing error (default 0.05)")
        elif name == "rotation":
            q.add_argument("--n-neurons", type=int, default=1000, metavar="N", help="reservoir neurons (default 1000)")
            q.add_argument("--steps", type=int, default=100_000, metavar="N",
                           help="RK4 steps of 1 ms (default 100000)")
        else:
            q.add_argument("--sizes", default="1,2,3,4,6", help="comma-separated guest sizes (default 1,2,3,4,6)")
            q.add_argument("--orders", default="1,2,3", help="comma-separated expansion orders (default 1,2,3)")
            q.add_argument("--seeds", default="0,1,2", help="comma-separated seeds, one guest each (default 0,1,2)")
            q.add_argument("--duration", type=float, default=2.0, help="seconds per run (default 2)")
            q.add_argument("--backend", default="reference", help=f"{', '.join(BACKENDS)} (default reference)")
            q.add_argument("--neurons", default="rate", help="neuron mode of the runs (default rate)")


def _cmd_gui(args) -> int:
    from .gui import gui_main

    return gui_main(args.name, args.route, args.n_neurons, args.browser, args.port, neurons=args.neurons)


def _load_network(args):
    """``(library entry, None)`` for a library name, ``(None, rnn)`` for a saved file."""
    from . import networks

    if args.name.endswith(".npz"):
        from .rnn import load

        return None, load(args.name)
    entry = networks.get(args.name)
    return entry, None


def _compile(entry, args, method: str):
    from .compiler import compile

    return compile(entry.build(), n_neurons=args.n_neurons, method=method, seed=args.seed, max_rate=args.max_rate)


def _parse_inputs(items: Sequence[str]) -> dict[str, float]:
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise ValidationError(f"--input {item!r}: write NAME=VALUE, e.g. --input s1=0.1")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            raise ValidationError(f"--input {item!r}: {value!r} is not a number") from None
    return out


def _cmd_list(args) -> int:
    from . import networks

    rows: list[dict[str, Any]] = []
    for e in networks.LIBRARY.values():
        program = e.build()
        rows.append({"name": e.name, "description": e.description, "inputs": list(program.inputs),
                     "outputs": list(program.outputs), "run_inputs": dict(e.inputs), "duration": e.duration})
    if getattr(args, "json", False):
        print(json.dumps(rows, indent=2))
        return 0
    width = max(len(r["name"]) for r in rows)
    indent = " " * (width + 2)
    for r in rows:
        held = [f"{k}={r['run_inputs'].get(k, 0.0):g}" for k in r["inputs"]]  # as a plain run holds them
        print(textwrap.fill(r["description"], LIST_WIDTH, initial_indent=f"{r['name']:<{width}}  ",
                            subsequent_indent=indent))
        print(textwrap.fill("inputs (plain run): " + (", ".join(held) or "none"), LIST_WIDTH, initial_indent=indent,
                            subsequent_indent=indent + "  "))
        print(textwrap.fill("outputs: " + ", ".join(r["outputs"]), LIST_WIDTH, initial_indent=indent,
                            subsequent_indent=indent + "  "))
    return 0


def _cmd_backends(args) -> int:
    from .registry import backend_info

    rows: list[dict[str, Any]] = []
    for name in BACKENDS:
        try:
            info = backend_info(name)
        except BackendUnavailable as exc:
            rows.append({"name": name, "installed": False, "error": str(exc)})
            continue
        rows.append({"name": name, "installed": True, "neurons": list(info.neurons), "batches": info.batches,
                     "nef": info.nef, "options": {k: o.describe() for k, o in info.options.items()}})
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for r in rows:
        if not r["installed"]:
            print(f"{r['name']}: not installed ({r['error']})")
            continue
        extras = [x for x, on in (("batches trials", r["batches"]), ("runs NEF networks", r["nef"])) if on]
        print(f"{r['name']}: neurons {', '.join(r['neurons'])}{'; ' if extras else ''}{'; '.join(extras)}")
        for k, kind in r["options"].items():
            print(f"    {k}: {kind}")
    return 0


def _plot_path(path: str) -> str:
    """``--plot``'s file, checked before the run: a known image type in a directory that exists."""
    from matplotlib.backend_bases import FigureCanvasBase

    target = _file_path(path, "--plot")
    kind = target.suffix[1:].lower()
    if not kind:
        return str(target) + ".png"
    supported = FigureCanvasBase.get_supported_filetypes()
    if kind not in supported:
        raise ValidationError(f"--plot {path!r}: {kind!r} is not an image type matplotlib writes "
                              f"(use one of {', '.join('.' + k for k in sorted(supported))})")
    return str(target)


def _file_path(path: str, option: str) -> Path:
    """A file to write: not a directory, in a writable directory that exists."""
    target = Path(path)
    if not path or not target.name or target.is_dir():
        raise ValidationError(f"{option} {path!r}: a directory, not a file name")
    parent = target.parent
    if not parent.is_dir():
        raise ValidationError(f"{option} {path!r}: directory {str(parent)!r} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ValidationError(f"{option} {path!r}: directory {str(parent)!r} is not writable")
    return target


def _save_path(path: str, force: bool) -> None:
    """``--save``'s file, checked before the run (as :meth:`ProgrammedRNN.save` names it)."""
    target = _file_path(path, "--save")
    if target.suffix != ".npz":
        target = target.with_name(target.name + ".npz")
    if target.is_dir():
        raise ValidationError(f"--save {path!r}: {str(target)!r} is a directory")
    if target.exists() and not force:
        raise ValidationError(f"--save {path!r}: {str(target)!r} exists; pass --force to replace it")


def _library_entry_of(rnn):
    """The library entry a saved network was compiled from: same name, and the entry's run inputs are its inputs."""
    from . import networks

    entry = networks.LIBRARY.get(rnn.name)
    if entry is None or not set(entry.inputs) <= set(rnn.input_names):
        return None
    return entry


@contextlib.contextmanager
def _run_progress(backend: str, enabled: bool):
    """Progress of ``run`` on stderr: yields the run options that draw a tqdm bar of the steps.

    Every backend reports its steps through the ``progress`` run option
    (:mod:`npl_nengo.progress`), which only observes: a run with the bar gives
    the same numbers as one without (``tests/test_cli.py`` checks them bit for bit).
    """
    if not enabled:
        yield {}
        return
    from .progress import tqdm_bar

    bar = tqdm_bar(f"run on {backend}")
    try:
        yield {"progress": bar}
    finally:
        bar.close()


def _cmd_run(args) -> int:
    from .simulation import run

    plot = _plot_path(args.plot) if args.plot is not None else None  # before the run: a long run must not end in a typo
    if args.save is not None:
        _save_path(args.save, args.force)
    entry, rnn = _load_network(args)
    given = _parse_inputs(args.input)
    defaults: list[str] = []  # what a saved library network takes from its entry's plain run
    if rnn is None:
        rnn = _compile(entry, args, args.method)
    else:
        entry = _library_entry_of(rnn)
        if entry is not None:
            defaults = [f"{k}={v:g}" for k, v in entry.inputs.items() if k not in given]
            defaults += [f"duration {entry.duration:g} s"] if args.duration is None else []
    # a plain run of an entry holds the inputs it does not set at 0 (run() wants every input)
    inputs = {name: 0.0 for name in rnn.input_names} | dict(entry.inputs) if entry is not None else {}
    inputs.update(given)
    duration = args.duration if args.duration is not None else (entry.duration if entry else 1.0)
    options: dict[str, Any] = {"max_rate": args.max_rate} if args.neurons != "rate" else {}
    if args.sample_every is not None:
        options["sample_every"] = args.sample_every
    with _run_progress(args.backend, _progress(args)) as shown:
        result = run(rnn, inputs, duration=duration, backend=args.backend, neurons=args.neurons, dt=args.dt,
                     seed=args.seed, **options, **shown)
    interrupted = bool(result.info.get("interrupted"))
    t_end = float(result.t[-1]) if len(result.t) else 0.0
    saved = str(rnn.save(args.save, overwrite=args.force)) if args.save is not None else None
    if plot:
        _plot(result, plot)
    final = {k: float(v[-1]) if len(v) else None for k, v in result.outputs.items()}
    if args.json:
        print(json.dumps({"network": rnn.name, "backend": result.backend, "neurons": result.neurons,
                          "duration": duration, "inputs": inputs, "final": final, "n_neurons": rnn.n_neurons,
                          "method": rnn.method, "weight_norm": rnn.weight_norm, "saved": saved,
                          "plot": plot, "wall_seconds": result.info.get("wall_seconds"),
                          "interrupted": interrupted, "t_end": t_end, "samples": len(result.t),
                          "defaults_of": entry.name if defaults else None}, indent=2))
    else:
        print(rnn.summary())
        ran = f"interrupted at t={t_end:g} s of {duration:g} s" if interrupted else f"ran {duration:g} s"
        print(f"{ran} on {result.backend} ({result.neurons}) with inputs "
              f"{', '.join(f'{k}={v:g}' for k, v in inputs.items()) or 'none'}")
        for k, v in final.items():
            print(f"  {k} = {v:+.5f}" if v is not None else f"  {k}: no sample recorded")
        if defaults:
            print(f"defaults of library entry {entry.name!r} (a plain 'run {entry.name}'): {', '.join(defaults)}")
        if saved:
            print(f"saved {saved}")
        if plot:
            print(f"plot {plot}")
    if interrupted:
        print(f"npl-nengo: interrupted at t={t_end:g} s (the partial result is above)", file=sys.stderr)
        return 130
    return 0


def _list_of(text: str, kind: type, option: str) -> list:
    """``"1,2,3"`` -> ``[1, 2, 3]``, with a one-line error naming the option."""
    items = [x.strip() for x in text.split(",") if x.strip()]
    try:
        values = [kind(x) for x in items]
    except ValueError:
        raise ValidationError(f"{option} {text!r}: expected comma-separated {kind.__name__}s") from None
    if not values:
        raise ValidationError(f"{option}: empty list")
    return values


def _progress(args) -> bool:
    return sys.stderr.isatty() if args.progress is None else args.progress


def _cmd_compare(args) -> int:
    from .comparison import compare

    entry, rnn = _load_network(args)
    seeds = _list_of(args.seeds, int, "--seeds") if args.seeds is not None else [args.seed]
    report = compare(entry if entry is not None else rnn, backends=args.backends, neurons=args.neurons, seeds=seeds,
                     methods=args.methods, n_neurons=args.n_neurons, max_rate=args.max_rate, dt=args.dt,
                     progress=_progress(args))
    _emit(args, report, "report: {markdown} (+ csv, json, {figures} figures)")
    return 1 if args.check and not report.passed else 0


def _emit(args, outcome, saved: str) -> None:
    """Save a Report or SweepResult into ``--out`` and print it as a table or JSON."""
    written = {k: str(v) for k, v in outcome.save(args.out, overwrite=args.force).items()} if args.out else {}
    if args.json:
        print(json.dumps({**outcome.to_dict(), "files": written}, indent=2))
        return
    print(outcome.table())
    if written:
        print(saved.format(markdown=written["markdown"], figures=len(written) - 3,
                       others=", ".join(k for k in written if k != "markdown")))


def _cmd_sweep(args) -> int:
    from .sweeps import sweep

    result = sweep(args.name, n_neurons=_list_of(args.n_neurons, int, "--n-neurons"),
                   max_rates=_list_of(args.max_rates, float, "--max-rates"), methods=args.methods,
                   seeds=_list_of(args.seeds, int, "--seeds"), backends=args.backends, neurons=args.neurons,
                   dt=args.dt, tol=args.tol, scheduler=args.scheduler, workers=args.workers, progress=_progress(args))
    _emit(args, result, "sweep: {markdown} (+ {others})")
    return 0


def _at_least(value: float, low: float, option: str, kind: str = "an integer") -> None:
    if not value >= low:
        raise ValidationError(f"{option} {value!r}: must be {kind} >= {low:g}")


def _cmd_experiment(args) -> int:
    if args.experiment is None:
        width = max(map(len, EXPERIMENTS))
        for name, summary in EXPERIMENTS.items():
            print(textwrap.fill(summary, LIST_WIDTH, initial_indent=f"{name:<{width}}  ",
                                subsequent_indent=" " * (width + 2)))
        print("run one: npl-nengo experiment NAME [--help]")
        return 0
    if args.experiment != "guest_sweep":
        _at_least(args.seed, 0, "--seed")
    return {"trained": _exp_trained, "rotation": _exp_rotation, "guest_sweep": _exp_guest_sweep}[args.experiment](args)


def _exp_trained(args) -> int:
    from .experiments import trained

    _at_least(args.n_neurons, 3, "--n-neurons")
    _at_least(args.train_steps, 2, "--train-steps")
    if not 0.0 < args.radius < 1.0:
        raise ValidationError(f"--radius {args.radius!r}: must be in (0, 1) (the echo-state property)")
    _at_least(args.duration, 0.002, "--duration", "a number of seconds")
    _at_least(args.tol, 0.0, "--tol", "a number")
    reservoir = trained.train(N=args.n_neurons, radius=args.radius, n_steps=args.train_steps, seed=args.seed)
    score = trained.readout_metric(reservoir, duration=args.duration, tol=args.tol, backend=args.backend,
                                   neurons=args.neurons, seed=args.seed)
    held = trained.prediction_error(reservoir, n_steps=int(round(args.duration / reservoir.dt)))
    prediction = {k: getattr(held, k) for k in ("static", "lag", "static_exact", "lag_exact", "test", "linear",
                                                 "linear_exact", "nonlinear_max")}
    if args.json:
        print(json.dumps({"experiment": "trained", "n_neurons": args.n_neurons, "radius": args.radius,
                          "train_steps": args.train_steps, "seed": args.seed, "train_error": reservoir.train_error,
                          "weight_norm": reservoir.info["weight_norm"], "prediction": prediction,
                          "run": {"backend": args.backend, "neurons": args.neurons, "duration": args.duration,
                                  "passed": score.passed, "error": score.error, **score.details}}, indent=2))
        return 0
    d = score.details
    noise = f"; spike noise predicts {d['predicted_noise']:.3g}" if d["predicted_noise"] else ""
    print(f"trained reservoir: N={args.n_neurons}, spectral radius {args.radius:g}, seed {args.seed}, "
          f"{args.train_steps} training steps (relative errors below)")
    for line in (
        f"readout W r against R_z x: {reservoir.train_error:.3g} on the training data, {held.test:.3g} held out; "
        f"||W|| {reservoir.info['weight_norm']:.3g}",
        f"decompiled program against W r, {args.duration:g} s held out: static {held.static:.3g}, + lag code "
        f"{held.lag:.3g} (the authors' code, first order in A); exact in A: static {held.static_exact:.3g}, "
        f"+ lag code {held.lag_exact:.3g}",
        f"its linear block against R_z: {held.linear:.3g} (exact in A {held.linear_exact:.3g}); largest "
        f"nonlinear coefficient {held.nonlinear_max:.3g}",
        f"run on {args.backend} ({args.neurons}), {args.duration:g} s held out: {'PASS' if score.passed else 'FAIL'}, "
        f"{score.error:.3g} against R_z x (tol {args.tol:g}); against the RK4 readout {d['vs_rk4']:.3g}, the "
        f"decompiled program {d['vs_decompiled']:.3g} (exact in A {d['vs_decompiled_exact']:.3g}){noise}",
    ):
        print(textwrap.fill(line, LIST_WIDTH, initial_indent="  ", subsequent_indent="    "))
    return 0


def _exp_rotation(args) -> int:
    from .experiments import rotation

    _at_least(args.n_neurons, 3, "--n-neurons")
    _at_least(args.steps, 10, "--steps")
    out = rotation.rotation(N=args.n_neurons, n_steps=args.steps, seed=args.seed)
    if args.json:
        print(json.dumps({"experiment": "rotation", "n_neurons": args.n_neurons, "steps": args.steps,
                          "seed": args.seed, "error": out.error, "error_static": out.error_static,
                          "weight_norm": out.weight_norm}, indent=2))
        return 0
    print(f"rotation: N={args.n_neurons}, {args.steps} RK4 steps, seed {args.seed}: error {out.error:.3g} "
          f"(static and lag code), {out.error_static:.3g} (static code only); ||W|| {out.weight_norm:.3g}")
    return 0


def _exp_guest_sweep(args) -> int:
    from .experiments.guest_sweep import virtualization_sweep

    rows = virtualization_sweep(sizes=_list_of(args.sizes, int, "--sizes"), orders=_list_of(args.orders, int, "--orders"),
                                seeds=_list_of(args.seeds, int, "--seeds"), duration=args.duration,
                                backend=args.backend, neurons=args.neurons)
    if args.json:
        print(json.dumps({"experiment": "guest_sweep", "rows": rows}, indent=2))
        return 0
    keys = ["n_guest", "order", "K", "N", "nrmse", "nrmse_max", "truncation_nrmse", "compile_nrmse", "seconds"]
    cells = [[f"{r[k]:.3g}" if isinstance(r[k], float) else str(r[k]) for k in keys] for r in rows]
    widths = [max(len(k), *(len(c[i]) for c in cells)) for i, k in enumerate(keys)]
    for line in [keys, *cells]:
        print("  ".join(c.rjust(w) for c, w in zip(line, widths)))
    return 0


def _plot(result, path: str) -> None:
    fig = result.plot()  # a free-standing Figure (the user's pyplot state is left alone); no colour repeats
    try:
        fig.savefig(path, dpi=100)
    except ValueError as exc:  # matplotlib's word on a format it cannot write
        raise ValidationError(f"--plot {path!r}: {exc}") from None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``npl-nengo``; returns the exit code (:data:`EXIT_CODES`)."""
    args = _parser().parse_args(argv)
    handlers = {"list": _cmd_list, "backends": _cmd_backends, "run": _cmd_run, "compare": _cmd_compare, "sweep": _cmd_sweep, "gui": _cmd_gui,
                "experiment": _cmd_experiment}
    try:
        return handlers[args.command](args)
    except KeyboardInterrupt:
        print("npl-nengo: interrupted", file=sys.stderr)
        return 130
    except BackendUnavailable as exc:
        print(f"npl-nengo: error: {exc}", file=sys.stderr)
        return 3
    except SimulationError as exc:
        print(f"npl-nengo: error: {exc}", file=sys.stderr)
        return 4
    except (NplError, OSError) as exc:  # the API's overwrite=True is --force here
        print(f"npl-nengo: error: {command_line_wording(str(exc))}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
