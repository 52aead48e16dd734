"""The ``npl-nengo`` command line.

    npl-nengo list
    npl-nengo run NAME [--backend reference] [--neurons rate] [--duration 3] [--input s1=0.1 ...]
                       [--method taylor] [--n-neurons N] [--plot out.png] [--save net.npz]
    npl-nengo compare NAME [--backends reference,nengo,nengo_dl,brian2] [--methods taylor,sampled,nef] [--neurons rate,regular]
    npl-nengo gui NAME [--route neuron|nef] [--neurons N] [--port P] [--no-browser]

``NAME`` is a library network (``npl-nengo list``) or a saved ``.npz`` network.
User mistakes are reported in one line on stderr with exit code 2.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Sequence

from . import __version__
from .errors import NplError, ValidationError

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="npl-nengo", description="Programmed RNNs on spiking simulators.")
    p.add_argument("--version", action="version", version=f"npl_nengo {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sub.add_parser("list", help="list the library networks")

    def common(q: argparse.ArgumentParser) -> None:
        q.add_argument("name", help="library network (see 'list') or a saved .npz network")
        q.add_argument("--n-neurons", type=int, default=None, help="neurons per part (default: compiler's choice)")
        q.add_argument("--seed", type=int, default=0, help="seed of the compiler and the run (default 0)")
        q.add_argument("--dt", type=float, default=1e-3, help="time step in s (default 0.001)")
        q.add_argument("--max-rate", type=float, default=1000.0, help="spike rate in Hz at tanh = 1 (default 1000)")
        q.add_argument("--json", action="store_true", help="print the result as JSON")

    r = sub.add_parser("run", help="compile a network and run it once")
    common(r)
    r.add_argument("--backend", default="reference", help="simulator backend: reference or nengo (default reference)")
    r.add_argument("--method", default="taylor", choices=["taylor", "sampled"], help="compiler (default taylor)")
    r.add_argument("--neurons", default="rate", help="rate, regular or poisson (default rate)")
    r.add_argument("--duration", type=float, default=None, help="simulated seconds (default: the network's)")
    r.add_argument("--input", action="append", default=[], metavar="NAME=VALUE", help="hold an input at a value")
    r.add_argument("--plot", metavar="PNG", help="write a plot of the outputs")
    r.add_argument("--save", metavar="NPZ", help="save the compiled network")
    r.add_argument("--force", action="store_true", help="overwrite an existing --save file")

    c = sub.add_parser("compare", help="score a network with its metric across backends, compilers and neuron modes")
    common(c)
    c.add_argument("--backends", default="reference,nengo,nengo_dl,brian2",
                   help="comma-separated backends (default reference,nengo,nengo_dl,brian2)")
    c.add_argument("--methods", default="taylor,sampled",
                   help="comma-separated: taylor, sampled, nef (NEF ensembles, nengo backends only; "
                        "its spiking mode is LIF) (default taylor,sampled)")
    c.add_argument("--neurons", default="rate,regular", help="comma-separated neuron modes (default rate,regular)")
    g = sub.add_parser("gui", help="open a library network in the Nengo GUI (nengo_gui on 127.0.0.1)")
    g.add_argument("name", help="library network (see 'list')")
    g.add_argument("--route", choices=["neuron", "nef"], default="neuron",
                   help="neuron: the compiled reservoir (taylor, rate units); nef: NEF ensembles (default neuron)")
    g.add_argument("--neurons", type=int, default=None, dest="n_neurons", metavar="N",
                   help="neurons per part (default: the compiler's choice)")
    g.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (default: a free one)")
    g.add_argument("--no-browser", dest="browser", action="store_false",
                   help="only print the URL (for servers and ssh sessions)")
    return p


def _cmd_gui(args) -> int:
    from .gui import gui_main

    return gui_main(args.name, args.route, args.n_neurons, args.browser, args.port)


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

    rows = [{"name": e.name, "description": e.description} for e in networks.LIBRARY.values()]
    if getattr(args, "json", False):
        print(json.dumps(rows, indent=2))
    else:
        width = max(len(r["name"]) for r in rows)
        for r in rows:
            print(f"{r['name']:<{width}}  {r['description']}")
    return 0


def _cmd_run(args) -> int:
    from .backend import run

    entry, rnn = _load_network(args)
    if rnn is None:
        rnn = _compile(entry, args, args.method)
    inputs = dict(entry.inputs) if entry is not None else {}
    inputs.update(_parse_inputs(args.input))
    duration = args.duration if args.duration is not None else (entry.duration if entry else 1.0)
    options = {"max_rate": args.max_rate} if args.neurons != "rate" else {}
    result = run(rnn, inputs, duration=duration, backend=args.backend, neurons=args.neurons, dt=args.dt,
                 seed=args.seed, **options)
    saved = str(rnn.save(args.save, overwrite=args.force)) if args.save else None
    if args.plot:
        _plot(result, args.plot)
    final = {k: float(v[-1]) for k, v in result.outputs.items()}
    if args.json:
        print(json.dumps({"network": rnn.name, "backend": result.backend, "neurons": result.neurons,
                          "duration": duration, "inputs": inputs, "final": final, "n_neurons": rnn.n_neurons,
                          "method": rnn.method, "weight_norm": rnn.weight_norm, "saved": saved,
                          "plot": args.plot, "wall_seconds": result.info.get("wall_seconds")}, indent=2))
    else:
        print(rnn.summary())
        print(f"ran {duration:g} s on {result.backend} ({result.neurons}) with inputs "
              f"{', '.join(f'{k}={v:g}' for k, v in inputs.items()) or 'none'}")
        for k, v in final.items():
            print(f"  {k} = {v:+.5f}")
        if saved:
            print(f"saved {saved}")
        if args.plot:
            print(f"plot {args.plot}")
    return 0


def _cmd_compare(args) -> int:
    from .backend import NEF_BACKENDS, get_backend
    from .nef import nef

    entry, rnn = _load_network(args)
    if entry is None:
        raise ValidationError("compare needs a library network name (a saved file has no metric)")
    backends = [b for b in args.backends.split(",") if b]
    methods = [m for m in args.methods.split(",") if m]
    modes = [n for n in args.neurons.split(",") if n]
    for b in backends:
        get_backend(b)  # an unknown or unavailable backend fails before any work
    for m in methods:
        if m not in ("taylor", "sampled", "nef"):
            raise ValidationError(f"--methods: {m!r} is not taylor, sampled or nef")
    rows = []
    for method in methods:
        start = time.perf_counter()
        if method == "nef":
            rnn = nef(entry.build(), n_neurons=args.n_neurons, seed=args.seed)
            weight_norm = float("nan")
        else:
            rnn = _compile(entry, args, method)
            weight_norm = rnn.weight_norm
        compile_s = time.perf_counter() - start
        for backend in backends:
            if method == "nef" and backend not in NEF_BACKENDS:
                continue
            for neurons in modes:
                mode = "lif" if method == "nef" and neurons != "rate" else neurons
                options = {"max_rate": args.max_rate} if mode not in ("rate", "lif") else {}
                tol = (0.005 if neurons == "rate" and method == "taylor" else 0.03) if entry.level_tol else None
                start = time.perf_counter()
                try:
                    score = entry.metric(rnn, backend=backend, neurons=mode, dt=args.dt, seed=args.seed,
                                         **options, **({"tol": tol} if tol is not None else {}))
                    verdict, error = ("PASS" if score.passed else "FAIL"), score.error
                except NplError as exc:  # e.g. spike noise amplified into a divergence
                    verdict, error = f"ERROR ({exc})", float("nan")
                rows.append({"backend": backend, "method": method, "neurons": mode, "N": rnn.n_neurons,
                             "weight_norm": weight_norm, "result": verdict, "error": error, "tol": tol,
                             "compile_s": compile_s, "run_s": time.perf_counter() - start})
    if not rows:
        raise ValidationError(f"compare: nothing to run (method nef runs on {', '.join(NEF_BACKENDS)} only)")
    if args.json:
        print(json.dumps({"network": entry.name, "backends": backends, "rows": rows}, indent=2))
        return 0
    print(f"{entry.name}: {entry.description}")
    print(f"{'backend':<10} {'method':<8} {'neurons':<8} {'N':>6} {'||W||':>9} {'error':>9} {'tol':>6} {'run s':>6}  result")
    for r in rows:
        print(f"{r['backend']:<10} {r['method']:<8} {r['neurons']:<8} {r['N']:>6} {r['weight_norm']:>9.3g} "
              f"{r['error']:>9.3g} {_tol_text(r['tol']):>6} {r['run_s']:>6.2f}  {r['result']}")
    return 0


def _tol_text(tol: float | None) -> str:
    # Truth tables and latches take a level tolerance; oscillators and attractors use their own.
    return "own" if tol is None else f"{tol:.3g}"


def _plot(result, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3.5))
    for name, values in result.outputs.items():
        ax.plot(result.t, values, label=name)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("output")
    ax.set_title(f"{result.name} on {result.backend} ({result.neurons})")
    ax.legend(loc="best", fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``npl-nengo``; returns the exit code."""
    args = _parser().parse_args(argv)
    handlers = {"list": _cmd_list, "run": _cmd_run, "compare": _cmd_compare, "gui": _cmd_gui}
    try:
        return handlers[args.command](args)
    except NplError as exc:
        print(f"npl-nengo: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"npl-nengo: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
